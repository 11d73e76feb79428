"""What the truck detail panel shows, and the limits that colour its values.

The panel is declared here, as data, and sent to the browser once inside the
live configuration; the browser fills it from the hub's values and never asks
the server again. Units and value names come from the hub's ``hello`` message;
the lamps, which the DBC leaves unnamed, get the J1939 lamp names below.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "DETAIL_SIGNALS",
    "FLEET_SIGNALS",
    "LAMP_CHOICES",
    "SECTIONS",
    "Field",
    "Limit",
    "Section",
    "live_config",
]

# The map needs only these; everything else is asked for truck by truck.
FLEET_SIGNALS: tuple[str, ...] = (
    "SOC",
    "Latitude",
    "Longitude",
    "CompassBearing",
    "WheelBasedVehicleSpeed",
    "VehicleMode",
    "ChargeState",
)

# J1939 two-bit lamp status.
LAMP_CHOICES = {"0": "Off", "1": "On", "2": "Error", "3": "n/a"}


@dataclass(frozen=True)
class Limit:
    """A value outside ``[low, high]`` or equal to ``equals`` is marked ``level``."""

    low: float | None = None
    high: float | None = None
    equals: float | None = None
    level: Literal["warn", "bad"] = "bad"


@dataclass(frozen=True)
class Field:
    """One row of the panel: a signal, or ``spread`` for the cell voltage spread."""

    key: str
    label: str
    digits: int = 1
    limits: tuple[Limit, ...] = ()
    choices: dict[str, str] = field(default_factory=dict)
    only_if_faulted: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    fields: tuple[Field, ...]


_LAMP_ON = (Limit(equals=1, level="bad"),)
_LAMP_WARN = (Limit(equals=1, level="warn"),)

SECTIONS: tuple[Section, ...] = (
    Section(
        "Battery",
        (
            Field("SOC", "State of charge", 1, (Limit(low=15), Limit(low=25, level="warn"))),
            Field("SOH", "State of health", 1, (Limit(low=70, level="warn"),)),
            Field("PackVoltage", "Pack voltage", 1),
            Field("PackCurrent", "Pack current", 1),
            Field("PackPower", "Pack power", 1),
            Field("CellVoltageMin", "Cell voltage min", 3, (Limit(low=3.0),)),
            Field("CellVoltageMax", "Cell voltage max", 3, (Limit(high=4.25),)),
            Field(
                "spread", "Cell voltage spread", 0, (Limit(high=100), Limit(high=50, level="warn"))
            ),
            Field("CellTempMin", "Cell temp min", 1, (Limit(low=-10, level="warn"),)),
            Field(
                "CellTempMax", "Cell temp max", 1, (Limit(high=60), Limit(high=50, level="warn"))
            ),
            Field("HvState", "HV state", 0, (Limit(equals=5),)),
            Field("ContactorState", "Contactors", 0, (Limit(equals=3), Limit(equals=7))),
            Field("ChargeState", "Charge state", 0, (Limit(equals=4),)),
            Field("ChargePower", "Charge power", 1),
        ),
    ),
    Section(
        "Health",
        (
            Field("InsulationResistance", "Insulation", 0, (Limit(low=500),)),
            Field("InverterTemp", "Inverter temp", 1, (Limit(high=85, level="warn"),)),
            Field("MotorTemp", "Motor temp", 1, (Limit(high=140, level="warn"),)),
            Field("CoolantTemp", "Coolant temp", 1, (Limit(high=70, level="warn"),)),
            Field("RedStopLamp", "Red stop lamp", 0, _LAMP_ON, LAMP_CHOICES),
            Field("AmberWarningLamp", "Amber warning lamp", 0, _LAMP_WARN, LAMP_CHOICES),
            Field("MalfunctionLamp", "Malfunction lamp", 0, _LAMP_WARN, LAMP_CHOICES),
            Field("ProtectLamp", "Protect lamp", 0, _LAMP_WARN, LAMP_CHOICES),
            Field("ActiveFaultCount", "Active faults", 0, (Limit(high=0, level="warn"),)),
            Field("DtcSpn", "DTC SPN", 0, only_if_faulted=True),
            Field("DtcFmi", "DTC FMI", 0, only_if_faulted=True),
        ),
    ),
    Section(
        "GPS",
        (
            Field("Latitude", "Latitude", 6),
            Field("Longitude", "Longitude", 6),
            Field("CompassBearing", "Bearing", 0),
            Field("WheelBasedVehicleSpeed", "Speed", 1),
            Field("Altitude", "Altitude", 0),
            Field("GpsFix", "Fix", 0, (Limit(equals=0, level="warn"),)),
            Field("Satellites", "Satellites", 0, (Limit(low=4, level="warn"),)),
        ),
    ),
    Section(
        "Vehicle",
        (
            Field("VehicleMode", "Mode", 0, (Limit(equals=3),)),
            Field("KeyState", "Key", 0),
            Field("DriverId", "Driver", 0),
            Field("TotalVehicleDistance", "Odometer", 1),
        ),
    ),
)

DETAIL_SIGNALS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [f.key for s in SECTIONS for f in s.fields if f.key != "spread"]
        + ["CellVoltageMin", "CellVoltageMax"]
    )
)


def live_config(
    *,
    hub_ws_url: str,
    api_prefix: str,
    fleet_rate_hz: float = 2.0,
    detail_rate_hz: float = 4.0,
    stale_after_s: float = 5.0,
    offline_after_s: float = 30.0,
) -> dict[str, Any]:
    """Everything the browser's live client needs, as JSON-ready data."""
    return {
        "hubUrl": hub_ws_url,
        "apiPrefix": api_prefix,
        "fleetSignals": list(FLEET_SIGNALS),
        "detailSignals": list(DETAIL_SIGNALS),
        "fleetRateHz": fleet_rate_hz,
        "detailRateHz": detail_rate_hz,
        "staleAfterS": stale_after_s,
        "offlineAfterS": offline_after_s,
        "sections": [{"title": s.title, "fields": [asdict(f) for f in s.fields]} for s in SECTIONS],
    }
