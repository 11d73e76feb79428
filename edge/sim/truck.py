"""One simulated truck and the state machine of its working day.

A day is a loop: leave the depot with the key on, drive the route stop and go
(pull away, cruise near the limit, slow for turns, stop at red lights and at
each delivery), deliver with the key on and the parking brake set, return to
the depot, then either take a short break or, when the charge is low, plug in
and charge (Connected, Charging with a taper above 80 %, Complete), and start
the next route. :meth:`SimTruck.step` advances the physics and
:meth:`SimTruck.values` reports the physical value of every signal of the DBC.

Trucks start somewhere along this loop, chosen by seed, so a fresh fleet is
already spread over the roads, the stops and the chargers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from edge.sim.battery import CELLS, TEMP_SENSORS, HighVoltage, Pack
from edge.sim.driver import DriverProfile, driver_for
from edge.sim.route import Route, road_network
from edge.sim.vehicle import Drive, TruckParams, drive

__all__ = ["CELL_TEMP_KEYS", "CELL_VOLTAGE_KEYS", "Phase", "SimTruck"]

CELL_VOLTAGE_KEYS = [f"CellVoltage{i:03d}" for i in range(1, CELLS + 1)]
CELL_TEMP_KEYS = [f"CellTemp{i:02d}" for i in range(1, TEMP_SENSORS + 1)]

_MAX_STEP_S = 0.1
_PARKED_STEP_S = 1.0
_LOOKAHEAD_M = 300.0
_RED_LIGHT_CHANCE = 0.45
_CHARGE_BELOW_SOC = 60.0
_AUX_KEY_ON_W = 3_000.0
_AUX_CHARGING_W = 1_500.0
_FAULT_EVERY_S = 1_800.0

# (SPN, FMI, lamp): battery potential low, coolant too hot, insulation monitor
# erratic, cell balancing not converging (the last two manufacturer-specific).
_FAULTS = [(168, 4, "amber"), (110, 16, "amber"), (520250, 2, "protect"), (520300, 31, "amber")]

_STANDSTILL = Drive(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


class Phase(Enum):
    DEPART = "depart"
    DRIVE = "drive"
    DELIVER = "deliver"
    BREAK = "break"
    CHARGE = "charge"


@dataclass
class _Fault:
    spn: int
    fmi: int
    lamp: str
    remaining_s: float


class SimTruck:
    """An electric delivery truck driving its routes, deterministic for a seed.

    ``start`` forces where the day begins: ``"depot"`` (key on, about to leave),
    ``"drive"``, ``"deliver"`` or ``"charge"``; by default the seed chooses.
    A given ``route`` is driven again and again; otherwise each loop is new.
    """

    def __init__(
        self,
        truck_id: int,
        *,
        seed: int,
        driver: DriverProfile | None = None,
        route: Route | None = None,
        start: str | None = None,
        params: TruckParams | None = None,
    ) -> None:
        self.truck_id = truck_id
        self.rng = np.random.default_rng([seed, truck_id])
        rng = self.rng
        self.params = params or TruckParams()
        self.driver = driver or driver_for(truck_id, rng)
        self._network = road_network()
        self._fixed_route = route
        self.route = route or self._network.route(rng)

        ambient = float(rng.uniform(8.0, 22.0))
        self.pack = Pack(rng, soc=float(rng.uniform(45.0, 95.0)), ambient_c=ambient)
        self.hv = HighVoltage(self.pack.params.precharge_s)
        self.time_s = 0.0
        self.s = 0.0
        self.v = 0.0
        self.accel = 0.0
        self.odometer_km = float(rng.uniform(20_000.0, 180_000.0))
        self.charger_kw = float(rng.uniform(120.0, 180.0))
        self.phase = Phase.DEPART
        self.timer = 0.0
        self.charge_state = 0
        self.charge_power_kw = 0.0
        self.charge_target = 90.0
        self.drive_state = _STANDSTILL
        self.payload_kg = self.params.payload_kg
        self._wobble = 0.0
        self._cleared_s = -1.0
        self._lights: dict[float, bool] = {}
        self._fault: _Fault | None = None
        self._occurrences: dict[int, int] = {}
        self._gps_noise = (0.0, 0.0)
        self._satellites = int(rng.integers(8, 14))
        self._handlers = {
            Phase.DEPART: self._depart,
            Phase.DRIVE: self._drive,
            Phase.DELIVER: self._deliver,
            Phase.BREAK: self._break,
            Phase.CHARGE: self._charge,
        }
        self._start(start or self._pick_start())

    # -- the start of the simulated day ---------------------------------------

    def _pick_start(self) -> str:
        u = float(self.rng.random())
        return "drive" if u < 0.55 else "deliver" if u < 0.7 else "charge" if u < 0.85 else "depot"

    def _start(self, where: str) -> None:
        stops = [e for e in self.route.events if e.kind == "stop"]
        if where == "drive":
            self.s = float(self.rng.uniform(0.05, 0.95)) * self.route.length
            done = sum(1 for e in stops if e.s < self.s)
            self._cleared_s = self.s
            self._deliver_payload(done)
            self._warm_up()
            self.phase = Phase.DRIVE
        elif where == "deliver":
            k = int(self.rng.integers(0, len(stops)))
            self.s = stops[k].s
            self._cleared_s = self.s
            self._deliver_payload(k + 1)
            self._warm_up()
            self.phase, self.timer = Phase.DELIVER, float(self.rng.uniform(10.0, 240.0))
        elif where == "charge":
            self.pack.soc = float(self.rng.uniform(20.0, 70.0))
            self._begin_charge()
        elif where == "depot":
            self.phase, self.timer = Phase.DEPART, float(self.rng.uniform(*self.driver.idle_s))
        else:
            raise ValueError(f"start: expected depot, drive, deliver or charge, got {where!r}")

    def _warm_up(self) -> None:
        pack = self.pack
        pack.cell_c += 6.0
        pack.coolant_c += 10.0
        pack.inverter_c += 25.0
        pack.motor_c += 35.0

    def _deliver_payload(self, stops_done: int) -> None:
        per_stop = self.params.payload_kg / max(self.route.stop_count, 1)
        self.payload_kg = max(self.params.payload_kg - per_stop * stops_done, 0.0)

    @property
    def mass_kg(self) -> float:
        return self.params.tare_kg + self.payload_kg

    @property
    def key_on(self) -> bool:
        return self.phase in (Phase.DEPART, Phase.DRIVE, Phase.DELIVER)

    # -- physics ---------------------------------------------------------------

    def step(self, dt: float) -> None:
        """Advance the truck by ``dt`` seconds.

        Steps are at most 0.1 s while the truck may move, and 1 s while it is
        parked at a stop or at the depot, where nothing changes quickly.
        """
        while dt > 1e-9:
            parked = self.phase in (Phase.DELIVER, Phase.BREAK, Phase.CHARGE)
            h = min(dt, _PARKED_STEP_S if parked else _MAX_STEP_S)
            self._step(h)
            dt -= h

    def _step(self, dt: float) -> None:
        self.time_s += dt
        self.drive_state = _STANDSTILL
        self.accel = 0.0
        self.charge_power_kw = 0.0
        self._handlers[self.phase](dt)

        # Electric load on the pack: traction, auxiliaries, the charger.
        charging = self.charge_power_kw > 0.0
        plugged = self.phase == Phase.CHARGE and self.charge_state in (1, 2, 3)
        self.hv.step(
            dt, wanted=self.key_on or plugged, driving=self.phase == Phase.DRIVE, charging=charging
        )
        if not self.hv.closed and charging:
            self.charge_power_kw = 0.0
        aux = _AUX_KEY_ON_W if self.key_on else _AUX_CHARGING_W if plugged else 0.0
        traction = self.drive_state.electric_power_w if self.hv.closed else 0.0
        power = traction + aux - self.charge_power_kw * 1000.0 * 0.97
        self.pack.step(dt, power_w=power, drive_power_w=traction, closed=self.hv.closed)
        self._step_faults(dt)
        self._step_gps(dt)

    def _drive(self, dt: float) -> None:
        if self.timer > 0.0:  # waiting at a red light
            self.timer -= dt
            return
        point = self.route.point(self.s)
        d = self.driver
        self._wobble += (-self._wobble / 30.0) * dt + d.speed_wobble * math.sqrt(dt / 15.0) * float(
            self.rng.normal()
        )
        target = point.limit_ms * (d.speed_factor + self._wobble)

        # The most demanding event ahead decides whether to brake.
        needed, halt = 0.0, None
        events = self.route.events
        i = self.route.event_index(self._cleared_s + 0.05)
        while i < len(events) and events[i].s < self.s + _LOOKAHEAD_M:
            event = events[i]
            i += 1
            if event.s < self.s - 0.1 and event.kind not in ("stop", "light", "depot"):
                continue
            end_speed = event.speed_ms
            if event.kind == "limit":
                end_speed *= d.speed_factor
            if event.kind == "light" and not self._is_red(event.s):
                continue
            distance = max(event.s - self.s, 0.05)
            if event.kind in ("stop", "light", "depot"):
                halt = halt or event
            if self.v > end_speed:
                needed = max(needed, (self.v**2 - end_speed**2) / (2.0 * distance))
            if halt is not None:
                break

        if needed >= d.brake_ms2 * d.brake_trigger:
            request = -needed
        elif self.v < target:
            request = d.accel_ms2 * min(1.0, (target - self.v) / 1.5 + 0.1)
        else:
            request = max(-0.6, (target - self.v) / 2.0)

        grade = point.grade
        if self.v <= 0.0 and request <= 0.0:
            self.drive_state = _STANDSTILL
        else:
            self.drive_state = drive(self.params, self.mass_kg, self.v, request, grade)
        self.accel = self.drive_state.accel_ms2
        new_v = max(self.v + self.accel * dt, 0.0)
        moved = (self.v + new_v) / 2.0 * dt
        self.v = new_v
        self.s += moved
        self.odometer_km += moved / 1000.0

        if halt is not None and self.s >= halt.s - 0.5 and self.v < 0.6:
            self.odometer_km += (halt.s - self.s) / 1000.0
            self.s, self.v, self.accel = halt.s, 0.0, 0.0
            self._cleared_s = halt.s
            self._arrive(halt.kind)

    def _is_red(self, s: float) -> bool:
        if s not in self._lights:
            self._lights[s] = float(self.rng.random()) < _RED_LIGHT_CHANCE
        return self._lights[s]

    def _arrive(self, kind: str) -> None:
        if kind == "light":
            self.timer = float(self.rng.uniform(8.0, 35.0))
        elif kind == "stop":
            stops_done = sum(1 for e in self.route.events if e.kind == "stop" and e.s <= self.s)
            self._deliver_payload(stops_done)
            self.phase, self.timer = Phase.DELIVER, float(self.rng.uniform(90.0, 300.0))
        else:
            self._new_route()
            if self.pack.soc < _CHARGE_BELOW_SOC:
                self._begin_charge()
            else:
                self.phase, self.timer = Phase.BREAK, float(self.rng.uniform(120.0, 600.0))

    def _new_route(self) -> None:
        self.route = self._fixed_route or self._network.route(self.rng)
        self.s, self.v, self._cleared_s = 0.0, 0.0, -1.0
        self._lights.clear()
        self.payload_kg = self.params.payload_kg

    def _depart(self, dt: float) -> None:
        self.timer -= dt
        if self.timer <= 0.0 and self.hv.closed:
            self.phase, self.timer = Phase.DRIVE, 0.0

    def _deliver(self, dt: float) -> None:
        self.timer -= dt
        if self.timer <= 0.0:
            self.phase, self.timer = Phase.DRIVE, 0.0

    def _break(self, dt: float) -> None:
        self.timer -= dt
        if self.timer <= 0.0:
            self.phase, self.timer = Phase.DEPART, float(self.rng.uniform(*self.driver.idle_s))

    def _begin_charge(self) -> None:
        self.phase, self.charge_state, self.timer = Phase.CHARGE, 1, 8.0
        self.charge_target = float(self.rng.uniform(88.0, 95.0))

    def _charge(self, dt: float) -> None:
        self.timer -= dt
        soc = self.pack.soc
        if self.charge_state == 1 and self.timer <= 0.0:
            self.charge_state = 2
        if self.charge_state == 2:
            if soc >= self.charge_target:
                self.charge_state, self.timer = 3, 60.0
            else:
                taper = 1.0 if soc < 80.0 else max(0.15, (100.0 - soc) / 20.0)
                self.charge_power_kw = self.charger_kw * taper
        elif self.charge_state == 3 and self.timer <= 0.0:
            self.charge_state = 0
            self.phase, self.timer = Phase.DEPART, float(self.rng.uniform(*self.driver.idle_s))

    def _step_faults(self, dt: float) -> None:
        if self._fault is not None:
            self._fault.remaining_s -= dt
            if self._fault.remaining_s <= 0.0:
                self._fault = None
        elif float(self.rng.random()) < dt / _FAULT_EVERY_S:
            spn, fmi, lamp = _FAULTS[int(self.rng.integers(0, len(_FAULTS)))]
            self._occurrences[spn] = min(self._occurrences.get(spn, 0) + 1, 126)
            self._fault = _Fault(spn, fmi, lamp, float(self.rng.uniform(20.0, 180.0)))

    def _step_gps(self, dt: float) -> None:
        # A slowly wandering error of about a metre, like a real receiver's.
        k = min(dt / 10.0, 1.0)
        n = self.rng.normal(0.0, 1.0, 2)
        east, north = self._gps_noise
        self._gps_noise = (east * (1 - k) + float(n[0]) * k, north * (1 - k) + float(n[1]) * k)
        if float(self.rng.random()) < dt / 20.0:
            self._satellites = min(max(self._satellites + int(self.rng.integers(-1, 2)), 6), 16)

    # -- what the ECUs report ----------------------------------------------------

    def values(self) -> dict[str, float]:
        """The physical value of every signal of the DBC except the multiplexer selectors."""
        pack = self.pack
        point = self.route.point(self.s)
        cells = pack.cell_voltages()
        temps = pack.cell_temps()
        drv = self.drive_state
        moving = self.phase == Phase.DRIVE
        fault = self._fault
        lon, lat = point.lon, point.lat
        east, north = self._gps_noise
        lat += north / 111_195.0
        lon += east / (111_195.0 * math.cos(math.radians(lat)))
        kmh = self.v * 3.6
        values: dict[str, float] = {
            "PackVoltage": pack.voltage(),
            "PackCurrent": pack.current_a,
            "PackPower": pack.power_w() / 1000.0,
            "SOC": pack.soc,
            "SOH": pack.soh,
            "CellVoltageMin": float(cells.min()),
            "CellVoltageMax": float(cells.max()),
            "CellTempMin": float(temps.min()),
            "CellTempMax": float(temps.max()),
            "InsulationResistance": pack.insulation_kohm(),
            "ContactorState": float(self.hv.contactor),
            "HvState": float(self.hv.state),
            "MotorSpeed": drv.motor_speed_rpm,
            "MotorTorque": drv.motor_torque_nm,
            "InverterTemp": pack.inverter_c,
            "MotorTemp": pack.motor_c,
            "CoolantTemp": pack.coolant_c,
            "AccelPedalPosition": 100.0 * drv.pedal,
            "BrakePedalPosition": 100.0 * drv.brake_pedal,
            "SelectedGear": 1.0 if moving else 0.0,
            "CurrentGear": 1.0 if moving else 0.0,
            "ParkingBrakeSwitch": 0.0 if moving else 1.0,
            "WheelBasedVehicleSpeed": kmh,
            "BrakeSwitch": 1.0 if drv.brake_pedal > 0.0 else 0.0,
            "TotalVehicleDistance": self.odometer_km,
            "Latitude": lat,
            "Longitude": lon,
            "CompassBearing": point.heading_deg,
            "NavigationSpeed": kmh,
            "Pitch": math.degrees(math.atan(point.grade)),
            "Altitude": point.altitude_m,
            "GpsFix": 2.0,
            "Satellites": float(self._satellites),
            "Hdop": 0.5 + 6.0 / self._satellites,
            "KeyState": 2.0 if self.key_on else 0.0,
            "VehicleMode": 1.0 if moving else 2.0 if self.phase == Phase.CHARGE else 0.0,
            "DriverId": float(self.driver.driver_id),
            "ChargeState": float(self.charge_state),
            "ChargePower": self.charge_power_kw,
            "ProtectLamp": 1.0 if fault and fault.lamp == "protect" else 0.0,
            "AmberWarningLamp": 1.0 if fault and fault.lamp == "amber" else 0.0,
            "RedStopLamp": 0.0,
            "MalfunctionLamp": 0.0,
            "DtcSpn": float(fault.spn) if fault else 0.0,
            "DtcFmi": float(fault.fmi) if fault else 0.0,
            "DtcOccurrence": float(self._occurrences[fault.spn]) if fault else 0.0,
            "ActiveFaultCount": 1.0 if fault else 0.0,
        }
        values.update(zip(CELL_VOLTAGE_KEYS, cells.tolist(), strict=True))
        values.update(zip(CELL_TEMP_KEYS, temps.tolist(), strict=True))
        return values
