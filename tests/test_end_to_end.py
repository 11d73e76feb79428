"""The whole path against the real services.

One simulated truck puts CAN frames on a python-can virtual bus; its agent
decodes and publishes them to RabbitMQ; the writer stores them in MariaDB and
the hub pushes them to a websocket client. A tap on the same bus records every
frame, and cantools decodes the tap independently: the database must hold
exactly those points, once each, and the client must see the last values.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
from collections import defaultdict

import can
import numpy as np
import pytest
import websockets

from app.bus.amqp import AmqpFanout
from app.cache import MemcachedCache
from app.config import Settings
from app.hub.server import Hub
from app.pipeline import HubFeed, WriterRole
from app.serving import make_server, starlette_app
from app.store.base import open_store
from edge.agent import Agent
from edge.catalog import Catalog, default_catalog
from edge.codec import Codec
from edge.sim.runner import Simulation
from edge.sources import BusSource

pytestmark = pytest.mark.services

LIVE = ["SOC", "PackVoltage", "Latitude", "Longitude", "MotorSpeed", "CellVoltage100"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _expected_points(
    catalog: Catalog, frames: list[can.Message]
) -> dict[int, list[tuple[int, float]]]:
    """What cantools says the tapped frames mean, per stored signal id."""
    ids = {(s.message, s.name): s for s in catalog.signals}
    points: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for frame in frames:
        message = catalog.database.get_message_by_frame_id(frame.arbitration_id)
        decoded = catalog.database.decode_message(
            frame.arbitration_id, frame.data, decode_choices=False
        )
        t_us = round(frame.timestamp * 1e6)
        for name, value in decoded.items():
            info = ids[(message.name, name)]
            if info.stored:
                points[info.id].append((t_us, float(value)))
    return points


async def _collect(url: str, trucks: list[int], seen: dict[str, list[float]]) -> None:
    async with websockets.connect(url, compression=None) as ws:
        await ws.send(
            json.dumps({"op": "subscribe", "trucks": trucks, "signals": LIVE, "rate_hz": 20})
        )
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] in ("snapshot", "update"):
                for values in message["trucks"].values():
                    seen.update(values)


async def test_frames_on_a_virtual_bus_reach_mariadb_exactly_once_and_a_websocket_client(
    service_settings: Settings, unique_name: str
) -> None:
    catalog = default_catalog()
    settings = service_settings.with_(flush_interval_s=0.3)
    truck_id = 1 + secrets.randbelow(1000)
    channel = f"{unique_name}-truck-{{truck}}"
    fanout = AmqpFanout(
        settings.amqp_url or "",
        exchange=settings.exchange,
        dead_letter_exchange=settings.dead_letter_exchange,
    )
    store = open_store(settings.database_url or "", catalog)
    writer = WriterRole(settings=settings, fanout=fanout, store=store, catalog=catalog)
    cache = MemcachedCache(settings.memcached or "", prefix=unique_name)
    hub = Hub(catalog=catalog, cache=cache)
    hub_feed = HubFeed(settings=settings, fanout=fanout, hub=hub)
    port = _free_port()
    server = make_server(starlette_app(hub.routes()), "127.0.0.1", port, "WARNING")
    serving = asyncio.create_task(server.run())
    sim = Simulation(1, channel=channel, first_truck_id=truck_id, seed=7, catalog=catalog)
    bus_channel = sim.channel_of(sim.trucks[0])
    tap = can.Bus(interface="virtual", channel=bus_channel)
    publisher = await fanout.publisher()
    agent = Agent(
        truck_id=truck_id,
        source=BusSource("virtual", bus_channel),
        codec=Codec(catalog.database),
        publisher=publisher,
        catalog=catalog,
        window_ms=250,
    )
    seen: dict[str, list[float]] = {}
    try:
        await writer.start()
        await hub_feed.start()
        while not server.started:
            await asyncio.sleep(0.02)
        client = asyncio.create_task(_collect(f"ws://127.0.0.1:{port}/ws/live", [truck_id], seen))
        agent_task = asyncio.create_task(agent.run())
        await sim.start()
        await asyncio.sleep(3.0)
        await sim.stop()
        await agent.stop()
        await agent_task
        frames = []
        while (frame := tap.recv(timeout=0)) is not None:
            frames.append(frame)
        await asyncio.sleep(1.0)  # the hub's last update at 20 Hz, the writer's last flush
        client.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await client
        await writer.stop()

        # MariaDB holds exactly what cantools reads from the frames, once.
        expected = _expected_points(catalog, frames)
        assert sum(len(v) for v in expected.values()) > 5000
        await store.open()
        t_from = min(t for pts in expected.values() for t, _ in pts)
        t_to = max(t for pts in expected.values() for t, _ in pts) + 1
        ids, times, values = await store.read_points(truck_id, sorted(expected), t_from, t_to)
        got: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for sid, t, v in zip(ids.tolist(), times.tolist(), values.tolist(), strict=True):
            got[sid].append((t, v))
        assert set(got) == set(expected)
        for sid, points in expected.items():
            assert got[sid] == sorted(points), catalog.signals[sid].key
        stats = await store.ledger_stats()
        assert stats["batches"] == agent.stats.batches_published
        assert stats["points"] == sum(len(v) for v in expected.values())

        # The websocket client saw the last value of each live signal. The hub
        # sends a value when it changes, so the time it carries is that of a
        # point holding the final value.
        for key in LIVE:
            sid = catalog.by_key[key].id
            final = expected[sid][-1][1]
            times_of_final = {t for t, v in expected[sid] if v == final}
            assert seen[key][1] == final
            assert round(seen[key][0] * 1e6) in times_of_final
    finally:
        tap.shutdown()
        await hub_feed.stop()
        await server.stop()
        await serving
        await store.close()
        await cache.close()
        await fanout.close()


def test_expected_points_helper_sees_every_stored_signal_of_a_cell_frame() -> None:
    catalog = default_catalog()
    message = catalog.database.get_message_by_name("BMS_CellVoltages")
    values = {"CellVoltMux": 1, **{f"CellVoltage{n:03d}": 3.7 for n in range(5, 9)}}
    frame = can.Message(arbitration_id=message.frame_id, data=message.encode(values), timestamp=1.5)
    points = _expected_points(catalog, [frame])
    assert sorted(catalog.signals[i].key for i in points) == [
        f"CellVoltage{n:03d}" for n in range(5, 9)
    ]
    assert np.allclose([p[0][1] for p in points.values()], 3.7)
