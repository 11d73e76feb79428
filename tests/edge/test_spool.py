"""The spool keeps bodies in order on disk, within its budget, across restarts."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edge.spool import Spool


def _drain(spool: Spool) -> list[tuple[str, bytes]]:
    out = []
    for entry in spool.entries():
        kept = spool.read(entry)
        if kept is not None:
            out.append(kept)
            spool.remove(entry)
    return out


def test_spool_returns_bodies_oldest_first_with_their_message_ids(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for n in range(5):
        spool.put(bytes([n]) * (n + 1), message_id=f"1-2-{n}")

    assert _drain(spool) == [(f"1-2-{n}", bytes([n]) * (n + 1)) for n in range(5)]
    assert len(spool) == 0
    assert list(tmp_path.glob("*.spool")) == []


def test_a_new_spool_replays_what_an_old_one_left(tmp_path: Path) -> None:
    old = Spool(tmp_path)
    old.put(b"first", message_id="a")
    old.put(b"second", message_id="b")
    (tmp_path / "0000000000000099.spool.tmp").write_bytes(b"half a file")

    new = Spool(tmp_path)
    new.put(b"third", message_id="c")

    assert _drain(new) == [("a", b"first"), ("b", b"second"), ("c", b"third")]
    assert not list(tmp_path.glob("*.tmp"))


def test_a_full_spool_drops_the_oldest_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path, max_bytes=1000)
    with caplog.at_level(logging.WARNING, logger="fleetlink"):
        for n in range(10):
            spool.put(bytes(200), message_id=str(n))

    kept = [ident for ident, _ in _drain(spool)]
    assert kept == ["6", "7", "8", "9"]
    assert spool.stats.dropped == 6
    assert len([r for r in caplog.records if "full" in r.message]) == 1


def test_a_corrupt_spool_file_is_moved_aside_and_counted(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.put(b"good one", message_id="a")
    spool.put(b"bad one", message_id="b")
    spool.put(b"good two", message_id="c")
    victim = spool.entries()[1].path
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0xFF
    victim.write_bytes(bytes(data))
    (tmp_path / "0000000000000100.spool").write_bytes(b"xx")

    reopened = Spool(tmp_path)

    assert _drain(reopened) == [("a", b"good one"), ("c", b"good two")]
    assert reopened.stats.bad == 2
    assert sorted(p.name for p in (tmp_path / "bad").iterdir()) == [
        "0000000000000001.spool",
        "0000000000000100.spool",
    ]
