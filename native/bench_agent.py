"""Benchmark: one truck's agent at full rate, as a share of one core.

The agent reads a python-can ``virtual`` bus, decodes each block of frames
with the C codec, cuts 250 ms windows, packs them in the wire format and
publishes them, confirmed, to the real RabbitMQ. A sender thread replays one
simulated truck's frames (about 720 per second) onto the bus at their real
pace; its own CPU time is measured in the thread and taken off the process's,
so what is left is the agent's: the bus reader thread, decoding, batching,
packing, publishing and the event loop::

    python native/bench_agent.py                       # 20 s, RabbitMQ on 127.0.0.1
    python native/bench_agent.py --seconds 60 --amqp amqp://guest:guest@host/

It prints the CPU share with the counts the agent reported, with a progress
line while it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import threading
import time

import aio_pika
import can

from edge.agent import Agent
from edge.amqp import AmqpPublisher
from edge.catalog import default_catalog
from edge.codec import Codec
from edge.sim.runner import Simulation
from edge.sources import BusSource


class Sender(threading.Thread):
    """Puts pre-built frames on a virtual bus at the times they carry."""

    def __init__(self, channel: str, frames: list[can.Message]) -> None:
        super().__init__(daemon=True)
        self.bus = can.Bus(interface="virtual", channel=channel, preserve_timestamps=True)
        self.frames = frames
        self.cpu_s = 0.0
        self.sent = 0

    def run(self) -> None:
        cpu0 = time.thread_time()
        offset = time.time() - self.frames[0].timestamp
        for frame in self.frames:
            frame.timestamp += offset
            delay = frame.timestamp - time.time()
            if delay > 0:
                time.sleep(delay)
            self.bus.send(frame)
            self.sent += 1
        self.cpu_s = time.thread_time() - cpu0
        self.bus.shutdown()


async def bench(seconds: float, amqp: str) -> None:
    catalog = default_catalog()
    frames = [frame for _, frame in Simulation(1, seed=1, catalog=catalog).advance(seconds)]
    channel = f"bench-agent-{secrets.token_hex(3)}"
    exchange = f"bench-agent-{secrets.token_hex(3)}"
    connection = await aio_pika.connect(amqp)
    sink = await connection.channel()
    declared = await sink.declare_exchange(exchange, aio_pika.ExchangeType.FANOUT, durable=True)
    queue = await sink.declare_queue(exclusive=True)
    await queue.bind(declared)
    publisher = AmqpPublisher(amqp, exchange)
    await publisher.start()
    agent = Agent(
        truck_id=1,
        source=BusSource("virtual", channel),
        codec=Codec(catalog.database),
        publisher=publisher,
        catalog=catalog,
    )
    sender = Sender(channel, frames)
    running = asyncio.create_task(agent.run())
    await asyncio.sleep(0.5)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    sender.start()
    while sender.is_alive():
        done = sender.sent / len(frames)
        print(f"\r  [{'#' * int(done * 30):<30}] {sender.sent:,}/{len(frames):,} frames", end="")
        await asyncio.sleep(1.0)
    await asyncio.sleep(0.5)  # the last window closes and is confirmed
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    await agent.stop()
    await running
    await publisher.close()
    await declared.delete()
    await connection.close()

    share = (cpu - sender.cpu_s) / wall
    stats = agent.stats
    print()
    print(f"agent of one truck, {seconds:.0f} s at full rate, publishing to RabbitMQ")
    print(f"  frames received     {stats.frames:>10,}  ({stats.frames / wall:,.0f}/s)")
    print(f"  points decoded      {stats.points:>10,}  ({stats.points / wall:,.0f}/s)")
    print(f"  batches confirmed   {stats.batches_published:>10,}")
    print(f"  process CPU {cpu:.2f} s, sender thread {sender.cpu_s:.2f} s, wall {wall:.1f} s")
    print(f"  agent CPU share of one core: {share * 100:.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672/")
    args = parser.parse_args()
    asyncio.run(bench(args.seconds, args.amqp))


if __name__ == "__main__":
    main()
