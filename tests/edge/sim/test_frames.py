"""Frames: bytes cantools decodes back to the truck's values, at the DBC's rates."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from edge.catalog import default_catalog
from edge.sim.frames import FrameScheduler, encoders
from edge.sim.truck import SimTruck


@pytest.fixture(scope="module")
def driving_values() -> dict[str, float]:
    truck = SimTruck(21, seed=2, start="drive")
    truck.step(120.0)
    return truck.values()


def test_every_frame_decodes_with_cantools_to_the_values_within_resolution(
    driving_values: dict[str, float],
) -> None:
    db = default_catalog().database
    checked = 0
    for encoder in encoders():
        message = db.get_message_by_frame_id(encoder.frame_id)
        for frame in encoder.frames(driving_values, timestamp=1.0):
            assert frame.is_extended_id == message.is_extended_frame
            decoded = db.decode_message(frame.arbitration_id, frame.data, decode_choices=False)
            for name, value in decoded.items():
                signal = message.get_signal_by_name(name)
                if signal.is_multiplexer:
                    continue
                assert abs(value - driving_values[name]) <= signal.scale / 2 + 1e-9, name
                checked += 1
    assert checked == len([s for s in default_catalog().signals if s.stored])


def test_encoder_gives_the_same_bytes_as_cantools(driving_values: dict[str, float]) -> None:
    db = default_catalog().database
    for encoder in encoders():
        message = db.get_message_by_frame_id(encoder.frame_id)
        for mux in encoder.mux_values:
            data = encoder.encode(driving_values, mux)
            signals = [s for s in message.signals if not s.is_multiplexer]
            if mux is not None:
                signals = [s for s in signals if mux in s.multiplexer_ids]
            wanted = {s.name: driving_values[s.name] for s in signals}
            if mux is not None:
                selector = next(s for s in message.signals if s.is_multiplexer)
                wanted[selector.name] = mux
            assert data == message.encode(wanted, scaling=True, strict=False), message.name


def test_values_outside_a_signal_range_saturate_instead_of_wrapping() -> None:
    encoder = next(e for e in encoders() if e.name == "MCU_Motor")
    db = default_catalog().database
    data = encoder.encode({"MotorSpeed": 1e9, "MotorTorque": -1e9})
    decoded = db.decode_message(encoder.frame_id, data)
    assert decoded == {"MotorSpeed": 32767, "MotorTorque": -16384.0}


def test_scheduler_sends_each_message_at_its_cycle_time(driving_values: dict[str, float]) -> None:
    scheduler = FrameScheduler(100.0, stagger=0.3)
    counts: Counter[int] = Counter()
    for k in range(1, 1001):
        for frame in scheduler.due(100.0 + k * 0.01, driving_values):
            counts[frame.arbitration_id] += 1
    for encoder in encoders():
        expected = 10.0 / encoder.period_s * len(encoder.mux_values)
        assert abs(counts[encoder.frame_id] - expected) <= len(encoder.mux_values), encoder.name
    assert 7_150 <= sum(counts.values()) <= 7_250


def test_multiplexed_frames_are_spread_evenly_and_cycle_through_every_value(
    driving_values: dict[str, float],
) -> None:
    scheduler = FrameScheduler(0.0)
    cells = next(e for e in encoders() if e.name == "BMS_CellVoltages")
    frames = [
        f
        for k in range(1, 21)
        for f in scheduler.due(k * 0.01, driving_values)
        if f.arbitration_id == cells.frame_id
    ]
    gaps = {round(b.timestamp - a.timestamp, 6) for a, b in itertools.pairwise(frames)}
    assert gaps == {round(0.1 / 48, 6)}
    assert sorted(f.data[0] for f in frames[:48]) == list(range(48))


def test_frames_come_out_in_time_order(driving_values: dict[str, float]) -> None:
    scheduler = FrameScheduler(0.0, stagger=0.7)
    frames = scheduler.due(0.5, driving_values)
    stamps = [f.timestamp for f in frames]
    assert stamps == sorted(stamps) and stamps[-1] <= 0.5
