"""From a truck's signal values to CAN frames at the DBC's rates.

Encoding: each DBC message gets a :class:`MessageEncoder` built once, holding
per signal its scale, offset, raw limits and bit position. A frame is then two
integers, one for the little-endian (Intel) signals and one for the big-endian
(Motorola) ones, each signal's raw value shifted into place, merged into the
data bytes. This costs about 4 to 6 µs a frame against about 20 µs for
cantools' ``Message.encode`` on the same message, and gives the same bytes
for values inside each signal's range; values outside it are clamped to the
range, as an ECU would saturate them.

Timing: a message with a ``GenMsgCycleTime`` of P ms is sent every P ms. A
multiplexed message sends each multiplexer value every P ms, so its n frames
are spread evenly, one every P/n ms. Messages start at staggered phases, as
the ECUs of a real truck do, instead of all at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import can

from edge.catalog import Catalog, default_catalog

__all__ = ["FrameScheduler", "MessageEncoder", "encoders"]

_CATCH_UP_LIMIT_S = 1.0


@dataclass(frozen=True)
class _Field:
    key: str
    scale: float
    offset: float
    raw_min: int
    raw_max: int
    mask: int
    shift: int
    big_endian: bool


class MessageEncoder:
    """Packs the values of one DBC message (one multiplexer value at a time)."""

    def __init__(self, message: Any, keys: Mapping[str, str]) -> None:
        self.name: str = message.name
        self.frame_id: int = message.frame_id
        self.is_extended: bool = bool(message.is_extended_frame)
        self.length: int = message.length
        self.period_s: float = (message.cycle_time or 1000) / 1000.0
        self._bits = self.length * 8

        mux_signal = next((s for s in message.signals if s.is_multiplexer), None)
        self.mux_values: list[int | None] = [None]
        self._mux_field: _Field | None = None
        self._fields: dict[int | None, list[_Field]] = {}
        if mux_signal is not None:
            self._mux_field = self._field(mux_signal, keys[mux_signal.name])
            ids = sorted({i for s in message.signals for i in (s.multiplexer_ids or [])})
            self.mux_values = list(ids)
        for mux in self.mux_values:
            self._fields[mux] = [
                self._field(s, keys[s.name])
                for s in message.signals
                if not s.is_multiplexer and (mux is None or mux in (s.multiplexer_ids or []))
            ]

    def _field(self, signal: Any, key: str) -> _Field:
        length = signal.length
        if signal.is_signed:
            lo_bits, hi_bits = -(1 << (length - 1)), (1 << (length - 1)) - 1
        else:
            lo_bits, hi_bits = 0, (1 << length) - 1
        scale, offset = float(signal.scale), float(signal.offset)
        raw_min, raw_max = lo_bits, hi_bits
        if signal.minimum is not None:
            raw_min = max(raw_min, math.ceil((signal.minimum - offset) / scale - 1e-9))
        if signal.maximum is not None:
            raw_max = min(raw_max, math.floor((signal.maximum - offset) / scale + 1e-9))
        if signal.byte_order == "big_endian":
            msb = (signal.start // 8) * 8 + (7 - signal.start % 8)
            shift = self._bits - (msb + length)
        else:
            shift = signal.start
        return _Field(
            key=key,
            scale=scale,
            offset=offset,
            raw_min=raw_min,
            raw_max=raw_max,
            mask=(1 << length) - 1,
            shift=shift,
            big_endian=signal.byte_order == "big_endian",
        )

    def frames_per_period(self) -> int:
        """Frames per cycle time: one per multiplexer value, or one."""
        return len(self.mux_values)

    def encode(self, values: Mapping[str, float], mux: int | None = None) -> bytes:
        """The data bytes for ``values`` (a missing value encodes as zero)."""
        little = 0
        big = 0
        fields = self._fields[mux]
        if self._mux_field is not None:
            little, big = _place(self._mux_field, float(mux or 0), little, big)
        for field in fields:
            little, big = _place(field, values.get(field.key, 0.0), little, big)
        if big:
            merged = int.from_bytes(little.to_bytes(self.length, "little"), "big") | big
            return merged.to_bytes(self.length, "big")
        return little.to_bytes(self.length, "little")

    def frames(self, values: Mapping[str, float], timestamp: float) -> list[can.Message]:
        """One frame per multiplexer value (or one frame), all at ``timestamp``."""
        return [self.frame(values, mux, timestamp) for mux in self.mux_values]

    def frame(self, values: Mapping[str, float], mux: int | None, timestamp: float) -> can.Message:
        return can.Message(
            arbitration_id=self.frame_id,
            is_extended_id=self.is_extended,
            data=self.encode(values, mux),
            timestamp=timestamp,
        )


def _place(field: _Field, value: float, little: int, big: int) -> tuple[int, int]:
    raw = round((value - field.offset) / field.scale) if value == value else 0
    if raw < field.raw_min:
        raw = field.raw_min
    elif raw > field.raw_max:
        raw = field.raw_max
    bits = (raw & field.mask) << field.shift
    if field.big_endian:
        return little, big | bits
    return little | bits, big


@cache
def _default_encoders() -> tuple[MessageEncoder, ...]:
    return tuple(_build(default_catalog()))


def _build(catalog: Catalog) -> list[MessageEncoder]:
    result = []
    for message in catalog.database.messages:
        keys = {s.name: s.key for s in catalog.signals if s.message == message.name}
        result.append(MessageEncoder(message, keys))
    return result


def encoders(catalog: Catalog | None = None) -> list[MessageEncoder]:
    """An encoder for every message of ``catalog`` (the truck DBC by default)."""
    if catalog is None:
        return list(_default_encoders())
    return _build(catalog)


class FrameScheduler:
    """Decides which frames of one truck are due, and builds them.

    ``start`` is the time of the first frames, ``stagger`` (0..1) shifts every
    message's phase so that trucks do not all send in the same instant.
    """

    def __init__(
        self,
        start: float,
        *,
        stagger: float = 0.0,
        catalog: Catalog | None = None,
    ) -> None:
        self.encoders = encoders(catalog)
        self._slot_s = [e.period_s / len(e.mux_values) for e in self.encoders]
        count = len(self.encoders)
        self._next = [
            start + slot * ((i / count + stagger) % 1.0) for i, slot in enumerate(self._slot_s)
        ]
        self._mux_index = [0] * count
        self.skipped = 0

    def next_due(self) -> float:
        """When the earliest frame falls due."""
        return min(self._next)

    def due(self, now: float, values: Mapping[str, float]) -> list[can.Message]:
        """Every frame due at or before ``now``, encoded from ``values``, in time order."""
        out: list[tuple[float, can.Message]] = []
        for i, encoder in enumerate(self.encoders):
            t = self._next[i]
            if t > now:
                continue
            slot = self._slot_s[i]
            k = self._mux_index[i]
            muxes = encoder.mux_values
            if t < now - _CATCH_UP_LIMIT_S:
                missed = int((now - t) / slot)
                self.skipped += missed
                t += missed * slot
                k = (k + missed) % len(muxes)
            while t <= now:
                out.append((t, encoder.frame(values, muxes[k], t)))
                k = (k + 1) % len(muxes)
                t += slot
            self._next[i] = t
            self._mux_index[i] = k
        out.sort(key=lambda pair: pair[0])
        return [message for _, message in out]
