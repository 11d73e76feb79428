"""Version 1 of the hub's websocket protocol: parsing client messages, encoding ours.

Clients send JSON text messages with an ``op`` (``subscribe`` or ``ping``);
the hub sends JSON text messages with a ``type`` (``hello``, ``subscribed``,
``snapshot``, ``update``, ``pong``, ``error``). docs/hub-protocol.md is the
reference. Nothing here does I/O: a message goes in as text and comes out as
a value, or as a :class:`ProtocolError` that says what was expected and what
was seen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from app.hub.state import Cells
from edge.catalog import Catalog
from edge.errors import ProtocolError

__all__ = [
    "DEFAULT_RATE_HZ",
    "MAX_MESSAGE_BYTES",
    "MAX_RATE_HZ",
    "MIN_RATE_HZ",
    "VERSION",
    "Ping",
    "Subscribe",
    "encode",
    "encode_cells",
    "error",
    "hello",
    "parse",
    "pong",
    "subscribed",
]

VERSION = 1
MAX_MESSAGE_BYTES = 64 * 1024
MIN_RATE_HZ = 0.2
MAX_RATE_HZ = 20.0
DEFAULT_RATE_HZ = 4.0
MAX_TRUCK_ID = 0xFFFFFFFF
_SUBSCRIBE_FIELDS = {"op", "trucks", "signals", "rate_hz"}


@dataclass(frozen=True)
class Ping:
    """A client asks for the hub's clock."""


@dataclass(frozen=True, eq=False)
class Subscribe:
    """A client's whole subscription; it replaces the one before."""

    trucks: tuple[int, ...] | None
    """The truck ids, or None for every truck, including those that appear later."""
    keys: tuple[str, ...]
    signal_ids: npt.NDArray[np.intp]
    rate_hz: float

    @property
    def scope(self) -> tuple[object, ...]:
        """What identifies the subscription's content, whatever its rate."""
        return (self.trucks, self.keys)


def parse(text: str, catalog: Catalog) -> Subscribe | Ping:
    """Read one client text message; raise ProtocolError saying what is wrong."""
    size = len(text.encode())
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"expected a message of at most {MAX_MESSAGE_BYTES} bytes, got {size}")
    try:
        message = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"expected a JSON object, got text that is not JSON ({exc})") from exc
    if not isinstance(message, dict):
        raise ProtocolError(f"expected a JSON object, got {_kind(message)}")
    op = message.get("op")
    if op == "ping":
        if len(message) != 1:
            raise ProtocolError(f"expected only 'op' in a ping, got {sorted(message)}")
        return Ping()
    if op == "subscribe":
        return _subscribe(message, catalog)
    raise ProtocolError(f"expected op 'subscribe' or 'ping', got {op!r}")


def _subscribe(message: dict[str, Any], catalog: Catalog) -> Subscribe:
    unknown = sorted(set(message) - _SUBSCRIBE_FIELDS)
    if unknown:
        raise ProtocolError(f"expected fields {sorted(_SUBSCRIBE_FIELDS)}, got also {unknown}")
    if "trucks" not in message or "signals" not in message:
        raise ProtocolError("expected 'trucks' and 'signals' in a subscribe, got neither or one")
    keys = _signals(message["signals"], catalog)
    return Subscribe(
        trucks=_trucks(message["trucks"]),
        keys=keys,
        signal_ids=np.array([catalog.by_key[k].id for k in keys], dtype=np.intp),
        rate_hz=_rate(message.get("rate_hz", DEFAULT_RATE_HZ)),
    )


def _trucks(value: object) -> tuple[int, ...] | None:
    if value == "*":
        return None
    if not isinstance(value, list):
        raise ProtocolError(f"expected trucks '*' or a list of truck ids, got {_kind(value)}")
    for item in value:
        if type(item) is not int or not 0 <= item <= MAX_TRUCK_ID:
            raise ProtocolError(f"expected truck ids from 0 to {MAX_TRUCK_ID}, got {item!r}")
    return tuple(sorted(set(value)))


def _signals(value: object, catalog: Catalog) -> tuple[str, ...]:
    if value == "*":
        return tuple(s.key for s in catalog.signals if s.stored)
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise ProtocolError(f"expected signals '*' or a list of signal keys, got {_kind(value)}")
    unknown = [k for k in value if k not in catalog.by_key or not catalog.by_key[k].stored]
    if unknown:
        shown = ", ".join(repr(k) for k in unknown[:5])
        raise ProtocolError(f"expected signal keys of the catalogue, got unknown {shown}")
    return tuple(dict.fromkeys(value))


def _rate(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f"expected rate_hz as a number, got {_kind(value)}")
    rate = float(value)
    if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
        raise ProtocolError(f"expected rate_hz from {MIN_RATE_HZ} to {MAX_RATE_HZ}, got {rate}")
    return rate


def _kind(value: object) -> str:
    if isinstance(value, bool | int | float | str):
        return f"{type(value).__name__} {value!r}"[:80]
    return {dict: "an object", list: "a list", type(None): "null"}.get(type(value), "a value")


def encode(message: dict[str, Any]) -> str:
    """A hub message as compact JSON text.

    orjson writes the same compact JSON as the standard library (floats in
    their shortest exact form) about eight times faster, which matters for
    updates of a whole fleet. Values are finite here: the live state drops
    any that are not.
    """
    return orjson.dumps(message).decode()


def hello(catalog: Catalog) -> str:
    """The first message of every connection: the protocol version and the stored signals."""
    signals: dict[str, dict[str, Any]] = {}
    for s in catalog.signals:
        if not s.stored:
            continue
        entry: dict[str, Any] = {"unit": s.unit}
        if s.choices:
            entry["choices"] = {str(k): v for k, v in s.choices.items()}
        signals[s.key] = entry
    return encode({"type": "hello", "version": VERSION, "signals": signals})


def subscribed(sub: Subscribe) -> str:
    trucks: str | list[int] = "*" if sub.trucks is None else list(sub.trucks)
    return encode(
        {"type": "subscribed", "trucks": trucks, "signals": list(sub.keys), "rate_hz": sub.rate_hz}
    )


def encode_cells(kind: str, cells: Cells, keys: list[str]) -> str:
    """A snapshot or update: {"type": kind, "trucks": {"7": {"SOC": [t, v]}}}.

    keys maps a signal id to its key. Times become Unix seconds.
    """
    trucks: dict[str, dict[str, list[float]]] = {}
    seconds = (cells.t_us / 1e6).tolist()
    columns = (cells.truck_ids.tolist(), cells.signal_ids.tolist(), seconds, cells.values.tolist())
    for truck, sid, t, v in zip(*columns, strict=True):
        trucks.setdefault(str(truck), {})[keys[sid]] = [t, v]
    return encode({"type": kind, "trucks": trucks})


def pong(now: float) -> str:
    return encode({"type": "pong", "t": now})


def error(reason: str) -> str:
    return encode({"type": "error", "error": reason})
