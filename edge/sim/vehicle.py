"""Longitudinal dynamics of an electric delivery truck.

The road load on the wheels is inertia plus rolling resistance, aerodynamic
drag and the grade. A single-speed drivetrain (fixed ratio, no gears to shift)
turns it into motor torque and speed. Traction draws more electric power than
reaches the wheels (drivetrain efficiency); braking recovers part of the
kinetic energy through the motor up to a regenerative power limit, and the
friction brakes take the rest. Everything here is a pure function of its
arguments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["GRAVITY", "Drive", "TruckParams", "drive"]

GRAVITY = 9.81
AIR_DENSITY = 1.2


@dataclass(frozen=True)
class TruckParams:
    """A 19-tonne electric distribution truck."""

    tare_kg: float = 11_500.0
    payload_kg: float = 6_000.0
    rolling_coefficient: float = 0.0075
    drag_area_m2: float = 5.4
    wheel_radius_m: float = 0.49
    axle_ratio: float = 11.5
    drivetrain_efficiency: float = 0.91
    motor_power_w: float = 300_000.0
    motor_torque_nm: float = 2_600.0
    regen_power_w: float = 160_000.0
    max_decel_ms2: float = 6.0


@dataclass(frozen=True)
class Drive:
    """What the drivetrain does for one requested acceleration."""

    accel_ms2: float
    traction_force_n: float
    motor_torque_nm: float
    motor_speed_rpm: float
    electric_power_w: float
    friction_brake_force_n: float
    """Force of the friction brakes, negative like every braking force."""
    pedal: float
    brake_pedal: float


def road_load(params: TruckParams, mass_kg: float, speed_ms: float, grade: float) -> float:
    """Force in newtons that holds a truck at ``speed_ms`` on ``grade`` (rise over run)."""
    angle = math.atan(grade)
    rolling = (
        params.rolling_coefficient * mass_kg * GRAVITY * math.cos(angle) if speed_ms > 0.01 else 0.0
    )
    drag = 0.5 * AIR_DENSITY * params.drag_area_m2 * speed_ms * speed_ms
    return rolling + drag + mass_kg * GRAVITY * math.sin(angle)


def drive(
    params: TruckParams, mass_kg: float, speed_ms: float, accel_ms2: float, grade: float
) -> Drive:
    """Forces, torque and electric power for a requested acceleration.

    The motor caps what traction can deliver (torque at low speed, power above
    base speed), so the acceleration returned may be less than requested.
    Negative power is energy returned to the battery.
    """
    wheel_rad_s = speed_ms / params.wheel_radius_m
    motor_rad_s = wheel_rad_s * params.axle_ratio
    load = road_load(params, mass_kg, speed_ms, grade)
    force = mass_kg * accel_ms2 + load

    # What the motor can push: its torque limit, and its power limit above base speed.
    max_torque = params.motor_torque_nm
    if motor_rad_s > 1.0:
        max_torque = min(max_torque, params.motor_power_w / motor_rad_s)
    max_force = max_torque * params.axle_ratio / params.wheel_radius_m
    friction = 0.0
    if force > max_force:
        force = max_force
    min_force = -params.max_decel_ms2 * mass_kg + min(load, 0.0)
    if force < min_force:
        force = min_force

    if force >= 0.0:
        motor_force = force
        power = force * speed_ms / params.drivetrain_efficiency
    else:
        # Regeneration is limited by power and fades out below walking pace.
        regen_cap = params.regen_power_w / max(speed_ms, 0.1)
        regen_cap *= min(1.0, speed_ms / 1.5)
        regen_cap = min(
            regen_cap, params.motor_torque_nm * params.axle_ratio / params.wheel_radius_m
        )
        motor_force = max(force, -regen_cap)
        friction = force - motor_force
        power = motor_force * speed_ms * params.drivetrain_efficiency

    torque = motor_force * params.wheel_radius_m / params.axle_ratio
    return Drive(
        accel_ms2=(force - load) / mass_kg,
        traction_force_n=force,
        motor_torque_nm=torque,
        motor_speed_rpm=motor_rad_s * 60.0 / (2.0 * math.pi),
        electric_power_w=power,
        friction_brake_force_n=friction,
        pedal=min(1.0, max(0.0, motor_force / max_force)) if force > 0 else 0.0,
        brake_pedal=min(1.0, -force / (params.max_decel_ms2 * mass_kg)) if force < 0 else 0.0,
    )
