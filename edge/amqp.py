"""Publishing batches to RabbitMQ: the agent's side of the AMQP fanout.

:class:`AmqpPublisher` fits :class:`edge.publish.Publisher`. Every message is
persistent, published with ``mandatory`` on a channel with publisher confirms,
so :meth:`AmqpPublisher.publish` returns only once the broker has taken the
batch for good, and raises :class:`~edge.errors.UnroutableError` when no queue
was bound to take it. Many publishes may wait for their confirms at once (up to
``max_in_flight``); confirms are matched to publishes by the channel, not
awaited one after another.

Reconnection is the job of one supervisor task: it connects, declares the
exchange, marks the publisher ready, waits for the connection to be lost, and
starts over with a growing delay, logging one line per failed attempt. While
it is not ready, :meth:`publish` fails at once with
:class:`~edge.errors.TransportError`, and the agent spools.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aio_pika
import aiormq.exceptions
from pamqp.commands import Basic
from yarl import URL

from edge.errors import TransportError, UnroutableError
from edge.wire import VERSION

__all__ = ["CONTENT_TYPE", "TRANSIENT_ERRORS", "WIRE_HEADER", "AmqpPublisher"]

log = logging.getLogger(f"fleetlink.{__name__}")

CONTENT_TYPE = "application/x-fleetlink-batch"
WIRE_HEADER = "x-fleetlink-wire"

# What a lost or refused connection raises; anything else is a bug.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes ConnectionError and aiormq's AMQPConnectionError
    asyncio.TimeoutError,
    aiormq.exceptions.AMQPChannelError,
    aiormq.exceptions.ChannelInvalidStateError,
)


def safe_url(url: str) -> str:
    """The URL without its password, for logs and messages."""
    return str(URL(url).with_password(None))


class AmqpPublisher:
    """Confirmed, persistent, mandatory publishes to a durable fanout exchange."""

    def __init__(
        self,
        url: str,
        exchange: str,
        *,
        max_in_flight: int = 64,
        confirm_timeout_s: float = 30.0,
        retry_min_s: float = 0.5,
        retry_max_s: float = 30.0,
    ) -> None:
        self.url = url
        self.exchange_name = exchange
        self.confirm_timeout_s = confirm_timeout_s
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self.connects = 0
        self._slots = asyncio.Semaphore(max_in_flight)
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._ready = asyncio.Event()
        self._attempted = asyncio.Event()
        self._lost = asyncio.Event()
        self._closing = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._connection: Any = None
        self._exchange: Any = None

    @property
    def connected(self) -> bool:
        """True while publishes can go out."""
        return self._ready.is_set()

    async def start(self, *, wait_s: float = 5.0) -> bool:
        """Start the supervisor; wait up to wait_s for a connection. Returns connected."""
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._supervise(), name="amqp-publisher")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._ready.wait(), wait_s)
        return self.connected

    async def publish(self, body: bytes, *, message_id: str) -> None:
        """Publish one batch body and wait for the broker's confirm."""
        if self._supervisor is None:
            await self.start(wait_s=0.0)
        await self._attempted.wait()
        message = aio_pika.Message(
            body,
            message_id=message_id,
            content_type=CONTENT_TYPE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers={WIRE_HEADER: VERSION},
        )
        async with self._slots:
            if not self._ready.is_set():
                raise TransportError(f"not connected to {safe_url(self.url)}")
            self._in_flight += 1
            self._idle.clear()
            try:
                await self._publish(message, message_id)
            finally:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._idle.set()

    async def close(self) -> None:
        """Wait for the confirms in flight, then close the connection."""
        await self._idle.wait()
        self._closing.set()
        self._lost.set()
        if self._supervisor is not None:
            await self._supervisor
            self._supervisor = None
        log.info("publisher to %s closed", safe_url(self.url))

    async def _publish(self, message: aio_pika.Message, message_id: str) -> None:
        try:
            result = await self._exchange.publish(
                message, routing_key="", mandatory=True, timeout=self.confirm_timeout_s
            )
        except aiormq.exceptions.PublishError as exc:
            raise UnroutableError(
                f"{message_id}: exchange {self.exchange_name!r} has no queue bound"
            ) from exc
        except aiormq.exceptions.DeliveryError as exc:
            raise TransportError(f"{message_id}: the broker refused the message") from exc
        except TRANSIENT_ERRORS as exc:
            self._lose(exc)
            raise TransportError(f"{message_id}: publish failed: {exc!r}") from exc
        if isinstance(result, Basic.Nack):
            raise TransportError(f"{message_id}: the broker refused the message")

    async def _supervise(self) -> None:
        delay = self.retry_min_s
        while not self._closing.is_set():
            try:
                await self._connect()
            except TRANSIENT_ERRORS as exc:
                self._attempted.set()
                log.warning(
                    "cannot reach %s: %s; retrying in %.1f s", safe_url(self.url), exc, delay
                )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), delay)
                delay = min(delay * 2, self.retry_max_s)
                continue

            delay = self.retry_min_s
            self._ready.set()
            self._attempted.set()
            await self._lost.wait()
            self._ready.clear()
            await self._disconnect()
            if not self._closing.is_set():
                log.warning("lost the connection to %s; reconnecting", safe_url(self.url))

    async def _connect(self) -> None:
        self._lost.clear()
        connection = await aio_pika.connect(self.url, timeout=10)
        self._connection = connection
        try:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            self._exchange = await channel.declare_exchange(
                self.exchange_name, aio_pika.ExchangeType.FANOUT, durable=True
            )
        except BaseException:
            await self._disconnect()
            raise

        def on_close(sender: Any, exc: BaseException | None = None) -> None:
            if self._connection is connection:
                self._lose(exc)

        connection.close_callbacks.add(on_close)
        channel.close_callbacks.add(on_close)
        self.connects += 1
        log.info("publishing to exchange %r on %s", self.exchange_name, safe_url(self.url))

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        self._exchange = None
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(*TRANSIENT_ERRORS):
                await connection.close()

    def _lose(self, exc: BaseException | None) -> None:
        if not self._lost.is_set() and not self._closing.is_set():
            log.debug("connection to %s marked lost: %r", safe_url(self.url), exc)
        self._lost.set()
        self._ready.clear()
