"""The runner: frames on real python-can virtual buses, at about the DBC rates."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter

import can
import pytest

from edge.sim.frames import encoders
from edge.sim.runner import Simulation


async def test_runner_puts_frames_on_a_virtual_bus_at_about_the_dbc_rates() -> None:
    channel = f"fltest-{secrets.token_hex(4)}-{{truck}}"
    sim = Simulation(2, channel=channel, seed=3, first_truck_id=5)
    receiver = can.Bus(interface="virtual", channel=channel.format(truck=6))
    try:
        await sim.start()
        await asyncio.sleep(0.3)  # let the loop settle
        while receiver.recv(timeout=0) is not None:
            pass
        began = time.monotonic()
        await asyncio.sleep(1.0)
        elapsed = time.monotonic() - began
        counts: Counter[int] = Counter()
        while (frame := receiver.recv(timeout=0)) is not None:
            counts[frame.arbitration_id] += 1
    finally:
        await sim.stop()
        receiver.shutdown()

    total = sum(e.frames_per_period() / e.period_s for e in encoders())
    assert 0.7 * total * elapsed <= sum(counts.values()) <= 1.3 * total * elapsed
    cells = next(e for e in encoders() if e.name == "BMS_CellVoltages")
    assert 0.7 * 480 * elapsed <= counts[cells.frame_id] <= 1.3 * 480 * elapsed
    assert sim.frames_sent > 0 and sim.send_errors == 0 and sim.error is None


async def test_stop_closes_the_buses_and_is_safe_to_repeat() -> None:
    sim = Simulation(1, channel=f"fltest-{secrets.token_hex(4)}-{{truck}}")
    await sim.start()
    await asyncio.sleep(0.05)
    await sim.stop()
    await sim.stop()
    assert sim._buses == []


async def test_an_interface_that_cannot_open_is_reported_as_a_transport_error() -> None:
    from edge.errors import TransportError

    sim = Simulation(1, interface="socketcan", channel="fltest-nonexistent{truck}")
    with pytest.raises(TransportError, match="fltest-nonexistent1"):
        await sim.start()


def test_advance_returns_frames_of_every_truck_without_a_bus() -> None:
    sim = Simulation(3, seed=1)
    frames = sim.advance(2.0)
    per_truck = Counter(truck for truck, _ in frames)
    assert set(per_truck) == {1, 2, 3}
    assert all(1_400 <= n <= 1_480 for n in per_truck.values())
    assert all(f.timestamp <= sim.epoch + 2.0 + 1e-9 for _, f in frames)


def test_time_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="time_scale"):
        Simulation(1, time_scale=0.0)
