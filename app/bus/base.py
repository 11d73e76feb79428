"""What consumers need from the telemetry fanout.

A consumer reads deliveries from its own queue bound to the fanout. The writer
acknowledges each delivery only after its data is committed; the hub consumes
without acknowledgements, since a lost live value is replaced a moment later.
A delivery that cannot be understood is dead-lettered with a reason, so it is
kept where someone can look at it and never blocks the queue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from edge.publish import Publisher

__all__ = ["QUEUE_HEADER", "REASON_HEADER", "Consumer", "DeadLetter", "Delivery", "Fanout"]

# On RabbitMQ a dead letter's reason and queue travel as these headers, so an
# operator reading the dead-letter queue by hand sees them too.
REASON_HEADER = "x-fleetlink-reason"
QUEUE_HEADER = "x-fleetlink-queue"


@dataclass(frozen=True)
class Delivery:
    """One message taken from a queue.

    ``tag`` numbers deliveries within one channel; ``channel`` says which, so
    after a reconnection (when tags start again from 1 on a new channel) an
    acknowledgement meant for the old channel never acknowledges a new
    delivery that happens to carry the same tag.
    """

    body: bytes
    tag: int
    message_id: str = ""
    redelivered: bool = False
    channel: int = 0


@dataclass(frozen=True)
class DeadLetter(Delivery):
    """A delivery some consumer gave up on, with why and from which queue."""

    reason: str = ""
    queue: str = ""


class Consumer(Protocol):
    """Deliveries of one queue, in order."""

    def deliveries(self) -> AsyncIterator[Delivery]:
        """Yield deliveries until the consumer is closed."""
        ...

    async def ack(self, delivery: Delivery, *, multiple: bool = False) -> None:
        """Acknowledge a delivery (and, with multiple, every earlier one)."""
        ...

    async def dead_letter(self, delivery: Delivery, reason: str) -> None:
        """Move a delivery to the dead-letter queue with its reason, then ack it."""
        ...

    async def close(self) -> None:
        """Stop consuming; unacknowledged deliveries go back to the queue."""
        ...


class Fanout(Protocol):
    """A fanout exchange and the queues bound to it."""

    async def publisher(self) -> Publisher:
        """A publisher to the fanout, for agents in this process."""
        ...

    async def consumer(self, queue: str, *, durable: bool, prefetch: int, ack: bool) -> Consumer:
        """Bind a queue named queue (durable survives restarts) and consume it."""
        ...

    async def dead_letters(self) -> list[DeadLetter]:
        """What sits in the dead-letter queue now (for tests and operators)."""
        ...

    async def close(self) -> None:
        """Close every publisher and consumer made here."""
        ...
