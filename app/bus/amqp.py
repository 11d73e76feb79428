"""The telemetry fanout on RabbitMQ, for the data-centre roles.

:class:`AmqpFanout` implements :class:`app.bus.base.Fanout` with aio-pika. It
declares (all durable):

- the fanout exchange that agents publish batches to;
- a dead-letter fanout exchange, and a queue of the same name bound to it,
  where consumers put deliveries they cannot use, with the reason and the
  source queue as the headers ``x-fleetlink-reason`` and ``x-fleetlink-queue``.

A consumer gets its own channel with a prefetch window. A durable consumer
(the writer) binds a durable queue that outlives it and acknowledges what it
has committed; a non-durable one (a hub replica) binds an exclusive queue that
is deleted when it closes, consumes without acknowledgements, and drops the
oldest deliveries when it falls more than ``prefetch`` behind.

The connection is aio-pika's robust one, which reconnects and restores
channels, queues, bindings and consumers by itself; delivery tags do not
survive a reconnect, so deliveries still waiting for an ack are forgotten
then (the broker delivers them again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from app.bus.base import QUEUE_HEADER, REASON_HEADER, DeadLetter, Delivery
from edge.amqp import TRANSIENT_ERRORS, AmqpPublisher, safe_url
from edge.errors import TransportError

__all__ = ["AmqpConsumer", "AmqpFanout"]

log = logging.getLogger(f"fleetlink.{__name__}")


class AmqpConsumer:
    """Deliveries of one RabbitMQ queue bound to the fanout."""

    def __init__(
        self, fanout: AmqpFanout, channel: Any, queue: Any, *, ack: bool, prefetch: int
    ) -> None:
        self.queue_name: str = queue.name
        self.dropped = 0
        self._fanout = fanout
        self._channel = channel
        self._queue = queue
        self._ack = ack
        self._limit = max(1, prefetch)
        self._inbox: asyncio.Queue[AbstractIncomingMessage | None] = asyncio.Queue()
        self._pending: dict[tuple[int, int], AbstractIncomingMessage] = {}
        self._consumer_tag: str | None = None
        self._closed = False

    async def start(self) -> None:
        self._consumer_tag = await self._queue.consume(self._on_message, no_ack=not self._ack)

    async def deliveries(self) -> AsyncIterator[Delivery]:
        while True:
            message = await self._inbox.get()
            if message is None:
                return
            tag = int(message.delivery_tag or 0)
            channel = id(message.channel)
            if self._ack:
                self._pending[(channel, tag)] = message
            yield Delivery(
                body=message.body,
                tag=tag,
                message_id=message.message_id or "",
                redelivered=bool(message.redelivered),
                channel=channel,
            )

    async def ack(self, delivery: Delivery, *, multiple: bool = False) -> None:
        if not self._ack:
            return
        message = self._pending.pop((delivery.channel, delivery.tag), None)
        if message is None:
            log.debug("%s: delivery %d is no longer ackable", self.queue_name, delivery.tag)
            return
        if multiple:
            # A multiple ack covers the earlier tags of the same channel only.
            for key in [
                k for k in self._pending if k[0] == delivery.channel and k[1] < delivery.tag
            ]:
                del self._pending[key]
        try:
            await message.ack(multiple=multiple)
        except TRANSIENT_ERRORS as exc:
            raise TransportError(f"{self.queue_name}: ack of {delivery.tag} failed: {exc}") from exc

    async def dead_letter(self, delivery: Delivery, reason: str) -> None:
        await self._fanout._dead_letter(delivery, reason, self.queue_name)
        await self.ack(delivery)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pending.clear()
        try:
            if self._consumer_tag is not None:
                await self._queue.cancel(self._consumer_tag)
            await self._channel.close()
        except TRANSIENT_ERRORS as exc:
            log.warning("closing the consumer of %s: %s", self.queue_name, exc)
        self._inbox.put_nowait(None)

    def forget_pending(self) -> None:
        """Drop deliveries waiting for an ack: their tags died with the channel."""
        self._pending.clear()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        if not self._ack and self._inbox.qsize() >= self._limit:
            self._inbox.get_nowait()
            self.dropped += 1
            if self.dropped == 1:
                log.warning(
                    "%s: consumer is behind, dropping the oldest deliveries", self.queue_name
                )
        self._inbox.put_nowait(message)


class AmqpFanout:
    """The telemetry fanout exchange on RabbitMQ and the queues bound to it."""

    def __init__(self, url: str, *, exchange: str, dead_letter_exchange: str) -> None:
        self.url = url
        self.exchange = exchange
        self.dead_letter_exchange = dead_letter_exchange
        self._lock = asyncio.Lock()
        self._connection: Any = None
        self._dead_exchange: Any = None
        self._consumers: list[AmqpConsumer] = []
        self._publishers: list[AmqpPublisher] = []

    async def publisher(self) -> AmqpPublisher:
        publisher = AmqpPublisher(self.url, self.exchange)
        await publisher.start()
        self._publishers.append(publisher)
        return publisher

    async def consumer(
        self, queue: str, *, durable: bool = True, prefetch: int = 1000, ack: bool = True
    ) -> AmqpConsumer:
        connection = await self._connect()
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=prefetch)
            declared = await channel.declare_queue(
                queue, durable=durable, exclusive=not durable, auto_delete=not durable
            )
            await declared.bind(self.exchange)
            consumer = AmqpConsumer(self, channel, declared, ack=ack, prefetch=prefetch)
            await consumer.start()
        except TRANSIENT_ERRORS as exc:
            raise TransportError(
                f"cannot consume {queue!r} on {safe_url(self.url)}: {exc}"
            ) from exc
        self._consumers.append(consumer)
        log.info("consuming %s (durable=%s, ack=%s, prefetch=%d)", queue, durable, ack, prefetch)
        return consumer

    async def dead_letters(self) -> list[DeadLetter]:
        """Read the dead-letter queue and put every message back where it was."""
        connection = await self._connect()
        channel = await connection.channel()
        taken: list[AbstractIncomingMessage] = []
        try:
            queue = await channel.declare_queue(self.dead_letter_exchange, durable=True)
            while (message := await queue.get(no_ack=False, fail=False)) is not None:
                taken.append(message)
            return [_dead_letter_of(message) for message in taken]
        finally:
            for message in taken:
                await message.nack(requeue=True)
            await channel.close()

    async def close(self) -> None:
        for consumer in self._consumers:
            await consumer.close()
        for publisher in self._publishers:
            await publisher.close()
        self._consumers.clear()
        self._publishers.clear()
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def _connect(self) -> Any:
        async with self._lock:
            if self._connection is None:
                try:
                    self._connection = await self._open()
                except TRANSIENT_ERRORS as exc:
                    raise TransportError(f"cannot reach {safe_url(self.url)}: {exc}") from exc
            return self._connection

    async def _open(self) -> Any:
        connection = await aio_pika.connect_robust(self.url)
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_exchange(self.exchange, aio_pika.ExchangeType.FANOUT, durable=True)
        dead = await channel.declare_exchange(
            self.dead_letter_exchange, aio_pika.ExchangeType.FANOUT, durable=True
        )
        queue = await channel.declare_queue(self.dead_letter_exchange, durable=True)
        await queue.bind(dead)
        self._dead_exchange = dead
        connection.reconnect_callbacks.add(self._on_reconnect)
        log.info("fanout %r ready on %s", self.exchange, safe_url(self.url))
        return connection

    def _on_reconnect(self, *_: Any) -> None:
        log.warning(
            "reconnected to %s; deliveries waiting for an ack will come again", safe_url(self.url)
        )
        for consumer in self._consumers:
            consumer.forget_pending()

    async def _dead_letter(self, delivery: Delivery, reason: str, queue: str) -> None:
        message = aio_pika.Message(
            delivery.body,
            message_id=delivery.message_id or None,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers={REASON_HEADER: reason, QUEUE_HEADER: queue},
        )
        try:
            await self._dead_exchange.publish(message, routing_key="")
        except TRANSIENT_ERRORS as exc:
            raise TransportError(f"cannot dead-letter {delivery.message_id}: {exc}") from exc
        log.warning("dead-lettered %s from %s: %s", delivery.message_id, queue, reason)


def _dead_letter_of(message: AbstractIncomingMessage) -> DeadLetter:
    headers = message.headers or {}
    return DeadLetter(
        body=message.body,
        tag=int(message.delivery_tag or 0),
        message_id=message.message_id or "",
        redelivered=bool(message.redelivered),
        reason=_text(headers.get(REASON_HEADER)),
        queue=_text(headers.get(QUEUE_HEADER)),
    )


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is None else str(value)
