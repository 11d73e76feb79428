"""The SQLite store, for the embedded mode and for tests.

sqlite3 blocks, so every call runs on one dedicated worker thread that owns
the connection. The file is in WAL mode; a write is one ``BEGIN IMMEDIATE``
transaction, which serialises writers (even two stores on one file) so the
ledger check and the inserts see a consistent database. There are no
partitions: retention deletes the rows of old days instead.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from app.store import partitions
from app.store.base import WriteResult
from app.store.plan import ledger_key, plan_write
from app.store.readback import catalog_rows
from app.store.reads import SqlReads
from db import migrations
from edge.catalog import Catalog
from edge.errors import ConfigError, StoreError
from edge.wire import Batch

__all__ = ["SqliteStore"]

log = logging.getLogger(f"fleetlink.{__name__}")

T = TypeVar("T")

_TRANSIENT = ("database is locked", "database is busy")

_INSERT_LEDGER = "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_CHUNK = (
    "INSERT INTO chunks (truck_id, signal_id, t_start_us, agent_start, seq,"
    " t_end_us, n, vmin, vmax, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Every right-hand side below sees the row as it was before the update.
_UPSERT_ROLLUP = (
    "INSERT INTO rollup_1m VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (truck_id, signal_id, t_minute_us) DO UPDATE SET"
    " vlast = CASE WHEN excluded.last_t_us > last_t_us OR (excluded.last_t_us = last_t_us"
    " AND excluded.vlast > vlast) THEN excluded.vlast ELSE vlast END,"
    " last_t_us = max(last_t_us, excluded.last_t_us), n = n + excluded.n,"
    " vmin = min(vmin, excluded.vmin), vmax = max(vmax, excluded.vmax),"
    " vsum = vsum + excluded.vsum"
)
_UPSERT_TRUCK = (
    "INSERT INTO trucks VALUES (?, ?, ?, ?) ON CONFLICT (truck_id) DO UPDATE SET"
    " first_t_us = min(first_t_us, excluded.first_t_us),"
    " last_t_us = max(last_t_us, excluded.last_t_us),"
    " last_write_us = max(last_write_us, excluded.last_write_us)"
)
_UPSERT_SIGNAL = "INSERT OR REPLACE INTO signals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_LEDGER_HAS = (
    "SELECT 1 FROM ledger WHERE truck_id = ? AND agent_start = ? AND seq = ? AND t_base_us = ?"
)


class SqliteStore(SqlReads):
    PARAM = "?"

    """A Store in one SQLite file (or in memory)."""

    def __init__(
        self,
        url: str,
        catalog: Catalog,
        *,
        compress: bool = False,
        attempts: int = 5,
        backoff_s: float = 0.05,
    ) -> None:
        self._path = _parse_url(url)
        self._catalog = catalog
        self._compress = compress
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._executor: ThreadPoolExecutor | None = None
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fleetlink-sqlite")
        await self._call(self._connect)
        log.info("opened SQLite database %s", self._path)

    def _connect(self) -> None:
        try:
            db = sqlite3.connect(self._path, isolation_level=None, timeout=30.0)
            if self._path != ":memory:":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {self._path}: {exc}") from exc
        self._db = db

    async def close(self) -> None:
        if self._executor is None:
            return
        await self._call(self._disconnect)
        self._executor.shutdown(wait=True)
        self._executor = None

    def _disconnect(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- schema ---------------------------------------------------------------

    async def upgrade(self) -> list[str]:
        return await self._call(self._upgrade)

    def _upgrade(self) -> list[str]:
        db = self._conn()
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version TEXT NOT NULL PRIMARY KEY, applied_us INTEGER NOT NULL)"
        )
        applied = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
        done = []
        for migration in migrations("sqlite"):
            if migration.version in applied:
                continue

            def apply(db: sqlite3.Connection, m: Any = migration) -> None:
                for statement in m.statements:
                    db.execute(statement)
                db.execute(
                    "INSERT OR IGNORE INTO schema_migrations VALUES (?, ?)",
                    (m.version, partitions.now_us()),
                )

            self._transaction(f"migration {migration.version}", apply)
            log.info("applied migration %s (%s)", migration.version, migration.path.name)
            done.append(migration.version)

        def sync(db: sqlite3.Connection) -> None:
            db.executemany(_UPSERT_SIGNAL, catalog_rows(self._catalog))
            db.execute("DELETE FROM signals WHERE signal_id >= ?", (len(self._catalog),))

        self._transaction("sync the signal catalogue", sync)
        return done

    async def ensure_partitions(
        self, *, days_ahead: int = 3, now_us: int | None = None
    ) -> list[str]:
        return []

    async def drop_partitions(self, *, retention_days: int, now_us: int | None = None) -> list[str]:
        now = partitions.now_us() if now_us is None else now_us
        cutoff = partitions.day_start_us(now) - retention_days * partitions.DAY_US
        columns = {"chunks": "t_start_us", "rollup_1m": "t_minute_us", "ledger": "t_base_us"}

        def prune(db: sqlite3.Connection) -> list[str]:
            dropped = []
            for table, column in columns.items():
                cur = db.execute(f"DELETE FROM {table} WHERE {column} < ?", (cutoff,))
                if cur.rowcount:
                    dropped.append(f"{table}: {cur.rowcount} rows")
            return dropped

        dropped = await self._call(self._transaction, "retention", prune)
        if dropped:
            log.info("retention deleted %s", ", ".join(dropped))
        return dropped

    # -- writing --------------------------------------------------------------

    async def write(self, batches: Sequence[Batch]) -> WriteResult:
        if not batches:
            return WriteResult()
        what = f"write of {len(batches)} batches"
        return await self._call(self._transaction, what, lambda db: self._write(db, batches))

    def _write(self, db: sqlite3.Connection, batches: Sequence[Batch]) -> WriteResult:
        seen = set()
        fresh = []
        for batch in batches:
            key = ledger_key(batch)
            if key in seen or db.execute(_LEDGER_HAS, key).fetchone() is not None:
                continue
            seen.add(key)
            fresh.append(batch)
        plan = plan_write(fresh, committed_us=partitions.now_us(), compress=self._compress)
        db.executemany(_INSERT_LEDGER, plan.ledger)
        db.executemany(_INSERT_CHUNK, plan.chunks)
        db.executemany(_UPSERT_ROLLUP, plan.rollups)
        db.executemany(_UPSERT_TRUCK, plan.trucks)
        return WriteResult(len(fresh), len(batches) - len(fresh), plan.points)

    # -- reading (the queries are in app.store.reads) -------------------------

    async def _query(self, sql: str, args: tuple[int, ...]) -> list[Any]:
        def run() -> list[Any]:
            try:
                return self._conn().execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"query failed: {exc}") from exc

        return await self._call(run)

    # -- the worker thread ----------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise StoreError("the SQLite store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError("the SQLite store is not open")
        return self._db

    def _transaction(self, what: str, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run work(db) in one immediate transaction on the worker thread, retrying a busy file."""
        db = self._conn()
        for attempt in range(1, self._attempts + 1):
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    result = work(db)
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                return result
            except sqlite3.OperationalError as exc:
                transient = any(t in str(exc) for t in _TRANSIENT)
                if not transient or attempt == self._attempts:
                    raise StoreError(f"{what} failed: {exc}") from exc
                log.warning("%s: %s, attempt %d of %d", what, exc, attempt, self._attempts)
            except sqlite3.Error as exc:
                raise StoreError(f"{what} failed: {exc}") from exc
            time.sleep(self._backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable: the last attempt raises or returns")


def _parse_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if scheme.lower() != "sqlite" or not sep or not rest:
        raise ConfigError(
            f"database_url: expected sqlite:///path or sqlite://:memory:, got {url!r}"
        )
    if rest == ":memory:":
        return rest
    if not rest.startswith("/") or rest == "/":
        raise ConfigError(
            f"database_url: expected sqlite:///path or sqlite://:memory:, got {url!r}"
        )
    return rest[1:]
