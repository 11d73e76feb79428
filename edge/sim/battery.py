"""The traction battery: 192 cells in series, its thermal model and its HV state.

Electrical model: each cell is an open-circuit voltage that depends on its
state of charge, in series with an internal resistance. The pack current for a
requested power solves ``P = (OCV - R I) I`` exactly, so terminal voltage sags
under load and rises under charge, and ``P = V I`` holds. State of charge is
the integral of current over capacity. Cells differ by small fixed offsets in
charge and resistance, and by a little measurement noise.

Thermal model: four lumped masses (cells, inverter, motor, coolant). Losses
heat the parts, the parts give heat to the coolant, and the coolant gives it to
the air, faster when the radiator fan runs. The 48 temperature sensors read the
cell mass plus a fixed position offset and noise.

All randomness comes from the generator passed in, and is drawn only in
:meth:`Pack.step`, so a pack is deterministic for a given seed and sequence of
steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

__all__ = ["CELLS", "TEMP_SENSORS", "Contactor", "HighVoltage", "HvState", "Pack", "PackParams"]

CELLS = 192
TEMP_SENSORS = 48

# Open-circuit voltage of one NMC cell against state of charge (0..1).
_OCV_SOC = np.array([0.0, 0.05, 0.10, 0.20, 0.40, 0.60, 0.80, 0.90, 1.00])
_OCV_V = np.array([3.20, 3.45, 3.55, 3.62, 3.70, 3.82, 3.98, 4.07, 4.17])


class HvState(IntEnum):
    OFF = 0
    PRECHARGING = 1
    READY = 2
    DRIVING = 3
    CHARGING = 4
    FAULT = 5


class Contactor(IntEnum):
    OPEN = 0
    PRECHARGE = 1
    CLOSED = 2


@dataclass(frozen=True)
class PackParams:
    """A 350 kWh pack: 192 cells of 500 Ah, 3.65 V nominal (about 700 V)."""

    capacity_ah: float = 500.0
    cell_resistance_ohm: float = 0.00032
    pack_heat_capacity_j_k: float = 2.0e6
    cell_to_coolant_w_k: float = 450.0
    inverter_heat_capacity_j_k: float = 25e3
    inverter_loss: float = 0.025
    inverter_to_coolant_w_k: float = 180.0
    motor_heat_capacity_j_k: float = 80e3
    motor_loss: float = 0.04
    motor_to_coolant_w_k: float = 260.0
    coolant_heat_capacity_j_k: float = 60e3
    radiator_w_k: float = 500.0
    radiator_fan_w_k: float = 1_600.0
    fan_on_above_c: float = 32.0
    precharge_s: float = 1.5


class Pack:
    """State of the battery pack and the drive's temperatures."""

    def __init__(
        self,
        rng: np.random.Generator,
        *,
        soc: float,
        ambient_c: float,
        params: PackParams | None = None,
    ) -> None:
        self.params = params or PackParams()
        self._rng = rng
        self.soc = soc
        self.soh = float(rng.uniform(91.0, 99.5))
        self.ambient_c = ambient_c
        self.current_a = 0.0
        self.cell_c = ambient_c + float(rng.uniform(2.0, 6.0))
        self.coolant_c = ambient_c + 2.0
        self.inverter_c = ambient_c + 3.0
        self.motor_c = ambient_c + 3.0

        # Fixed differences between cells and sensors, drawn once.
        self._soc_offset = rng.normal(0.0, 0.004, CELLS)
        self._r_cell = self.params.cell_resistance_ohm * rng.uniform(0.9, 1.15, CELLS)
        self._r_pack = float(self._r_cell.sum())
        position = np.linspace(-1.0, 1.0, TEMP_SENSORS)
        self._temp_offset = 1.2 * position + rng.normal(0.0, 0.5, TEMP_SENSORS)
        self._insulation_base = float(rng.uniform(2_500.0, 9_000.0))
        self._volt_noise = np.zeros(CELLS)
        self._temp_noise = np.zeros(TEMP_SENSORS)
        self._insulation_noise = 0.0
        self._noise_age_s = math.inf

        # The pack's open-circuit voltage on a 0.5 % grid of state of charge.
        grid = np.arange(0.0, 100.5, 0.5)
        cells = np.interp(grid[:, None] / 100.0 + self._soc_offset, _OCV_SOC, _OCV_V)
        self._pack_ocv = cells.sum(axis=1).tolist()
        self._ocv = self.ocv()

    def ocv(self) -> float:
        """Open-circuit voltage of the pack."""
        x = min(max(self.soc, 0.0), 100.0) * 2.0
        i = min(int(x), len(self._pack_ocv) - 2)
        low = self._pack_ocv[i]
        return low + (x - i) * (self._pack_ocv[i + 1] - low)

    def _current_for(self, power_w: float, ocv: float) -> float:
        # P = (OCV - R I) I; take the root nearest zero current.
        r = self._r_pack
        disc = ocv * ocv - 4.0 * r * power_w
        if disc < 0.0:
            return ocv / (2.0 * r)
        return (ocv - math.sqrt(disc)) / (2.0 * r)

    def step(self, dt: float, *, power_w: float, drive_power_w: float, closed: bool) -> None:
        """Draw ``power_w`` (negative charges) for ``dt`` seconds and update temperatures.

        ``drive_power_w`` is the traction share, which heats inverter and motor.
        With the contactors open no current flows.
        """
        p = self.params
        current = self._current_for(power_w, self._ocv) if closed else 0.0
        self.soc -= current * dt / 3600.0 / (p.capacity_ah * self.soh / 100.0) * 100.0
        self.soc = min(max(self.soc, 0.0), 100.0)

        # Report the current that delivers the power at the new state of charge.
        self._ocv = self.ocv()
        self.current_a = self._current_for(power_w, self._ocv) if closed else 0.0

        # Heat: cell joule losses, drive losses; coolant carries it all to the air.
        q_cell = current * current * self._r_pack
        q_inv = abs(drive_power_w) * p.inverter_loss
        q_mot = abs(drive_power_w) * p.motor_loss
        to_cool_cell = p.cell_to_coolant_w_k * (self.cell_c - self.coolant_c)
        to_cool_inv = p.inverter_to_coolant_w_k * (self.inverter_c - self.coolant_c)
        to_cool_mot = p.motor_to_coolant_w_k * (self.motor_c - self.coolant_c)
        fan = p.radiator_fan_w_k if self.coolant_c > p.fan_on_above_c else 0.0
        to_air = (p.radiator_w_k + fan) * (self.coolant_c - self.ambient_c)
        self.cell_c += (q_cell - to_cool_cell) * dt / p.pack_heat_capacity_j_k
        self.inverter_c += (q_inv - to_cool_inv) * dt / p.inverter_heat_capacity_j_k
        self.motor_c += (q_mot - to_cool_mot) * dt / p.motor_heat_capacity_j_k
        gained = to_cool_cell + to_cool_inv + to_cool_mot - to_air
        self.coolant_c += gained * dt / p.coolant_heat_capacity_j_k

        # Fresh measurement noise ten times a second, as often as the BMS reports.
        self._noise_age_s += dt
        if self._noise_age_s >= 0.1:
            self._noise_age_s = 0.0
            self._volt_noise = self._rng.normal(0.0, 0.0008, CELLS)
            self._temp_noise = self._rng.normal(0.0, 0.15, TEMP_SENSORS)
            self._insulation_noise = float(self._rng.normal(0.0, 40.0))

    def voltage(self) -> float:
        """Terminal voltage of the pack."""
        return self._ocv - self._r_pack * self.current_a

    def power_w(self) -> float:
        return self.voltage() * self.current_a

    def cell_voltages(self) -> npt.NDArray[np.float64]:
        """The 192 cell voltages: own charge offset, own resistance drop, noise."""
        ocv = np.interp(self.soc / 100.0 + self._soc_offset, _OCV_SOC, _OCV_V)
        return ocv - self._r_cell * self.current_a + self._volt_noise

    def cell_temps(self) -> npt.NDArray[np.float64]:
        """The 48 cell temperature sensors."""
        return self.cell_c + self._temp_offset + self._temp_noise

    def insulation_kohm(self) -> float:
        """Insulation resistance to chassis; a warm pack measures a little lower."""
        derate = 1.0 - 0.006 * max(self.cell_c - 25.0, 0.0)
        return max(self._insulation_base * derate + self._insulation_noise, 500.0)


class HighVoltage:
    """Contactor sequence: Off, Precharging, Ready, then Driving or Charging."""

    def __init__(self, precharge_s: float = 1.5) -> None:
        self.state = HvState.OFF
        self.contactor = Contactor.OPEN
        self._precharge_s = precharge_s
        self._timer = 0.0

    @property
    def closed(self) -> bool:
        return self.contactor == Contactor.CLOSED

    def step(self, dt: float, *, wanted: bool, driving: bool, charging: bool) -> None:
        """Follow the request to have HV on (key on or plugged in)."""
        if not wanted:
            self.state, self.contactor, self._timer = HvState.OFF, Contactor.OPEN, 0.0
            return
        if self.state == HvState.OFF:
            self.state, self.contactor, self._timer = HvState.PRECHARGING, Contactor.PRECHARGE, 0.0
        if self.state == HvState.PRECHARGING:
            self._timer += dt
            if self._timer < self._precharge_s:
                return
            self.contactor = Contactor.CLOSED
        if charging:
            self.state = HvState.CHARGING
        elif driving:
            self.state = HvState.DRIVING
        else:
            self.state = HvState.READY
