"""Recorded trucks: batches of simulated trucks, replayed at their real pace.

The end-to-end benchmark's default source is the real truck side: simulated
CAN buses and one agent per truck. On one small machine those buses cost far
more CPU than the data centre does, so they cap how many trucks a benchmark
can carry. This source takes them out of the measurement: it simulates a few
trucks ahead of time, decodes their frames with the codec and cuts them into
250 ms batches exactly as an agent does, then publishes those batches for
any number of trucks, one AMQP connection per truck as real trucks connect,
with times moved to the present and each truck's own id, agent start and
sequence numbers. What reaches RabbitMQ is what agents would send.

    python -m app.loadgen --trucks 1-50 --seconds 60 --stats-file out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import signal
import time
from dataclasses import replace
from pathlib import Path

from app.config import Settings
from edge.amqp import AmqpPublisher
from edge.batcher import Batcher
from edge.catalog import Catalog
from edge.codec import Codec
from edge.errors import TransportError
from edge.sim.runner import Simulation
from edge.sources import block_from_messages
from edge.wire import Batch, pack

__all__ = ["record", "replay"]

log = logging.getLogger(f"fleetlink.{__name__}")

TEMPLATES = 5


def record(catalog: Catalog, *, trucks: int, seconds: float, window_ms: int) -> list[list[Batch]]:
    """Batches of `trucks` simulated trucks over `seconds`, as their agents would cut them."""
    simulation = Simulation(trucks, seed=11, catalog=catalog)
    frames = simulation.advance(seconds)
    codec = Codec(catalog.database)
    stored = [s.stored for s in catalog.signals]
    recorded = []
    for truck in simulation.trucks:
        block = block_from_messages([m for t, m in frames if t == truck.truck_id])
        index, ids, values = codec.decode_many(block.ids, block.payloads, block.lengths)
        batcher = Batcher(
            truck_id=truck.truck_id,
            fingerprint=catalog.fingerprint,
            stored=stored,
            window_ms=window_ms,
        )
        batches = batcher.add(block.timestamps[index], ids, values) + batcher.flush()
        recorded.append(batches)
    return recorded


async def replay(
    settings: Settings, *, truck_ids: list[int], seconds: float, recorded: list[list[Batch]]
) -> dict[str, int]:
    """Publish the recorded batches as trucks truck_ids would, in real time."""
    url = settings.amqp_url or ""
    publishers = [AmqpPublisher(url, settings.exchange) for _ in truck_ids]
    await asyncio.gather(*(p.start() for p in publishers))
    counts = {"batches_published": 0, "batches_lost": 0, "points_published": 0}
    in_flight: set[asyncio.Task[None]] = set()
    window_s = settings.window_ms / 1000
    windows = min(int(seconds / window_s), min(len(r) for r in recorded))
    starts = {truck: secrets.randbits(63) for truck in truck_ids}

    async def send(publisher: AmqpPublisher, batch: Batch) -> None:
        try:
            await publisher.publish(pack(batch), message_id=f"{batch.truck_id}-{batch.seq}")
        except TransportError as exc:
            counts["batches_lost"] += 1
            log.warning("batch %s of truck %d not published: %s", batch.seq, batch.truck_id, exc)
        else:
            counts["batches_published"] += 1
            counts["points_published"] += len(batch)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    t0 = time.time()
    for window in range(windows):
        if stop.is_set():
            break
        due = t0 + (window + 1) * window_s
        await asyncio.sleep(max(0.0, due - time.time()))
        now_us = int(time.time() * 1e6)
        for n, (truck, publisher) in enumerate(zip(truck_ids, publishers, strict=True)):
            template = recorded[n % len(recorded)][window]
            batch = replace(
                template,
                truck_id=truck,
                agent_start=starts[truck],
                seq=window,
                t_base_us=now_us - int(window_s * 1e6),
            )
            task = asyncio.create_task(send(publisher, batch))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
    while in_flight:
        await asyncio.gather(*list(in_flight))
    await asyncio.gather(*(p.close() for p in publishers))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trucks", required=True, help="a range of truck ids, e.g. 1-50")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--stats-file", required=True)
    args = parser.parse_args()
    first, _, last = args.trucks.partition("-")
    truck_ids = list(range(int(first), int(last or first) + 1))
    settings = Settings.from_env()
    catalog = Catalog.from_dbc(settings.dbc)
    recorded = record(
        catalog,
        trucks=min(TEMPLATES, len(truck_ids)),
        seconds=args.seconds + 1,
        window_ms=settings.window_ms,
    )
    counts = asyncio.run(
        replay(settings, truck_ids=truck_ids, seconds=args.seconds, recorded=recorded)
    )
    Path(args.stats_file).write_text(json.dumps({"replay": counts}))


if __name__ == "__main__":
    main()
