"""The C codec decodes every frame exactly as cantools does, and survives hostile input.

Databases are written here as DBC text and loaded by cantools, so each one
goes through the same parser as a real file. Every comparison is exact:
same keys, same values (NaN equal to NaN), same error class.
"""

from __future__ import annotations

import importlib.util
import math
import random
from pathlib import Path
from typing import Any

import cantools
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.catalog import DEFAULT_DBC, load_database
from edge.codec_table import CCodecEngine, build_table
from edge.errors import CatalogError, DecodeError, FrameTooShortError, UnknownFrameError

EXT = 0x80000000


def dbc(messages: list[str], extra: str = "") -> Any:
    """A cantools database from BO_ blocks (and trailing DBC sections)."""
    text = 'VERSION ""\n\nNS_ :\n\nBS_:\n\nBU_: ECU\n\n' + "\n\n".join(messages) + "\n\n" + extra
    return cantools.database.load_string(text, "dbc")


def sig(
    name: str,
    start: int,
    length: int,
    big: bool = False,
    signed: bool = False,
    scale: str = "1",
    offset: str = "0",
    mux: str = "",
) -> str:
    order = "0" if big else "1"
    sign = "-" if signed else "+"
    mux_part = f" {mux}" if mux else ""
    return f' SG_ {name}{mux_part} : {start}|{length}@{order}{sign} ({scale},{offset}) [0|0] "" ECU'


def msg(frame_id: int, name: str, length: int, signals: list[str]) -> str:
    return f"BO_ {frame_id} {name}: {length} ECU\n" + "\n".join(signals)


def same(want: Any, got: Any) -> bool:
    """Exact equality of two decode results, NaN matching NaN."""
    if isinstance(want, dict) and isinstance(got, dict):
        return want.keys() == got.keys() and all(same(want[k], got[k]) for k in want)
    if isinstance(want, float) and isinstance(got, float) and math.isnan(want):
        return math.isnan(got)
    return bool(want == got) and type(want) is type(got)


def outcome(decode: Any) -> Any:
    """A decode result, or the built-in class of the error it raised."""
    try:
        return decode()
    except KeyError:
        return KeyError
    except (ValueError, cantools.database.DecodeError):
        return ValueError


def reference(database: Any, frame_id: int, data: bytes) -> Any:
    return outcome(lambda: database.decode_message(frame_id, data, decode_choices=False))


def mismatches(database: Any, frames: list[tuple[int, bytes]]) -> list[Any]:
    """Frames whose decode differs between cantools and the C codec, per frame and in bulk."""
    engine = CCodecEngine(database)
    bad = []
    for frame_id, data in frames:
        want = reference(database, frame_id, data)
        got = outcome(lambda f=frame_id, d=data: engine.decode(f, d))
        if not same(want, got):
            bad.append((hex(frame_id), data.hex(), want, got))
    bad.extend(bulk_mismatches(database, engine, frames))
    return bad


def bulk_mismatches(
    database: Any, engine: CCodecEngine, frames: list[tuple[int, bytes]]
) -> list[Any]:
    """Compares decode_many over 64-byte rows against cantools frame by frame."""
    ids = np.array([f for f, _ in frames], dtype=np.uint32)
    rows = np.zeros((len(frames), 64), dtype=np.uint8)
    lengths = np.array([len(d) for _, d in frames], dtype=np.uint8)
    for i, (_, data) in enumerate(frames):
        rows[i, : len(data)] = np.frombuffer(data, dtype=np.uint8)
    index, signal, value = engine.decode_many(ids, rows, lengths)
    got: dict[int, dict[str, float]] = {}
    for i, s, v in zip(index.tolist(), signal.tolist(), value.tolist(), strict=True):
        got.setdefault(i, {})[engine.signals[s][1]] = v
    bad = []
    for i, (frame_id, data) in enumerate(frames):
        want = reference(database, frame_id, data)
        expected = {k: float(v) for k, v in want.items()} if isinstance(want, dict) else {}
        if not same(expected, got.get(i, {})):
            bad.append(("bulk", hex(frame_id), data.hex(), expected, got.get(i)))
    return bad


