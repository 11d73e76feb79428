"""The AMQP publisher: confirmed, persistent, mandatory, many in flight."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest

from edge.amqp import CONTENT_TYPE, WIRE_HEADER, AmqpPublisher
from edge.errors import TransportError, UnroutableError
from edge.wire import VERSION
from tests.amqp_scratch import Scratch


async def test_publish_returns_after_the_confirm_and_the_queue_holds_the_message(
    amqp_url: str, scratch: Scratch
) -> None:
    exchange = scratch.exchange("telemetry")
    queue = await scratch.bind_queue("q", exchange)
    publisher = AmqpPublisher(amqp_url, exchange)

    await publisher.publish(b"body-1", message_id="3-9-0")
    await publisher.close()

    (message,) = await scratch.drain(queue)
    assert message.body == b"body-1"
    assert message.message_id == "3-9-0"
    assert message.content_type == CONTENT_TYPE
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.headers[WIRE_HEADER] == VERSION


async def test_many_publishes_wait_for_their_confirms_together(
    amqp_url: str, scratch: Scratch
) -> None:
    exchange = scratch.exchange("telemetry")
    queue = await scratch.bind_queue("q", exchange)
    publisher = AmqpPublisher(amqp_url, exchange, max_in_flight=64)
    await publisher.start()

    await asyncio.gather(*(publisher.publish(bytes([n]), message_id=str(n)) for n in range(200)))
    await publisher.close()

    messages = await scratch.drain(queue)
    assert sorted(str(m.message_id) for m in messages) == sorted(str(n) for n in range(200))


async def test_a_publish_that_reaches_no_queue_raises_unroutable(
    amqp_url: str, scratch: Scratch
) -> None:
    publisher = AmqpPublisher(amqp_url, scratch.exchange("telemetry"))
    with pytest.raises(UnroutableError, match="no queue bound"):
        await publisher.publish(b"x", message_id="1-1-1")
    await publisher.close()


async def test_an_unreachable_broker_raises_transport_error_at_once(scratch: Scratch) -> None:
    publisher = AmqpPublisher(
        "amqp://guest:guest@127.0.0.1:1/", scratch.exchange("x"), retry_min_s=5
    )
    assert not await publisher.start(wait_s=0.2)
    with pytest.raises(TransportError, match="not connected"):
        await publisher.publish(b"x", message_id="1-1-1")
    await publisher.close()


async def test_the_publisher_reconnects_after_the_connection_is_lost(
    amqp_url: str, scratch: Scratch
) -> None:
    exchange = scratch.exchange("telemetry")
    queue = await scratch.bind_queue("q", exchange)
    publisher = AmqpPublisher(amqp_url, exchange, retry_min_s=0.05)
    await publisher.start()

    await publisher._connection.close()  # what a broker restart looks like from here
    assert await publisher.start(wait_s=5)
    await publisher.publish(b"after", message_id="1-1-2")
    await publisher.close()

    assert publisher.connects == 2
    assert [m.body for m in await scratch.drain(queue)] == [b"after"]
