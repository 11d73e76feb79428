"""A small websocket hub that speaks protocol v1 with scripted, changing data.

It isolates the UI in the browser tests: the real hub is tested elsewhere.
Every quarter second the script moves the driving trucks along the arterial,
nudges pack voltage and current, and bumps the time of every value, so a
subscriber sees updates. Truck 1 is nearly empty and badly insulated; truck 2
is nearly full; truck 3 is charging at the depot; truck 4 is in fault.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from edge.catalog import default_catalog

STEP_S = 0.25

BASE_MAP: dict[str, Any] = {
    "center": [11.55, 48.15],
    "bounds": [11.50, 48.12, 11.60, 48.18],
    "depot": {
        "name": "North depot",
        "polygon": [[11.505, 48.165], [11.525, 48.165], [11.525, 48.177], [11.505, 48.177]],
        "chargers": [[11.510, 48.170], [11.515, 48.170], [11.520, 48.170]],
    },
    "roads": [
        {"name": "Ring road", "kind": "arterial", "coords": [[11.50, 48.15], [11.60, 48.15]]},
        {"name": "Depot lane", "kind": "street", "coords": [[11.515, 48.165], [11.515, 48.15]]},
        {"name": "Mill street", "kind": "street", "coords": [[11.55, 48.12], [11.55, 48.18]]},
    ],
    "stops": [[11.53, 48.151], [11.57, 48.151]],
}

# VehicleMode: 0 Parked, 1 Driving, 2 Charging, 3 Fault.
_TRUCKS: dict[int, dict[str, float]] = {
    1: {"SOC": 8.0, "VehicleMode": 1, "InsulationResistance": 300.0, "RedStopLamp": 1.0},
    2: {"SOC": 95.0, "VehicleMode": 1},
    3: {"SOC": 52.0, "VehicleMode": 2, "ChargeState": 2, "ChargePower": 150.0},
    4: {"SOC": 40.0, "VehicleMode": 3, "ActiveFaultCount": 1, "DtcSpn": 520, "DtcFmi": 4},
    5: {"SOC": 70.0, "VehicleMode": 0},
    6: {"SOC": 33.0, "VehicleMode": 1},
}

_COMMON: dict[str, float] = {
    "SOH": 96.5,
    "CellVoltageMin": 3.701,
    "CellVoltageMax": 3.742,
    "CellTempMin": 21.0,
    "CellTempMax": 27.5,
    "HvState": 2,
    "ContactorState": 2,
    "ChargeState": 0,
    "ChargePower": 0.0,
    "InsulationResistance": 2400.0,
    "InverterTemp": 48.0,
    "MotorTemp": 61.0,
    "CoolantTemp": 35.0,
    "RedStopLamp": 0,
    "AmberWarningLamp": 0,
    "MalfunctionLamp": 0,
    "ProtectLamp": 0,
    "ActiveFaultCount": 0,
    "Altitude": 512.0,
    "GpsFix": 2,
    "Satellites": 11,
    "DriverId": 4711,
    "KeyState": 2,
    "TotalVehicleDistance": 120345.5,
    "CompassBearing": 90.0,
}


def hello_signals() -> dict[str, dict[str, Any]]:
    """The hello of the real catalogue: every stored key, its unit and names."""
    out: dict[str, dict[str, Any]] = {}
    for info in default_catalog().signals:
        if info.stored:
            entry: dict[str, Any] = {"unit": info.unit}
            if info.choices:
                entry["choices"] = {str(k): v for k, v in info.choices.items()}
            out[info.key] = entry
    return out


class ScriptedHub:
    """Latest values per truck, a script that changes them, and the endpoint."""

    def __init__(self) -> None:
        self.signals = hello_signals()
        self.values: dict[int, dict[str, list[float]]] = {}
        self.clients: set[WebSocket] = set()
        self.refusing = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.steps = 0
        self.api_requests = 0
        now = time.time()
        for truck, own in _TRUCKS.items():
            merged = {**_COMMON, **own}
            lon, lat = self._position(truck, 0)
            merged.update(Longitude=lon, Latitude=lat)
            merged.update(PackVoltage=650.0, PackCurrent=-20.0, PackPower=-13.0)
            speed = 42.0 if merged["VehicleMode"] == 1 else 0.0
            merged["WheelBasedVehicleSpeed"] = speed
            self.values[truck] = {k: [now, float(v)] for k, v in merged.items()}

    @staticmethod
    def _position(truck: int, step: int) -> tuple[float, float]:
        mode = _TRUCKS[truck]["VehicleMode"]
        if mode == 1:
            lon = 11.51 + ((truck * 0.013 + step * 0.0004) % 0.08)
            return lon, 48.15
        if mode == 2:
            return 11.510 + 0.005 * (truck % 3), 48.1702
        return 11.53 + 0.01 * truck, 48.135

    def step(self) -> None:
        """Advance the script by one step: new times, positions and pack values."""
        self.steps += 1
        now = time.time()
        wave = math.sin(self.steps / 3)
        for truck, values in self.values.items():
            lon, lat = self._position(truck, self.steps)
            fresh = {
                "Longitude": lon,
                "Latitude": lat,
                "PackVoltage": round(650.0 + 8.0 * wave + truck, 1),
                "PackCurrent": round(-20.0 + 15.0 * wave, 1),
                "SOC": values["SOC"][1],
                "VehicleMode": values["VehicleMode"][1],
            }
            for key, value in fresh.items():
                values[key] = [now, value]

    def snapshot(self, trucks: list[int] | None, keys: list[str]) -> dict[str, Any]:
        chosen = self.values if trucks is None else {t: self.values[t] for t in trucks}
        return {
            str(t): {k: v[k] for k in keys if k in v} for t, v in chosen.items() if t in self.values
        }

    async def api_trucks(self, request: Request) -> JSONResponse:
        """GET /api/trucks as the real HTTP API answers it: the latest values per truck."""
        self.api_requests += 1
        trucks = [{"id": t, "latest": dict(v)} for t, v in sorted(self.values.items())]
        return JSONResponse({"trucks": trucks})

    async def endpoint(self, websocket: WebSocket) -> None:
        if self.refusing:
            await websocket.close(code=1013)
            return
        await websocket.accept()
        self.clients.add(websocket)
        session = _Session(self, websocket)
        try:
            await session.run()
        finally:
            self.clients.discard(websocket)

    async def drop_all(self) -> None:
        """Close every connection the way a restarting hub would."""
        for websocket in list(self.clients):
            await websocket.close(code=1012)

    def app(self, wsgi: Any) -> Starlette:
        """The hub at /ws/live and ``wsgi`` (the Dash server) mounted at /."""

        @asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            self.loop = asyncio.get_running_loop()
            task = asyncio.create_task(self._script())
            yield
            task.cancel()

        routes = [
            WebSocketRoute("/ws/live", self.endpoint),
            Route("/api/trucks", self.api_trucks),
            Mount("/", app=wsgi),
        ]
        return Starlette(routes=routes, lifespan=lifespan)

    def call(self, coroutine: Any) -> Any:
        """Run a coroutine on the server's loop from the test's thread."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    async def _script(self) -> None:
        while True:
            await asyncio.sleep(STEP_S)
            self.step()


