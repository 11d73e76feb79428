"""Longitudinal dynamics: forces, torque and power behave as physics says."""

from __future__ import annotations

import math

from edge.sim.vehicle import GRAVITY, TruckParams, drive, road_load

P = TruckParams()
MASS = 15_000.0


def power(speed: float = 10.0, accel: float = 0.5, mass: float = MASS, grade: float = 0.0) -> float:
    return drive(P, mass, speed, accel, grade).electric_power_w


def test_traction_power_grows_with_speed() -> None:
    assert power(speed=5.0) < power(speed=10.0) < power(speed=15.0)


def test_traction_power_grows_with_acceleration() -> None:
    assert power(accel=0.2) < power(accel=0.5) < power(accel=1.0)


def test_traction_power_grows_with_mass() -> None:
    assert power(mass=12_000.0) < power(mass=15_000.0) < power(mass=18_000.0)


def test_traction_power_grows_with_grade() -> None:
    assert power(grade=-0.02) < power(grade=0.0) < power(grade=0.03)


def test_cruise_power_is_road_load_times_speed_over_efficiency() -> None:
    load = road_load(P, MASS, 20.0, 0.0)
    expected = load * 20.0 / P.drivetrain_efficiency
    assert math.isclose(drive(P, MASS, 20.0, 0.0, 0.0).electric_power_w, expected)


def test_climbing_needs_weight_times_grade_more_force() -> None:
    flat = road_load(P, MASS, 10.0, 0.0)
    hill = road_load(P, MASS, 10.0, 0.04)
    assert math.isclose(hill - flat, MASS * GRAVITY * math.sin(math.atan(0.04)), rel_tol=0.01)


def test_motor_power_limit_caps_acceleration_at_speed() -> None:
    result = drive(P, MASS, 20.0, 5.0, 0.0)
    assert result.accel_ms2 < 5.0
    assert math.isclose(result.electric_power_w, P.motor_power_w / P.drivetrain_efficiency)


def test_gentle_braking_is_all_regenerative() -> None:
    result = drive(P, MASS, 10.0, -0.8, 0.0)
    assert result.electric_power_w < 0.0
    assert result.friction_brake_force_n == 0.0
    assert result.motor_torque_nm < 0.0


def test_hard_braking_beyond_the_regen_limit_uses_friction_brakes() -> None:
    result = drive(P, MASS, 20.0, -4.0, 0.0)
    assert math.isclose(-result.electric_power_w, P.regen_power_w * P.drivetrain_efficiency)
    assert result.friction_brake_force_n < 0.0
    assert math.isclose(result.accel_ms2, -4.0)


def test_motor_speed_follows_wheel_speed_through_the_fixed_ratio() -> None:
    rpm = drive(P, MASS, 10.0, 0.0, 0.0).motor_speed_rpm
    assert math.isclose(rpm, 10.0 / P.wheel_radius_m * P.axle_ratio * 60.0 / (2 * math.pi))