def random_frames(database: Any, per_message: int, seed: int) -> list[tuple[int, bytes]]:
    rng = random.Random(seed)
    frames = []
    for message in database.messages:
        frame_id = message.frame_id
        if message.is_extended_frame and frame_id <= 0x7FF:
            frame_id |= EXT
        for _ in range(per_message):
            frames.append((frame_id, rng.randbytes(message.length)))
    return frames


def layout_database(big: bool, payload: int, starts_step: int) -> Any:
    """One message per (length, start) that fits, alternating signed and unsigned."""
    blocks = []
    number = 0
    bits = 8 * payload
    for length in range(1, 65):
        for position in range(0, bits - length + 1, starts_step):
            start = 8 * (position // 8) + 7 - position % 8 if big else position
            number += 1
            signal = sig("S", start, length, big=big, signed=number % 2 == 0)
            blocks.append(msg(EXT | (0x100000 + number), f"M{number}", payload, [signal]))
    return dbc(blocks)


@pytest.mark.parametrize("big", [False, True], ids=["intel", "motorola"])
def test_every_start_bit_and_length_decodes_like_cantools(big: bool) -> None:
    database = layout_database(big, payload=8, starts_step=1)
    assert mismatches(database, random_frames(database, 6, seed=1)) == []


@pytest.mark.parametrize("big", [False, True], ids=["intel", "motorola"])
def test_fd_payloads_of_64_bytes_decode_like_cantools(big: bool) -> None:
    database = layout_database(big, payload=64, starts_step=29)
    assert mismatches(database, random_frames(database, 4, seed=2)) == []


SCALES = ["1", "2", "-3", "0.1", "0.5", "1e-07", "0.333333", "1000000", "-0.01", "1.0"]
OFFSETS = ["0", "-40", "273.15", "0.5", "-1e+17", "7", "1e-09", "-32768"]


def test_odd_scales_offsets_and_floats_decode_like_cantools() -> None:
    blocks = []
    number = 0
    for scale in SCALES:
        for offset in OFFSETS:
            number += 1
            signals = [
                sig("U", 0, 13, scale=scale, offset=offset),
                sig("S", 13, 27, signed=True, scale=scale, offset=offset),
                sig("B", 47, 24, big=True, signed=True, scale=scale, offset=offset),
            ]
            blocks.append(msg(number, f"M{number}", 8, signals))
    floats = [
        msg(
            0x700, "F32", 8, [sig("F", 0, 32, scale="0.5", offset="1"), sig("G", 39, 32, big=True)]
        ),
        msg(0x701, "F64", 8, [sig("D", 0, 64)]),
        msg(0x702, "F64BE", 8, [sig("D", 7, 64, big=True, scale="3", offset="-2")]),
        msg(0x703, "U64", 8, [sig("Q", 0, 64)]),
        msg(0x704, "S64", 8, [sig("Q", 0, 64, signed=True, scale="3", offset="-5")]),
        msg(0x705, "S64P", 8, [sig("Q", 0, 64, signed=True, scale="3", offset="0.25")]),
    ]
    kinds = (
        "SIG_VALTYPE_ 1792 F : 1;\nSIG_VALTYPE_ 1792 G : 1;\n"
        "SIG_VALTYPE_ 1793 D : 2;\nSIG_VALTYPE_ 1794 D : 2;\n"
    )
    database = dbc(blocks + floats, kinds)
    frames = random_frames(database, 30, seed=3)
    frames += [(0x701, bytes.fromhex("000000000000f87f")), (0x700, bytes(8))]
    assert mismatches(database, frames) == []


def mux_database() -> Any:
    """Simple, nested and choice-only multiplexers, as DBC files write them."""
    simple = msg(
        0x200,
        "Simple",
        8,
        [
            sig("Mux", 0, 4, mux="M"),
            sig("Always", 56, 8, signed=True),
            sig("A", 8, 16, mux="m0", scale="0.1"),
            sig("B", 15, 12, big=True, mux="m1"),
            sig("C", 24, 8, mux="m1"),
            sig("D", 8, 32, mux="m15", signed=True),
        ],
    )
    nested = msg(
        EXT | 0x1234567,
        "Nested",
        16,
        [
            sig("Top", 0, 8, mux="M"),
            sig("Mid", 8, 8, mux="m1M"),
            sig("Leaf1", 16, 16, mux="m2"),
            sig("Leaf2", 32, 16, mux="m3", signed=True),
            sig("Other", 16, 32, mux="m4"),
            sig("Deep", 48, 8, mux="m5M"),
            sig("Bottom", 56, 64),
        ],
    )
    scaled = msg(
        0x202,
        "ScaledMux",
        8,
        [
            sig("SMux", 0, 8, mux="M", scale="0.5"),
            sig("X", 8, 8, mux="m1"),
            sig("Y", 8, 8, mux="m2"),
        ],
    )
    extra = (
        'VAL_ 514 SMux 7 "seven" 9 "nine";\n'
        f"SG_MUL_VAL_ {EXT | 0x1234567} Mid Top 1-1;\n"
        f"SG_MUL_VAL_ {EXT | 0x1234567} Leaf1 Mid 2-2;\n"
        f"SG_MUL_VAL_ {EXT | 0x1234567} Leaf2 Mid 3-3, 7-9;\n"
        f"SG_MUL_VAL_ {EXT | 0x1234567} Deep Mid 5-5;\n"
        f"SG_MUL_VAL_ {EXT | 0x1234567} Bottom Deep 1-3;\n"
        f"SG_MUL_VAL_ {EXT | 0x1234567} Other Top 4-4;\n"
    )
    return dbc([simple, nested, scaled], extra)


def test_simple_and_nested_multiplexers_select_what_cantools_selects() -> None:
    database = mux_database()
    rng = random.Random(4)
    frames = []
    for message in database.messages:
        frame_id = message.frame_id | (EXT if message.is_extended_frame else 0)
        for _ in range(400):
            data = bytearray(rng.randbytes(message.length))
            data[0] = rng.choice([0, 1, 2, 4, 7, 9, 14, 15, 18, rng.randrange(256)])
            data[1] = rng.choice([2, 3, 5, 8, rng.randrange(256)])
            data[6] = rng.choice([1, 2, 3, 4, rng.randrange(256)])
            frames.append((frame_id, bytes(data)))
    assert mismatches(database, frames) == []
    assert any(isinstance(reference(database, f, d), dict) for f, d in frames)


def test_a_multiplexer_value_without_signals_is_a_decode_error() -> None:
    engine = CCodecEngine(mux_database())
    with pytest.raises(DecodeError, match="multiplexer"):
        engine.decode(0x200, bytes([5, 0, 0, 0, 0, 0, 0, 0]))
    ids = np.array([0x200, 0x200], dtype=np.uint32)
    rows = np.zeros((2, 8), dtype=np.uint8)
    rows[0, 0] = 5
    index, _, _ = engine.decode_many(ids, rows)
    assert set(index.tolist()) == {1}
    assert engine.stats.undecodable == 1


def test_j1939_and_masked_ids_are_found_as_cantools_finds_them() -> None:
    text = [
        msg(EXT | 0x18FEF100, "EEC1", 8, [sig("Speed", 24, 16, scale="0.125")]),
        msg(EXT | 0x0CF00400, "ETC", 8, [sig("Torque", 16, 8, offset="-125")]),
        msg(0x123, "Std", 2, [sig("V", 0, 16)]),
        msg(EXT | 0x123, "ExtSmall", 2, [sig("W", 0, 16, signed=True)]),
    ]
    extra = (
        'BA_DEF_ BO_ "VFrameFormat" ENUM "StandardCAN","ExtendedCAN","reserved","J1939PG";\n'
        'BA_DEF_DEF_ "VFrameFormat" "StandardCAN";\n'
        f'BA_ "VFrameFormat" BO_ {EXT | 0x18FEF100} 3;\n'
    )
    database = dbc(text, extra)
    frames = random_frames(database, 20, seed=5)
    frames += [(0x123, b"\x01\x02"), (EXT | 0x123, b"\x01\x02"), (0x18FEF1FE, bytes(8))]
    assert mismatches(database, frames) == []

    masked: Any = cantools.database.load_string(
        'VERSION ""\nNS_ :\nBS_:\nBU_: ECU\n' + "\n\n".join(text) + "\n",
        "dbc",
        frame_id_mask=0x1FFFFF00,
    )
    engine = CCodecEngine(masked)
    message = masked.get_message_by_frame_id(0x18FEF1A5)
    data = bytes(range(8))
    want = message.decode(data, decode_choices=False)
    assert engine.decode(0x18FEF1A5, data) == want
    assert engine.decode(0x18FEF100, data) == masked.decode_message(
        0x18FEF100, data, decode_choices=False
    )


def test_the_truck_dbc_decodes_like_cantools() -> None:
    database = load_database(DEFAULT_DBC)
    assert mismatches(database, random_frames(database, 100, seed=6)) == []


def opendbc_files() -> list[Path]:
    spec = importlib.util.find_spec("opendbc")
    if spec is None or not spec.submodule_search_locations:
        return []
    return sorted((Path(next(iter(spec.submodule_search_locations))) / "dbc").glob("*.dbc"))


@pytest.mark.skipif(not opendbc_files(), reason="opendbc (real vehicle DBCs) is not installed")
def test_real_vehicle_dbcs_decode_like_cantools() -> None:
    checked = 0
    for path in opendbc_files():
        try:
            database = cantools.database.load_file(str(path), strict=True)
        except Exception:  # files cantools refuses are not ours to test
            continue
        assert mismatches(database, random_frames(database, 8, seed=7)) == [], path.name
        checked += 1
    assert checked >= 30


def test_unknown_ids_and_short_frames_raise_the_projects_errors() -> None:
    database = load_database(DEFAULT_DBC)
    engine = CCodecEngine(database)
    message = database.messages[0]
    with pytest.raises(UnknownFrameError):
        engine.decode(0x7FE, bytes(8))
    with pytest.raises(UnknownFrameError):
        engine.decode(-1, bytes(8))
    with pytest.raises(UnknownFrameError):
        engine.decode(1 << 40, bytes(8))
    with pytest.raises(FrameTooShortError, match=f"expected {message.length} data bytes, got 3"):
        engine.decode(message.frame_id, bytes(3))
    with pytest.raises(KeyError):
        database.decode_message(0x7FE, bytes(8))


def test_layouts_cantools_cannot_decode_signal_by_signal_are_refused() -> None:
    overlapping = cantools.database.load_string(
        'VERSION ""\nNS_ :\nBS_:\nBU_: ECU\n'
        + msg(0x10, "Bad", 2, [sig("A", 0, 12), sig("B", 8, 8)])
        + "\n",
        "dbc",
        strict=False,
    )
    with pytest.raises(CatalogError, match="overlaps"):
        build_table(overlapping)


def test_signal_ids_follow_the_catalogue_order() -> None:
    database = load_database(DEFAULT_DBC)
    engine = CCodecEngine(database)
    assert engine.signals == [(m.name, s.name) for m in database.messages for s in m.signals]


def physical_values(message: Any, level: list[Any], draw: Any) -> dict[str, Any]:
    """Values for one decode path of a message: a branch per multiplexer, random raws."""
    values: dict[str, Any] = {}
    for entry in level:
        if isinstance(entry, str):
            signal = message.get_signal_by_name(entry)
            if signal.is_float:
                raw: Any = draw(st.floats(width=32 if signal.length == 32 else 64))
            elif signal.is_signed:
                top = 2 ** (signal.length - 1)
                raw = draw(st.integers(-top, top - 1))
            else:
                raw = draw(st.integers(0, 2**signal.length - 1))
            values[entry] = signal.conversion.raw_to_scaled(raw, False)
            continue
        name, branches = next(iter(entry.items()))
        key = draw(st.sampled_from(sorted(branches)))
        values[name] = key
        values.update(physical_values(message, branches[key], draw))
    return values


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_decoding_what_cantools_encoded_gives_the_values_back(data: st.DataObject) -> None:
    database = truck()
    message = data.draw(st.sampled_from(database.messages))
    values = physical_values(message, message.signal_tree, data.draw)
    encoded = message.encode(values, scaling=True, strict=False)
    frame_id = message.frame_id | (EXT if message.is_extended_frame else 0)
    want = message.decode(encoded, decode_choices=False)
    assert same(want, truck_engine().decode(frame_id, encoded))


_CACHE: dict[str, Any] = {}


def truck() -> Any:
    if "db" not in _CACHE:
        _CACHE["db"] = load_database(DEFAULT_DBC)
    return _CACHE["db"]


def truck_engine() -> CCodecEngine:
    if "engine" not in _CACHE:
        _CACHE["engine"] = CCodecEngine(truck())
    engine: CCodecEngine = _CACHE["engine"]
    return engine


@settings(max_examples=400, deadline=None)
@given(frame_id=st.integers(min_value=-(2**33), max_value=2**33), data=st.binary(max_size=100))
def test_hostile_single_frames_decode_or_raise_a_clear_error(frame_id: int, data: bytes) -> None:
    engine = CCodecEngine(mux_database()) if "mux" not in _CACHE else _CACHE["mux"]
    _CACHE["mux"] = engine
    try:
        result = engine.decode(frame_id, data)
    except (UnknownFrameError, DecodeError) as exc:
        assert str(exc)
    else:
        assert all(isinstance(v, int | float) for v in result.values())


@settings(max_examples=200, deadline=None)
@given(
    ids=st.lists(
        st.sampled_from([0x200, 0x202, EXT | 0x1234567, 0x1234567, 0, 0xFFFFFFFF])
        | st.integers(0, 2**32 - 1),
        max_size=50,
    ),
    stride=st.integers(min_value=1, max_value=64),
    seed=st.integers(min_value=0, max_value=2**32),
    with_lengths=st.booleans(),
)
def test_hostile_blocks_of_frames_are_counted_never_raised(
    ids: list[int], stride: int, seed: int, with_lengths: bool
) -> None:
    engine = CCodecEngine(mux_database()) if "mux" not in _CACHE else _CACHE["mux"]
    _CACHE["mux"] = engine
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 256, size=(len(ids), stride), dtype=np.uint8)
    lengths = rng.integers(0, 256, size=len(ids), dtype=np.uint8) if with_lengths else None
    before = engine.stats.frames
    index, signal, value = engine.decode_many(np.array(ids, dtype=np.uint32), rows, lengths)
    assert engine.stats.frames - before == len(ids)
    assert len(index) == len(signal) == len(value)
    assert np.all(np.diff(index) >= 0) if len(index) else True
    assert np.all(signal < len(engine.signals))


