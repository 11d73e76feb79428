"""The websocket hub: live state, its clients, its routes and its cache writer.

:class:`Hub` owns the latest state of every truck, the connected clients and
the counters. The feed (app.hub.feed) calls :meth:`Hub.apply` for every batch;
clients connect to ``/ws/live`` (protocol in docs/hub-protocol.md). Once a
second the hub writes the key metrics of each truck that changed to the
latest-state cache, and on start it reads them back, so a restarted hub
answers new clients at once.

The hub's own queue on the fanout and its feed are app.pipeline's HubFeed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from app.cache import KEY_METRICS, LatestCache, TruckState
from app.hub import protocol
from app.hub.clients import GOING_AWAY, Client, Encoder, HubStats
from app.hub.state import LiveState
from edge.catalog import Catalog
from edge.errors import CacheError
from edge.wire import Batch

__all__ = ["UVICORN_WS_OPTIONS", "Hub", "HubStats"]

log = logging.getLogger(f"fleetlink.{__name__}")

UVICORN_WS_OPTIONS: dict[str, Any] = {"ws": "websockets-sansio", "ws_per_message_deflate": False}
"""uvicorn settings for serving the hub: compression off, since telemetry is sent often."""


class Hub:
    """Latest state of every truck, pushed to websocket clients."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        cache: LatestCache | None = None,
        send_timeout_s: float = 5.0,
        cache_interval_s: float = 1.0,
    ) -> None:
        self.catalog = catalog
        self.cache = cache
        self.send_timeout_s = send_timeout_s
        self.cache_interval_s = cache_interval_s
        self.state = LiveState(len(catalog))
        self.stats = HubStats()
        self.encoder = Encoder(self.state, catalog)
        self.hello = protocol.hello(catalog)
        self._key_ids = np.array(
            [catalog.by_key[k].id for k in KEY_METRICS if k in catalog.by_key], dtype=np.intp
        )
        self._clients: set[Client] = set()
        self._no_clients = asyncio.Event()
        self._no_clients.set()
        self._cached_version = 0
        self._cache_task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def fingerprint(self) -> int:
        return self.catalog.fingerprint

    @property
    def clients(self) -> list[Client]:
        """The clients connected now."""
        return list(self._clients)

    def apply(self, batch: Batch) -> int:
        """Merge one batch into the live state; return how many values changed."""
        self.stats.batches += 1
        self.stats.points += len(batch)
        return self.state.apply(batch)

    def count_bad_delivery(self) -> None:
        self.stats.bad_deliveries += 1

    def routes(self) -> list[BaseRoute]:
        """The live websocket and the hub's counters."""
        return [
            WebSocketRoute("/ws/live", self._serve_client),
            Route("/api/hub/stats", self._stats, methods=["GET"]),
        ]

    async def start(self) -> None:
        """Restore the state from the cache, then write changes to it every interval."""
        self._stopping = False
        if self.cache is not None:
            await self._restore(self.cache)
            self._cached_version = self.state.version
            self._cache_task = asyncio.create_task(self._write_cache_every_interval())
        log.info("hub started with %d trucks restored", len(self.state))

    async def stop(self) -> None:
        """Close every client with 1001 (going away), then write the cache one last time."""
        self._stopping = True
        for client in list(self._clients):
            client.stop(GOING_AWAY)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._no_clients.wait(), self.send_timeout_s + 1.0)
        if self._cache_task is not None:
            self._cache_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cache_task
            self._cache_task = None
            with contextlib.suppress(CacheError):
                await self.write_cache()
        log.info("hub stopped: %s", self.stats.as_dict())

    async def write_cache(self) -> int:
        """Write the key metrics of every truck changed since the last write; return how many."""
        if self.cache is None:
            return 0
        version = self.state.version
        trucks = self.state.changed_trucks(self._cached_version, self._key_ids)
        if trucks:
            await self.cache.set_trucks({t: self._key_state(t) for t in trucks})
        self._cached_version = version
        return len(trucks)

    def _key_state(self, truck_id: int) -> TruckState:
        held = self.state.latest(truck_id, self._key_ids.tolist())
        keys = self.encoder.keys
        return {keys[sid]: [t / 1e6, v] for sid, (t, v) in held.items()}

    async def _write_cache_every_interval(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.cache_interval_s)
            try:
                await self.write_cache()
            except CacheError as exc:
                if not failing:
                    log.warning("cannot write the latest-state cache, will retry: %s", exc)
                failing = True
            else:
                if failing:
                    log.info("latest-state cache written again")
                failing = False

    async def _restore(self, cache: LatestCache) -> None:
        try:
            states = await cache.get_many(await cache.known_trucks())
        except CacheError as exc:
            log.warning("starting without the cached state: %s", exc)
            return
        by_key = self.catalog.by_key
        for truck_id, state in states.items():
            points = {
                by_key[k].id: (round(p[0] * 1e6), float(p[1]))
                for k, p in state.items()
                if k in by_key and _is_point(p)
            }
            self.state.restore(truck_id, points)

    async def _serve_client(self, websocket: WebSocket) -> None:
        await websocket.accept()
        if self._stopping:
            await websocket.close(GOING_AWAY)
            return
        client = Client(
            websocket,
            encoder=self.encoder,
            catalog=self.catalog,
            stats=self.stats,
            hello=self.hello,
            send_timeout_s=self.send_timeout_s,
        )
        self._clients.add(client)
        self._no_clients.clear()
        self.stats.clients = len(self._clients)
        try:
            await client.serve()
        finally:
            self._clients.discard(client)
            self.stats.clients = len(self._clients)
            if not self._clients:
                self._no_clients.set()

    async def _stats(self, request: Request) -> JSONResponse:
        stats = self.stats.as_dict()
        stats["trucks"] = len(self.state)
        stats["points_dropped"] = self.state.points_dropped
        return JSONResponse(stats)


def _is_point(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in value)
    )
