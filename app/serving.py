"""Serving ASGI applications in a role: a Starlette lifespan and uvicorn.

uvicorn runs inside the role's own event loop and leaves SIGINT and SIGTERM to
fleetlink's lifecycle (app.lifecycle), so every role stops the same way.
Websockets carry telemetry without compression (the hub's UVICORN_WS_OPTIONS).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from app.hub.server import UVICORN_WS_OPTIONS

__all__ = ["Server", "make_server", "starlette_app"]


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
        **UVICORN_WS_OPTIONS,
        log_level=log_level.lower() if log_level.upper() != "TRACE" else "debug",
        access_log=False,
        log_config=None,
        lifespan="on",
    )
    return Server(config)
