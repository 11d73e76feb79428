"""Feeding the hub from its queue on the telemetry fanout.

The hub's queue is consumed without acknowledgements: a live value lost in a
crash is replaced a moment later by the next batch. Each delivery is unpacked
and merged into the hub's state; nothing here waits for a websocket client.
A delivery that cannot be used (malformed, or packed with another catalogue)
is counted, logged at WARNING the first time its kind is seen and at DEBUG
after that, and handed to the consumer's dead-letter queue.
"""

from __future__ import annotations

import logging
from typing import Protocol

from app.bus.base import Consumer, Delivery
from edge.errors import WireFormatError
from edge.wire import Batch, unpack

__all__ = ["Feedable", "feed"]

log = logging.getLogger(f"fleetlink.{__name__}")


class Feedable(Protocol):
    """What feed needs of a hub."""

    @property
    def fingerprint(self) -> int: ...

    def apply(self, batch: Batch) -> int: ...

    def count_bad_delivery(self) -> None: ...


async def feed(hub: Feedable, consumer: Consumer) -> None:
    """Apply every delivery of consumer to hub until the consumer is closed."""
    bad = _BadDeliveries(consumer)
    async for delivery in consumer.deliveries():
        try:
            batch = unpack(delivery.body)
        except WireFormatError as exc:
            hub.count_bad_delivery()
            await bad.handle(delivery, "malformed", f"malformed batch: {exc}")
            continue
        if batch.fingerprint != hub.fingerprint:
            hub.count_bad_delivery()
            reason = (
                f"expected catalogue fingerprint {hub.fingerprint:#010x}, "
                f"got {batch.fingerprint:#010x} from truck {batch.truck_id}"
            )
            await bad.handle(delivery, "foreign catalogue", reason)
            continue
        hub.apply(batch)


class _BadDeliveries:
    """Logs and dead-letters unusable deliveries; never lets one stop the feed."""

    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer
        self.seen: set[str] = set()
        self.can_dead_letter = True

    async def handle(self, delivery: Delivery, kind: str, reason: str) -> None:
        level = logging.DEBUG if kind in self.seen else logging.WARNING
        self.seen.add(kind)
        log.log(level, "delivery %s set aside: %s", delivery.message_id or delivery.tag, reason)
        if not self.can_dead_letter:
            return
        try:
            await self.consumer.dead_letter(delivery, reason)
        except Exception:
            # The consumer is the bus adapter's code; without a dead-letter queue the
            # delivery is still counted and logged, and the feed goes on.
            log.exception("dead-lettering failed; bad deliveries are only counted from now on")
            self.can_dead_letter = False
