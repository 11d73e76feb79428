"""The truck agent: frames from a source, batches to the telemetry fanout.

For every block of frames the agent decodes the signals (edge.codec), cuts the
points into windows (edge.batcher), packs each window (edge.wire) and hands it
to the publisher without waiting for the confirm: up to ``max_in_flight``
batches wait for theirs at once. A batch the bus does not take (unreachable,
or no queue bound) goes to the spool; a separate replay task sends spooled
batches again, oldest first, when a live publish has just worked or every
``replay_interval_s``.

Bad frames never stop the agent: unknown ids, short frames and contents the
DBC does not allow are counted, and the first of each kind is logged with its
reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge.batcher import Batcher
from edge.codec import Codec
from edge.errors import DecodeError, FrameTooShortError, TransportError, UnknownFrameError
from edge.publish import Publisher
from edge.sources import FrameBlock, FrameSource
from edge.spool import Spool
from edge.wire import Batch, pack

__all__ = ["Agent", "AgentStats", "message_id"]

log = logging.getLogger(f"fleetlink.{__name__}")


@dataclass
class AgentStats:
    """Counters of one agent run."""

    frames: int = 0
    error_frames: int = 0
    unknown_id: int = 0
    too_short: int = 0
    undecodable: int = 0
    points: int = 0
    batches_published: int = 0
    batches_spooled: int = 0
    batches_lost: int = 0
    spool_replayed: int = 0


def message_id(batch: Batch) -> str:
    """The AMQP message id of a batch: truck, agent start and sequence number."""
    return f"{batch.truck_id}-{batch.agent_start}-{batch.seq}"


class Agent:
    """One truck's agent: decode, batch, publish, spool."""

    def __init__(
        self,
        *,
        truck_id: int,
        source: FrameSource,
        codec: Codec,
        publisher: Publisher,
        catalog: Any,
        window_ms: int = 250,
        spool: Spool | None = None,
        compress: bool = False,
        max_in_flight: int = 64,
        replay_interval_s: float = 2.0,
    ) -> None:
        if len(codec.signals) != len(catalog.signals):
            raise ValueError(
                f"codec has {len(codec.signals)} signals, catalogue {len(catalog.signals)}"
            )
        self.truck_id = truck_id
        self.source = source
        self.codec = codec
        self.publisher = publisher
        self.spool = spool
        self.compress = compress
        self.replay_interval_s = replay_interval_s
        self.stats = AgentStats()
        self.batcher = Batcher(
            truck_id=truck_id,
            fingerprint=catalog.fingerprint,
            stored=[signal.stored for signal in catalog.signals],
            window_ms=window_ms,
        )
        self._slots = asyncio.Semaphore(max_in_flight)
        self._sends: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._finished = asyncio.Event()
        self._wake_replay = asyncio.Event()
        self._running = False
        self._warned: set[str] = set()
        self._spooling = False

    @property
    def agent_start(self) -> int:
        """The random id of this agent start, part of every batch's key."""
        return self.batcher.agent_start

    async def run(self) -> None:
        """Read, batch and publish until the source ends or stop() is called."""
        self._running = True
        replayer = asyncio.create_task(self._replay_loop(), name="agent-replay")
        log.info("agent of truck %d started (agent start %d)", self.truck_id, self.agent_start)
        try:
            async for block in self.source.blocks():
                await self._take(block)
                if self.source.live:
                    await self._send_all(self.batcher.close_due(time.time()))
                if self._stopping.is_set():
                    break
        finally:
            await self._send_all(self.batcher.flush())
            await self._drain()
            self._stopping.set()
            self._wake_replay.set()
            await replayer
            self._finished.set()
            log.info("agent of truck %d stopped: %s", self.truck_id, self.stats)

    async def stop(self) -> None:
        """Close the open window, publish or spool everything held, wait for confirms."""
        self._stopping.set()
        self._wake_replay.set()
        await self.source.close()
        if self._running:
            await self._finished.wait()
        else:
            await self._send_all(self.batcher.flush())
            await self._drain()

    async def _take(self, block: FrameBlock) -> None:
        stats = self.stats
        stats.frames += len(block)
        stats.error_frames += block.skipped
        codec = self.codec.stats
        before = (codec.unknown_id, codec.too_short, codec.undecodable)
        frames, ids, values = self.codec.decode_many(block.ids, block.payloads, block.lengths)
        self._count_bad(block, before)
        stats.points += int(ids.shape[0])
        await self._send_all(self.batcher.add(block.timestamps[frames], ids, values))

    def _count_bad(self, block: FrameBlock, before: tuple[int, int, int]) -> None:
        codec = self.codec.stats
        unknown = codec.unknown_id - before[0]
        short = codec.too_short - before[1]
        undecodable = codec.undecodable - before[2]
        self.stats.unknown_id += unknown
        self.stats.too_short += short
        self.stats.undecodable += undecodable
        news = {"unknown": unknown, "short": short, "undecodable": undecodable}
        if any(count and kind not in self._warned for kind, count in news.items()):
            self._explain(block)

    def _explain(self, block: FrameBlock) -> None:
        """Log, once per kind, why the codec gave nothing for a frame of this block."""
        for row in np.unique(block.ids, return_index=True)[1].tolist():
            frame_id = int(block.ids[row])
            data = block.payloads[row, : block.lengths[row]].tobytes()
            try:
                self.codec.decode(frame_id, data)
            except UnknownFrameError as exc:
                self._warn_once("unknown", exc)
            except FrameTooShortError as exc:
                self._warn_once("short", exc)
            except DecodeError as exc:
                self._warn_once("undecodable", exc)

    def _warn_once(self, kind: str, exc: Exception) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            log.warning("truck %d: skipping frames: %s (counting the rest)", self.truck_id, exc)

    async def _send_all(self, batches: list[Batch]) -> None:
        for batch in batches:
            body = pack(batch, compress=self.compress)
            await self._slots.acquire()
            task = asyncio.create_task(self._send(body, message_id(batch)))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)

    async def _send(self, body: bytes, ident: str) -> None:
        try:
            await self.publisher.publish(body, message_id=ident)
        except TransportError as exc:
            self._keep(body, ident, exc)
        else:
            self.stats.batches_published += 1
            if self._spooling:
                self._spooling = False
                log.info("publishing again after spooling %d batches", self.stats.batches_spooled)
            if self.spool is not None and len(self.spool):
                self._wake_replay.set()
        finally:
            self._slots.release()

    def _keep(self, body: bytes, ident: str, exc: TransportError) -> None:
        if self.spool is None:
            self.stats.batches_lost += 1
            log.error("batch %s lost, no spool configured: %s", ident, exc)
            return
        if not self._spooling:
            self._spooling = True
            log.warning("spooling batches from %s on: %s", ident, exc)
        self.spool.put(body, message_id=ident)
        self.stats.batches_spooled += 1

    async def _drain(self) -> None:
        while self._sends:
            await asyncio.gather(*list(self._sends))

    async def _replay_loop(self) -> None:
        """Send spooled batches again, oldest first, while the bus takes them."""
        while not self._stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake_replay.wait(), self.replay_interval_s)
            self._wake_replay.clear()
            if self.spool is not None and len(self.spool) and not self._stopping.is_set():
                await self._replay(self.spool)

    async def _replay(self, spool: Spool) -> None:
        for entry in spool.entries():
            kept = spool.read(entry)
            if kept is None:
                continue
            ident, body = kept
            try:
                await self.publisher.publish(body, message_id=ident)
            except TransportError as exc:
                log.debug("spool replay paused: %s", exc)
                return
            spool.remove(entry)
            self.stats.spool_replayed += 1
        log.info("spool replayed (%d batches so far)", self.stats.spool_replayed)
