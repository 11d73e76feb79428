"""The HTTP API served by a real uvicorn, with the in-memory cache."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from app.api import api_routes
from app.cache import MemoryCache
from edge.catalog import Catalog, default_catalog
from edge.errors import StoreError
from tests.app.hub.helpers import serving

T0_US = 1_764_770_000_000_000


class TinyStore:
    """Only the one method the API uses of a store."""

    def __init__(self, latest: dict[int, dict[int, tuple[int, float]]], fail: bool = False):
        self.held = latest
        self.fail = fail
        self.asked: list[int] = []

    async def latest(self, truck_id: int) -> dict[int, tuple[int, float]]:
        self.asked.append(truck_id)
        if self.fail:
            raise StoreError("the store lost its connection")
        return self.held.get(truck_id, {})


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture
async def cache() -> MemoryCache:
    cache = MemoryCache()
    await cache.set_trucks(
        {7: {"SOC": [1764770000.5, 81.2]}, 9: {"Latitude": [1764770001.0, 48.1]}}
    )
    return cache


@pytest.fixture
def store(catalog: Catalog) -> TinyStore:
    return TinyStore({42: {catalog.id_of("SOH"): (T0_US, 93.5)}})


@pytest.fixture
async def base(cache: MemoryCache, store: TinyStore, catalog: Catalog) -> AsyncIterator[str]:
    app = Starlette(routes=api_routes(cache=cache, store=store, catalog=catalog))
    async with serving(app) as address:
        yield f"http://{address}"


async def fetch(url: str) -> tuple[int, Any]:
    return await asyncio.to_thread(get, url)


async def test_signals_lists_the_whole_catalogue_with_units_rates_and_names(
    base: str, catalog: Catalog
) -> None:
    status, body = await fetch(f"{base}/api/signals")

    assert status == 200
    assert len(body["signals"]) == len(catalog)
    soc = next(s for s in body["signals"] if s["key"] == "SOC")
    assert (soc["unit"], soc["rate_hz"], soc["stored"]) == ("%", 10.0, True)
    mode = next(s for s in body["signals"] if s["key"] == "VehicleMode")
    assert mode["choices"]["2"] == "Charging"


async def test_trucks_lists_every_known_truck_with_its_latest_key_values(base: str) -> None:
    status, body = await fetch(f"{base}/api/trucks")

    assert status == 200
    assert body == {
        "trucks": [
            {"id": 7, "latest": {"SOC": [1764770000.5, 81.2]}},
            {"id": 9, "latest": {"Latitude": [1764770001.0, 48.1]}},
        ]
    }


async def test_latest_of_a_cached_truck_comes_from_the_cache(base: str, store: TinyStore) -> None:
    status, body = await fetch(f"{base}/api/trucks/7/latest")

    assert status == 200
    assert body == {"truck": 7, "source": "cache", "signals": {"SOC": [1764770000.5, 81.2]}}
    assert store.asked == []


async def test_latest_of_a_truck_the_cache_misses_comes_from_the_store(base: str) -> None:
    status, body = await fetch(f"{base}/api/trucks/42/latest")

    assert status == 200
    assert body == {"truck": 42, "source": "store", "signals": {"SOH": [T0_US / 1e6, 93.5]}}


async def test_latest_of_an_unknown_truck_is_404_with_a_reason(base: str) -> None:
    status, body = await fetch(f"{base}/api/trucks/5/latest")

    assert status == 404
    assert "known truck" in body["error"]


@pytest.mark.parametrize("bad", ["abc", "-1", "4294967296", "7.5"])
async def test_latest_of_a_malformed_id_is_400_with_a_reason(base: str, bad: str) -> None:
    status, body = await fetch(f"{base}/api/trucks/{bad}/latest")

    assert status == 400
    assert "expected a truck id" in body["error"]


async def test_a_failing_store_is_503_not_a_crash(cache: MemoryCache, catalog: Catalog) -> None:
    routes = api_routes(cache=cache, store=TinyStore({}, fail=True), catalog=catalog)
    async with serving(Starlette(routes=routes)) as address:
        status, body = await fetch(f"http://{address}/api/trucks/42/latest")

    assert status == 503
    assert "lost its connection" in body["error"]


async def test_without_a_store_a_cache_miss_is_404(cache: MemoryCache, catalog: Catalog) -> None:
    routes = api_routes(cache=cache, catalog=catalog)
    async with serving(Starlette(routes=routes)) as address:
        status, _ = await fetch(f"http://{address}/api/trucks/42/latest")

    assert status == 404


async def test_healthz_says_ok(base: str) -> None:
    assert await fetch(f"{base}/healthz") == (200, {"status": "ok"})
