"""What only the MySQL store does: real daily partitions, URLs, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncmy
import pytest

from app.store import Store, open_store
from app.store.migrate import upgrade
from app.store.partitions import DAY_US, day_start_us, now_us, partition_name
from edge.catalog import default_catalog
from edge.errors import ConfigError, StoreError
from tests.app.store.factory import make_batches, partition_names


@pytest.fixture
async def mysql_store(mysql_url: str) -> AsyncIterator[Store]:
    store = open_store(mysql_url, default_catalog())
    await store.open()
    await store.upgrade()
    yield store
    await store.close()


async def test_db_upgrade_creates_partitions_for_today_and_ahead(mysql_url: str) -> None:
    assert await upgrade(mysql_url) == ["0001"]
    assert await upgrade(mysql_url) == []

    tomorrow = day_start_us(now_us()) + DAY_US
    days = [partition_name(tomorrow + i * DAY_US) for i in range(4)]
    for table in ("chunks", "rollup_1m", "ledger"):
        assert await partition_names(mysql_url, table) == [*days, "p_future"]


async def test_old_partitions_are_dropped_and_recent_ones_kept(
    mysql_store: Store, mysql_url: str
) -> None:
    now = now_us()
    added = await mysql_store.ensure_partitions(now_us=now - 10 * DAY_US, days_ahead=10)
    assert len(added) == 3 * 11
    await mysql_store.write(make_batches(1, 2, t0_us=now - 9 * DAY_US))

    dropped = await mysql_store.drop_partitions(retention_days=5, now_us=now)
    # Ten days ago to six days ago, in each of the three tables.
    assert len(dropped) == 3 * 5
    names = await partition_names(mysql_url, "chunks")
    assert names[0] == partition_name(day_start_us(now) - 4 * DAY_US)
    assert (await mysql_store.read_points(1, None, 0, 2**62))[0].size == 0


async def test_a_write_that_cannot_succeed_raises_store_error_and_stores_nothing(
    mysql_store: Store, mysql_url: str
) -> None:
    conn = await asyncmy.connect(
        host="127.0.0.1", port=3306, user="root", password="", db=mysql_url.rsplit("/", 1)[1]
    )
    try:
        async with conn.cursor() as cur:
            await cur.execute("DROP TABLE rollup_1m")
    finally:
        conn.close()

    with pytest.raises(StoreError, match="write of 1 batches failed"):
        await mysql_store.write(make_batches(3, 1))
    assert (await mysql_store.ledger_stats())["batches"] == 0
    assert (await mysql_store.read_points(3, None, 0, 2**62))[0].size == 0


def test_store_urls_are_checked_when_the_store_is_made() -> None:
    with pytest.raises(ConfigError, match="expected mysql://"):
        open_store("postgres://db/x", default_catalog())
    with pytest.raises(ConfigError, match="host:port/database"):
        open_store("mariadb://127.0.0.1:3306/", default_catalog())
    with pytest.raises(ConfigError, match="sqlite:///path"):
        open_store("sqlite://relative.db", default_catalog())


async def test_an_unreachable_server_raises_store_error() -> None:
    store = open_store("mysql://root@127.0.0.1:1/nothing", default_catalog())
    with pytest.raises(StoreError, match="cannot connect"):
        await store.open()


async def test_a_write_after_the_server_killed_the_connections_succeeds_and_stores_once(
    mysql_store: Store, mysql_url: str
) -> None:
    await mysql_store.write(make_batches(4, 2))
    database = mysql_url.rsplit("/", 1)[1]
    admin = await asyncmy.connect(host="127.0.0.1", port=3306, user="root", password="")
    try:
        async with admin.cursor() as cur:
            await cur.execute(
                "SELECT ID FROM information_schema.PROCESSLIST"
                " WHERE DB = %s AND ID <> CONNECTION_ID()",
                (database,),
            )
            victims = [int(row[0]) for row in await cur.fetchall()]
            for victim in victims:
                await cur.execute(f"KILL CONNECTION {victim}")
    finally:
        admin.close()
    assert victims, "the store held no connection to kill"

    batches = make_batches(4, 5)
    result = await mysql_store.write(batches)

    assert (result.batches_written, result.batches_duplicate) == (3, 2)
    stats = await mysql_store.ledger_stats()
    assert stats["batches"] == 5
    assert stats["points"] == sum(len(b) for b in batches)


async def test_writers_starting_together_both_prepare_partitions_without_error(
    mysql_url: str,
) -> None:
    stores = [open_store(mysql_url, default_catalog()) for _ in range(3)]
    for store in stores:
        await store.open()
    await stores[0].upgrade()
    try:
        results = await asyncio.gather(*(s.ensure_partitions(days_ahead=5) for s in stores))
    finally:
        for store in stores:
            await store.close()

    added = [name for result in results for name in result]
    assert len(added) == len(set(added)) == 3 * 6  # three tables, today and five days ahead
    names = await partition_names(mysql_url, "ledger")
    assert len(names) == 6 + 1  # the days and the catch-all
