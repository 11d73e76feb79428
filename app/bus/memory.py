"""The in-process fanout of the embedded mode: RabbitMQ's semantics, without RabbitMQ.

:class:`MemoryFanout` implements :class:`app.bus.base.Fanout` inside one event
loop, so the embedded demo runs the agent, writer and hub code unchanged:

- A publish is copied to every bound queue (the body is shared, not copied);
  with no queue bound it raises :class:`~edge.errors.UnroutableError`, as a
  ``mandatory`` publish to RabbitMQ is returned.
- A durable queue (the writer's) is unbounded and outlives its consumer. Its
  deliveries wait for an ack; those still unacknowledged when the consumer
  closes go back to the front of the queue, marked redelivered, so a writer
  restarted in the same process loses nothing. At most ``prefetch`` deliveries
  are unacknowledged at once, and several consumers of one queue compete.
- A queue consumed with ``ack=False`` (the hub's) holds at most ``prefetch``
  deliveries: when full it drops the oldest and counts the drop, so a slow hub
  never holds the others back. It disappears when its consumer closes.
- Dead letters are kept in a list with their reasons.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import replace

from app.bus.base import DeadLetter, Delivery
from edge.errors import TransportError, UnroutableError

__all__ = ["MemoryConsumer", "MemoryFanout", "MemoryPublisher"]

log = logging.getLogger(f"fleetlink.{__name__}")


class _Queue:
    """Deliveries waiting for a consumer of one queue."""

    def __init__(self, name: str, *, durable: bool, limit: int | None) -> None:
        self.name = name
        self.durable = durable
        self.limit = limit
        self.items: deque[Delivery] = deque()
        self.consumers: list[MemoryConsumer] = []
        self.dropped = 0

    def put(self, delivery: Delivery) -> None:
        if self.limit is not None and len(self.items) >= self.limit:
            self.items.popleft()
            self.dropped += 1
            if self.dropped == 1:
                log.warning(
                    "queue %s is full (%d): dropping the oldest deliveries", self.name, self.limit
                )
        self.items.append(delivery)
        self.wake()

    def wake(self) -> None:
        for consumer in self.consumers:
            consumer._wake.set()


class MemoryPublisher:
    """Publishes into a MemoryFanout; fits edge.publish.Publisher."""

    def __init__(self, fanout: MemoryFanout) -> None:
        self._fanout = fanout
        self.published = 0

    async def publish(self, body: bytes, *, message_id: str) -> None:
        self._fanout._route(body, message_id)
        self.published += 1

    async def close(self) -> None:
        return None


class MemoryConsumer:
    """Deliveries of one in-process queue."""

    def __init__(self, fanout: MemoryFanout, queue: _Queue, *, ack: bool, prefetch: int) -> None:
        self.queue_name = queue.name
        self._fanout = fanout
        self._queue = queue
        self._ack = ack
        self._prefetch = max(1, prefetch)
        self._unacked: OrderedDict[int, Delivery] = OrderedDict()
        self._next_tag = 1
        self._wake = asyncio.Event()
        self._closed = False

    @property
    def dropped(self) -> int:
        """Deliveries the queue dropped because this consumer fell behind."""
        return self._queue.dropped

    async def deliveries(self) -> AsyncIterator[Delivery]:
        while not self._closed:
            delivery = self._next()
            if delivery is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            yield delivery

    async def ack(self, delivery: Delivery, *, multiple: bool = False) -> None:
        if not self._ack:
            return
        if delivery.tag not in self._unacked:
            raise ValueError(f"delivery tag {delivery.tag} is not waiting for an ack")
        if multiple:
            for tag in [t for t in self._unacked if t <= delivery.tag]:
                del self._unacked[tag]
        else:
            del self._unacked[delivery.tag]
        self._wake.set()

    async def dead_letter(self, delivery: Delivery, reason: str) -> None:
        self._fanout._dead.append(
            DeadLetter(
                body=delivery.body,
                tag=len(self._fanout._dead) + 1,
                message_id=delivery.message_id,
                redelivered=delivery.redelivered,
                reason=reason,
                queue=self.queue_name,
            )
        )
        log.warning("dead-lettered %s from %s: %s", delivery.message_id, self.queue_name, reason)
        await self.ack(delivery)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        back = [replace(d, redelivered=True) for d in self._unacked.values()]
        self._unacked.clear()
        self._queue.items.extendleft(reversed(back))
        self._queue.consumers.remove(self)
        if not self._queue.durable and not self._queue.consumers:
            self._fanout._queues.pop(self._queue.name, None)
        self._queue.wake()

    def _next(self) -> Delivery | None:
        if not self._queue.items:
            return None
        if self._ack and len(self._unacked) >= self._prefetch:
            return None
        delivery = replace(self._queue.items.popleft(), tag=self._next_tag)
        self._next_tag += 1
        if self._ack:
            self._unacked[delivery.tag] = delivery
        return delivery


class MemoryFanout:
    """A fanout exchange and its queues, in this process."""

    def __init__(self) -> None:
        self._queues: dict[str, _Queue] = {}
        self._consumers: list[MemoryConsumer] = []
        self._dead: list[DeadLetter] = []
        self._closed = False

    async def publisher(self) -> MemoryPublisher:
        return MemoryPublisher(self)

    async def consumer(
        self, queue: str, *, durable: bool = True, prefetch: int = 1000, ack: bool = True
    ) -> MemoryConsumer:
        if self._closed:
            raise TransportError("the in-process fanout is closed")
        found = self._queues.get(queue)
        if found is None:
            found = _Queue(queue, durable=durable, limit=None if ack else max(1, prefetch))
            self._queues[queue] = found
        elif found.durable != durable:
            raise ValueError(f"queue {queue!r} exists with durable={found.durable}, not {durable}")
        consumer = MemoryConsumer(self, found, ack=ack, prefetch=prefetch)
        found.consumers.append(consumer)
        self._consumers.append(consumer)
        return consumer

    async def dead_letters(self) -> list[DeadLetter]:
        return list(self._dead)

    async def close(self) -> None:
        self._closed = True
        for consumer in self._consumers:
            await consumer.close()
        self._consumers.clear()

    def _route(self, body: bytes, message_id: str) -> None:
        if self._closed:
            raise TransportError(f"{message_id}: the in-process fanout is closed")
        if not self._queues:
            raise UnroutableError(f"{message_id}: no queue is bound to the in-process fanout")
        delivery = Delivery(body=body, tag=0, message_id=message_id)
        for queue in self._queues.values():
            queue.put(delivery)
