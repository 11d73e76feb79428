"""The latest state of each truck's key metrics, shared through memcached.

The hub writes, once a second, the newest value of a short list of key
metrics (battery, health, GPS, mode; not every cell) for each truck that
changed; the HTTP API and a restarting hub read it back. Memcached stays off
the per-point path: one ``set`` per truck per second at most, and reads use
multi-get.

Layout, with the prefix ``fleetlink`` (the roles use ``fleetlink.<exchange>``,
``fleetlink.telemetry`` by default, so deployments sharing a memcached stay
apart; see app.wiring):

- ``fleetlink:latest:<truck id>``: compact JSON ``{"SOC": [t, v], ...}``, t in
  Unix seconds;
- ``fleetlink:trucks``: compact JSON list of every truck id written so far.

Entries never expire on purpose; memcached may still evict them under memory
pressure, after which they return at the truck's next change. The embedded
mode uses :class:`MemoryCache`, which behaves the same inside one process.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from typing import Any, Protocol

import aiomcache

from edge.errors import CacheError, ConfigError

__all__ = ["KEY_METRICS", "LatestCache", "MemcachedCache", "MemoryCache", "TruckState"]

log = logging.getLogger(f"fleetlink.{__name__}")

TruckState = dict[str, list[float]]
"""Signal key to [t (Unix seconds), value]."""

KEY_METRICS = (
    # battery
    "SOC",
    "SOH",
    "PackVoltage",
    "PackCurrent",
    "PackPower",
    "CellVoltageMin",
    "CellVoltageMax",
    "CellTempMin",
    "CellTempMax",
    "InsulationResistance",
    "ContactorState",
    "HvState",
    "ChargeState",
    "ChargePower",
    # health
    "MotorTemp",
    "InverterTemp",
    "CoolantTemp",
    "ActiveFaultCount",
    "RedStopLamp",
    "AmberWarningLamp",
    # position and motion
    "Latitude",
    "Longitude",
    "CompassBearing",
    "Altitude",
    "GpsFix",
    "WheelBasedVehicleSpeed",
    "TotalVehicleDistance",
    # mode
    "KeyState",
    "VehicleMode",
    "DriverId",
)
"""The signals whose latest value the cache holds, where the catalogue has them."""

_MULTI_GET_KEYS = 100
_TRANSIENT = (OSError, asyncio.TimeoutError, aiomcache.exceptions.ClientException)


class LatestCache(Protocol):
    """Where the latest key values of every truck are kept between processes."""

    async def set_trucks(self, states: dict[int, TruckState]) -> None:
        """Replace the held state of these trucks and remember them as known."""
        ...

    async def get(self, truck_id: int) -> TruckState | None:
        """The held state of one truck, or None when none is held."""
        ...

    async def get_many(self, truck_ids: Iterable[int]) -> dict[int, TruckState]:
        """The held state of those trucks that have one."""
        ...

    async def known_trucks(self) -> list[int]:
        """Every truck ever written, ascending."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class MemoryCache:
    """The latest-state cache of the embedded mode: a dict in this process."""

    def __init__(self) -> None:
        self._states: dict[int, TruckState] = {}

    async def set_trucks(self, states: dict[int, TruckState]) -> None:
        for truck_id, state in states.items():
            self._states[truck_id] = {k: list(p) for k, p in state.items()}

    async def get(self, truck_id: int) -> TruckState | None:
        state = self._states.get(truck_id)
        return None if state is None else {k: list(p) for k, p in state.items()}

    async def get_many(self, truck_ids: Iterable[int]) -> dict[int, TruckState]:
        out = {}
        for truck_id in truck_ids:
            state = await self.get(truck_id)
            if state is not None:
                out[truck_id] = state
        return out

    async def known_trucks(self) -> list[int]:
        return sorted(self._states)

    async def close(self) -> None:
        self._states.clear()


class MemcachedCache:
    """The latest-state cache on memcached (``host:port``), keys under prefix."""

    def __init__(self, address: str, *, prefix: str = "fleetlink", pool_size: int = 2) -> None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"memcached: expected host:port, got {address!r}")
        self.address = address
        self.prefix = prefix
        self._client = aiomcache.Client(host, int(port), pool_size=pool_size)
        self._known: set[int] = set()

    def _key(self, truck_id: int) -> bytes:
        return f"{self.prefix}:latest:{truck_id}".encode()

    @property
    def _trucks_key(self) -> bytes:
        return f"{self.prefix}:trucks".encode()

    async def set_trucks(self, states: dict[int, TruckState]) -> None:
        try:
            await asyncio.gather(
                *(self._client.set(self._key(t), _dump(s)) for t, s in states.items())
            )
            new = set(states) - self._known
            if new:
                await self._remember(new)
        except _TRANSIENT as exc:
            raise CacheError(
                f"memcached {self.address}: set of {len(states)} trucks: {exc}"
            ) from exc

    async def _remember(self, new: set[int]) -> None:
        # Other hub replicas write the same list; a union keeps what each of them added.
        raw = await self._client.get(self._trucks_key)
        listed = set(_load(raw) or []) if raw else set()
        self._known = listed | self._known | new
        await self._client.set(self._trucks_key, _dump(sorted(self._known)))

    async def get(self, truck_id: int) -> TruckState | None:
        return (await self.get_many([truck_id])).get(truck_id)

    async def get_many(self, truck_ids: Iterable[int]) -> dict[int, TruckState]:
        ids = list(dict.fromkeys(truck_ids))
        out: dict[int, TruckState] = {}
        try:
            for i in range(0, len(ids), _MULTI_GET_KEYS):
                chunk = ids[i : i + _MULTI_GET_KEYS]
                raws = await self._client.multi_get(*(self._key(t) for t in chunk))
                for truck_id, raw in zip(chunk, raws, strict=True):
                    state = _load(raw) if raw is not None else None
                    if isinstance(state, dict):
                        out[truck_id] = state
        except _TRANSIENT as exc:
            raise CacheError(f"memcached {self.address}: get of {len(ids)} trucks: {exc}") from exc
        return out

    async def known_trucks(self) -> list[int]:
        try:
            raw = await self._client.get(self._trucks_key)
        except _TRANSIENT as exc:
            raise CacheError(f"memcached {self.address}: get of the truck list: {exc}") from exc
        listed = _load(raw) if raw else None
        return sorted(t for t in listed if isinstance(t, int)) if isinstance(listed, list) else []

    async def close(self) -> None:
        await self._client.close()


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def _load(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        # Somebody else's value under our key: treat it as absent.
        log.warning("memcached value is not JSON (%d bytes); ignored", len(raw))
        return None
