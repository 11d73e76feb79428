"""Dead letters: deliveries set aside with the reason they could not be used.

Both fanouts (app.bus.amqp and app.bus.memory) return these from
``dead_letters()``. On RabbitMQ the reason and the queue travel as the headers
named here, so an operator reading the dead-letter queue by hand sees them too.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.bus.base import Delivery

__all__ = ["QUEUE_HEADER", "REASON_HEADER", "DeadLetter"]

REASON_HEADER = "x-fleetlink-reason"
QUEUE_HEADER = "x-fleetlink-queue"


@dataclass(frozen=True)
class DeadLetter(Delivery):
    """A delivery some consumer gave up on, with why and from which queue."""

    reason: str = ""
    queue: str = ""
