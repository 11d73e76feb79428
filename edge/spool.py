"""The disk spool: batch bodies the bus did not take, kept until it does.

When the broker cannot be reached, or returns a batch because no queue is
bound to the exchange, the agent puts the body here and replays it, oldest
first, once publishing works again. A file is deleted only after the broker
confirmed its replay, so a crash between the two sends it twice at worst; the
``(truck, agent_start, seq)`` key lets the store drop the duplicate.

Each entry is one file named by a sequence number, written to a temporary name
and renamed, so a reader never sees half a file. Its content::

    b"FLSP"  magic
    uint16   length of the message id (little-endian), then the id in UTF-8
    uint32   CRC-32 of the id and body
    ...      the batch body

The spool is bounded by ``max_bytes``: when full it drops the oldest entries,
counts them and warns once per episode. A file that does not read back (wrong
magic, wrong CRC, truncated) is moved to ``bad/`` and counted. The spool is
the same directory across restarts: a new agent replays what an old one left.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Spool", "SpoolEntry", "SpoolStats"]

log = logging.getLogger(f"fleetlink.{__name__}")

_MAGIC = b"FLSP"
_HEAD = struct.Struct("<4sH")
_CRC = struct.Struct("<I")
_SUFFIX = ".spool"
_TEMP = ".tmp"


@dataclass(frozen=True)
class SpoolEntry:
    """One spooled body, by its file."""

    number: int
    path: Path
    size: int


@dataclass
class SpoolStats:
    """What the spool has done since it was opened."""

    stored: int = 0
    dropped: int = 0
    dropped_bytes: int = 0
    bad: int = 0
    removed: int = 0


class Spool:
    """Batch bodies on disk, oldest first, within a byte budget."""

    def __init__(self, directory: str | Path, *, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.directory = Path(directory)
        self.bad_directory = self.directory / "bad"
        self.max_bytes = max_bytes
        self.stats = SpoolStats()
        self._dropping = False
        self.directory.mkdir(parents=True, exist_ok=True)
        for leftover in self.directory.glob(f"*{_TEMP}"):
            leftover.unlink(missing_ok=True)
        self._entries = sorted(self._scan(), key=lambda e: e.number)
        self._bytes = sum(e.size for e in self._entries)
        self._next = self._entries[-1].number + 1 if self._entries else 0
        if self._entries:
            log.info("spool %s holds %d batches from before", self.directory, len(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """Bytes the spooled files take."""
        return self._bytes

    def entries(self) -> list[SpoolEntry]:
        """Spooled entries, oldest first."""
        return list(self._entries)

    def put(self, body: bytes, *, message_id: str) -> None:
        """Keep a body for later, dropping the oldest entries if over budget."""
        ident = message_id.encode()
        content = b"".join(
            (_HEAD.pack(_MAGIC, len(ident)), ident, _CRC.pack(zlib.crc32(ident + body)), body)
        )
        self._make_room(len(content))
        if len(content) > self.max_bytes:
            self._drop_count(1, len(content))
            return

        entry = SpoolEntry(self._next, self.directory / f"{self._next:016d}{_SUFFIX}", len(content))
        temp = entry.path.with_name(entry.path.name + _TEMP)
        with open(temp, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, entry.path)
        self._next += 1
        self._entries.append(entry)
        self._bytes += entry.size
        self.stats.stored += 1

    def read(self, entry: SpoolEntry) -> tuple[str, bytes] | None:
        """The (message id, body) of an entry, or None if its file is unusable (set aside)."""
        try:
            data = entry.path.read_bytes()
        except OSError as exc:
            self._set_aside(entry, f"cannot be read: {exc}")
            return None
        reason = _check(data)
        if reason:
            self._set_aside(entry, reason)
            return None
        (size,) = struct.unpack_from("<H", data, 4)
        start = _HEAD.size
        ident = data[start : start + size].decode("utf-8", errors="replace")
        return ident, data[start + size + _CRC.size :]

    def remove(self, entry: SpoolEntry) -> None:
        """Forget an entry once the bus confirmed it."""
        self._forget(entry)
        entry.path.unlink(missing_ok=True)
        self.stats.removed += 1
        if not self._entries:
            self._dropping = False

    def _scan(self) -> list[SpoolEntry]:
        entries = []
        for path in self.directory.glob(f"*{_SUFFIX}"):
            try:
                number = int(path.stem)
            except ValueError:
                continue
            entries.append(SpoolEntry(number, path, path.stat().st_size))
        return entries

    def _make_room(self, size: int) -> None:
        dropped = 0
        freed = 0
        while self._entries and self._bytes + size > self.max_bytes:
            oldest = self._entries[0]
            self._forget(oldest)
            oldest.path.unlink(missing_ok=True)
            dropped += 1
            freed += oldest.size
        if dropped:
            self._drop_count(dropped, freed)

    def _drop_count(self, count: int, size: int) -> None:
        self.stats.dropped += count
        self.stats.dropped_bytes += size
        if not self._dropping:
            self._dropping = True
            log.warning(
                "spool %s is full (%d bytes allowed): dropping the oldest batches",
                self.directory,
                self.max_bytes,
            )

    def _forget(self, entry: SpoolEntry) -> None:
        if entry in self._entries:
            self._entries.remove(entry)
            self._bytes -= entry.size

    def _set_aside(self, entry: SpoolEntry, reason: str) -> None:
        self._forget(entry)
        self.stats.bad += 1
        self.bad_directory.mkdir(exist_ok=True)
        try:
            os.replace(entry.path, self.bad_directory / entry.path.name)
        except OSError as exc:
            log.error("cannot move bad spool file %s aside: %s", entry.path, exc)
            entry.path.unlink(missing_ok=True)
        log.warning("spool file %s %s; moved to %s", entry.path.name, reason, self.bad_directory)


def _check(data: bytes) -> str:
    """Why a spool file is unusable, or an empty string when it is fine."""
    if len(data) < _HEAD.size + _CRC.size:
        return f"is truncated: expected at least {_HEAD.size + _CRC.size} bytes, got {len(data)}"
    magic, size = _HEAD.unpack_from(data)
    if magic != _MAGIC:
        return f"has magic {magic!r}, expected {_MAGIC!r}"
    crc_at = _HEAD.size + size
    if len(data) < crc_at + _CRC.size:
        return f"is truncated inside its header ({len(data)} bytes)"
    (crc,) = _CRC.unpack_from(data, crc_at)
    payload = data[_HEAD.size : crc_at] + data[crc_at + _CRC.size :]
    if zlib.crc32(payload) != crc:
        return "fails its CRC-32 check"
    return ""
