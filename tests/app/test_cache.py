"""The latest-state cache: the same contract in memory and on the real memcached."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiomcache
import pytest

from app.cache import LatestCache, MemcachedCache, MemoryCache
from edge.errors import CacheError, ConfigError


async def forget(address: str, prefix: str, trucks: list[int]) -> None:
    host, port = address.split(":")
    client = aiomcache.Client(host, int(port))
    for key in [f"{prefix}:trucks", *(f"{prefix}:latest:{t}" for t in trucks)]:
        await client.delete(key.encode())
    await client.close()


TRUCKS = [*range(1, 151), 4_000_000_000]


@pytest.fixture(params=["memory", "memcached"])
async def cache(request: pytest.FixtureRequest, unique_name: str) -> AsyncIterator[LatestCache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    address = request.getfixturevalue("memcached")
    made = MemcachedCache(address, prefix=unique_name)
    yield made
    await made.close()
    await forget(address, unique_name, TRUCKS)


async def test_what_is_set_is_read_back_one_by_one_and_many_at_once(cache: LatestCache) -> None:
    states = {
        t: {"SOC": [1764770000.5 + t, 50.0 + t / 10], "Latitude": [1.0, 48.1]} for t in TRUCKS
    }

    await cache.set_trucks(states)

    assert await cache.get(7) == states[7]
    assert await cache.get_many([3, 4_000_000_000, 999]) == {
        3: states[3],
        4_000_000_000: states[4_000_000_000],
    }
    assert await cache.get_many(TRUCKS) == states
    assert await cache.known_trucks() == TRUCKS


async def test_a_truck_never_written_is_absent(cache: LatestCache) -> None:
    assert await cache.get(123456) is None
    assert await cache.known_trucks() == []


async def test_a_later_write_replaces_a_truck_and_keeps_the_others_known(
    cache: LatestCache,
) -> None:
    await cache.set_trucks({1: {"SOC": [1.0, 10.0]}, 2: {"SOC": [1.0, 20.0]}})
    await cache.set_trucks({2: {"SOH": [2.0, 99.0]}})

    assert await cache.get(2) == {"SOH": [2.0, 99.0]}
    assert await cache.known_trucks() == [1, 2]


async def test_two_writers_of_one_memcached_both_keep_their_trucks_known(
    memcached: str, unique_name: str
) -> None:
    first = MemcachedCache(memcached, prefix=unique_name)
    second = MemcachedCache(memcached, prefix=unique_name)
    try:
        await first.set_trucks({1: {"SOC": [1.0, 1.0]}})
        await second.set_trucks({2: {"SOC": [1.0, 2.0]}})
        known = await first.known_trucks()
    finally:
        await first.close()
        await second.close()
        await forget(memcached, unique_name, [1, 2])

    assert known == [1, 2]


async def test_an_unreachable_memcached_raises_cache_error_naming_it() -> None:
    cache = MemcachedCache("127.0.0.1:1", prefix="nowhere")
    try:
        with pytest.raises(CacheError, match=r"127\.0\.0\.1:1"):
            await cache.get(1)
    finally:
        await cache.close()


def test_a_malformed_address_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="host:port"):
        MemcachedCache("localhost")
