"""The ASGI applications the web-facing roles serve, and how they are served.

The Dash UI is a WSGI (Flask) application; it is mounted at ``/`` under
Starlette through a2wsgi, next to the hub's websocket route and the HTTP API,
so the demo serves everything on one port.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import uvicorn
from a2wsgi import WSGIMiddleware
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from dashboard.app import create_dash
from edge.sim.route import base_map

__all__ = ["Server", "dash_mount", "make_server"]

log = logging.getLogger(f"fleetlink.{__name__}")


def dash_mount(hub_ws_url: str) -> Mount:
    """The Dash UI, mounted at the root, reading live values from hub_ws_url."""
    dash_app = create_dash(hub_ws_url=hub_ws_url, base_map=base_map())
    return Mount("/", app=WSGIMiddleware(dash_app.server, workers=4))  # type: ignore[arg-type]


def starlette_app(
    routes: list[BaseRoute],
    *,
    startup: Callable[[], Awaitable[None]] | None = None,
    shutdown: Callable[[], Awaitable[None]] | None = None,
) -> Starlette:
    """A Starlette app whose lifespan calls startup and shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if startup is not None:
            await startup()
        try:
            yield
        finally:
            if shutdown is not None:
                await shutdown()

    return Starlette(routes=routes, lifespan=lifespan)


class _Uvicorn(uvicorn.Server):
    """uvicorn, leaving SIGINT and SIGTERM to fleetlink's own lifecycle."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


class Server:
    """A uvicorn server as a role: run() serves, stop() shuts down gracefully."""

    def __init__(self, config: uvicorn.Config) -> None:
        self._server = _Uvicorn(config)

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    async def run(self) -> None:
        await self._server.serve()

    async def stop(self) -> None:
        self._server.should_exit = True


def make_server(app: Any, host: str, port: int, log_level: str) -> Server:
    """A uvicorn server for telemetry: websockets without compression."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        log_level=log_level.lower() if log_level.upper() != "TRACE" else "debug",
        access_log=False,
        log_config=None,
        lifespan="on",
    )
    return Server(config)
