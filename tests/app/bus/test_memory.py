"""The in-process fanout behaves like the RabbitMQ one where the roles can tell."""

from __future__ import annotations

import asyncio

import pytest

from app.bus.base import DeadLetter, Delivery
from app.bus.memory import MemoryConsumer, MemoryFanout
from edge.errors import UnroutableError


async def _take(consumer: MemoryConsumer, count: int) -> list[Delivery]:
    out: list[Delivery] = []
    async for delivery in consumer.deliveries():
        out.append(delivery)
        if len(out) == count:
            break
    return out


async def test_publishing_with_no_queue_bound_is_unroutable() -> None:
    fanout = MemoryFanout()
    publisher = await fanout.publisher()
    with pytest.raises(UnroutableError):
        await publisher.publish(b"x", message_id="1-1-0")


async def test_every_bound_queue_gets_every_message() -> None:
    fanout = MemoryFanout()
    writer = await fanout.consumer("writer", durable=True, prefetch=10, ack=True)
    hub = await fanout.consumer("hub-1", durable=False, prefetch=10, ack=False)
    publisher = await fanout.publisher()
    for n in range(3):
        await publisher.publish(bytes([n]), message_id=str(n))

    assert [d.message_id for d in await _take(writer, 3)] == ["0", "1", "2"]
    assert [d.body for d in await _take(hub, 3)] == [b"\x00", b"\x01", b"\x02"]
    await fanout.close()


async def test_unacked_deliveries_go_back_to_the_front_when_the_consumer_closes() -> None:
    fanout = MemoryFanout()
    first = await fanout.consumer("writer", durable=True, prefetch=10, ack=True)
    publisher = await fanout.publisher()
    for n in range(4):
        await publisher.publish(bytes([n]), message_id=str(n))
    taken = await _take(first, 3)
    await first.ack(taken[0])
    await first.close()

    second = await fanout.consumer("writer", durable=True, prefetch=10, ack=True)
    again = await _take(second, 3)

    assert [(d.message_id, d.redelivered) for d in again] == [
        ("1", True),
        ("2", True),
        ("3", False),
    ]
    await fanout.close()


async def test_a_multiple_ack_acknowledges_every_earlier_delivery() -> None:
    fanout = MemoryFanout()
    first = await fanout.consumer("writer", durable=True, prefetch=10, ack=True)
    publisher = await fanout.publisher()
    for n in range(3):
        await publisher.publish(bytes([n]), message_id=str(n))
    taken = await _take(first, 3)
    await first.ack(taken[1], multiple=True)
    await first.close()

    second = await fanout.consumer("writer", durable=True, prefetch=10, ack=True)
    assert [d.message_id for d in await _take(second, 1)] == ["2"]
    await fanout.close()


async def test_prefetch_bounds_the_unacknowledged_deliveries() -> None:
    fanout = MemoryFanout()
    consumer = await fanout.consumer("writer", durable=True, prefetch=2, ack=True)
    publisher = await fanout.publisher()
    for n in range(3):
        await publisher.publish(bytes([n]), message_id=str(n))
    taken = await _take(consumer, 2)
    iterator = consumer.deliveries()
    third = asyncio.ensure_future(anext(iterator))
    await asyncio.sleep(0)
    assert not third.done()

    await consumer.ack(taken[0])
    assert (await third).message_id == "2"
    await fanout.close()


async def test_a_consumer_without_acks_drops_the_oldest_when_it_falls_behind() -> None:
    fanout = MemoryFanout()
    hub = await fanout.consumer("hub", durable=False, prefetch=3, ack=False)
    publisher = await fanout.publisher()
    for n in range(5):
        await publisher.publish(bytes([n]), message_id=str(n))

    assert [d.message_id for d in await _take(hub, 3)] == ["2", "3", "4"]
    assert hub.dropped == 2
    await fanout.close()


async def test_a_non_durable_queue_disappears_with_its_consumer() -> None:
    fanout = MemoryFanout()
    hub = await fanout.consumer("hub", durable=False, prefetch=3, ack=False)
    await hub.close()
    publisher = await fanout.publisher()
    with pytest.raises(UnroutableError):
        await publisher.publish(b"x", message_id="1")


async def test_dead_letters_keep_the_reason_and_are_acked() -> None:
    fanout = MemoryFanout()
    consumer = await fanout.consumer("writer", durable=True, prefetch=10, ack=True)
    publisher = await fanout.publisher()
    await publisher.publish(b"garbage", message_id="7-7-7")
    (delivery,) = await _take(consumer, 1)

    await consumer.dead_letter(delivery, "CRC-32 mismatch")
    await consumer.close()

    (dead,) = await fanout.dead_letters()
    assert isinstance(dead, DeadLetter)
    assert (dead.body, dead.message_id, dead.reason, dead.queue) == (
        b"garbage",
        "7-7-7",
        "CRC-32 mismatch",
        "writer",
    )
    again = await fanout.consumer("writer", durable=True, prefetch=10, ack=True)
    assert len(again._queue.items) == 0
    await fanout.close()
