"""The hub end to end: uvicorn serving /ws/live, clients of the websockets library."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from websockets.exceptions import ConnectionClosed

from app.hub.server import Hub
from edge.wire import Batch
from tests.app.hub.helpers import T0, next_update, open_client, subscribe

MakeBatch = Callable[..., Batch]


async def test_a_client_gets_hello_then_subscribed_and_a_snapshot_of_earlier_values(
    hub: Hub, address: str, make_batch: MakeBatch
) -> None:
    hub.apply(make_batch(7, {"SOC": [(T0, 81.2)], "Latitude": [(T0 + 1, 52.5)]}))
    hub.apply(make_batch(8, {"SOC": [(T0, 40.0)]}))

    async with await open_client(address) as ws:
        subscribed, snapshot = await subscribe(ws, trucks=[7], signals=["SOC", "Latitude"])

    assert subscribed == {
        "type": "subscribed",
        "trucks": [7],
        "signals": ["SOC", "Latitude"],
        "rate_hz": 4.0,
    }
    assert snapshot == {
        "type": "snapshot",
        "trucks": {"7": {"SOC": [T0 / 1e6, 81.2], "Latitude": [(T0 + 1) / 1e6, 52.5]}},
    }


async def test_updates_carry_only_the_values_that_changed(
    hub: Hub, address: str, make_batch: MakeBatch
) -> None:
    hub.apply(make_batch(7, {"SOC": [(T0, 80.0)], "SOH": [(T0, 95.0)]}))
    async with await open_client(address) as ws:
        await subscribe(ws, trucks="*", signals=["SOC", "SOH"], rate_hz=20)

        hub.apply(make_batch(7, {"SOC": [(T0 + 10, 79.0)], "SOH": [(T0 + 10, 95.0)]}))
        first = await next_update(ws)
        hub.apply(make_batch(7, {"SOC": [(T0 + 20, 79.0)], "SOH": [(T0 + 20, 94.0)]}))
        second = await next_update(ws)

    assert first["trucks"] == {"7": {"SOC": [(T0 + 10) / 1e6, 79.0]}}
    assert second["trucks"] == {"7": {"SOH": [(T0 + 20) / 1e6, 94.0]}}


async def test_trucks_star_includes_trucks_that_appear_later(
    hub: Hub, address: str, make_batch: MakeBatch
) -> None:
    async with await open_client(address) as ws:
        _, snapshot = await subscribe(ws, trucks="*", signals=["SOC"], rate_hz=20)
        hub.apply(make_batch(31, {"SOC": [(T0, 55.0)]}))
        update = await next_update(ws)

    assert snapshot["trucks"] == {}
    assert update["trucks"] == {"31": {"SOC": [T0 / 1e6, 55.0]}}


async def test_a_client_subscribed_to_one_truck_gets_nothing_of_another(
    hub: Hub, address: str, make_batch: MakeBatch
) -> None:
    async with await open_client(address) as ws:
        await subscribe(ws, trucks=[2], signals=["SOC"], rate_hz=20)
        for i in range(5):
            hub.apply(make_batch(1, {"SOC": [(T0 + i, float(i))]}))
            await asyncio.sleep(0.06)
        hub.apply(make_batch(2, {"SOC": [(T0, 22.0)]}))
        update = await next_update(ws)

    assert update["trucks"] == {"2": {"SOC": [T0 / 1e6, 22.0]}}


async def test_a_new_subscription_replaces_the_old_one(
    hub: Hub, address: str, make_batch: MakeBatch
) -> None:
    hub.apply(make_batch(1, {"SOC": [(T0, 10.0)], "SOH": [(T0, 90.0)]}))
    async with await open_client(address) as ws:
        await subscribe(ws, trucks=[1], signals=["SOC"], rate_hz=20)
        subscribed, snapshot = await subscribe(ws, trucks=[1], signals=["SOH"], rate_hz=20)
        hub.apply(make_batch(1, {"SOC": [(T0 + 1, 11.0)], "SOH": [(T0 + 1, 91.0)]}))
        update = await next_update(ws)

    assert subscribed["signals"] == ["SOH"]
    assert snapshot["trucks"] == {"1": {"SOH": [T0 / 1e6, 90.0]}}
    assert update["trucks"] == {"1": {"SOH": [(T0 + 1) / 1e6, 91.0]}}


async def test_ping_is_answered_with_the_hub_clock(hub: Hub, address: str) -> None:
    async with await open_client(address) as ws:
        await ws.send('{"op":"ping"}')
        pong = json.loads(await ws.recv())

    assert pong["type"] == "pong"
    assert pong["t"] > T0 / 1e6


@pytest.mark.parametrize(
    ("message", "code", "says"),
    [
        ("this is not json", 1008, "not JSON"),
        ('{"op": "subscribe", "trucks": "*", "signals": ["SOCK"]}', 1008, "'SOCK'"),
        ('{"op": "subscribe", "trucks": "*", "signals": "*", "rate_hz": 0}', 1008, "rate_hz"),
        (b"\x00\x01binary", 1003, "binary"),
        ('{"op": "ping", "pad": "' + "x" * 70000 + '"}', 1008, "65536"),
    ],
    ids=["not-json", "unknown-signal", "rate-zero", "binary", "over-64-kib"],
)
async def test_a_bad_message_gets_an_error_and_a_close_while_others_keep_working(
    hub: Hub, address: str, make_batch: MakeBatch, message: str | bytes, code: int, says: str
) -> None:
    async with await open_client(address) as good, await open_client(address) as bad:
        await subscribe(good, trucks="*", signals=["SOC"], rate_hz=20)

        await bad.send(message)
        error = json.loads(await bad.recv())
        with pytest.raises(ConnectionClosed):
            await bad.recv()

        hub.apply(make_batch(5, {"SOC": [(T0, 5.0)]}))
        update = await next_update(good)

    assert error["type"] == "error"
    assert says in error["error"]
    assert bad.close_code == code
    assert hub.stats.bad_client_messages == 1
    assert update["trucks"] == {"5": {"SOC": [T0 / 1e6, 5.0]}}


async def test_values_replaced_between_two_messages_are_conflated_and_counted(
    hub: Hub, address: str, make_batch: MakeBatch
) -> None:
    async with await open_client(address) as ws:
        await subscribe(ws, trucks="*", signals=["SOC"], rate_hz=1)
        for i in range(10):
            hub.apply(make_batch(3, {"SOC": [(T0 + i, float(i))]}))
        update = await next_update(ws)

    assert update["trucks"] == {"3": {"SOC": [(T0 + 9) / 1e6, 9.0]}}
    assert hub.stats.conflated == 9


async def test_stopping_the_hub_closes_clients_with_going_away(hub: Hub, address: str) -> None:
    async with await open_client(address) as ws:
        await subscribe(ws, trucks="*", signals=["SOC"])
        await hub.stop()
        with pytest.raises(ConnectionClosed):
            await ws.recv()

    assert ws.close_code == 1001
    assert hub.stats.clients == 0


async def test_a_client_that_never_reads_delays_no_one_and_is_finally_dropped(
    hub: Hub, address: str, make_batch: MakeBatch
) -> None:
    # Forty trucks with every signal make each snapshot a few hundred kilobytes.
    everything = json.dumps({"op": "subscribe", "trucks": "*", "signals": "*", "rate_hz": 20})
    for truck in range(40):
        hub.apply(make_batch(truck, {k: [(T0, 1.0)] for k in hub.catalog.by_key}))
    stop_feeding = asyncio.Event()

    async def feed_one_value() -> None:
        i = 0
        while not stop_feeding.is_set():
            hub.apply(make_batch(999, {"SOC": [(T0 + i, float(i))]}))
            i += 1
            await asyncio.sleep(0.02)

    slow = await open_client(address, max_queue=1, close_timeout=0.1)
    (slow_client,) = hub.clients
    for _ in range(60):
        await slow.send(everything)
    async with await open_client(address) as fast:
        await subscribe(fast, trucks=[999], signals=["SOC"], rate_hz=20)
        feeder = asyncio.create_task(feed_one_value())

        # Read until the slow client's sends have stopped moving for 20 of ours.
        steady, last = 0, -1
        while steady < 20:
            await next_update(fast)
            steady = steady + 1 if slow_client.messages_sent == last else 0
            last = slow_client.messages_sent
        sent_to_slow = slow_client.messages_sent

        # The hub then gives up on the slow client, and the fast one goes on.
        while hub.stats.disconnected_slow == 0:
            await next_update(fast)
        await next_update(fast)
        stop_feeding.set()
        await feeder

    await slow.close()
    assert sent_to_slow < 2 + 2 * 60
    assert hub.stats.disconnected_slow == 1
    assert slow_client not in hub.clients
