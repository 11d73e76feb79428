"""The batch writer: takes batches off the durable queue and stores them.

Deliveries are unpacked and buffered. Every ``flush_interval_s``, or as soon as
the buffer holds ``max_pending_points``, everything buffered is written in one
store transaction, and only once that transaction has committed is the last
delivery acknowledged with ``multiple=True``, which acknowledges the whole
buffer in one frame. A crash before the commit leaves every delivery
unacknowledged, so the broker hands them out again; a crash between commit and
acknowledgement redelivers batches the ledger already holds, and the store
skips them. Either way each batch is stored exactly once.

A delivery that cannot be stored (it does not unpack, its catalogue
fingerprint is not ours, or it names a signal the catalogue does not have) is
dead-lettered with its reason and counted; the writer carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from app.bus.base import Consumer, Delivery
from app.store.base import Store, WriteResult
from edge.catalog import Catalog
from edge.errors import StoreError, TransportError, WireFormatError
from edge.wire import Batch, unpack

__all__ = ["Writer", "WriterStats"]

log = logging.getLogger(f"fleetlink.{__name__}")

_MAX_RETRY_DELAY_S = 30.0


@dataclass
class WriterStats:
    """Counters of one writer since it started."""

    deliveries: int = 0
    batches_written: int = 0
    duplicates: int = 0
    points_written: int = 0
    dead_lettered: int = 0
    flushes: int = 0
    failed_writes: int = 0


class Writer:
    """Consumes batch deliveries and writes them to a store, acking after commit."""

    def __init__(
        self,
        *,
        store: Store,
        consumer: Consumer,
        catalog: Catalog,
        flush_interval_s: float = 2.0,
        max_pending_points: int = 2_000_000,
        retry_delay_s: float = 1.0,
        max_write_attempts: int = 8,
        partition_check_s: float = 3600.0,
        retention_days: int = 0,
    ) -> None:
        self.stats = WriterStats()
        self._store = store
        self._consumer = consumer
        self._catalog = catalog
        self._flush_interval_s = flush_interval_s
        self._max_pending_points = max_pending_points
        self._retry_delay_s = retry_delay_s
        self._max_write_attempts = max_write_attempts
        self._partition_check_s = partition_check_s
        self._retention_days = retention_days
        self._next_partition_check = 0.0

        self._pending: list[tuple[Delivery, Batch]] = []
        self._pending_points = 0
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._stopping = False
        self._started = False
        self._finished = asyncio.Event()
        self._warned: set[str] = set()

    async def run(self) -> None:
        """Consume until stop() is called or the consumer ends; raises StoreError
        when a write keeps failing (what was not committed stays unacknowledged)."""
        self._started = True
        reader = asyncio.create_task(self._read(), name="writer-read")
        failed = False
        log.info(
            "writer started: flush every %.1f s or %d points",
            self._flush_interval_s,
            self._max_pending_points,
        )
        try:
            while not self._stopping and not reader.done():
                await self._maintain_partitions()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._flush_interval_s)
                self._wake.clear()
                await self._flush()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await self._flush()
        except BaseException:
            failed = True
            raise
        finally:
            reader.cancel()
            await self._consumer.close()
            self._finished.set()
            log.info("writer stopped%s: %s", " after a failure" if failed else "", self.stats)

    async def stop(self) -> None:
        """Write and acknowledge what is buffered, then close the consumer."""
        self._stopping = True
        self._wake.set()
        if self._started:
            await self._finished.wait()
        else:
            await self._consumer.close()

    # -- reading --------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for delivery in self._consumer.deliveries():
                self.stats.deliveries += 1
                batch = await self._accept(delivery)
                if batch is None:
                    continue
                self._pending.append((delivery, batch))
                self._pending_points += len(batch)
                if self._pending_points >= self._max_pending_points:
                    self._room.clear()
                    self._wake.set()
                    await self._room.wait()
        finally:
            self._wake.set()

    async def _accept(self, delivery: Delivery) -> Batch | None:
        """The batch of a delivery, or None once it has been dead-lettered."""
        try:
            batch = unpack(delivery.body)
        except WireFormatError as exc:
            await self._reject(delivery, "malformed", f"malformed batch: {exc}")
            return None
        if batch.fingerprint != self._catalog.fingerprint:
            reason = (
                f"catalogue fingerprint 0x{batch.fingerprint:08x},"
                f" expected 0x{self._catalog.fingerprint:08x}"
            )
            await self._reject(delivery, "fingerprint", reason)
            return None
        if len(batch) and int(batch.signal_ids.max()) >= len(self._catalog):
            reason = (
                f"signal id {int(batch.signal_ids.max())} is not in the catalogue"
                f" of {len(self._catalog)} signals"
            )
            await self._reject(delivery, "signal id", reason)
            return None
        return batch

    async def _reject(self, delivery: Delivery, kind: str, reason: str) -> None:
        self.stats.dead_lettered += 1
        if kind not in self._warned:
            self._warned.add(kind)
            log.warning(
                "dead-lettering delivery %s: %s (further ones of this kind at DEBUG)",
                delivery.tag,
                reason,
            )
        else:
            log.debug("dead-lettering delivery %s: %s", delivery.tag, reason)
        try:
            await self._consumer.dead_letter(delivery, reason)
        except TransportError as exc:
            log.error(
                "delivery %s could not be dead-lettered and is lost (%s): %s",
                delivery.tag,
                reason,
                exc,
            )

    # -- writing --------------------------------------------------------------

    async def _flush(self) -> None:
        taken, self._pending, self._pending_points = self._pending, [], 0
        self._room.set()
        if not taken:
            return
        result = await self._write([batch for _, batch in taken])
        await self._ack(taken[-1][0], len(taken))
        self.stats.flushes += 1
        self.stats.batches_written += result.batches_written
        self.stats.duplicates += result.batches_duplicate
        self.stats.points_written += result.points_written
        log.debug(
            "flushed %d batches: %d written, %d duplicate, %d points",
            len(taken),
            result.batches_written,
            result.batches_duplicate,
            result.points_written,
        )

    async def _write(self, batches: Sequence[Batch]) -> WriteResult:
        """store.write, retried with backoff; raises StoreError after the last attempt."""
        delay = self._retry_delay_s
        for attempt in range(1, self._max_write_attempts + 1):
            try:
                return await self._store.write(batches)
            except StoreError as exc:
                self.stats.failed_writes += 1
                if attempt == self._max_write_attempts:
                    log.error(
                        "write of %d batches failed %d times, giving up; not acknowledged: %s",
                        len(batches),
                        attempt,
                        exc,
                    )
                    raise
                log.warning(
                    "write of %d batches failed (attempt %d of %d), retrying in %.1f s: %s",
                    len(batches),
                    attempt,
                    self._max_write_attempts,
                    delay,
                    exc,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_RETRY_DELAY_S)
        raise AssertionError("unreachable: the last attempt raises or returns")

    async def _ack(self, last: Delivery, count: int) -> None:
        try:
            await self._consumer.ack(last, multiple=True)
        except TransportError as exc:
            log.warning(
                "ack of %d committed deliveries failed; they will be redelivered and skipped: %s",
                count,
                exc,
            )

    async def _maintain_partitions(self) -> None:
        now = time.monotonic()
        if now < self._next_partition_check:
            return
        self._next_partition_check = now + self._partition_check_s
        try:
            await self._store.ensure_partitions()
        except StoreError as exc:
            log.warning("could not prepare partitions ahead, writes go to the catch-all: %s", exc)
        if self._retention_days <= 0:
            return
        try:
            await self._store.drop_partitions(retention_days=self._retention_days)
        except StoreError as exc:
            log.warning("could not drop days older than %d: %s", self._retention_days, exc)
