"""The embedded platform: every part in one process, on one port.

Simulated trucks and their agents publish to the fanout (in-process unless
FLEETLINK_AMQP_URL is set); a writer stores batches (SQLite unless
FLEETLINK_DATABASE_URL is set); the hub keeps live state (cached in memory
unless FLEETLINK_MEMCACHED is set) and serves ``/ws/live``; the UI is served at
``/`` and the HTTP API under ``/api``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from app.api import api_routes
from app.config import Settings
from app.fleet import Fleet
from app.hub.server import Hub
from app.pipeline import HubFeed, WriterRole
from app.serving import make_server, starlette_app
from app.webapp import dash_mount
from app.wiring import make_cache, make_fanout, make_store
from edge.catalog import Catalog

__all__ = ["Demo"]

log = logging.getLogger(f"fleetlink.{__name__}")


class Demo:
    """The whole platform in one process."""

    def __init__(
        self,
        settings: Settings,
        *,
        trucks: int = 10,
        host: str = "127.0.0.1",
        port: int = 8000,
        seed: int = 0,
        on_ready: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.trucks = trucks
        self.seed = seed
        self.url = f"http://{host}:{port}/"
        self.on_ready = on_ready
        self.catalog = Catalog.from_dbc(settings.dbc)
        self.fanout = make_fanout(settings)
        self.store = make_store(settings, self.catalog)
        self.cache = make_cache(settings)
        self.hub = Hub(catalog=self.catalog, cache=self.cache)
        self.writer = WriterRole(
            settings=settings, fanout=self.fanout, store=self.store, catalog=self.catalog
        )
        self.hub_feed = HubFeed(settings=settings, fanout=self.fanout, hub=self.hub)
        self.fleet: Fleet | None = None
        routes = self.hub.routes()
        routes += api_routes(cache=self.cache, store=self.store, catalog=self.catalog)
        routes.append(dash_mount("/ws/live"))
        app = starlette_app(routes, startup=self._start, shutdown=self._shutdown)
        self.server = make_server(app, host, port, settings.log_level)

    async def run(self) -> None:
        announcer = asyncio.create_task(self._announce())
        try:
            await self.server.run()
        finally:
            announcer.cancel()

    async def stop(self) -> None:
        await self.server.stop()

    async def _announce(self) -> None:
        while not self.server.started:
            await asyncio.sleep(0.05)
        if self.on_ready is not None:
            self.on_ready(self.url)

    async def _start(self) -> None:
        await self.writer.start()
        await self.hub_feed.start()
        publisher = await self.fanout.publisher()
        self.fleet = Fleet(
            trucks=self.trucks,
            catalog=self.catalog,
            publisher=publisher,
            seed=self.seed,
            window_ms=self.settings.window_ms,
            spool_dir=self.settings.spool_dir,
        )
        await self.fleet.start()

    async def _shutdown(self) -> None:
        # Upstream first, so every batch in flight reaches the store.
        if self.fleet is not None:
            await self.fleet.stop()
        await self.writer.stop()
        await self.hub_feed.stop()
        await self.fanout.close()
        await self.cache.close()
        log.info("demo stopped")
