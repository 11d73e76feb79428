"""The CAN codec: frames in, signal values out, keyed by catalogue id.

This is the one place the agent turns frame bytes into numbers. For now it
leans on cantools; a C implementation will take over the internals behind the
same API, so everything here is shaped for columns: :meth:`Codec.decode_many`
takes a block of frames as numpy arrays and returns three numpy arrays.

Signal ids are positions in DBC order, exactly as :class:`edge.catalog.Catalog`
numbers them, so ``codec.signals[i]`` and ``catalog.signals[i]`` name the same
signal.

Frame ids are looked up as cantools looks them up: an id above 0x7FF is an
extended id, and only matches a message the DBC declares as extended.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cantools
import numpy as np
import numpy.typing as npt

from edge.catalog import load_database
from edge.errors import DecodeError, FrameTooShortError, UnknownFrameError

__all__ = ["Codec", "CodecStats", "DecodedPoints"]

log = logging.getLogger(f"fleetlink.{__name__}")

_EXTENDED = 0x80000000
_STANDARD_MAX = 0x7FF

DecodedPoints = tuple[npt.NDArray[np.int64], npt.NDArray[np.uint16], npt.NDArray[np.float64]]


@dataclass
class CodecStats:
    """What :meth:`Codec.decode_many` has seen since the codec was made."""

    frames: int = 0
    unknown_id: int = 0
    too_short: int = 0
    undecodable: int = 0


@dataclass(frozen=True)
class _Entry:
    """One DBC message with what decoding needs, resolved once."""

    message: Any
    length: int
    ids: dict[str, int]


class Codec:
    """Decodes CAN frames with a cantools database."""

    def __init__(self, database: Any) -> None:
        self.database = database
        self.signals: list[tuple[str, str]] = []
        self.stats = CodecStats()
        self._entries: dict[int, _Entry] = {}
        for message in database.messages:
            first = len(self.signals)
            names = [signal.name for signal in message.signals]
            self.signals.extend((message.name, name) for name in names)
            ids = {name: first + offset for offset, name in enumerate(names)}
            key = message.frame_id | (_EXTENDED if message.is_extended_frame else 0)
            # A later message with the same id wins, as it does in cantools.
            self._entries[key] = _Entry(message, int(message.length), ids)

    @classmethod
    def from_dbc(cls, path: str | Path) -> Codec:
        """A codec for a DBC file; raises CatalogError if it cannot be loaded."""
        return cls(load_database(path))

    def decode(self, frame_id: int, data: bytes) -> dict[str, float]:
        """Signal values of one frame by name, as cantools decodes them."""
        entry = self._entry(frame_id)
        if entry is None:
            raise UnknownFrameError(f"no DBC message has frame id 0x{frame_id:X}")
        if len(data) < entry.length:
            raise FrameTooShortError(
                f"frame 0x{frame_id:X} ({entry.message.name}): expected {entry.length} "
                f"data bytes, got {len(data)}"
            )
        return self._decode(entry, frame_id, bytes(data[: entry.length]))

    def decode_many(
        self,
        ids: npt.NDArray[np.uint32],
        payloads: npt.NDArray[np.uint8],
        lengths: npt.NDArray[np.uint8] | None = None,
    ) -> DecodedPoints:
        """Decode a block of frames into (frame index, signal id, value) columns.

        ``payloads`` holds one zero-padded row per frame (8 or 64 bytes);
        ``lengths`` says how many of them the frame really carried (all of them
        when omitted). Frames with unknown ids, too few bytes or contents the
        DBC does not allow yield nothing and are counted in :attr:`stats`.
        Points come out ordered by frame index.
        """
        count = int(ids.shape[0])
        self.stats.frames += count
        if count == 0:
            return _empty()
        if lengths is None:
            lengths = np.full(count, payloads.shape[1], dtype=np.uint8)

        frame_index: list[int] = []
        signal_id: list[int] = []
        value: list[float] = []
        order = np.argsort(ids, kind="stable")
        keys, starts = np.unique(ids[order], return_index=True)
        ends = np.append(starts[1:], count)
        for key, start, end in zip(keys.tolist(), starts.tolist(), ends.tolist(), strict=True):
            rows = order[start:end]
            entry = self._entry(key)
            if entry is None:
                self.stats.unknown_id += len(rows)
                continue
            short = lengths[rows] < entry.length
            if short.any():
                self.stats.too_short += int(short.sum())
                rows = rows[~short]
            block = payloads[rows, : entry.length]
            for row, data in zip(rows.tolist(), block, strict=True):
                try:
                    decoded = entry.message.decode(data.tobytes(), decode_choices=False)
                except cantools.database.DecodeError:
                    self.stats.undecodable += 1
                    continue
                for name, number in decoded.items():
                    frame_index.append(row)
                    signal_id.append(entry.ids[name])
                    value.append(number)

        return _columns(frame_index, signal_id, value)

    def _entry(self, frame_id: int) -> _Entry | None:
        key = frame_id | _EXTENDED if frame_id > _STANDARD_MAX else frame_id
        return self._entries.get(key)

    def _decode(self, entry: _Entry, frame_id: int, data: bytes) -> dict[str, float]:
        try:
            decoded: dict[str, float] = entry.message.decode(data, decode_choices=False)
        except cantools.database.DecodeError as exc:
            raise DecodeError(f"frame 0x{frame_id:X} ({entry.message.name}): {exc}") from exc
        return decoded


def _empty() -> DecodedPoints:
    return (
        np.empty(0, dtype=np.int64),
        np.empty(0, dtype=np.uint16),
        np.empty(0, dtype=np.float64),
    )


def _columns(frame_index: list[int], signal_id: list[int], value: list[float]) -> DecodedPoints:
    rows = np.array(frame_index, dtype=np.int64)
    order = np.argsort(rows, kind="stable")
    return (
        rows[order],
        np.array(signal_id, dtype=np.uint16)[order],
        np.array(value, dtype=np.float64)[order],
    )
