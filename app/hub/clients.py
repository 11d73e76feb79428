"""One websocket client of the hub: its subscription, its sender and its counters.

Every client has its own pusher task that wakes at the client's rate, takes
the cells of its subscription whose value changed since its previous message,
and sends them. The feed never waits for a client: it only updates the state.
A client that reads slowly therefore costs nothing but its own pusher, which
sends whatever is newest when its previous send completes (values replaced in
between are dropped and counted as conflated). A send that does not complete
within the send timeout means the client is hopeless; the hub stops serving it
and counts it.

Clients with the same subscription that wake together share one encoded
message: :class:`Encoder` keeps the text of each (subscription, since) pair
for as long as the state version does not move. Pushers wake on a grid of
their period, so clients with one rate wake together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import asdict, dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from app.hub import protocol
from app.hub.protocol import Ping, Subscribe
from app.hub.state import LiveState
from edge.catalog import Catalog
from edge.errors import ProtocolError

__all__ = ["Client", "Encoded", "Encoder", "HubStats"]

log = logging.getLogger(f"fleetlink.{__name__}")

POLICY_VIOLATION = 1008
UNSUPPORTED_DATA = 1003
GOING_AWAY = 1001
INTERNAL_ERROR = 1011
_GONE = (WebSocketDisconnect, WebSocketDisconnected, OSError)


@dataclass
class HubStats:
    """Counters of one hub since it started."""

    clients: int = 0
    messages_sent: int = 0
    bytes_sent: int = 0
    conflated: int = 0
    disconnected_slow: int = 0
    bad_client_messages: int = 0
    bad_deliveries: int = 0
    batches: int = 0
    points: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Encoded:
    """A snapshot or update ready to send, and what it covers."""

    text: str | None
    """None when no cell of the subscription changed."""
    cells: int
    changes: int
    version: int


class Encoder:
    """Encodes a subscription's changed cells once per state version for every client."""

    def __init__(self, state: LiveState, catalog: Catalog) -> None:
        self.state = state
        self.keys = [s.key for s in catalog.signals]
        self.version = -1
        self._memo: dict[tuple[object, ...], Encoded] = {}

    def encode(self, kind: str, sub: Subscribe, since: int) -> Encoded:
        """The cells of sub whose value changed after version since, as a kind message."""
        if self.version != self.state.version:
            self._memo.clear()
            self.version = self.state.version
        key = (kind, sub.scope, since)
        hit = self._memo.get(key)
        if hit is None:
            cells = self.state.select(sub.trucks, sub.signal_ids, since=since)
            text = protocol.encode_cells(kind, cells, self.keys) if len(cells) else None
            if kind == "snapshot" and text is None:
                text = protocol.encode({"type": "snapshot", "trucks": {}})
            hit = Encoded(text, len(cells), cells.changes, self.version)
            self._memo[key] = hit
        return hit


@dataclass(frozen=True)
class _End:
    """Why a connection ends: the close code to send (None: send nothing) and an error."""

    code: int | None
    error: str | None = None


class _Hopeless(Exception):
    """A send did not complete within the send timeout."""


