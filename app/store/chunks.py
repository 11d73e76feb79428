"""Chunks: the points of one signal of one truck, packed into one database row.

A chunk payload, version 1, all integers little-endian::

    offset  size  field
    0       1     version (1)
    1       1     flags (bit 0: body is zlib-compressed; bit 1: deltas are
                  uint64 instead of uint32; other bits must be 0)
    2       4     n, the number of points (uint32, at least 1)
    6       8     first timestamp, microseconds since the Unix epoch (int64)
    14      ...   body: n - 1 time deltas (uint32 or uint64, each the distance
                  to the previous point, never negative), then n values
                  (float64); zlib-compressed as a whole when flag bit 0 is set

Timestamps are sorted before packing, so deltas are never negative; they fit
32 bits unless two neighbouring points are more than 71 minutes apart, which
happens when a write holds a truck's backlog from before and after a gap.

This module also groups the batches of one truck into one sorted run per
signal, which is what a write turns into chunk rows and rollups.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.errors import StoreError
from edge.wire import Batch

__all__ = ["VERSION", "ChunkRow", "Grouped", "chunk_rows", "group_by_signal", "pack", "unpack"]

VERSION = 1
FLAG_ZLIB = 0x01
FLAG_WIDE = 0x02
_HEADER = struct.Struct("<BBIq")
_NARROW_MAX = 0xFFFFFFFF

#: signal id, first and last timestamp, n, min and max of the finite values, payload
ChunkRow = tuple[int, int, int, int, float | None, float | None, bytes]


def pack(
    timestamps_us: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    *,
    compress: bool = False,
) -> bytes:
    """Pack one signal's points, sorted by time, into a chunk payload."""
    n = int(timestamps_us.shape[0])
    if n == 0 or n != values.shape[0]:
        raise StoreError(
            f"a chunk needs as many values as timestamps, at least 1; got {n} and {values.shape[0]}"
        )
    deltas = np.diff(timestamps_us)
    if deltas.size and int(deltas.min()) < 0:
        raise StoreError("chunk timestamps must be sorted; found a step back in time")

    flags = 0
    if deltas.size and int(deltas.max()) > _NARROW_MAX:
        flags |= FLAG_WIDE
        delta_bytes = deltas.astype("<u8").tobytes()
    else:
        delta_bytes = deltas.astype("<u4").tobytes()
    body = delta_bytes + values.astype("<f8", copy=False).tobytes()
    if compress:
        body = zlib.compress(body, 1)
        flags |= FLAG_ZLIB
    return _HEADER.pack(VERSION, flags, n, int(timestamps_us[0])) + body


