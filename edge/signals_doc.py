"""The signal reference page, generated from the signal catalogue.

``render_markdown(catalog)`` returns a Markdown page with a table of every
message and, per message, a table of its signals. Families of multiplexed
signals that only differ by a number (the 192 cell voltages, the 48 cell
temperatures) are collapsed into one row, and a second table says which
multiplexer value carries which of them, so every signal name still appears.

Regenerate ``docs/signals.md`` after changing the DBC with::

    python -m edge.signals_doc docs/signals.md
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.catalog import Catalog, SignalInfo, default_catalog

__all__ = ["j1939_pgn", "main", "render_markdown"]

_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


def j1939_pgn(frame_id: int) -> int:
    """The J1939 parameter group number of a 29-bit identifier."""
    pdu_format = (frame_id >> 16) & 0xFF
    pgn = (frame_id >> 8) & 0x3FFFF
    if pdu_format < 240:
        pgn &= 0x3FF00  # PDU1: the low byte is a destination address, not part of the PGN
    return pgn


@dataclass
class _Row:
    key: str
    signals: list[Any]
    infos: list[SignalInfo]


def render_markdown(catalog: Catalog) -> str:
    """The whole reference page for ``catalog``, as Markdown."""
    db = catalog.database
    source = Path(catalog.source).name if catalog.source else "the DBC"
    frames_per_s = sum(1000.0 / m.cycle_time * _mux_count(m) for m in db.messages if m.cycle_time)
    lines = [
        "# Signal reference",
        "",
        f"Generated from `{source}` by `python -m edge.signals_doc docs/signals.md`;",
        "do not edit by hand. `tests/edge/test_signals_doc.py` fails when this page",
        "no longer matches the DBC.",
        "",
        f"The truck's CAN network has {len(db.messages)} messages carrying "
        f"{len(catalog)} signals: about {catalog.points_per_second():,.0f} data points "
        f"and {frames_per_s:,.0f} frames per second per truck. The catalogue's "
        f"fingerprint is `{catalog.fingerprint:08x}`.",
        "",
        "A signal's *key* is the name the platform uses for it everywhere (its DBC",
        "name, prefixed by the message name only if two messages use the same name).",
        "*Rate* is how often a new value arrives. A multiplexed message sends each",
        "multiplexer value at the message's cycle time, so all its signals have that",
        "rate. Ranges and values are physical: raw value times scale plus offset.",
        "",
        "## Messages",
        "",
        "| message | id | frame | J1939 PGN | cycle | frames/s | sender | meaning |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in db.messages:
        frame = "29-bit" if m.is_extended_frame else "11-bit"
        pgn = (
            f"{j1939_pgn(m.frame_id)} (0x{j1939_pgn(m.frame_id):04X})"
            if m.is_extended_frame
            else ""
        )
        cycle = f"{m.cycle_time} ms" if m.cycle_time else "on event"
        rate = f"{1000.0 / m.cycle_time * _mux_count(m):g}" if m.cycle_time else ""
        lines.append(
            f"| {m.name} | 0x{m.frame_id:X} | {frame} | {pgn} | {cycle} | {rate} | "
            f"{', '.join(m.senders)} | {_text(m.comment)} |"
        )

    for m in db.messages:
        lines += ["", f"## {m.name} (0x{m.frame_id:X})", ""]
        if m.comment:
            lines += [_text(m.comment) + ".", ""]
        lines += _signal_table(catalog, m)
        if any(s.is_multiplexer for s in m.signals):
            lines += ["", *_mux_table(catalog, m)]
    return "\n".join(lines) + "\n"


def _mux_count(message: Any) -> int:
    ids = {i for s in message.signals for i in (s.multiplexer_ids or [])}
    return max(len(ids), 1)


def _signal_table(catalog: Catalog, message: Any) -> list[str]:
    columns = [
        "key",
        "unit",
        "rate",
        "range",
        "start bit, length",
        "byte order",
        "signed",
        "scale, offset",
        "meaning",
        "values",
    ]
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    infos = {s.name: s for s in catalog.signals if s.message == message.name}
    for row in _rows(message, infos):
        sig, info = row.signals[0], row.infos[0]
        rng = f"{_num(sig.minimum)} … {_num(sig.maximum)}" if sig.minimum is not None else ""
        bits = f"{sig.start}, {sig.length}"
        if len(row.signals) > 1:
            starts = ", ".join(str(b) for b in sorted({s.start for s in row.signals}))
            bits = f"{starts}; {sig.length} each"
        order = "big-endian" if sig.byte_order == "big_endian" else "little-endian"
        meaning = _text(info.comment)
        if len(row.infos) > 1:
            meaning = f"{meaning} … {_text(row.infos[-1].comment)}"
        if sig.is_multiplexer:
            meaning = f"{meaning} (multiplexer selector, not stored)"
        choices = ", ".join(f"{k} {v}" for k, v in info.choices.items())
        lines.append(
            f"| {row.key} | {info.unit} | {info.rate_hz:g} Hz | {rng} | {bits} | {order} | "
            f"{'yes' if sig.is_signed else 'no'} | {_num(sig.scale)}, {_num(sig.offset)} | "
            f"{meaning} | {choices} |"
        )
    return lines


def _rows(message: Any, infos: dict[str, SignalInfo]) -> list[_Row]:
    """Signals in DBC order, numbered families of multiplexed signals merged."""
    rows: list[_Row] = []
    multiplexed = any(s.is_multiplexer for s in message.signals)
    for sig in message.signals:
        match = _TRAILING_NUMBER.match(sig.name)
        last = rows[-1] if rows else None
        if (
            multiplexed
            and match
            and not sig.is_multiplexer
            and last is not None
            and _same_family(last.signals[0], sig)
        ):
            last.signals.append(sig)
            last.infos.append(infos[sig.name])
            last.key = f"{infos[last.signals[0].name].key} … {infos[sig.name].key}"
            continue
        rows.append(_Row(infos[sig.name].key, [sig], [infos[sig.name]]))
    return rows


def _same_family(a: Any, b: Any) -> bool:
    ma, mb = _TRAILING_NUMBER.match(a.name), _TRAILING_NUMBER.match(b.name)
    if not (ma and mb) or ma.group(1) != mb.group(1):
        return False
    shape = ("unit", "scale", "offset", "length", "byte_order", "is_signed", "minimum", "maximum")
    return all(getattr(a, f) == getattr(b, f) for f in shape)


def _mux_table(catalog: Catalog, message: Any) -> list[str]:
    selector = next(s for s in message.signals if s.is_multiplexer)
    keys = {s.name: s.key for s in catalog.signals if s.message == message.name}
    by_value: dict[int, list[str]] = {}
    for sig in message.signals:
        for value in sig.multiplexer_ids or []:
            by_value.setdefault(value, []).append(keys[sig.name])
    lines = [
        f"Which signals each value of {selector.name} carries:",
        "",
        f"| {selector.name} | signals |",
        "| --- | --- |",
    ]
    for value in sorted(by_value):
        lines.append(f"| {value} | {', '.join(by_value[value])} |")
    return lines


def _num(value: Any) -> str:
    if value is None:
        return ""
    return f"{float(value):.10g}"


def _text(value: Any) -> str:
    return str(value or "").replace("|", "\\|").replace("\n", " ")


def main(argv: list[str] | None = None) -> int:
    """Write the page for the default DBC to the path given (``docs/signals.md``)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0] if args else "docs/signals.md")
    target.write_text(render_markdown(default_catalog()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
