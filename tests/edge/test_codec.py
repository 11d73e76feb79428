"""The codec decodes exactly as cantools does, and counts what it cannot decode."""

from __future__ import annotations

from typing import Any

import cantools
import numpy as np
import pytest

from edge.catalog import DEFAULT_DBC, Catalog, load_database
from edge.codec import Codec
from edge.errors import FrameTooShortError, UnknownFrameError


@pytest.fixture(scope="module")
def database() -> Any:
    return load_database(DEFAULT_DBC)


@pytest.fixture(scope="module")
def codec(database: Any) -> Codec:
    return Codec(database)


def _valid_payloads(message: cantools.database.Message, rng: np.random.Generator) -> list[bytes]:
    """Random payloads; in a multiplexed message the selector takes each value the DBC knows."""
    raw = [rng.integers(0, 256, message.length, dtype=np.uint8) for _ in range(60)]
    selector = next((s for s in message.signals if s.is_multiplexer), None)
    if selector is None:
        return [r.tobytes() for r in raw]
    legal = sorted({v for s in message.signals for v in (s.multiplexer_ids or [])})
    payloads = []
    for index, data in enumerate(raw):
        bits = np.unpackbits(data, bitorder="little")
        value = legal[index % len(legal)]
        for position, bit in zip(
            _positions(selector), _msb_first(value, selector.length), strict=True
        ):
            bits[position] = bit
        payloads.append(np.packbits(bits, bitorder="little").tobytes())
    return payloads


def _positions(signal: cantools.database.Signal) -> list[int]:
    """Bit positions (byte * 8 + bit) of a signal, most significant first."""
    if signal.byte_order == "little_endian":
        return list(range(signal.start + signal.length - 1, signal.start - 1, -1))
    positions, position = [], signal.start
    for _ in range(signal.length):
        positions.append(position)
        position = position + 15 if position % 8 == 0 else position - 1
    return positions


def _msb_first(value: int, length: int) -> list[int]:
    return [(value >> shift) & 1 for shift in range(length - 1, -1, -1)]


def test_codec_signals_are_in_catalogue_order(codec: Codec, database: Any) -> None:
    catalog = Catalog(database)
    assert codec.signals == [(s.message, s.name) for s in catalog.signals]


def test_decode_equals_cantools_on_every_message(codec: Codec, database: Any) -> None:
    rng = np.random.default_rng(7)
    for message in database.messages:
        for data in _valid_payloads(message, rng):
            expected = database.decode_message(message.frame_id, data, decode_choices=False)
            assert codec.decode(message.frame_id, data) == expected


def test_decode_many_equals_cantools_frame_by_frame(database: Any) -> None:
    codec = Codec(database)
    rng = np.random.default_rng(11)
    frames = [(m.frame_id, d) for m in database.messages for d in _valid_payloads(m, rng)]
    order = rng.permutation(len(frames))
    frames = [frames[i] for i in order]
    ids = np.array([f for f, _ in frames], dtype=np.uint32)
    payloads = np.frombuffer(b"".join(d for _, d in frames), dtype=np.uint8).reshape(-1, 8)

    rows, signal_ids, values = codec.decode_many(ids, payloads)

    expected = []
    for row, (frame_id, data) in enumerate(frames):
        decoded = database.decode_message(frame_id, data, decode_choices=False)
        message = database.get_message_by_frame_id(frame_id)
        for name, value in decoded.items():
            expected.append((row, codec.signals.index((message.name, name)), value))
    got = list(zip(rows.tolist(), signal_ids.tolist(), values.tolist(), strict=True))
    assert sorted(got) == sorted(expected)
    assert rows.dtype == np.int64 and signal_ids.dtype == np.uint16 and values.dtype == np.float64
    assert np.all(np.diff(rows) >= 0)
    assert codec.stats.frames == len(frames)
    assert codec.stats.unknown_id == codec.stats.too_short == 0


def test_decode_many_reads_zero_padded_fd_rows(database: Any) -> None:
    codec = Codec(database)
    message = database.get_message_by_name("BMS_PackElec")
    data = bytes(range(1, 9))
    payloads = np.zeros((1, 64), dtype=np.uint8)
    payloads[0, :8] = np.frombuffer(data, dtype=np.uint8)

    _, signal_ids, values = codec.decode_many(
        np.array([message.frame_id], dtype=np.uint32), payloads, np.array([8], dtype=np.uint8)
    )

    expected = database.decode_message(message.frame_id, data, decode_choices=False)
    assert (
        dict(zip([codec.signals[i][1] for i in signal_ids], values.tolist(), strict=True))
        == expected
    )


def test_decode_many_counts_unknown_ids_and_short_frames_without_raising(codec: Codec) -> None:
    codec = Codec(codec.database)
    ids = np.array([0x100, 0x7FF, 0x100, 0x1234567, 0x100], dtype=np.uint32)
    payloads = np.full((5, 8), 0x11, dtype=np.uint8)
    lengths = np.array([8, 8, 3, 8, 8], dtype=np.uint8)

    rows, _, _ = codec.decode_many(ids, payloads, lengths)

    assert set(rows.tolist()) == {0, 4}
    assert (codec.stats.frames, codec.stats.unknown_id, codec.stats.too_short) == (5, 2, 1)


def test_decode_many_counts_a_selector_value_the_dbc_does_not_know(codec: Codec) -> None:
    codec = Codec(codec.database)
    cells = codec.database.get_message_by_name("BMS_CellVoltages")
    payloads = np.full((1, 8), 0xFF, dtype=np.uint8)

    rows, _, _ = codec.decode_many(np.array([cells.frame_id], dtype=np.uint32), payloads)

    assert rows.size == 0
    assert codec.stats.undecodable == 1


def test_decode_raises_on_unknown_id(codec: Codec) -> None:
    with pytest.raises(UnknownFrameError, match="0x7FF"):
        codec.decode(0x7FF, bytes(8))


def test_decode_raises_on_a_frame_shorter_than_its_message(codec: Codec) -> None:
    with pytest.raises(FrameTooShortError, match="expected 8 data bytes, got 5"):
        codec.decode(0x100, bytes(5))


def test_decode_looks_extended_ids_up_by_their_29_bits(codec: Codec, database: Any) -> None:
    message = database.get_message_by_name("EBC1")
    assert message.is_extended_frame
    data = bytes([0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0])
    expected = database.decode_message(message.frame_id, data, decode_choices=False)
    assert codec.decode(message.frame_id, data) == expected
