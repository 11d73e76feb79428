"""The wire format round-trips batches and rejects anything else with WireFormatError."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.errors import WireFormatError
from edge.wire import Batch, pack, unpack


def _batch(n: int, seed: int = 0) -> Batch:
    rng = np.random.default_rng(seed)
    return Batch.from_points(
        truck_id=12,
        agent_start=2**63 + 5,
        seq=41,
        fingerprint=0xDEADBEEF,
        signal_ids=rng.integers(0, 289, n),
        timestamps_us=1_700_000_000_000_000 + rng.integers(0, 250_000, n),
        values=rng.normal(size=n),
    )


@pytest.mark.parametrize("compress", [False, True])
def test_pack_then_unpack_gives_the_same_batch(compress: bool) -> None:
    batch = _batch(700)
    back = unpack(pack(batch, compress=compress))
    assert back.key == batch.key
    assert back.fingerprint == batch.fingerprint and back.t_base_us == batch.t_base_us
    np.testing.assert_array_equal(back.signal_ids, batch.signal_ids)
    np.testing.assert_array_equal(back.t_offsets_us, batch.t_offsets_us)
    np.testing.assert_array_equal(back.values, batch.values)


def _rejects_or_parses(data: bytes) -> None:
    try:
        unpack(data)
    except WireFormatError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_raise_only_wire_format_errors(data: bytes) -> None:
    _rejects_or_parses(data)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 200), st.booleans(), st.data())
def test_a_truncated_message_is_rejected(n: int, compress: bool, data: st.DataObject) -> None:
    body = pack(_batch(n), compress=compress)
    cut = data.draw(st.integers(0, len(body) - 1))
    with pytest.raises(WireFormatError):
        unpack(body[:cut])


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 100), st.booleans(), st.data())
def test_a_flipped_bit_is_rejected(n: int, compress: bool, data: st.DataObject) -> None:
    body = bytearray(pack(_batch(n), compress=compress))
    bit = data.draw(st.integers(0, len(body) * 8 - 1))
    body[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(WireFormatError):
        unpack(bytes(body))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=36, max_size=300), st.booleans())
def test_a_valid_crc_over_garbage_still_raises_only_wire_format_errors(
    garbage: bytes, zlib_flag: bool
) -> None:
    head = b"FL\x01" + (b"\x01" if zlib_flag else b"\x00") + garbage[4:]
    _rejects_or_parses(head + zlib.crc32(head).to_bytes(4, "little"))
