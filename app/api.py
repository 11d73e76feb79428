"""The HTTP API: the signal catalogue and the latest state of the trucks.

All answers are JSON. Errors carry ``{"error": "<what was expected, what was
seen>"}`` with a 4xx or 5xx status:

- ``GET /api/signals``: every signal of the catalogue with its key, unit,
  rate, range, value names and whether it is stored.
- ``GET /api/trucks``: every known truck with its latest key values, from the
  latest-state cache.
- ``GET /api/trucks/{id}/latest``: one truck's latest values; from the cache,
  or, when the cache has none and a store is given, from the store. 400 for a
  malformed id, 404 for a truck nobody knows.
- ``GET /healthz``: ``{"status": "ok"}`` while the process serves requests.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.cache import LatestCache, TruckState
from edge.catalog import Catalog, SignalInfo
from edge.errors import CacheError, StoreError

__all__ = ["LatestSource", "api_routes"]

log = logging.getLogger(f"fleetlink.{__name__}")

MAX_TRUCK_ID = 0xFFFFFFFF


class LatestSource(Protocol):
    """The one thing the API needs of a store."""

    async def latest(self, truck_id: int) -> dict[int, tuple[int, float]]:
        """Signal id to (t_us, value) of the newest stored point; empty for an unknown truck."""
        ...


def api_routes(
    *, cache: LatestCache, store: LatestSource | None = None, catalog: Catalog
) -> list[Route]:
    """The routes of the HTTP API, reading from cache and, as a fallback, store."""
    return _Api(cache, store, catalog).routes()


class _Api:
    def __init__(self, cache: LatestCache, store: LatestSource | None, catalog: Catalog) -> None:
        self.cache = cache
        self.store = store
        self.catalog = catalog
        self.signals = {"signals": [_describe(s) for s in catalog.signals]}

    def routes(self) -> list[Route]:
        return [
            Route("/api/signals", self.list_signals, methods=["GET"]),
            Route("/api/trucks", self.list_trucks, methods=["GET"]),
            Route("/api/trucks/{truck_id}/latest", self.truck_latest, methods=["GET"]),
            Route("/healthz", self.health, methods=["GET"]),
        ]

    async def list_signals(self, request: Request) -> JSONResponse:
        return JSONResponse(self.signals)

    async def list_trucks(self, request: Request) -> JSONResponse:
        try:
            known = await self.cache.known_trucks()
            states = await self.cache.get_many(known)
        except CacheError as exc:
            log.warning("GET /api/trucks: %s", exc)
            return _error(503, f"expected the latest-state cache to answer, got: {exc}")
        trucks = [{"id": t, "latest": _clean(states.get(t, {}))} for t in known]
        return JSONResponse({"trucks": trucks})

    async def truck_latest(self, request: Request) -> JSONResponse:
        raw = request.path_params["truck_id"]
        if not raw.isdigit() or int(raw) > MAX_TRUCK_ID:
            return _error(400, f"expected a truck id from 0 to {MAX_TRUCK_ID}, got {raw[:40]!r}")
        truck_id = int(raw)

        state = await self._from_cache(truck_id)
        if state:
            return JSONResponse({"truck": truck_id, "source": "cache", "signals": _clean(state)})
        if self.store is None:
            return _error(404, f"expected a known truck, got {truck_id}")

        try:
            stored = await self.store.latest(truck_id)
        except StoreError as exc:
            log.warning("GET /api/trucks/%d/latest: %s", truck_id, exc)
            return _error(503, f"expected the store to answer, got: {exc}")
        if not stored:
            return _error(404, f"expected a known truck, got {truck_id}")
        signals = self.catalog.signals
        state = {
            signals[sid].key: [t / 1e6, v] for sid, (t, v) in stored.items() if sid < len(signals)
        }
        return JSONResponse({"truck": truck_id, "source": "store", "signals": _clean(state)})

    async def _from_cache(self, truck_id: int) -> TruckState | None:
        try:
            return await self.cache.get(truck_id)
        except CacheError as exc:
            # Without the cache the store still answers; say so once per request.
            log.warning("GET /api/trucks/%d/latest: %s", truck_id, exc)
            return None

    async def health(self, request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})


def _describe(s: SignalInfo) -> dict[str, Any]:
    return {
        "id": s.id,
        "key": s.key,
        "message": s.message,
        "unit": s.unit,
        "rate_hz": s.rate_hz,
        "minimum": s.minimum,
        "maximum": s.maximum,
        "choices": {str(k): v for k, v in s.choices.items()},
        "stored": s.stored,
        "comment": s.comment,
    }


def _clean(state: TruckState) -> dict[str, list[float | None]]:
    """JSON has no NaN or infinity; such values become null."""
    return {k: [p if math.isfinite(p) else None for p in pair] for k, pair in state.items()}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
