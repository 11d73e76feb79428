"""Fixtures of the hub tests: a hub served by a real uvicorn on a free port.

``address`` serves the ``hub`` fixture with uvicorn in this event loop on a
socket bound to port 0 and stops it at the end of the test; clients connect
with the websockets library (tests/app/hub/helpers.py). ``make_batch`` builds
wire batches from readable {signal key: [(t_us, v)]}.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence

import pytest

from app.cache import MemoryCache
from app.hub.server import Hub
from edge.catalog import Catalog, default_catalog
from edge.wire import Batch
from tests.app.hub.helpers import hub_app, serving

Points = Mapping[str, Sequence[tuple[int, float]]]


@pytest.fixture
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture
def make_batch(catalog: Catalog) -> Callable[..., Batch]:
    seqs: dict[int, int] = {}

    def make(truck: int, points: Points, *, fingerprint: int | None = None) -> Batch:
        ids, times, values = [], [], []
        for key, series in points.items():
            for t, v in series:
                ids.append(catalog.id_of(key))
                times.append(t)
                values.append(v)
        seq = seqs.get(truck, 0)
        seqs[truck] = seq + 1
        fp = catalog.fingerprint if fingerprint is None else fingerprint
        return Batch.from_points(truck, 1, seq, fp, ids, times, values)

    return make


@pytest.fixture
async def hub(catalog: Catalog) -> Hub:
    return Hub(catalog=catalog, cache=MemoryCache(), send_timeout_s=2.0)


@pytest.fixture
async def address(hub: Hub) -> AsyncIterator[str]:
    async with serving(hub_app(hub)) as addr:
        yield addr