class _Session:
    """One client: its subscription and the values it has been sent."""

    def __init__(self, hub: ScriptedHub, websocket: WebSocket) -> None:
        self.hub = hub
        self.websocket = websocket
        self.trucks: list[int] | None = None
        self.keys: list[str] = []
        self.rate_hz = 4.0
        self.sent: dict[tuple[str, str], float] = {}
        self.subscribed = False

    async def run(self) -> None:
        await self.send({"type": "hello", "version": 1, "signals": self.hub.signals})
        pusher = asyncio.create_task(self._push())
        try:
            while True:
                await self._receive(await self.websocket.receive_text())
        except (WebSocketDisconnect, RuntimeError):
            # RuntimeError: receiving after the hub itself closed the socket.
            pass
        finally:
            pusher.cancel()

    async def send(self, message: dict[str, Any]) -> None:
        await self.websocket.send_text(json.dumps(message))

    async def _receive(self, text: str) -> None:
        message = json.loads(text)
        if message.get("op") == "ping":
            await self.send({"type": "pong", "t": time.time()})
            return
        unknown = [k for k in message.get("signals", []) if k not in self.hub.signals]
        if message.get("op") != "subscribe" or unknown:
            await self.send({"type": "error", "error": f"expected a known op, got {text:.80}"})
            await self.websocket.close(code=1008)
            return
        trucks = message["trucks"]
        self.trucks = None if trucks == "*" else [int(t) for t in trucks]
        keys = message["signals"]
        self.keys = sorted(self.hub.signals) if keys == "*" else list(keys)
        self.rate_hz = float(message.get("rate_hz", 4))
        self.sent.clear()
        shown = "*" if self.trucks is None else self.trucks
        await self.send(
            {"type": "subscribed", "trucks": shown, "signals": self.keys, "rate_hz": self.rate_hz}
        )
        snapshot = self.hub.snapshot(self.trucks, self.keys)
        self._remember(snapshot)
        await self.send({"type": "snapshot", "trucks": snapshot})
        self.subscribed = True

    def _remember(self, trucks: dict[str, Any]) -> None:
        for truck, values in trucks.items():
            for key, point in values.items():
                self.sent[(truck, key)] = point[0]

    async def _push(self) -> None:
        try:
            await self._push_forever()
        except (WebSocketDisconnect, RuntimeError, OSError):
            return

    async def _push_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0 / self.rate_hz)
            if not self.subscribed:
                continue
            changed: dict[str, dict[str, list[float]]] = {}
            for truck, values in self.hub.snapshot(self.trucks, self.keys).items():
                for key, point in values.items():
                    if self.sent.get((truck, key)) != point[0]:
                        changed.setdefault(truck, {})[key] = point
            if changed:
                self._remember(changed)
                await self.send({"type": "update", "trucks": changed})
