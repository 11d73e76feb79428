"""Helpers of the hub tests: serving an app with uvicorn, talking to /ws/live."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect

from app.hub.server import UVICORN_WS_OPTIONS, Hub

T0 = 1_764_770_000_000_000
"""A fixed point time, microseconds since the epoch."""


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """Serve app with uvicorn on a free port; yield its ws:// base address."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **UVICORN_WS_OPTIONS)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def hub_app(hub: Hub) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        yield
        await hub.stop()

    return Starlette(routes=hub.routes(), lifespan=lifespan)


async def open_client(address: str, **options: Any) -> ClientConnection:
    """Connect to /ws/live and read the hello."""
    ws = await connect(f"ws://{address}/ws/live", compression=None, max_size=None, **options)
    hello = json.loads(await ws.recv())
    assert hello["type"] == "hello"
    return ws


async def subscribe(ws: ClientConnection, **request: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send a subscribe; return the subscribed answer and the snapshot."""
    await ws.send(json.dumps({"op": "subscribe", **request}))
    return json.loads(await ws.recv()), json.loads(await ws.recv())


async def next_update(ws: ClientConnection) -> dict[str, Any]:
    message = json.loads(await ws.recv())
    assert message["type"] == "update", message
    return message
