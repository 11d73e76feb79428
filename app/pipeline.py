"""The data-centre side of the pipeline as parts that start and stop together.

`WriterRole` consumes the durable queue into the store; `HubFeed` binds the
hub's own queue and keeps the hub's state current. The demo composes both with
a fleet in one process; the ``writer`` and ``hub`` roles each run one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

from starlette.applications import Starlette

from app.api import LatestSource, api_routes
from app.bus.base import Consumer, Fanout
from app.config import Settings
from app.hub.feed import feed
from app.hub.server import Hub
from app.serving import starlette_app
from app.store.base import Store
from app.writer import Writer
from edge.catalog import Catalog

__all__ = ["HUB_PREFETCH", "HubFeed", "WriterRole", "hub_app"]

log = logging.getLogger(f"fleetlink.{__name__}")

HUB_PREFETCH = 5000


class WriterRole:
    """The batch writer with its store and its consumer of the durable queue."""

    def __init__(
        self, *, settings: Settings, fanout: Fanout, store: Store, catalog: Catalog
    ) -> None:
        self.settings = settings
        self.fanout = fanout
        self.store = store
        self.catalog = catalog
        self.writer: Writer | None = None
        self._consumer: Consumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.store.open()
        applied = await self.store.upgrade()
        if applied:
            log.info("schema migrations applied: %s", ", ".join(applied))
        self._consumer = await self.fanout.consumer(
            self.settings.writer_queue,
            durable=True,
            prefetch=self.settings.writer_prefetch,
            ack=True,
        )
        self.writer = Writer(
            store=self.store,
            consumer=self._consumer,
            catalog=self.catalog,
            flush_interval_s=self.settings.flush_interval_s,
            retention_days=self.settings.retention_days,
        )
        self._task = asyncio.create_task(self.writer.run(), name="writer")

    async def run(self) -> None:
        """Start and write until stop(); raises if the writer fails for good."""
        await self.start()
        assert self._task is not None
        await self._task

    async def stop(self) -> None:
        """Flush and acknowledge what is held, then close consumer and store."""
        if self.writer is not None:
            await self.writer.stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.close()
        await self.store.close()


class HubFeed:
    """Keeps a hub current from its own, non-durable queue on the fanout."""

    def __init__(self, *, settings: Settings, fanout: Fanout, hub: Hub) -> None:
        self.settings = settings
        self.fanout = fanout
        self.hub = hub
        self._consumer: Consumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.hub.start()
        queue = f"{self.settings.exchange}.hub.{secrets.token_hex(4)}"
        self._consumer = await self.fanout.consumer(
            queue, durable=False, prefetch=HUB_PREFETCH, ack=False
        )
        self._task = asyncio.create_task(feed(self.hub, self._consumer), name="hub-feed")

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.hub.stop()


def hub_app(
    hub: Hub, fanout: Fanout, settings: Settings, *, store: LatestSource | None = None
) -> Starlette:
    """The standalone hub role: the hub's routes and, with a cache, the HTTP API.

    Its lifespan starts the hub, binds the hub's own queue and feeds from it,
    and stops all of it cleanly on shutdown.
    """
    hub_feed = HubFeed(settings=settings, fanout=fanout, hub=hub)
    routes = hub.routes()
    if hub.cache is not None:
        routes += api_routes(cache=hub.cache, store=store, catalog=hub.catalog)
    return starlette_app(routes, startup=hub_feed.start, shutdown=hub_feed.stop)
