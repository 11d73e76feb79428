"""The agent end to end: CAN frames in, confirmed batches on the real RabbitMQ out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import can
import numpy as np
import pytest

from edge.agent import Agent
from edge.amqp import AmqpPublisher
from edge.catalog import Catalog, default_catalog
from edge.codec import Codec
from edge.sources import BusSource, LogSource
from edge.spool import Spool
from edge.wire import Batch, unpack
from tests.amqp_scratch import Scratch
from tests.edge.test_codec import _valid_payloads

TRUCK = 17


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


def _frames(catalog: Catalog, start: float, count_per_message: int = 6) -> list[can.Message]:
    rng = np.random.default_rng(5)
    frames = []
    for message in catalog.database.messages:
        for k, data in enumerate(_valid_payloads(message, rng)[:count_per_message]):
            frames.append(
                can.Message(
                    timestamp=start + 0.1 * k + message.frame_id % 97 * 1e-4,
                    arbitration_id=message.frame_id,
                    is_extended_id=message.is_extended_frame,
                    data=data,
                )
            )
    return sorted(frames, key=lambda f: f.timestamp)


def _bad_frames(start: float) -> list[can.Message]:
    return [
        can.Message(timestamp=start, arbitration_id=0x7FF, data=bytes(8), is_extended_id=False),
        can.Message(timestamp=start, arbitration_id=0x100, data=b"\x01\x02", is_extended_id=False),
        can.Message(timestamp=start, is_error_frame=True),
    ]


def _expected(catalog: Catalog, frames: list[can.Message]) -> list[tuple[int, int, float]]:
    """(signal id, microseconds, value) of every stored point the frames carry."""
    codec = Codec(catalog.database)
    out = []
    for frame in frames:
        for name, value in codec.decode(frame.arbitration_id, bytes(frame.data)).items():
            message = catalog.database.get_message_by_frame_id(frame.arbitration_id).name
            sid = codec.signals.index((message, name))
            if catalog.signals[sid].stored:
                out.append((sid, round(frame.timestamp * 1e6), float(value)))
    return sorted(out)


def _points(batches: list[Batch]) -> list[tuple[int, int, float]]:
    return sorted(
        (int(s), int(t), float(v))
        for b in batches
        for s, t, v in zip(b.signal_ids, b.timestamps_us, b.values, strict=True)
    )


async def _eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        await asyncio.sleep(0.02)


async def test_log_replay_publishes_batches_that_unpack_to_exactly_the_decoded_points(
    amqp_url: str, scratch: Scratch, tmp_path: Path, catalog: Catalog
) -> None:
    exchange = scratch.exchange("telemetry")
    queue = await scratch.bind_queue("writer", exchange)
    frames = _frames(catalog, start=1_700_000_000.0)
    path = tmp_path / "drive.blf"
    with can.Logger(str(path)) as writer:
        for frame in _bad_frames(1_699_999_999.9) + frames:
            writer.on_message_received(frame)
    publisher = AmqpPublisher(amqp_url, exchange)
    agent = Agent(
        truck_id=TRUCK,
        source=LogSource(path),
        codec=Codec(catalog.database),
        publisher=publisher,
        catalog=catalog,
        spool=Spool(tmp_path / "spool"),
        compress=True,
    )

    await agent.run()
    await publisher.close()

    messages = await scratch.drain(queue)
    batches = [unpack(m.body) for m in messages]
    assert _points(batches) == _expected(catalog, frames)
    assert sorted(b.seq for b in batches) == list(range(len(batches)))
    assert {m.message_id for m in messages} == {
        f"{TRUCK}-{agent.agent_start}-{b.seq}" for b in batches
    }
    assert all(b.truck_id == TRUCK and b.fingerprint == catalog.fingerprint for b in batches)
    stats = agent.stats
    assert (stats.unknown_id, stats.too_short, stats.error_frames) == (1, 1, 1)
    assert stats.batches_published == len(batches) and stats.batches_spooled == 0


async def test_frames_on_a_virtual_bus_reach_a_bound_queue(
    amqp_url: str, scratch: Scratch, catalog: Catalog, unique_name: str
) -> None:
    exchange = scratch.exchange("telemetry")
    queue = await scratch.bind_queue("writer", exchange)
    publisher = AmqpPublisher(amqp_url, exchange)
    source = BusSource("virtual", unique_name, block_s=0.01)
    agent = Agent(
        truck_id=TRUCK,
        source=source,
        codec=Codec(catalog.database),
        publisher=publisher,
        catalog=catalog,
        spool=None,
        window_ms=50,
    )
    running = asyncio.create_task(agent.run())
    frames = _frames(catalog, start=time.time(), count_per_message=3)
    with can.Bus(interface="virtual", channel=unique_name) as sender:
        for frame in _bad_frames(time.time()) + frames:
            sender.send(frame)
        await _eventually(lambda: agent.stats.frames >= len(frames) + 2)

    await _eventually(lambda: agent.stats.batches_published > 0)
    await agent.stop()
    await running
    await publisher.close()

    batches = [unpack(m.body) for m in await scratch.drain(queue)]
    got = sorted((s, v) for s, _, v in _points(batches))
    assert got == sorted((s, v) for s, _, v in _expected(catalog, frames))
    assert (agent.stats.unknown_id, agent.stats.too_short, agent.stats.error_frames) == (1, 1, 1)


async def test_unroutable_batches_are_spooled_and_replayed_once_a_queue_is_bound(
    amqp_url: str, scratch: Scratch, catalog: Catalog, unique_name: str, tmp_path: Path
) -> None:
    exchange = scratch.exchange("telemetry")
    publisher = AmqpPublisher(amqp_url, exchange)
    await publisher.start()
    spool = Spool(tmp_path / "spool")
    agent = Agent(
        truck_id=TRUCK,
        source=BusSource("virtual", unique_name, block_s=0.01),
        codec=Codec(catalog.database),
        publisher=publisher,
        catalog=catalog,
        spool=spool,
        window_ms=50,
        replay_interval_s=0.05,
    )
    running = asyncio.create_task(agent.run())
    frames = _frames(catalog, start=time.time(), count_per_message=2)
    with can.Bus(interface="virtual", channel=unique_name) as sender:
        for frame in frames:
            sender.send(frame)
        await _eventually(lambda: agent.stats.batches_spooled > 0 and agent.batcher.held == 0)

        queue = await scratch.bind_queue("writer", exchange)
        await _eventually(lambda: len(spool) == 0)
    await agent.stop()
    await running
    await publisher.close()

    batches = [unpack(m.body) for m in await scratch.drain(queue)]
    got = sorted((s, v) for s, _, v in _points(batches))
    assert got == sorted((s, v) for s, _, v in _expected(catalog, frames))
    assert agent.stats.spool_replayed == agent.stats.batches_spooled > 0


async def test_a_new_agent_replays_what_an_old_one_left_in_the_spool(
    amqp_url: str, scratch: Scratch, catalog: Catalog, tmp_path: Path
) -> None:
    exchange = scratch.exchange("telemetry")
    queue = await scratch.bind_queue("writer", exchange)
    spool = Spool(tmp_path / "spool")
    spool.put(b"left over", message_id="17-1-0")
    path = tmp_path / "empty.log"
    path.write_text("")
    publisher = AmqpPublisher(amqp_url, exchange)
    agent = Agent(
        truck_id=TRUCK,
        source=BusSource("virtual", f"{scratch.prefix}.bus", block_s=0.01),
        codec=Codec(catalog.database),
        publisher=publisher,
        catalog=catalog,
        spool=Spool(tmp_path / "spool"),
        replay_interval_s=0.05,
    )
    running = asyncio.create_task(agent.run())

    await _eventually(lambda: agent.stats.spool_replayed == 1)
    await agent.stop()
    await running
    await publisher.close()

    (message,) = await scratch.drain(queue)
    assert (message.body, message.message_id) == (b"left over", "17-1-0")
