"""The batch writer: buffering, acking only after commit, dead-lettering."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest

from app.bus.amqp import AmqpFanout
from app.bus.base import Delivery
from app.store import Store, WriteResult, open_store
from app.store.partitions import DAY_US, now_us
from app.writer import Writer
from edge.catalog import default_catalog
from edge.errors import StoreError
from edge.wire import Batch, pack
from tests.app.store.factory import make_batches, partition_names, reference_points

EVERYTHING = (0, 2**62)


class QueueConsumer:
    """The Consumer protocol over an asyncio queue, recording acks and dead letters."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Delivery | None] = asyncio.Queue()
        self.acks: list[tuple[int, bool]] = []
        self.commits_at_ack: list[int] = []
        self.commits = 0
        self.dead: list[tuple[int, str]] = []
        self.closed = False
        self._tag = 0

    def put(self, body: bytes) -> Delivery:
        self._tag += 1
        delivery = Delivery(body=body, tag=self._tag)
        self.queue.put_nowait(delivery)
        return delivery

    async def deliveries(self) -> AsyncIterator[Delivery]:
        while (delivery := await self.queue.get()) is not None:
            yield delivery

    async def ack(self, delivery: Delivery, *, multiple: bool = False) -> None:
        self.acks.append((delivery.tag, multiple))
        self.commits_at_ack.append(self.commits)

    async def dead_letter(self, delivery: Delivery, reason: str) -> None:
        self.dead.append((delivery.tag, reason))

    async def close(self) -> None:
        self.closed = True
        self.queue.put_nowait(None)

    def acked_up_to(self) -> int:
        return max((tag for tag, _ in self.acks), default=0)


class FlakyStore:
    """A real store whose first `failures` writes fail, noting what was acked at each."""

    def __init__(self, store: Store, consumer: QueueConsumer, failures: int) -> None:
        self.store = store
        self.consumer = consumer
        self.failures = failures
        self.acked_at_failure: list[int] = []

    async def write(self, batches: Sequence[Batch]) -> WriteResult:
        if self.failures:
            self.failures -= 1
            self.acked_at_failure.append(self.consumer.acked_up_to())
            raise StoreError("the database is away")
        result = await self.store.write(batches)
        self.consumer.commits += 1
        return result

    async def ensure_partitions(
        self, *, days_ahead: int = 3, now_us: int | None = None
    ) -> list[str]:
        return []


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait for a condition (a deadline against hangs, not a speed check)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"never happened: {what}")


def start(writer: Writer) -> asyncio.Task[None]:
    return asyncio.create_task(writer.run())


async def finish(writer: Writer, task: Awaitable[None]) -> None:
    await writer.stop()
    await task


async def test_writer_acks_only_after_commit(store: Store) -> None:
    consumer = QueueConsumer()
    flaky = FlakyStore(store, consumer, failures=2)
    writer = Writer(
        store=flaky,  # type: ignore[arg-type]
        consumer=consumer,
        catalog=default_catalog(),
        flush_interval_s=0.02,
        retry_delay_s=0.01,
    )
    batches = make_batches(1, 5)
    task = start(writer)
    for batch in batches:
        consumer.put(pack(batch))

    await eventually(lambda: consumer.acks != [], "an ack")
    await finish(writer, task)
    # Nothing was acked while the store failed; each ack follows a commit.
    assert flaky.acked_at_failure == [0, 0]
    assert consumer.commits_at_ack == list(range(1, len(consumer.acks) + 1))
    assert all(multiple for _, multiple in consumer.acks)
    assert consumer.acked_up_to() == 5
    assert writer.stats.failed_writes == 2
    assert_stored(await store.read_points(1, None, *EVERYTHING), batches)


def assert_stored(points: tuple[Any, ...], batches: list[Batch]) -> None:
    want = reference_points(batches)
    assert all((got == w).all() for got, w in zip(points, want, strict=True))


async def test_a_write_that_keeps_failing_stops_the_writer_without_any_ack(store: Store) -> None:
    consumer = QueueConsumer()
    flaky = FlakyStore(store, consumer, failures=10)
    writer = Writer(
        store=flaky,  # type: ignore[arg-type]
        consumer=consumer,
        catalog=default_catalog(),
        flush_interval_s=0.02,
        retry_delay_s=0.001,
        max_write_attempts=3,
    )
    task = start(writer)
    consumer.put(pack(make_batches(1, 1)[0]))

    with pytest.raises(StoreError):
        await task
    assert consumer.acks == []
    assert consumer.closed
    assert writer.stats.failed_writes == 3


async def test_bad_deliveries_are_dead_lettered_and_the_writer_goes_on(store: Store) -> None:
    consumer = QueueConsumer()
    writer = Writer(
        store=store, consumer=consumer, catalog=default_catalog(), flush_interval_s=0.02
    )
    good = make_batches(2, 2)
    foreign = Batch.from_points(2, 1, 9, 0xDEADBEEF, [1], [5], [1.0])
    unknown = Batch.from_points(2, 1, 10, default_catalog().fingerprint, [60_000], [5], [1.0])
    task = start(writer)
    consumer.put(b"not a batch at all")
    consumer.put(pack(good[0]))
    consumer.put(pack(foreign))
    consumer.put(pack(unknown))
    consumer.put(pack(good[1])[:-1] + b"\x00")
    consumer.put(pack(good[1]))

    await eventually(lambda: consumer.acked_up_to() == 6, "the last good delivery acked")
    await finish(writer, task)
    reasons = dict(consumer.dead)
    assert sorted(reasons) == [1, 3, 4, 5]
    assert "malformed" in reasons[1] and "CRC" in reasons[5]
    assert "fingerprint 0xdeadbeef" in reasons[3]
    assert "signal id 60000" in reasons[4]
    assert writer.stats.dead_lettered == 4
    assert_stored(await store.read_points(2, None, *EVERYTHING), good)


