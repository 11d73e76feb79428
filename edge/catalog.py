"""The signal catalogue: every signal of a DBC with a stable numeric id.

Signal ids are what travels on the wire and what the store keys chunks by, so
they must mean the same thing to the agent that packs a batch and to every
consumer that unpacks it. The id of a signal is its position in DBC order
(messages as the file lists them, signals as cantools orders them), and the
catalogue's fingerprint, a CRC-32 over that ordered list, travels in every
batch header so that a consumer with another DBC refuses the batch instead of
storing values under the wrong names.

A multiplexed message publishes the period of each multiplexer value as its
``GenMsgCycleTime``; the rate of its signals is therefore one over that period.
Multiplexer selectors get ids (the codec reports them) but are not stored.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import cantools

from edge.errors import CatalogError

__all__ = ["DEFAULT_DBC", "Catalog", "SignalInfo", "default_catalog", "load_database"]

DEFAULT_DBC = Path(__file__).with_name("dbc") / "fleetlink_truck.dbc"


@dataclass(frozen=True)
class SignalInfo:
    """What the platform knows about one signal."""

    id: int
    message: str
    name: str
    key: str
    unit: str
    rate_hz: float
    minimum: float | None
    maximum: float | None
    is_multiplexer: bool
    frame_id: int
    comment: str = ""
    choices: dict[int, str] = field(default_factory=dict)

    @property
    def stored(self) -> bool:
        """Whether the writer stores this signal (selectors are framing, not data)."""
        return not self.is_multiplexer


def load_database(path: str | Path) -> Any:
    """Load a DBC (or any format cantools reads), raising CatalogError on failure."""
    try:
        return cantools.database.load_file(str(path), strict=True)
    except (OSError, cantools.database.UnsupportedDatabaseFormatError) as exc:
        raise CatalogError(f"cannot load signal database {path}: {exc}") from exc


class Catalog:
    """Signals of one CAN database, by id and by key."""

    def __init__(self, database: Any, source: str = "") -> None:
        self.database = database
        self.source = source
        pairs = [(m, s) for m in database.messages for s in m.signals]
        counts: dict[str, int] = {}
        for _, sig in pairs:
            counts[sig.name] = counts.get(sig.name, 0) + 1
        self.signals: list[SignalInfo] = [
            _info(i, msg, sig, unique=counts[sig.name] == 1) for i, (msg, sig) in enumerate(pairs)
        ]
        self.by_key = {s.key: s for s in self.signals}
        listing = "\n".join(f"{s.message}.{s.name}" for s in self.signals)
        self.fingerprint = zlib.crc32(listing.encode())

    @classmethod
    def from_dbc(cls, path: str | Path) -> Catalog:
        return cls(load_database(path), source=str(path))

    def __len__(self) -> int:
        return len(self.signals)

    def id_of(self, key: str) -> int:
        """The id of a signal by key; raises CatalogError naming the key."""
        try:
            return self.by_key[key].id
        except KeyError:
            raise CatalogError(f"no signal {key!r} in the catalogue {self.source}") from None

    def points_per_second(self) -> float:
        """Stored points one truck produces per second at the DBC's rates."""
        return sum(s.rate_hz for s in self.signals if s.stored)


def _info(index: int, msg: Any, sig: Any, unique: bool) -> SignalInfo:
    cycle_ms = msg.cycle_time or 0
    choices = {int(k): str(v) for k, v in (sig.choices or {}).items()}
    comment = sig.comment if isinstance(sig.comment, str) else ""
    return SignalInfo(
        id=index,
        message=msg.name,
        name=sig.name,
        key=sig.name if unique else f"{msg.name}.{sig.name}",
        unit=sig.unit or "",
        rate_hz=1000.0 / cycle_ms if cycle_ms else 0.0,
        minimum=sig.minimum,
        maximum=sig.maximum,
        is_multiplexer=bool(sig.is_multiplexer),
        frame_id=msg.frame_id,
        comment=comment,
        choices=choices,
    )


@cache
def default_catalog() -> Catalog:
    """The catalogue of the truck DBC that ships with fleetlink."""
    return Catalog.from_dbc(DEFAULT_DBC)
