"""The battery pack: charge, voltage sag, heat and the HV state sequence."""

from __future__ import annotations

import math

import numpy as np

from edge.sim.battery import CELLS, Contactor, HighVoltage, HvState, Pack


def pack(soc: float = 60.0) -> Pack:
    return Pack(np.random.default_rng(3), soc=soc, ambient_c=15.0)


def test_soc_falls_when_discharging_and_rises_when_charging() -> None:
    p = pack()
    p.step(60.0, power_w=150_000.0, drive_power_w=150_000.0, closed=True)
    after_drive = p.soc
    p.step(60.0, power_w=-150_000.0, drive_power_w=0.0, closed=True)
    assert after_drive < 60.0
    assert p.soc > after_drive


def test_pack_power_is_voltage_times_current_and_matches_the_request() -> None:
    p = pack()
    p.step(0.1, power_w=200_000.0, drive_power_w=200_000.0, closed=True)
    assert math.isclose(p.voltage() * p.current_a, 200_000.0, rel_tol=1e-9)


def test_voltage_sags_under_load_and_rises_under_charge() -> None:
    p = pack()
    rest = p.ocv()
    p.step(0.1, power_w=250_000.0, drive_power_w=250_000.0, closed=True)
    loaded = p.voltage()
    p.step(0.1, power_w=-150_000.0, drive_power_w=0.0, closed=True)
    assert loaded < rest < p.voltage()


def test_pack_is_about_700_volts_and_the_cells_add_up_to_it() -> None:
    p = pack(soc=50.0)
    p.step(0.1, power_w=0.0, drive_power_w=0.0, closed=True)
    cells = p.cell_voltages()
    assert cells.shape == (CELLS,)
    assert 680.0 < p.voltage() < 740.0
    assert abs(cells.sum() - p.voltage()) < 0.05 * CELLS
    assert cells.std() > 0.0005


def test_open_contactors_carry_no_current() -> None:
    p = pack()
    p.step(1.0, power_w=50_000.0, drive_power_w=0.0, closed=False)
    assert p.current_a == 0.0
    assert p.soc == 60.0


def test_load_heats_the_cells_and_drive_and_rest_cools_them() -> None:
    p = pack()
    start = (p.cell_c, p.motor_c, p.inverter_c)
    for _ in range(600):
        p.step(1.0, power_w=250_000.0, drive_power_w=250_000.0, closed=True)
    hot = (p.cell_c, p.motor_c, p.inverter_c)
    assert all(h > s for h, s in zip(hot, start, strict=True))
    for _ in range(1800):
        p.step(1.0, power_w=0.0, drive_power_w=0.0, closed=False)
    assert p.motor_c < hot[1] and p.inverter_c < hot[2]


def test_hv_goes_off_precharging_ready_then_driving_or_charging() -> None:
    hv = HighVoltage(precharge_s=1.0)
    seen = [hv.state]
    hv.step(0.5, wanted=True, driving=False, charging=False)
    seen.append(hv.state)
    assert hv.contactor == Contactor.PRECHARGE
    hv.step(0.6, wanted=True, driving=False, charging=False)
    seen.append(hv.state)
    hv.step(0.1, wanted=True, driving=True, charging=False)
    seen.append(hv.state)
    assert seen == [HvState.OFF, HvState.PRECHARGING, HvState.READY, HvState.DRIVING]
    assert hv.contactor == Contactor.CLOSED
    hv.step(0.1, wanted=True, driving=False, charging=True)
    assert hv.state == HvState.CHARGING
    hv.step(0.1, wanted=False, driving=False, charging=False)
    assert (hv.state, hv.contactor) == (HvState.OFF, Contactor.OPEN)