def unpack(payload: bytes) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Timestamps (µs) and values of a chunk payload; StoreError if it is damaged."""
    if len(payload) < _HEADER.size:
        raise StoreError(f"expected a chunk of at least {_HEADER.size} bytes, got {len(payload)}")
    version, flags, n, first = _HEADER.unpack_from(payload)
    if version != VERSION:
        raise StoreError(f"expected chunk format version {VERSION}, got {version}")
    if flags & ~(FLAG_ZLIB | FLAG_WIDE) or n == 0:
        raise StoreError(f"chunk header is damaged: flags 0x{flags:02x}, n {n}")

    width = 8 if flags & FLAG_WIDE else 4
    expected = (n - 1) * width + n * 8
    body = bytes(memoryview(payload)[_HEADER.size :])
    if flags & FLAG_ZLIB:
        try:
            body = zlib.decompress(body)
        except zlib.error as exc:
            raise StoreError(f"chunk body does not inflate: {exc}") from exc
    if len(body) != expected:
        raise StoreError(f"expected {expected} chunk body bytes for {n} points, got {len(body)}")

    deltas = np.frombuffer(body, dtype="<u8" if width == 8 else "<u4", count=n - 1)
    timestamps = np.empty(n, dtype=np.int64)
    timestamps[0] = first
    np.cumsum(deltas, dtype=np.int64, out=timestamps[1:])
    timestamps[1:] += first
    values = np.frombuffer(body, dtype="<f8", count=n, offset=(n - 1) * width)
    return timestamps, values.astype(np.float64)


@dataclass(frozen=True, eq=False)
class Grouped:
    """Points of one truck sorted by signal, then time, then value.

    The points of ``signal_ids[i]`` are ``timestamps_us[bounds[i]:bounds[i + 1]]``
    and the matching slice of ``values``.
    """

    truck_id: int
    signal_ids: npt.NDArray[np.int64]
    bounds: npt.NDArray[np.int64]
    timestamps_us: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.timestamps_us.shape[0])

    def runs(self) -> Iterator[tuple[int, npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
        """Each signal id with its timestamps and values."""
        for i, signal_id in enumerate(self.signal_ids.tolist()):
            lo, hi = int(self.bounds[i]), int(self.bounds[i + 1])
            yield signal_id, self.timestamps_us[lo:hi], self.values[lo:hi]

    def point_signal_ids(self) -> npt.NDArray[np.int64]:
        """The signal id of every point, in the grouped order."""
        return np.repeat(self.signal_ids, np.diff(self.bounds))


def group_by_signal(batches: Sequence[Batch]) -> Grouped:
    """Concatenate the batches of ONE truck and sort them into one run per signal."""
    trucks = {b.truck_id for b in batches}
    if len(trucks) != 1:
        raise StoreError(f"expected batches of one truck, got trucks {sorted(trucks)}")
    ids = np.concatenate([b.signal_ids for b in batches]).astype(np.int64)
    ts = np.concatenate([b.timestamps_us for b in batches])
    values = np.concatenate([b.values for b in batches]).astype(np.float64, copy=False)

    order = np.lexsort((values, ts, ids))
    ids, ts, values = ids[order], ts[order], values[order]
    starts = np.flatnonzero(np.diff(ids)) + 1 if ids.size else np.empty(0, np.int64)
    bounds = np.concatenate(([0], starts, [ids.size])).astype(np.int64)
    return Grouped(
        truck_id=trucks.pop(),
        signal_ids=ids[bounds[:-1]] if ids.size else ids,
        bounds=bounds if ids.size else np.zeros(1, np.int64),
        timestamps_us=ts,
        values=values,
    )


def chunk_rows(grouped: Grouped, *, split_us: int, compress: bool = False) -> list[ChunkRow]:
    """One chunk per signal and per split_us-aligned stretch (a day), packed at once.

    Gives the same payloads as :func:`pack` on each piece, but slices them out
    of three whole-write buffers instead of calling numpy once per chunk.
    """
    ts, values = grouped.timestamps_us, grouped.values
    if ts.size == 0:
        return []
    stretch = ts // split_us
    cut = np.zeros(ts.size, dtype=bool)
    cut[grouped.bounds[1:-1]] = True
    cut[1:] |= stretch[1:] != stretch[:-1]
    cut[0] = True
    starts = np.flatnonzero(cut)
    ends = np.append(starts[1:], ts.size)

    # Deltas to the previous point, zero where a chunk starts.
    deltas = np.diff(ts, prepend=ts[0])
    deltas[starts] = 0
    wide = np.maximum.reduceat(deltas, starts) > _NARROW_MAX
    clean = np.where(np.isfinite(values), values, np.nan)
    with np.errstate(invalid="ignore"):
        vmin = np.fmin.reduceat(clean, starts)
        vmax = np.fmax.reduceat(clean, starts)
    ids = np.repeat(grouped.signal_ids, np.diff(grouped.bounds))[starts]

    delta_bytes = deltas.astype("<u4").tobytes()
    value_bytes = values.astype("<f8", copy=False).tobytes()
    rows: list[ChunkRow] = []
    columns = zip(
        ids.tolist(),
        starts.tolist(),
        ends.tolist(),
        wide.tolist(),
        vmin.tolist(),
        vmax.tolist(),
        strict=True,
    )
    for signal_id, lo, hi, is_wide, low, high in columns:
        if is_wide or compress:
            payload = pack(ts[lo:hi], values[lo:hi], compress=compress)
        else:
            header = _HEADER.pack(VERSION, 0, hi - lo, int(ts[lo]))
            payload = b"".join(
                (header, delta_bytes[4 * lo + 4 : 4 * hi], value_bytes[8 * lo : 8 * hi])
            )
        rows.append(
            (
                signal_id,
                int(ts[lo]),
                int(ts[hi - 1]),
                hi - lo,
                None if low != low else low,
                None if high != high else high,
                payload,
            )
        )
    return rows
