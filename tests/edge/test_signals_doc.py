"""The generated signal reference must match the DBC it describes."""

from __future__ import annotations

from pathlib import Path

from edge.catalog import default_catalog
from edge.signals_doc import j1939_pgn, render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "signals.md"


def test_docs_signals_md_is_up_to_date_with_the_dbc() -> None:
    expected = render_markdown(default_catalog())
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/signals.md is out of date; run: python -m edge.signals_doc docs/signals.md"
    )


def test_every_signal_name_appears_on_the_page() -> None:
    page = render_markdown(default_catalog())
    missing = [s.key for s in default_catalog().signals if s.key not in page]
    assert missing == []


def test_every_message_gets_a_section_with_its_id() -> None:
    page = render_markdown(default_catalog())
    for message in default_catalog().database.messages:
        assert f"## {message.name} (0x{message.frame_id:X})" in page


def test_cell_families_collapse_into_one_row_each() -> None:
    page = render_markdown(default_catalog())
    assert "| CellVoltage001 … CellVoltage192 |" in page
    assert "| CellTemp01 … CellTemp48 |" in page
    assert "| 47 | CellVoltage189, CellVoltage190, CellVoltage191, CellVoltage192 |" in page


def test_j1939_pgn_keeps_the_group_extension_of_pdu2_frames() -> None:
    assert j1939_pgn(0x18FEF100) == 65265  # CCVS1


def test_j1939_pgn_drops_the_destination_address_of_pdu1_frames() -> None:
    assert j1939_pgn(0x18EA00F9) == 0xEA00  # request, sent to address 0x00
    assert j1939_pgn(0x18EAFFF9) == 0xEA00  # the same request, broadcast