@pytest.mark.parametrize(
    ("ids", "rows", "lengths"),
    [
        (np.zeros((2, 2), dtype=np.uint32), np.zeros((2, 8), dtype=np.uint8), None),
        (np.zeros(2, dtype=np.uint32), np.zeros((3, 8), dtype=np.uint8), None),
        (np.zeros(2, dtype=np.uint32), np.zeros((2, 65), dtype=np.uint8), None),
        (np.zeros(2, dtype=np.uint32), np.zeros((2, 8), dtype=np.float32), None),
        (
            np.zeros(2, dtype=np.uint32),
            np.zeros((2, 8), dtype=np.uint8),
            np.zeros(3, dtype=np.uint8),
        ),
        (np.array([-1, 2]), np.zeros((2, 8), dtype=np.uint8), None),
        (np.zeros(2, dtype=np.float64), np.zeros((2, 8), dtype=np.uint8), None),
    ],
    ids=[
        "2d-ids",
        "row-count",
        "wide-rows",
        "float-rows",
        "length-count",
        "negative-id",
        "float-ids",
    ],
)
def test_malformed_blocks_are_refused_with_what_was_expected(
    ids: Any, rows: Any, lengths: Any
) -> None:
    with pytest.raises(DecodeError, match="expected"):
        truck_engine().decode_many(ids, rows, lengths)