async def test_stop_writes_and_acks_what_is_buffered(store: Store) -> None:
    consumer = QueueConsumer()
    writer = Writer(store=store, consumer=consumer, catalog=default_catalog(), flush_interval_s=60)
    batches = make_batches(3, 4)
    task = start(writer)
    for batch in batches:
        consumer.put(pack(batch, compress=True))
    await eventually(lambda: writer.stats.deliveries == 4, "four deliveries read")
    assert consumer.acks == []

    await finish(writer, task)
    assert consumer.acks == [(4, True)]
    assert consumer.closed
    assert (writer.stats.flushes, writer.stats.batches_written) == (1, 4)
    assert_stored(await store.read_points(3, None, *EVERYTHING), batches)


async def test_a_redelivered_batch_is_acked_again_but_stored_once(store: Store) -> None:
    consumer = QueueConsumer()
    writer = Writer(
        store=store, consumer=consumer, catalog=default_catalog(), flush_interval_s=0.02
    )
    batch = make_batches(4, 1)[0]
    task = start(writer)
    consumer.put(pack(batch))
    await eventually(lambda: consumer.acked_up_to() == 1, "first delivery acked")
    consumer.put(pack(batch))
    await eventually(lambda: consumer.acked_up_to() == 2, "redelivery acked")

    await finish(writer, task)
    assert (writer.stats.batches_written, writer.stats.duplicates) == (1, 1)
    assert (await store.ledger_stats())["batches"] == 1


async def test_a_full_buffer_is_written_before_the_interval_ends(store: Store) -> None:
    consumer = QueueConsumer()
    batches = make_batches(5, 6)
    writer = Writer(
        store=store,
        consumer=consumer,
        catalog=default_catalog(),
        flush_interval_s=60,
        max_pending_points=2 * len(batches[0]),
    )
    task = start(writer)
    for batch in batches:
        consumer.put(pack(batch))

    await eventually(lambda: consumer.acked_up_to() == 6, "all six acked")
    await finish(writer, task)
    assert writer.stats.flushes == 3


async def test_writer_stores_batches_from_rabbitmq_and_acks_them(
    amqp_url: str, mysql_url: str, unique_name: str
) -> None:
    store = open_store(mysql_url, default_catalog())
    await store.open()
    await store.upgrade()
    fanout = AmqpFanout(
        amqp_url, exchange=f"{unique_name}.telemetry", dead_letter_exchange=f"{unique_name}.dead"
    )
    queue = f"{unique_name}.writer"
    try:
        consumer = await fanout.consumer(queue, durable=True, prefetch=100, ack=True)
        publisher = await fanout.publisher()
        writer = Writer(
            store=store, consumer=consumer, catalog=default_catalog(), flush_interval_s=0.05
        )
        task = start(writer)
        batches = make_batches(6, 10)
        for batch in batches:
            await publisher.publish(pack(batch), message_id=f"6-{batch.seq}")
        await publisher.publish(b"garbage", message_id="bad")

        await eventually(lambda: writer.stats.batches_written == 10, "ten batches written")
        await eventually(lambda: writer.stats.dead_lettered == 1, "garbage dead-lettered")
        await finish(writer, task)
        assert_stored(await store.read_points(6, None, *EVERYTHING), batches)
        assert [d.message_id for d in await fanout.dead_letters()] == ["bad"]
        assert await _queue_depth(amqp_url, queue) == 0
    finally:
        await fanout.close()
        await store.close()
        await _delete(
            amqp_url,
            queues=[queue, f"{unique_name}.dead"],
            exchanges=[f"{unique_name}.telemetry", f"{unique_name}.dead"],
        )


async def _queue_depth(url: str, queue: str) -> int:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)
    finally:
        await connection.close()


async def _delete(url: str, *, queues: list[str], exchanges: list[str]) -> None:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        for queue in queues:
            await channel.queue_delete(queue)
        for exchange in exchanges:
            await channel.exchange_delete(exchange)
    finally:
        await connection.close()


async def test_a_writer_with_a_retention_drops_days_older_than_it(mysql_url: str) -> None:
    store = open_store(mysql_url, default_catalog())
    await store.open()
    await store.upgrade()
    old_days = await store.ensure_partitions(days_ahead=3, now_us=now_us() - 10 * DAY_US)
    assert len(old_days) == 3 * 4
    writer = Writer(
        store=store, consumer=QueueConsumer(), catalog=default_catalog(), retention_days=5
    )
    days_kept = {
        f"p{datetime.fromtimestamp(now_us() / 1e6 - d * 86400, UTC):%Y%m%d}" for d in range(-3, 5)
    }
    task = start(writer)
    try:
        for _ in range(200):
            ledger = await partition_names(mysql_url, "ledger")
            if ledger[0] in days_kept:
                break
            await asyncio.sleep(0.05)
    finally:
        await writer.stop()
        await task
        await store.close()

    # The four days of ten days ago are gone; today and three days ahead were added.
    assert ledger[0] in days_kept and ledger[-1] == "p_future"
    assert len(ledger) == 1 + 4