class Client:
    """Serves one accepted websocket until it closes, breaks the protocol or stalls."""

    def __init__(
        self,
        websocket: WebSocket,
        *,
        encoder: Encoder,
        catalog: Catalog,
        stats: HubStats,
        hello: str,
        send_timeout_s: float,
    ) -> None:
        self.websocket = websocket
        self.encoder = encoder
        self.catalog = catalog
        self.stats = stats
        self.hello = hello
        self.send_timeout_s = send_timeout_s
        self.peer = f"{websocket.client.host}:{websocket.client.port}" if websocket.client else "?"
        self.sub: Subscribe | None = None
        self.messages_sent = 0
        self._since = 0
        self._changes_seen = 0
        self._lock = asyncio.Lock()
        self._done = asyncio.Event()
        self._end = _End(None)
        self._pusher: asyncio.Task[None] | None = None

    def stop(self, code: int = GOING_AWAY) -> None:
        """Ask the connection to end with this close code."""
        self._finish(_End(code))

    def _finish(self, end: _End) -> None:
        if not self._done.is_set():
            self._end = end
            self._done.set()

    async def serve(self) -> None:
        """Send hello, then answer and push until the connection ends."""
        receiver = asyncio.create_task(self._receive(), name=f"hub-recv-{self.peer}")
        ended = asyncio.create_task(self._done.wait())
        await asyncio.wait({receiver, ended}, return_when=asyncio.FIRST_COMPLETED)
        tasks = [t for t in (receiver, ended, self._pusher) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._close()

    async def _receive(self) -> None:
        try:
            await self._send(self.hello)
            while not self._done.is_set():
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                await self._handle(message.get("text"), message.get("bytes"))
        except (_Hopeless, *_GONE) as exc:
            self._gone(exc)
        except Exception:
            # Our own bug or Starlette's; this client ends, the others go on.
            log.exception("client %s: unexpected failure, closing with 1011", self.peer)
            self._finish(_End(INTERNAL_ERROR))
        self._finish(_End(None))

    async def _handle(self, text: str | None, data: bytes | None) -> None:
        if text is None:
            size = len(data or b"")
            self._refuse(
                UNSUPPORTED_DATA, f"expected text messages, got a binary one of {size} bytes"
            )
            return
        try:
            request = protocol.parse(text, self.catalog)
        except ProtocolError as exc:
            self._refuse(POLICY_VIOLATION, str(exc))
            return
        if isinstance(request, Ping):
            await self._send(protocol.pong(time.time()))
        else:
            await self._subscribe(request)

    def _refuse(self, code: int, reason: str) -> None:
        self.stats.bad_client_messages += 1
        log.info("client %s broke the protocol, closing with %d: %s", self.peer, code, reason)
        self._finish(_End(code, reason))

    async def _subscribe(self, sub: Subscribe) -> None:
        if self._pusher is not None:
            self._pusher.cancel()
        async with self._lock:
            snapshot = self.encoder.encode("snapshot", sub, 0)
            self.sub = sub
            self._since = snapshot.version
            self._changes_seen = snapshot.changes
            await self._write(protocol.subscribed(sub))
            await self._write(snapshot.text or "")
        self._pusher = asyncio.create_task(self._push(sub), name=f"hub-push-{self.peer}")

    async def _push(self, sub: Subscribe) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / sub.rate_hz
        try:
            while True:
                await asyncio.sleep(period - loop.time() % period)
                async with self._lock:
                    await self._push_once(sub)
        except (_Hopeless, *_GONE) as exc:
            self._gone(exc)
        except Exception:
            log.exception("client %s: pusher failed, closing with 1011", self.peer)
            self._finish(_End(INTERNAL_ERROR))

    async def _push_once(self, sub: Subscribe) -> None:
        if self._since == self.encoder.state.version:
            return
        update = self.encoder.encode("update", sub, self._since)
        self.stats.conflated += max(0, update.changes - self._changes_seen - update.cells)
        self._since = update.version
        self._changes_seen = update.changes
        if update.text is not None:
            await self._write(update.text)

    async def _send(self, text: str) -> None:
        async with self._lock:
            await self._write(text)

    async def _write(self, text: str) -> None:
        try:
            await asyncio.wait_for(self.websocket.send_text(text), self.send_timeout_s)
        except TimeoutError:
            raise _Hopeless(f"a send took longer than {self.send_timeout_s} s") from None
        self.messages_sent += 1
        self.stats.messages_sent += 1
        self.stats.bytes_sent += len(text)

    def _gone(self, exc: BaseException) -> None:
        if isinstance(exc, _Hopeless):
            self.stats.disconnected_slow += 1
            log.warning("client %s is too slow, disconnecting: %s", self.peer, exc)
        else:
            log.debug("client %s went away", self.peer)
        self._finish(_End(None))

    async def _close(self) -> None:
        end = self._end
        if end.code is None:
            return
        with contextlib.suppress(*_GONE, _Hopeless, TimeoutError):
            if end.error is not None:
                await self._write(protocol.error(end.error))
            await asyncio.wait_for(self.websocket.close(end.code), self.send_timeout_s)
