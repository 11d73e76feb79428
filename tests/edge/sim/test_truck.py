"""A simulated truck's day: consistent physics, plausible values, determinism."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from edge.catalog import default_catalog
from edge.sim.driver import HARSH, SMOOTH, DriverProfile
from edge.sim.route import Route, road_network
from edge.sim.truck import CELL_TEMP_KEYS, CELL_VOLTAGE_KEYS, Phase, SimTruck

DT = 0.1


def run(truck: SimTruck, seconds: float, every: float = DT) -> list[dict[str, float]]:
    """Step the truck and sample its values every ``every`` seconds."""
    samples = []
    for _ in range(round(seconds / every)):
        truck.step(every)
        samples.append(truck.values())
    return samples


def test_values_cover_every_stored_signal_of_the_dbc() -> None:
    values = SimTruck(1, seed=0).values()
    expected = {s.key for s in default_catalog().signals if s.stored}
    assert set(values) == expected


def test_values_stay_within_dbc_ranges_over_a_long_run() -> None:
    catalog = default_catalog()
    for start in ("drive", "charge"):
        truck = SimTruck(2, seed=4, start=start)
        for values in run(truck, 2 * 3600.0, every=2.0):
            for key, value in values.items():
                info = catalog.by_key[key]
                assert info.minimum is not None and info.maximum is not None
                assert info.minimum <= value <= info.maximum, (key, value)


def test_soc_falls_while_driving(six_stop_route: Route) -> None:
    truck = SimTruck(3, seed=1, route=six_stop_route, start="drive")
    soc = truck.pack.soc
    driven = 0.0
    while driven < 3_000.0:
        before = truck.odometer_km
        truck.step(DT)
        driven += (truck.odometer_km - before) * 1000.0
    assert truck.pack.soc < soc - 0.1


def test_soc_rises_under_regenerative_braking(six_stop_route: Route) -> None:
    truck = SimTruck(3, seed=1, route=six_stop_route, start="drive", driver=SMOOTH)
    rises = 0
    for _ in range(6000):
        soc = truck.pack.soc
        truck.step(DT)
        if truck.pack.current_a < -20.0:
            assert truck.drive_state.electric_power_w < 0.0
            assert truck.pack.soc > soc
            rises += 1
    assert rises > 50


def test_soc_rises_while_charging_and_power_tapers_above_80_percent() -> None:
    truck = SimTruck(4, seed=2, start="charge")
    truck.pack.soc = 75.0
    truck.charge_target = 95.0
    powers = {}
    soc_before = truck.pack.soc
    while truck.phase == Phase.CHARGE and truck.charge_state != 3:
        truck.step(1.0)
        values = truck.values()
        if values["ChargeState"] == 2:
            powers[round(values["SOC"])] = values["ChargePower"]
            assert values["HvState"] == 4 and values["VehicleMode"] == 2
    assert truck.pack.soc > soc_before + 15.0
    assert powers[78] > powers[85] > powers[92] > 0.0


def test_pack_power_is_voltage_times_current_in_every_sample() -> None:
    for values in run(SimTruck(5, seed=3, start="drive"), 600.0, every=1.0):
        expected = values["PackVoltage"] * values["PackCurrent"] / 1000.0
        assert math.isclose(values["PackPower"], expected, rel_tol=1e-6, abs_tol=1e-6)


def test_cell_summaries_equal_the_extremes_of_the_cells() -> None:
    for values in run(SimTruck(6, seed=3, start="drive"), 120.0, every=1.0):
        volts = [values[k] for k in CELL_VOLTAGE_KEYS]
        temps = [values[k] for k in CELL_TEMP_KEYS]
        assert len(volts) == 192 and len(temps) == 48
        assert values["CellVoltageMin"] == min(volts) and values["CellVoltageMax"] == max(volts)
        assert values["CellTempMin"] == min(temps) and values["CellTempMax"] == max(temps)
        assert values["CellVoltageMax"] - values["CellVoltageMin"] < 0.05


def test_gps_stays_on_the_road_network_and_heading_matches_travel() -> None:
    net = road_network()
    truck = SimTruck(7, seed=5, start="drive")
    samples = run(truck, 1_800.0, every=1.0)
    matched = checked = 0
    for a, b in itertools.pairwise(samples):
        assert net.distance_to_road(b["Longitude"], b["Latitude"]) < 8.0
        east = (b["Longitude"] - a["Longitude"]) * 111_195 * math.cos(math.radians(a["Latitude"]))
        north = (b["Latitude"] - a["Latitude"]) * 111_195
        if math.hypot(east, north) > 8.0:
            travel = math.degrees(math.atan2(east, north)) % 360.0
            diff = abs((travel - b["CompassBearing"] + 180.0) % 360.0 - 180.0)
            checked += 1
            matched += diff < 20.0
    assert checked > 100
    assert matched > 0.9 * checked


def test_distance_grows_with_speed_times_time() -> None:
    truck = SimTruck(8, seed=6, start="drive")
    start = truck.values()["TotalVehicleDistance"]
    integral = 0.0
    for values in run(truck, 900.0):
        integral += values["WheelBasedVehicleSpeed"] / 3.6 * DT
    grown = (truck.values()["TotalVehicleDistance"] - start) * 1000.0
    assert integral > 1_000.0
    assert math.isclose(grown, integral, rel_tol=0.02)


def test_same_seed_gives_the_same_truck_and_another_seed_does_not() -> None:
    a, b, c = (SimTruck(9, seed=s) for s in (42, 42, 43))
    for truck in (a, b, c):
        truck.step(300.0)
    assert a.values() == b.values()
    assert a.values() != c.values()


def test_a_fresh_fleet_is_spread_over_driving_delivering_and_charging() -> None:
    phases = {SimTruck(i, seed=0).phase for i in range(1, 41)}
    assert {Phase.DRIVE, Phase.DELIVER, Phase.CHARGE} <= phases


def test_an_occasional_fault_appears_in_dm1_and_clears() -> None:
    truck = SimTruck(10, seed=8, start="drive")
    seen = set()
    for values in run(truck, 4 * 3600.0, every=5.0):
        seen.add(values["ActiveFaultCount"])
        if values["ActiveFaultCount"]:
            assert values["DtcSpn"] > 0 and values["AmberWarningLamp"] + values["ProtectLamp"] == 1
    assert seen == {0.0, 1.0}


def session(driver: DriverProfile, route: Route) -> dict[str, float]:
    """Drive the route once, as a trainer's scorecard would measure it."""
    truck = SimTruck(11, seed=9, driver=driver, route=route, start="depot")
    harsh = speeding = energy_j = 0.0
    distance = truck.odometer_km
    was_harsh = False
    while truck.phase in (Phase.DEPART, Phase.DRIVE, Phase.DELIVER):
        truck.step(DT if truck.phase == Phase.DRIVE else 1.0)
        is_harsh = abs(truck.accel) > 2.0
        harsh += is_harsh and not was_harsh
        was_harsh = is_harsh
        if truck.v > truck.route.point(truck.s).limit_ms * 1.05:
            speeding += DT  # only a driving truck moves
        energy_j += truck.pack.power_w() * DT
    km = truck.odometer_km - distance
    return {"harsh": harsh, "speeding": speeding, "kwh_per_km": energy_j / 3.6e6 / km}


def test_harsh_and_smooth_drivers_differ_measurably_on_the_same_route(
    six_stop_route: Route,
) -> None:
    smooth = session(SMOOTH, six_stop_route)
    harsh = session(HARSH, six_stop_route)
    assert smooth["harsh"] == 0 < 5 < harsh["harsh"]
    assert smooth["speeding"] < 0.2 * harsh["speeding"]
    assert harsh["kwh_per_km"] > 1.1 * smooth["kwh_per_km"]


def test_unknown_start_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="depot, drive, deliver or charge"):
        SimTruck(1, seed=0, start="moon")


def test_payload_drops_at_every_delivery(six_stop_route: Route) -> None:
    truck = SimTruck(12, seed=1, route=six_stop_route, start="depot")
    masses = [truck.mass_kg]
    for _ in range(10_000):
        phase = truck.phase
        truck.step(DT if phase == Phase.DRIVE else 1.0)
        if truck.phase == Phase.DELIVER and phase != Phase.DELIVER:
            masses.append(truck.mass_kg)
    assert len(masses) >= 3
    assert all(np.diff(masses) < 0)
