"""Running a role until SIGINT or SIGTERM, then stopping it cleanly.

Each role is an object with ``run()`` (returns when its work ends) and
``stop()`` (finish or hand back what it holds). The first signal asks the role
to stop; a second one cancels whatever is still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

__all__ = ["Role", "run_until_signal", "serve"]

log = logging.getLogger(f"fleetlink.{__name__}")


class Role(Protocol):
    async def run(self) -> None: ...

    async def stop(self) -> None: ...


async def run_until_signal(role: Role, name: str) -> None:
    """Run a role; on the first SIGINT/SIGTERM call its stop(), on the second cancel it."""
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(role.run(), name=name)
    signals = 0
    stopping: list[asyncio.Task[None]] = []

    def on_signal(signum: int) -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            log.info("%s: %s received, stopping", name, signal.Signals(signum).name)
            stopping.append(loop.create_task(role.stop()))
        else:
            log.warning("%s: second signal, cancelling", name)
            task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for stop in stopping:
            await stop
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    log.info("%s: stopped", name)


def serve(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine function on uvloop when it is installed, else asyncio."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
