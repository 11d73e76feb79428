"""The MySQL/MariaDB store, through an asyncmy connection pool.

Connections keep a cache of prepared statements (``stmt_cache_size`` > 0), so
``executemany`` sends rows in MariaDB's binary bulk format: blobs go over the
wire as they are, with no escaping, which is what lets chunk rows carry
millions of points per second. Each write is one transaction; a named set of
transient errors is retried a few times with backoff, anything else becomes a
StoreError.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import asyncmy
from asyncmy.errors import Error as MysqlError

from app.store import partitions
from app.store.base import WriteResult
from app.store.plan import LedgerKey, ledger_key, plan_write
from app.store.readback import catalog_rows, sql_int_list
from app.store.reads import SqlReads
from db import migrations
from edge.catalog import Catalog
from edge.errors import ConfigError, StoreError
from edge.wire import Batch

__all__ = ["TRANSIENT", "MysqlStore"]

log = logging.getLogger(f"fleetlink.{__name__}")

T = TypeVar("T")

#: MySQL error codes worth another attempt, and what they mean.
TRANSIENT = {
    1062: "a competing writer stored the same batch first",
    1205: "lock wait timeout",
    1213: "deadlock",
    2006: "server has gone away",
    2013: "lost connection during query",
}
_CONNECTION_LOST = {2006, 2013}
_PARTITIONED = {"chunks": "t_start_us", "rollup_1m": "t_minute_us", "ledger": "t_base_us"}
_DUPLICATE_PARTITION = 1517
_NO_SUCH_PARTITION = 1507
_PARTITION_RACES = 3
_KEYS_PER_QUERY = 500
# One bulk statement must fit the server's max_allowed_packet (16 MiB by default).
_BULK_BYTES = 8 << 20
_ROW_OVERHEAD = 96

_INSERT_LEDGER = (
    "INSERT INTO ledger (truck_id, agent_start, seq, t_base_us, n_points,"
    " t_first_us, t_last_us, committed_us) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_CHUNK = (
    "INSERT INTO chunks (truck_id, signal_id, t_start_us, agent_start, seq,"
    " t_end_us, n, vmin, vmax, payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
# Assignments run left to right: vlast must be decided before last_t_us moves.
_UPSERT_ROLLUP = (
    "INSERT INTO rollup_1m (truck_id, signal_id, t_minute_us, n, vmin, vmax, vsum,"
    " vlast, last_t_us) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON DUPLICATE KEY UPDATE"
    " vlast = IF(VALUES(last_t_us) > last_t_us OR"
    " (VALUES(last_t_us) = last_t_us AND VALUES(vlast) > vlast), VALUES(vlast), vlast),"
    " last_t_us = GREATEST(last_t_us, VALUES(last_t_us)),"
    " n = n + VALUES(n), vmin = LEAST(vmin, VALUES(vmin)),"
    " vmax = GREATEST(vmax, VALUES(vmax)), vsum = vsum + VALUES(vsum)"
)
_UPSERT_TRUCK = (
    "INSERT INTO trucks (truck_id, first_t_us, last_t_us, last_write_us)"
    " VALUES (%s, %s, %s, %s) ON DUPLICATE KEY UPDATE"
    " first_t_us = LEAST(first_t_us, VALUES(first_t_us)),"
    " last_t_us = GREATEST(last_t_us, VALUES(last_t_us)),"
    " last_write_us = GREATEST(last_write_us, VALUES(last_write_us))"
)
_UPSERT_SIGNAL = (
    "INSERT INTO signals (signal_id, message, name, signal_key, unit, rate_hz,"
    " minimum, maximum, stored, fingerprint) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON DUPLICATE KEY UPDATE message = VALUES(message), name = VALUES(name),"
    " signal_key = VALUES(signal_key), unit = VALUES(unit), rate_hz = VALUES(rate_hz),"
    " minimum = VALUES(minimum), maximum = VALUES(maximum), stored = VALUES(stored),"
    " fingerprint = VALUES(fingerprint)"
)


class MysqlStore(SqlReads):
    """A Store on MySQL or MariaDB."""

    def __init__(
        self,
        url: str,
        catalog: Catalog,
        *,
        compress: bool = False,
        pool_size: int = 4,
        attempts: int = 5,
        backoff_s: float = 0.05,
    ) -> None:
        self._params = _parse_url(url)
        self._catalog = catalog
        self._compress = compress
        self._pool_size = pool_size
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._pool: Any = None

    async def open(self) -> None:
        try:
            self._pool = await asyncmy.create_pool(
                minsize=1,
                maxsize=self._pool_size,
                autocommit=False,
                stmt_cache_size=32,
                **self._params,
            )
        except (MysqlError, OSError) as exc:
            where = f"{self._params['host']}:{self._params['port']}/{self._params['db']}"
            raise StoreError(f"cannot connect to MySQL at {where}: {exc}") from exc
        log.info(
            "connected to MySQL %s:%s/%s",
            self._params["host"],
            self._params["port"],
            self._params["db"],
        )

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            await self._pool.wait_closed()
            self._pool = None

    # -- schema ---------------------------------------------------------------

    async def upgrade(self) -> list[str]:
        applied = await self._transaction("read schema version", _applied_versions)
        done = []
        for migration in migrations("mysql"):
            if migration.version in applied:
                continue

            async def apply(
                cur: Any,
                statements: Sequence[str] = migration.statements,
                v: str = migration.version,
            ) -> None:
                for statement in statements:
                    await cur.execute(statement)
                await cur.execute(
                    "INSERT IGNORE INTO schema_migrations (version, applied_us) VALUES (%s, %s)",
                    (v, partitions.now_us()),
                )

            await self._transaction(f"migration {migration.version}", apply)
            log.info("applied migration %s (%s)", migration.version, migration.path.name)
            done.append(migration.version)
        await self._transaction("sync the signal catalogue", self._sync_catalog)
        return done

    async def _sync_catalog(self, cur: Any) -> None:
        await cur.executemany(_UPSERT_SIGNAL, catalog_rows(self._catalog))
        await cur.execute("DELETE FROM signals WHERE signal_id >= %s", (len(self._catalog),))

    async def ensure_partitions(
        self, *, days_ahead: int = 3, now_us: int | None = None
    ) -> list[str]:
        now = partitions.now_us() if now_us is None else now_us
        added: list[str] = []
        for table in _PARTITIONED:
            add = partial(self._add_partitions, table, now, days_ahead)
            added += await self._racing(_DUPLICATE_PARTITION, add)
        if added:
            log.info("added partitions %s", ", ".join(added))
        return added

    async def _racing(self, race_code: int, step: Callable[[], Awaitable[list[str]]]) -> list[str]:
        """Run a partition change; when a competing writer made the same change
        first (MySQL error race_code), look again and do what is left."""
        for attempt in range(1, _PARTITION_RACES + 1):
            try:
                return await step()
            except StoreError as exc:
                cause = exc.__cause__
                if cause is None or _error_code(cause) != race_code or attempt == _PARTITION_RACES:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _drop_partitions(self, table: str, now: int, retention_days: int) -> list[str]:
        existing = await self._transaction("list partitions", partial(_partitions, table=table))
        names = partitions.to_drop(existing, now=now, retention_days=retention_days)
        if not names:
            return []
        sql = f"ALTER TABLE {table} DROP PARTITION {', '.join(names)}"
        await self._transaction(f"drop partitions of {table}", partial(_execute, sql=sql))
        return [f"{table}.{name}" for name in names]

    async def _add_partitions(self, table: str, now: int, days_ahead: int) -> list[str]:
        existing = await self._transaction("list partitions", partial(_partitions, table=table))
        wanted = partitions.to_add([b for _, b in existing], now=now, days_ahead=days_ahead)
        if not wanted:
            return []
        parts = ", ".join(f"PARTITION {n} VALUES LESS THAN ({b})" for n, b in wanted)
        sql = (
            f"ALTER TABLE {table} REORGANIZE PARTITION {partitions.CATCH_ALL} INTO"
            f" ({parts}, PARTITION {partitions.CATCH_ALL} VALUES LESS THAN MAXVALUE)"
        )
        await self._transaction(f"add partitions to {table}", partial(_execute, sql=sql))
        return [f"{table}.{name}" for name, _ in wanted]

    async def drop_partitions(self, *, retention_days: int, now_us: int | None = None) -> list[str]:
        now = partitions.now_us() if now_us is None else now_us
        dropped: list[str] = []
        for table in _PARTITIONED:
            drop = partial(self._drop_partitions, table, now, retention_days)
            dropped += await self._racing(_NO_SUCH_PARTITION, drop)
        if dropped:
            log.info("dropped partitions %s", ", ".join(dropped))
        return dropped

    # -- writing --------------------------------------------------------------

    async def write(self, batches: Sequence[Batch]) -> WriteResult:
        if not batches:
            return WriteResult()
        return await self._transaction(
            f"write of {len(batches)} batches", lambda cur: self._write(cur, batches)
        )

    async def _write(self, cur: Any, batches: Sequence[Batch]) -> WriteResult:
        seen = await _existing_keys(cur, [ledger_key(b) for b in batches])
        fresh = []
        for batch in batches:
            key = ledger_key(batch)
            if key not in seen:
                seen.add(key)
                fresh.append(batch)
        plan = plan_write(fresh, committed_us=partitions.now_us(), compress=self._compress)
        await _executemany(cur, _INSERT_LEDGER, plan.ledger)
        await _executemany(cur, _INSERT_CHUNK, plan.chunks)
        await _executemany(cur, _UPSERT_ROLLUP, plan.rollups)
        await _executemany(cur, _UPSERT_TRUCK, plan.trucks)
        return WriteResult(len(fresh), len(batches) - len(fresh), plan.points)

    # -- reading (the queries are in app.store.reads) -------------------------

    async def _query(self, sql: str, args: tuple[int, ...]) -> list[Any]:
        async def run(cur: Any) -> list[tuple[Any, ...]]:
            await cur.execute(sql, args or None)
            return list(await cur.fetchall())

        return await self._transaction("query", run)

    # -- transactions ---------------------------------------------------------

    async def _transaction(self, what: str, work: Callable[[Any], Awaitable[T]]) -> T:
        """Run work(cursor) in one transaction, retrying the TRANSIENT errors."""
        if self._pool is None:
            raise StoreError(f"{what}: the store is not open")
        for attempt in range(1, self._attempts + 1):
            conn = await self._acquire(what)
            try:
                async with conn.cursor() as cur:
                    result = await work(cur)
                await conn.commit()
                return result
            except (MysqlError, OSError) as exc:
                code = _error_code(exc)
                await _abandon(conn, lost=code in _CONNECTION_LOST or isinstance(exc, OSError))
                if code not in TRANSIENT or attempt == self._attempts:
                    raise StoreError(f"{what} failed: {exc}") from exc
                log.warning(
                    "%s: %s (MySQL error %s), attempt %d of %d",
                    what,
                    TRANSIENT[code],
                    code,
                    attempt,
                    self._attempts,
                )
            finally:
                self._pool.release(conn)
            await asyncio.sleep(self._backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable: the last attempt raises or returns")

    async def _acquire(self, what: str) -> Any:
        try:
            return await self._pool.acquire()
        except (MysqlError, OSError) as exc:
            raise StoreError(f"{what}: cannot get a MySQL connection: {exc}") from exc


def _parse_url(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    database = parts.path.lstrip("/")
    if not parts.hostname or not database:
        raise ConfigError(
            f"database_url: expected mysql://user:password@host:port/database, got {url!r}"
        )
    return {
        "host": parts.hostname,
        "port": parts.port or 3306,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "db": database,
    }


def _error_code(exc: BaseException) -> int | None:
    if isinstance(exc, OSError):
        return 2013
    code = exc.args[0] if exc.args else None
    return code if isinstance(code, int) else None


async def _abandon(conn: Any, *, lost: bool) -> None:
    """Roll back after an error; a connection that is gone is closed instead."""
    if lost:
        conn.close()
        return
    try:
        await conn.rollback()
    except (MysqlError, OSError):
        conn.close()


async def _applied_versions(cur: Any) -> set[str]:
    # Asking first keeps MySQL from logging a "table exists" warning on every run.
    await cur.execute(
        "SELECT COUNT(*) FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'schema_migrations'"
    )
    if (await cur.fetchone())[0]:
        await cur.execute("SELECT version FROM schema_migrations")
        return {str(row[0]) for row in await cur.fetchall()}
    await cur.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations"
        " (version VARCHAR(16) NOT NULL PRIMARY KEY, applied_us BIGINT NOT NULL) ENGINE=InnoDB"
    )
    return set()


async def _executemany(cur: Any, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """executemany in slices that each stay well below max_allowed_packet."""
    start, size = 0, 0
    for i, row in enumerate(rows):
        row_size = _ROW_OVERHEAD + sum(len(v) for v in row if isinstance(v, bytes))
        if size + row_size > _BULK_BYTES and i > start:
            await cur.executemany(sql, rows[start:i])
            start, size = i, 0
        size += row_size
    if start < len(rows):
        await cur.executemany(sql, rows[start:])


async def _execute(cur: Any, *, sql: str) -> None:
    await cur.execute(sql)


async def _partitions(cur: Any, *, table: str) -> list[tuple[str, int]]:
    """(name, bound) of the finite partitions of a table."""
    await cur.execute(
        "SELECT PARTITION_NAME, PARTITION_DESCRIPTION FROM information_schema.PARTITIONS"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND PARTITION_NAME IS NOT NULL",
        (table,),
    )
    rows = await cur.fetchall()
    return sorted((str(n), int(d)) for n, d in rows if str(d).upper() != "MAXVALUE")


async def _existing_keys(cur: Any, keys: list[LedgerKey]) -> set[LedgerKey]:
    """Which of the keys the ledger already holds."""
    found: set[LedgerKey] = set()
    unique = sorted(set(keys))
    for i in range(0, len(unique), _KEYS_PER_QUERY):
        tuples = ",".join(f"({sql_int_list(k)})" for k in unique[i : i + _KEYS_PER_QUERY])
        await cur.execute(
            "SELECT truck_id, agent_start, seq, t_base_us FROM ledger"
            f" WHERE (truck_id, agent_start, seq, t_base_us) IN ({tuples})"
        )
        found.update((int(a), int(b), int(c), int(d)) for a, b, c, d in await cur.fetchall())
    return found
