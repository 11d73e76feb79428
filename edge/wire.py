"""The batch wire format: one AMQP message body per truck per window.

Version 1, all integers little-endian::

    offset  size  field
    0       2     magic b"FL"
    2       1     version (1)
    3       1     flags (bit 0: body is zlib-compressed; other bits must be 0)
    4       4     truck id (uint32)
    8       8     agent start id (uint64), random per agent start
    16      4     sequence number (uint32), 0, 1, 2 ... per agent start
    20      4     catalogue fingerprint (uint32, see edge.catalog)
    24      8     window start, microseconds since the Unix epoch (int64)
    32      4     n, the number of points (uint32)
    36      ...   body: signal ids (n x uint16), then time offsets from the
                  window start in microseconds (n x uint32), then values
                  (n x float64); zlib-compressed as a whole when flag bit 0 is set
    end-4   4     CRC-32 of every byte before it

Columns rather than rows: packing and unpacking is a handful of numpy calls,
with no Python object per point, and the body compresses well.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.errors import WireFormatError

__all__ = ["MAX_POINTS", "VERSION", "Batch", "pack", "unpack"]

MAGIC = b"FL"
VERSION = 1
FLAG_ZLIB = 0x01
MAX_POINTS = 1 << 20
_HEADER = struct.Struct("<2sBBIQIIqI")
_CRC = struct.Struct("<I")
_POINT_BYTES = 2 + 4 + 8


@dataclass(frozen=True, eq=False)
class Batch:
    """The points of one truck over one window, columnar."""

    truck_id: int
    agent_start: int
    seq: int
    fingerprint: int
    t_base_us: int
    signal_ids: npt.NDArray[np.uint16]
    t_offsets_us: npt.NDArray[np.uint32]
    values: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.signal_ids.shape[0])

    @property
    def timestamps_us(self) -> npt.NDArray[np.int64]:
        """Absolute point times in microseconds since the epoch."""
        return self.t_offsets_us.astype(np.int64) + self.t_base_us

    @property
    def key(self) -> tuple[int, int, int]:
        """What identifies a batch for exactly-once storage."""
        return (self.truck_id, self.agent_start, self.seq)

    @classmethod
    def from_points(
        cls,
        truck_id: int,
        agent_start: int,
        seq: int,
        fingerprint: int,
        signal_ids: npt.ArrayLike,
        timestamps_us: npt.ArrayLike,
        values: npt.ArrayLike,
    ) -> Batch:
        """Build a batch from absolute timestamps; the earliest becomes the window start."""
        ts = np.asarray(timestamps_us, dtype=np.int64)
        base = int(ts.min()) if ts.size else 0
        offsets = ts - base
        if offsets.size and int(offsets.max()) > 0xFFFFFFFF:
            raise WireFormatError(
                f"a batch spans at most 4294 s, this one {offsets.max() / 1e6:.0f} s"
            )
        return cls(
            truck_id=truck_id,
            agent_start=agent_start,
            seq=seq,
            fingerprint=fingerprint,
            t_base_us=base,
            signal_ids=np.asarray(signal_ids, dtype=np.uint16),
            t_offsets_us=offsets.astype(np.uint32),
            values=np.asarray(values, dtype=np.float64),
        )


def pack(batch: Batch, compress: bool = False) -> bytes:
    """Encode a batch as a version-1 message body."""
    n = len(batch)
    if not (batch.t_offsets_us.shape[0] == batch.values.shape[0] == n):
        raise WireFormatError("signal ids, offsets and values must have the same length")
    if n > MAX_POINTS:
        raise WireFormatError(f"a batch holds at most {MAX_POINTS} points, this one {n}")
    body = b"".join(
        (
            batch.signal_ids.astype("<u2", copy=False).tobytes(),
            batch.t_offsets_us.astype("<u4", copy=False).tobytes(),
            batch.values.astype("<f8", copy=False).tobytes(),
        )
    )
    flags = 0
    if compress:
        body = zlib.compress(body, 1)
        flags |= FLAG_ZLIB
    header = _HEADER.pack(
        MAGIC,
        VERSION,
        flags,
        batch.truck_id,
        batch.agent_start,
        batch.seq,
        batch.fingerprint,
        batch.t_base_us,
        n,
    )
    data = header + body
    return data + _CRC.pack(zlib.crc32(data))


def unpack(data: bytes) -> Batch:
    """Decode a message body; raises WireFormatError saying what is wrong."""
    if len(data) < _HEADER.size + _CRC.size:
        raise WireFormatError(
            f"expected at least {_HEADER.size + _CRC.size} bytes, got {len(data)}"
        )
    (crc,) = _CRC.unpack_from(data, len(data) - _CRC.size)
    if zlib.crc32(memoryview(data)[: -_CRC.size]) != crc:
        raise WireFormatError("CRC-32 mismatch: the message was altered or truncated")
    magic, version, flags, truck, start, seq, fingerprint, t_base, n = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise WireFormatError(f"expected magic {MAGIC!r}, got {magic!r}")
    if version != VERSION:
        raise WireFormatError(f"expected wire format version {VERSION}, got {version}")
    if flags & ~FLAG_ZLIB:
        raise WireFormatError(f"unknown flags 0x{flags:02x}")
    if n > MAX_POINTS:
        raise WireFormatError(f"a batch holds at most {MAX_POINTS} points, header says {n}")
    body = bytes(memoryview(data)[_HEADER.size : -_CRC.size])
    if flags & FLAG_ZLIB:
        body = _inflate(body, n * _POINT_BYTES)
    if len(body) != n * _POINT_BYTES:
        raise WireFormatError(
            f"expected {n * _POINT_BYTES} body bytes for {n} points, got {len(body)}"
        )
    ids = np.frombuffer(body, dtype="<u2", count=n)
    offsets = np.frombuffer(body, dtype="<u4", count=n, offset=2 * n)
    values = np.frombuffer(body, dtype="<f8", count=n, offset=6 * n)
    return Batch(truck, start, seq, fingerprint, t_base, ids, offsets, values)


def _inflate(body: bytes, expected: int) -> bytes:
    decompressor = zlib.decompressobj()
    try:
        out = decompressor.decompress(body, expected + 1)
    except zlib.error as exc:
        raise WireFormatError(f"body does not inflate: {exc}") from exc
    if len(out) > expected or decompressor.unconsumed_tail:
        raise WireFormatError(f"inflated body is longer than the {expected} bytes n implies")
    return out
