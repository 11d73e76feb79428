"""The hub's lifecycle: the cache it writes and restores from, on the real memcached."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator, Callable

import aiomcache
import pytest

from app.cache import MemcachedCache, MemoryCache
from app.hub.server import Hub
from edge.catalog import Catalog
from edge.wire import Batch
from tests.app.hub.helpers import T0, hub_app, open_client, serving, subscribe

MakeBatch = Callable[..., Batch]


@pytest.fixture
async def memcached_cache(memcached: str, unique_name: str) -> AsyncIterator[MemcachedCache]:
    cache = MemcachedCache(memcached, prefix=unique_name)
    yield cache
    await cache.close()
    host, port = memcached.split(":")
    client = aiomcache.Client(host, int(port))
    for key in (f"{unique_name}:trucks", f"{unique_name}:latest:7"):
        await client.delete(key.encode())
    await client.close()


async def test_a_restarted_hub_gives_new_clients_the_cached_values_at_once(
    memcached_cache: MemcachedCache, catalog: Catalog, make_batch: MakeBatch
) -> None:
    first = Hub(catalog=catalog, cache=memcached_cache)
    await first.start()
    first.apply(make_batch(7, {"SOC": [(T0, 81.5)], "CellVoltage001": [(T0, 3.9)]}))
    await first.stop()

    second = Hub(catalog=catalog, cache=memcached_cache)
    async with serving(hub_app(second)) as address, await open_client(address) as ws:
        _, snapshot = await subscribe(ws, trucks=[7], signals=["SOC", "CellVoltage001"])

    assert snapshot["trucks"] == {"7": {"SOC": [T0 / 1e6, 81.5]}}


async def test_write_cache_writes_only_trucks_whose_key_metrics_changed(
    catalog: Catalog, make_batch: MakeBatch
) -> None:
    cache = MemoryCache()
    hub = Hub(catalog=catalog, cache=cache)
    hub.apply(make_batch(1, {"SOC": [(T0, 1.0)]}))
    hub.apply(make_batch(2, {"MotorSpeed": [(T0, 100.0)]}))

    assert await hub.write_cache() == 1
    assert await hub.write_cache() == 0
    hub.apply(make_batch(1, {"SOC": [(T0 + 1, 2.0)]}))
    assert await hub.write_cache() == 1
    assert await cache.get(1) == {"SOC": [(T0 + 1) / 1e6, 2.0]}
    assert await cache.known_trucks() == [1]


async def test_hub_stats_are_served_as_json(hub: Hub, address: str, make_batch: MakeBatch) -> None:
    hub.apply(make_batch(1, {"SOC": [(T0, 1.0)]}))

    def fetch() -> dict[str, int]:
        with urllib.request.urlopen(f"http://{address}/api/hub/stats", timeout=10) as r:
            return dict(json.loads(r.read()))

    stats = await asyncio.to_thread(fetch)

    assert stats["batches"] == 1
    assert stats["trucks"] == 1
    assert stats["clients"] == 0
