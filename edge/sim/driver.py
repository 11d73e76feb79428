"""Driver profiles: how hard a driver accelerates, brakes, speeds and idles.

A smooth driver pulls away gently, lifts off early and brakes softly over a
long distance, so most braking is regenerative. A harsh driver accelerates at
full motor torque, keeps on the power until late and then brakes hard, often
above 2 m/s², and drives well over the limit. Their sessions on the same route
therefore differ in harsh events, speeding and energy per kilometre.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

__all__ = ["HARSH", "NORMAL", "PROFILES", "SMOOTH", "DriverProfile", "driver_for"]


@dataclass(frozen=True)
class DriverProfile:
    """One driving style, and the id the driver logs in with."""

    name: str
    driver_id: int
    accel_ms2: float
    """Acceleration the driver asks for when pulling away."""
    brake_ms2: float
    """Deceleration the driver aims for when braking to a stop."""
    brake_trigger: float
    """Start braking once the needed deceleration reaches this share of ``brake_ms2``."""
    speed_factor: float
    """Cruise speed as a multiple of the limit."""
    speed_wobble: float
    """Standard deviation of the cruise speed around it, as a fraction."""
    idle_s: tuple[float, float]
    """Seconds with the key on before leaving the depot or a stop (low, high)."""


SMOOTH = DriverProfile(
    name="smooth",
    driver_id=0,
    accel_ms2=0.8,
    brake_ms2=0.9,
    brake_trigger=0.55,
    speed_factor=0.95,
    speed_wobble=0.02,
    idle_s=(5.0, 20.0),
)
NORMAL = DriverProfile(
    name="normal",
    driver_id=0,
    accel_ms2=1.3,
    brake_ms2=1.6,
    brake_trigger=0.8,
    speed_factor=1.02,
    speed_wobble=0.04,
    idle_s=(15.0, 60.0),
)
HARSH = DriverProfile(
    name="harsh",
    driver_id=0,
    accel_ms2=2.5,
    brake_ms2=3.0,
    brake_trigger=1.0,
    speed_factor=1.15,
    speed_wobble=0.06,
    idle_s=(60.0, 240.0),
)
PROFILES = (SMOOTH, NORMAL, HARSH)


def driver_for(truck_id: int, rng: np.random.Generator) -> DriverProfile:
    """The driver a truck starts with: a style drawn by seed, an id from the truck.

    Driver ids are 1000 plus the truck id, so every truck has its own driver.
    """
    style = PROFILES[int(rng.choice(3, p=[0.4, 0.4, 0.2]))]
    return replace(style, driver_id=1000 + truck_id)
