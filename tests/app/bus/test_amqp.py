"""The RabbitMQ fanout: acks, dead letters and redelivery on the real broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from app.bus.amqp import AmqpConsumer, AmqpFanout
from app.bus.base import DeadLetter, Delivery
from edge.amqp import AmqpPublisher
from tests.amqp_scratch import Scratch


@pytest.fixture
async def fanout(amqp_url: str, scratch: Scratch) -> AsyncIterator[AmqpFanout]:
    bus = AmqpFanout(
        amqp_url,
        exchange=scratch.exchange("telemetry"),
        dead_letter_exchange=scratch.exchange("dead"),
    )
    scratch.queues.add(scratch.name("dead"))
    yield bus
    await bus.close()


async def _take(consumer: AmqpConsumer, count: int) -> list[Delivery]:
    async def take() -> list[Delivery]:
        out: list[Delivery] = []
        async for delivery in consumer.deliveries():
            out.append(delivery)
            if len(out) == count:
                break
        return out

    return await asyncio.wait_for(take(), 10)


async def _publish(fanout: AmqpFanout, count: int) -> AmqpPublisher:
    publisher = await fanout.publisher()
    for n in range(count):
        await publisher.publish(bytes([n]) * 10, message_id=f"1-2-{n}")
    return publisher


async def test_a_durable_consumer_receives_and_acks(fanout: AmqpFanout, scratch: Scratch) -> None:
    consumer = await fanout.consumer(scratch.name("writer"), durable=True, prefetch=100, ack=True)
    scratch.queues.add(scratch.name("writer"))
    await _publish(fanout, 5)

    taken = await _take(consumer, 5)
    await consumer.ack(taken[-1], multiple=True)
    await consumer.close()

    assert [d.message_id for d in taken] == [f"1-2-{n}" for n in range(5)]
    again = await fanout.consumer(scratch.name("writer"), durable=True, prefetch=100, ack=True)
    await asyncio.sleep(0.2)
    assert again._inbox.empty()


async def test_unacked_deliveries_come_again_after_the_consumer_closes(
    fanout: AmqpFanout, scratch: Scratch
) -> None:
    queue = scratch.name("writer")
    scratch.queues.add(queue)
    first = await fanout.consumer(queue, durable=True, prefetch=100, ack=True)
    await _publish(fanout, 3)
    taken = await _take(first, 3)
    await first.ack(taken[0])
    await first.close()

    second = await fanout.consumer(queue, durable=True, prefetch=100, ack=True)
    again = await _take(second, 2)

    assert [(d.message_id, d.redelivered) for d in again] == [("1-2-1", True), ("1-2-2", True)]


async def test_an_ack_meant_for_another_channel_acknowledges_nothing(
    fanout: AmqpFanout, scratch: Scratch
) -> None:
    # After a reconnection tags start again from 1 on a new channel; a writer
    # acking a delivery of the old channel must not ack the new one's tag.
    queue = scratch.name("writer")
    scratch.queues.add(queue)
    first = await fanout.consumer(queue, durable=True, prefetch=100, ack=True)
    await _publish(fanout, 3)
    taken = await _take(first, 3)
    stale = replace(taken[-1], channel=taken[-1].channel + 1)
    await first.ack(stale, multiple=True)
    await first.close()

    second = await fanout.consumer(queue, durable=True, prefetch=100, ack=True)
    again = await _take(second, 3)

    assert [d.message_id for d in again] == [f"1-2-{n}" for n in range(3)]
    assert all(d.redelivered for d in again)


async def test_dead_letter_keeps_the_body_with_its_reason_and_queue(
    fanout: AmqpFanout, scratch: Scratch
) -> None:
    queue = scratch.name("writer")
    scratch.queues.add(queue)
    consumer = await fanout.consumer(queue, durable=True, prefetch=100, ack=True)
    await _publish(fanout, 1)
    (delivery,) = await _take(consumer, 1)

    await consumer.dead_letter(delivery, "expected magic b'FL'")
    await consumer.close()

    letters = await fanout.dead_letters()
    assert len(letters) == 1 and isinstance(letters[0], DeadLetter)
    assert (letters[0].body, letters[0].message_id) == (bytes(10), "1-2-0")
    assert (letters[0].reason, letters[0].queue) == ("expected magic b'FL'", queue)
    assert len(await fanout.dead_letters()) == 1  # reading does not consume
    second = await fanout.consumer(queue, durable=True, prefetch=100, ack=True)
    await asyncio.sleep(0.2)
    assert second._inbox.empty()  # the original was acknowledged


async def test_a_hub_consumer_has_its_own_queue_without_acks(
    fanout: AmqpFanout, scratch: Scratch
) -> None:
    hub = await fanout.consumer(scratch.name("hub"), durable=False, prefetch=100, ack=False)
    await _publish(fanout, 3)

    taken = await _take(hub, 3)
    await hub.ack(taken[-1])  # a no-op without acks
    await hub.close()

    assert [d.message_id for d in taken] == ["1-2-0", "1-2-1", "1-2-2"]


async def test_a_hub_consumer_drops_the_oldest_when_it_falls_behind(
    fanout: AmqpFanout, scratch: Scratch
) -> None:
    hub = await fanout.consumer(scratch.name("hub"), durable=False, prefetch=2, ack=False)
    publisher = await _publish(fanout, 6)
    await publisher.close()
    for _ in range(500):
        if hub.dropped == 4:
            break
        await asyncio.sleep(0.01)

    taken = await _take(hub, 2)

    assert [d.message_id for d in taken] == ["1-2-4", "1-2-5"]
    assert hub.dropped == 4
