"""Frame sources: where the agent's CAN frames come from, a block at a time.

A source yields :class:`FrameBlock` objects, columns of frames as numpy arrays,
never a Python list of points. Two kinds exist:

- :class:`BusSource` reads any python-can bus (SocketCAN on a truck, the
  in-process ``virtual`` bus in tests and the demo). It is *live*: it yields a
  block every ``block_s`` even when the bus is silent, so that the agent can
  close windows on the wall clock.
- :class:`LogSource` replays a python-can log file (.asc, .blf, .log, .trc and
  whatever else ``can.LogReader`` knows), as fast as possible or honouring the
  gaps between frames. Replay closes windows by frame time.

Error frames, remote frames and frames the source cannot parse carry no data;
they are skipped, and each block says how many it skipped.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import can
import numpy as np
import numpy.typing as npt

__all__ = ["BusSource", "FrameBlock", "FrameSource", "LogSource", "block_from_messages"]

log = logging.getLogger(f"fleetlink.{__name__}")

CLASSIC_WIDTH = 8
FD_WIDTH = 64


@dataclass(frozen=True, eq=False)
class FrameBlock:
    """Frames received together, one row each, plus the frames skipped on the way."""

    timestamps: npt.NDArray[np.float64]
    ids: npt.NDArray[np.uint32]
    payloads: npt.NDArray[np.uint8]
    lengths: npt.NDArray[np.uint8]
    skipped: int = 0

    def __len__(self) -> int:
        return int(self.ids.shape[0])


class FrameSource(Protocol):
    """What the agent reads frames from."""

    @property
    def live(self) -> bool:
        """True when frames arrive in real time and windows close on the wall clock."""
        ...

    def blocks(self) -> AsyncIterator[FrameBlock]:
        """Yield blocks until the source ends or is closed."""
        ...

    async def close(self) -> None:
        """Stop reading; :meth:`blocks` ends soon after."""
        ...


def block_from_messages(messages: Sequence[can.Message], skipped: int = 0) -> FrameBlock:
    """Columns for data frames; error and remote frames are counted as skipped."""
    data = [m for m in messages if not (m.is_error_frame or m.is_remote_frame)]
    skipped += len(messages) - len(data)
    payloads = [bytes(m.data or b"") for m in data]
    width = FD_WIDTH if any(len(p) > CLASSIC_WIDTH for p in payloads) else CLASSIC_WIDTH
    joined = b"".join(p.ljust(width, b"\0")[:width] for p in payloads)
    return FrameBlock(
        timestamps=np.array([m.timestamp for m in data], dtype=np.float64),
        ids=np.array([m.arbitration_id for m in data], dtype=np.uint32),
        payloads=np.frombuffer(joined, dtype=np.uint8).reshape(len(data), width).copy(),
        lengths=np.array([min(len(p), width) for p in payloads], dtype=np.uint8),
        skipped=skipped,
    )


class BusSource:
    """Frames from a python-can bus, read by a background thread.

    The bus is opened here, so frames sent after construction are not missed.
    """

    live = True

    def __init__(
        self, interface: str, channel: str, *, block_s: float = 0.05, **bus_kwargs: Any
    ) -> None:
        self.interface = interface
        self.channel = channel
        self.block_s = block_s
        self.read_errors = 0
        self._bus = can.Bus(interface=interface, channel=channel, **bus_kwargs)
        self._lock = threading.Lock()
        self._pending: list[can.Message] = []
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    async def blocks(self) -> AsyncIterator[FrameBlock]:
        self._start_reader()
        log.info("reading CAN frames from %s channel %s", self.interface, self.channel)
        while not self._closing.is_set():
            await asyncio.sleep(self.block_s)
            yield block_from_messages(self._take())
        leftover = self._take()
        if leftover:
            yield block_from_messages(leftover)

    async def close(self) -> None:
        self._closing.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        self._bus.shutdown()

    def _start_reader(self) -> None:
        if self._thread is None:
            name = f"fleetlink-can-{self.channel}"
            self._thread = threading.Thread(target=self._read, name=name, daemon=True)
            self._thread.start()

    def _take(self) -> list[can.Message]:
        with self._lock:
            taken, self._pending = self._pending, []
        return taken

    def _read(self) -> None:
        while not self._closing.is_set():
            try:
                message = self._bus.recv(timeout=0.1)
            except can.CanError as exc:
                self.read_errors += 1
                log.warning("reading %s channel %s failed: %s", self.interface, self.channel, exc)
                self._closing.wait(0.5)
                continue
            if message is not None:
                with self._lock:
                    self._pending.append(message)


class LogSource:
    """Frames replayed from a python-can log file.

    With ``realtime`` the replay keeps the gaps between frames; otherwise it
    runs as fast as the reader can go. Frame timestamps are those of the log.
    """

    live = False

    def __init__(
        self,
        path: str | Path,
        *,
        realtime: bool = False,
        block_frames: int = 2048,
        block_s: float = 0.05,
    ) -> None:
        self.path = Path(path)
        self.realtime = realtime
        self.block_frames = block_frames
        self.block_s = block_s
        self.unparsed = 0
        self._closing = False
        self._reader: Any = None
        self._frames: Iterator[can.Message] | None = None
        self._held: can.Message | None = None

    async def blocks(self) -> AsyncIterator[FrameBlock]:
        log.info("replaying CAN log %s", self.path)
        self._reader = await asyncio.to_thread(self._open)
        self._frames = iter(self._reader)
        first_time: float | None = None
        started = time.monotonic()
        try:
            while not self._closing:
                messages, skipped = await asyncio.to_thread(self._read_chunk)
                if not messages and not skipped:
                    break
                if self.realtime and messages:
                    if first_time is None:
                        first_time = messages[0].timestamp
                    due = started + messages[-1].timestamp - first_time
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                yield block_from_messages(messages, skipped)
        finally:
            self._reader.stop()
        log.info("replay of %s ended (%d lines could not be parsed)", self.path, self.unparsed)

    async def close(self) -> None:
        self._closing = True

    def _open(self) -> Any:
        if self.path.suffix.lower() == ".asc":
            # ASC stores times relative to its header's date; ask for absolute ones.
            return can.LogReader(str(self.path), relative_timestamp=False)
        return can.LogReader(str(self.path))

    def _read_chunk(self) -> tuple[list[can.Message], int]:
        """Up to block_frames frames (in realtime mode, at most block_s of log time)."""
        messages: list[can.Message] = []
        skipped = 0
        if self._held is not None:
            messages.append(self._held)
            self._held = None
        while len(messages) < self.block_frames and self._frames is not None:
            try:
                message = next(self._frames)
            except StopIteration:
                self._frames = None
                break
            except Exception as exc:  # the log readers raise whatever a bad line causes
                skipped += 1
                self._unparsed(exc)
                continue
            if (
                self.realtime
                and messages
                and message.timestamp - messages[0].timestamp > self.block_s
            ):
                self._held = message
                break
            messages.append(message)
        return messages, skipped

    def _unparsed(self, exc: Exception) -> None:
        self.unparsed += 1
        if self.unparsed == 1:
            log.warning(
                "%s: skipping a frame that cannot be parsed: %s", self.path, exc, exc_info=exc
            )
        # The line-oriented canutils reader keeps no state between lines, so it
        # can resume after a bad one; the other readers cannot, and the replay ends.
        if isinstance(self._reader, can.CanutilsLogReader):
            self._frames = iter(self._reader)
        else:
            log.warning("%s: cannot resume after a frame that cannot be parsed", self.path)
            self._frames = None
