"""The compact decode table of the C codec, and the engine that uses it.

cantools parses a CAN database; :func:`build_table` turns what it loaded into
a few flat numpy arrays (messages, nodes, signals, branches, lookup slots)
laid out exactly as the structs of ``native/include/flcodec.h``, and
:class:`CCodecEngine` hands them to the C extension ``edge._ccodec``. A new
DBC therefore needs no generated code and no rebuild. docs/codec.md
describes the layout and the rules the table follows.

Signal ids are positions in database order (messages as cantools lists
them, signals in ``message.signals`` order), the numbering of
:class:`edge.catalog.Catalog`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from edge import _ccodec
from edge.errors import CatalogError, DecodeError, FrameTooShortError, UnknownFrameError

__all__ = ["CCodecEngine", "DecodeTable", "EngineStats", "build_table"]

log = logging.getLogger(f"fleetlink.{__name__}")

DecodedPoints = tuple[npt.NDArray[np.int64], npt.NDArray[np.uint16], npt.NDArray[np.float64]]

# Values of the enums in flcodec.h.
_UNSIGNED, _SIGNED, _FLOAT16, _FLOAT32, _FLOAT64 = range(5)
_LITTLE, _BIG = range(2)
_EXACT, _LINEAR, _INT_PRODUCT, _IDENTITY = range(4)
_CONTAINER = 0x01
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_STANDARD_MAX = 0x7FF

MESSAGE_DTYPE = np.dtype(
    [
        ("key", "=u4"),
        ("root", "=u4"),
        ("max_values", "=u4"),
        ("length", "=u2"),
        ("flags", "u1"),
        ("reserved", "u1"),
    ]
)
NODE_DTYPE = np.dtype(
    [("first_signal", "=u4"), ("signal_count", "=u4"), ("parent", "=u4"), ("reserved", "=u4")]
)
SIGNAL_DTYPE = np.dtype(
    [
        ("scale", "=f8"),
        ("offset", "=f8"),
        ("iscale", "=i8"),
        ("ioffset", "=i8"),
        ("first_branch", "=u4"),
        ("branch_count", "=u4"),
        ("id", "=u2"),
        ("start", "=u2"),
        ("length", "u1"),
        ("kind", "u1"),
        ("order", "u1"),
        ("scaling", "u1"),
    ]
)
BRANCH_DTYPE = np.dtype([("value", "=i8"), ("node", "=u4"), ("reserved", "=u4")])


@dataclass
class EngineStats:
    """What :meth:`CCodecEngine.decode_many` has seen since the engine was made."""

    frames: int = 0
    unknown_id: int = 0
    too_short: int = 0
    undecodable: int = 0


@dataclass
class DecodeTable:
    """A database as flat arrays, ready for ``edge._ccodec.Decoder``."""

    signals: list[tuple[str, str]]
    messages: npt.NDArray[np.void]
    nodes: npt.NDArray[np.void]
    signal_rows: npt.NDArray[np.void]
    branches: npt.NDArray[np.void]
    slots: npt.NDArray[np.uint32]
    id_mask: int
    max_values: int
    message_names: list[str] = field(default_factory=list)


class _Builder:
    """Collects rows in the preorder that flc_table_check() requires."""

    def __init__(self) -> None:
        self.nodes: list[list[int]] = []
        self.signals: list[dict[str, Any]] = []
        self.branches: list[list[int]] = []

    def node(
        self, message: Any, level: list[Any], ids: dict[str, int], parent: int, depth: int
    ) -> int:
        """Adds the node of one tree level and its subtrees; returns its index."""
        if depth > _ccodec.MAX_DEPTH:
            raise CatalogError(
                f"message {message.name}: multiplexers nest deeper than {_ccodec.MAX_DEPTH} levels"
            )
        index = len(self.nodes)
        first = len(self.signals)
        self.nodes.append([first, len(level), parent, 0])
        names = [entry if isinstance(entry, str) else next(iter(entry)) for entry in level]
        signals = [message.get_signal_by_name(name) for name in names]
        _check_layout(message, signals)
        for signal in signals:
            self.signals.append(_signal_row(message, signal, ids[signal.name]))

        for offset, entry in enumerate(level):
            if isinstance(entry, str):
                continue
            branches = sorted(next(iter(entry.values())).items())
            row = self.signals[first + offset]
            row["first_branch"] = len(self.branches)
            row["branch_count"] = len(branches)
            start = len(self.branches)
            self.branches.extend([0, 0, 0] for _ in branches)
            for k, (value, subtree) in enumerate(branches):
                if not _INT64_MIN <= int(value) <= _INT64_MAX:
                    raise CatalogError(
                        f"message {message.name}: multiplexer value {value} does not fit 64 bits"
                    )
                child = self.node(message, subtree, ids, start + k, depth + 1)
                self.branches[start + k] = [int(value), child, 0]
        return index


def build_table(database: Any) -> DecodeTable:
    """The decode table of a cantools database; raises CatalogError if it cannot be one."""
    id_mask = int(getattr(database, "_frame_id_mask", 0xFFFFFFFF)) & 0xFFFFFFFF
    signals: list[tuple[str, str]] = []
    chosen: dict[int, tuple[Any, int]] = {}
    for message in database.messages:
        first = len(signals)
        signals.extend((message.name, signal.name) for signal in message.signals)
        key = message.frame_id & id_mask
        if message.is_extended_frame:
            key |= _ccodec.EXTENDED
        # A later message with the same key replaces an earlier one, as in cantools.
        chosen[key] = (message, first)
    if len(signals) > 0xFFFF:
        raise CatalogError(f"expected at most 65535 signals, the database has {len(signals)}")

    builder = _Builder()
    message_rows = []
    names = []
    for key, (message, first) in chosen.items():
        if message.length > _ccodec.MAX_PAYLOAD:
            raise CatalogError(
                f"message {message.name}: expected at most {_ccodec.MAX_PAYLOAD} "
                f"bytes, the DBC says {message.length}"
            )
        ids = {signal.name: first + i for i, signal in enumerate(message.signals)}
        flags = _CONTAINER if message.is_container else 0
        tree = [] if message.is_container else message.signal_tree
        root = builder.node(message, tree, ids, _ccodec.EMPTY_SLOT, 1)
        most = _most_values(tree)
        message_rows.append((key, root, most, message.length, flags, 0))
        names.append(message.name)

    messages = np.array(message_rows, dtype=MESSAGE_DTYPE)
    max_values = int(messages["max_values"].max()) if len(messages) else 0
    return DecodeTable(
        signals=signals,
        messages=messages,
        nodes=np.array([tuple(n) for n in builder.nodes], dtype=NODE_DTYPE),
        signal_rows=np.array(
            [tuple(row[f] for f in SIGNAL_DTYPE.names or ()) for row in builder.signals],
            dtype=SIGNAL_DTYPE,
        ),
        branches=np.array([tuple(b) for b in builder.branches], dtype=BRANCH_DTYPE),
        slots=_slots(messages["key"].tolist()),
        id_mask=id_mask,
        max_values=max_values,
        message_names=names,
    )


def _most_values(level: list[Any]) -> int:
    """The most values one frame can yield under a tree level."""
    total = len(level)
    for entry in level:
        if not isinstance(entry, str):
            subtrees = next(iter(entry.values())).values()
            total += max((_most_values(sub) for sub in subtrees), default=0)
    return total


def _slots(keys: list[int]) -> npt.NDArray[np.uint32]:
    """The open-addressing lookup slots, placed with flcodec's own hash."""
    count = 2
    while count < 2 * len(keys):
        count *= 2
    slots = np.full(count, _ccodec.EMPTY_SLOT, dtype=np.uint32)
    for index, key in enumerate(keys):
        slot = _ccodec.slot_hash(key, count)
        while slots[slot] != _ccodec.EMPTY_SLOT:
            slot = (slot + 1) & (count - 1)
        slots[slot] = index
    return slots


def _physical_bits(signal: Any) -> set[int]:
    """The payload bits a signal occupies, numbered 8 * byte + bit."""
    if signal.byte_order == "little_endian":
        return set(range(signal.start, signal.start + signal.length))
    head = 8 * (signal.start // 8) + 7 - signal.start % 8
    return {8 * (p // 8) + 7 - p % 8 for p in range(head, head + signal.length)}


def _check_layout(message: Any, signals: list[Any]) -> None:
    """Refuses a node that cantools' bit formats would not decode signal by signal."""
    bits = 8 * message.length
    used: dict[str, set[int]] = {"little_endian": set(), "big_endian": set()}
    last_start = -1
    for signal in signals:
        occupied = _physical_bits(signal)
        if max(occupied) >= bits:
            raise CatalogError(
                f"message {message.name}: signal {signal.name} expected inside "
                f"{message.length} bytes, it reaches bit {max(occupied)}"
            )
        if used[signal.byte_order] & occupied:
            raise CatalogError(
                f"message {message.name}: signal {signal.name} overlaps another signal"
            )
        used[signal.byte_order] |= occupied
        if signal.byte_order == "little_endian":
            if signal.start < last_start:
                raise CatalogError(
                    f"message {message.name}: little-endian signals expected in "
                    f"start-bit order, {signal.name} is not"
                )
            last_start = signal.start


def _signal_row(message: Any, signal: Any, signal_id: int) -> dict[str, Any]:
    """One row of the signal table, with cantools' conversion rules."""
    row: dict[str, Any] = {
        "scale": 1.0,
        "offset": 0.0,
        "iscale": 1,
        "ioffset": 0,
        "first_branch": 0,
        "branch_count": 0,
        "id": signal_id,
        "start": signal.start,
        "length": signal.length,
        "kind": _kind(message, signal),
        "order": _BIG if signal.byte_order == "big_endian" else _LITTLE,
        "scaling": _IDENTITY,
    }
    scale, offset = signal.conversion.scale, signal.conversion.offset
    is_float = bool(signal.conversion.is_float)
    if scale == 1 and offset == 0:
        return row
    integral = _is_integral(scale) and _is_integral(offset)
    if integral and not is_float and _fits(int(scale)) and _fits(int(offset)):
        row.update(scaling=_EXACT, iscale=int(scale), ioffset=int(offset))
    elif isinstance(scale, int) and not is_float and _fits(scale):
        row.update(scaling=_INT_PRODUCT, iscale=scale, offset=float(offset))
    else:
        row.update(scaling=_LINEAR, scale=float(scale), offset=float(offset))
    return row


def _kind(message: Any, signal: Any) -> int:
    if signal.conversion.is_float:
        kinds = {16: _FLOAT16, 32: _FLOAT32, 64: _FLOAT64}
        if signal.length not in kinds:
            raise CatalogError(
                f"message {message.name}: float signal {signal.name} expected "
                f"16, 32 or 64 bits long, it has {signal.length}"
            )
        return kinds[signal.length]
    if not 1 <= signal.length <= 64:
        raise CatalogError(
            f"message {message.name}: signal {signal.name} expected 1 to 64 bits "
            f"long, it has {signal.length}"
        )
    return _SIGNED if signal.is_signed else _UNSIGNED


def _is_integral(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _fits(value: int) -> bool:
    return _INT64_MIN <= value <= _INT64_MAX


class CCodecEngine:
    """Decodes CAN frames through the C codec, with edge.codec.Codec's API."""

    def __init__(self, database: Any) -> None:
        self.database = database
        self.table = build_table(database)
        self.signals: list[tuple[str, str]] = self.table.signals
        self.stats = EngineStats()
        self._names = [name for _, name in self.signals]
        self._lengths = self.table.messages["length"].tolist()
        self._flags = self.table.messages["flags"].tolist()
        self._decoder = _ccodec.Decoder(
            messages=self.table.messages.tobytes(),
            nodes=self.table.nodes.tobytes(),
            signals=self.table.signal_rows.tobytes(),
            branches=self.table.branches.tobytes(),
            slots=self.table.slots.tobytes(),
            id_mask=self.table.id_mask,
            output_ids=max(len(self.signals), 1),
            max_values=self.table.max_values,
        )
        log.debug("C codec ready: %d messages, %d signals", len(self._lengths), len(self.signals))

    def decode(self, frame_id: int, data: bytes) -> dict[str, float]:
        """Signal values of one frame by name, equal to cantools' decode_message."""
        if not 0 <= frame_id <= 0xFFFFFFFF:
            raise UnknownFrameError(f"no DBC message has frame id {frame_id:#x}")
        code, message, values = self._decoder.decode_one(frame_id, data)
        if values is not None:
            return {self._names[sig]: value for sig, value in values}
        if code == -_ccodec.ENOENT:
            raise UnknownFrameError(f"no DBC message has frame id 0x{frame_id:X}")

        name = self.table.message_names[message]
        where = f"frame 0x{frame_id:X} ({name})"
        if code == -_ccodec.EMSGSIZE:
            raise FrameTooShortError(
                f"{where}: expected {self._lengths[message]} data bytes, got {len(data)}"
            )
        if self._flags[message] & _CONTAINER:
            raise DecodeError(f"{where}: container messages are not decoded")
        raise DecodeError(f"{where}: a multiplexer value selects no signals of the DBC")

    def decode_many(
        self,
        ids: npt.NDArray[np.uint32],
        payloads: npt.NDArray[np.uint8],
        lengths: npt.NDArray[np.uint8] | None = None,
    ) -> DecodedPoints:
        """Decode a block of frames in one C call into (frame index, signal id, value).

        ``payloads`` holds one zero-padded row per frame (1 to 64 bytes, usually
        8 or 64); ``lengths`` says how many bytes of each row the frame carried.
        Unknown, short and undecodable frames yield nothing and are counted in
        :attr:`stats`. Values come out in frame order.
        """
        frame_ids = _column(ids, "ids", np.uint32, 0xFFFFFFFF)
        rows = np.ascontiguousarray(payloads)
        count = len(frame_ids)
        if rows.dtype != np.uint8 or rows.ndim != 2 or rows.shape[0] != count:
            raise DecodeError(
                f"payloads: expected a uint8 array of shape ({count}, 8 or 64), "
                f"got {rows.dtype} {rows.shape}"
            )
        stride = rows.shape[1]
        if not 1 <= stride <= _ccodec.MAX_PAYLOAD:
            raise DecodeError(f"payloads: expected rows of 1 to 64 bytes, got {stride}")
        sizes = None if lengths is None else _column(lengths, "lengths", np.uint8, 0xFF)
        if sizes is not None and len(sizes) != count:
            raise DecodeError(f"lengths: expected {count} entries, got {len(sizes)}")

        capacity = count * self.table.max_values
        frame = np.empty(capacity, dtype=np.int64)
        signal = np.empty(capacity, dtype=np.uint16)
        value = np.empty(capacity, dtype=np.float64)
        n, done, unknown, short, bad = self._decoder.decode_many(
            frame_ids, rows, stride, sizes, frame, signal, value
        )
        if done != count:
            raise RuntimeError(f"C codec decoded {done} of {count} frames with room for all")
        self.stats.frames += count
        self.stats.unknown_id += unknown
        self.stats.too_short += short
        self.stats.undecodable += bad
        return frame[:n], signal[:n], value[:n]


def _column(values: Any, name: str, dtype: type[np.integer[Any]], top: int) -> npt.NDArray[Any]:
    """A contiguous 1-D array of dtype, refusing values that do not fit."""
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "ui"):
        raise DecodeError(f"{name}: expected a 1-D integer array, got {array.dtype} {array.shape}")
    if array.dtype != dtype and array.size and (array.min() < 0 or array.max() > top):
        raise DecodeError(
            f"{name}: expected values from 0 to {top}, got {array.min()}..{array.max()}"
        )
    return np.ascontiguousarray(array, dtype=dtype)
