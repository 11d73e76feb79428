"""The chunk payload format and grouping batches by signal."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from app.store import chunks
from edge.errors import StoreError
from edge.wire import Batch
from tests.app.store.factory import make_batches, reference_points

timestamps = hnp.arrays(
    np.int64, st.integers(1, 300), elements=st.integers(-(2**60), 2**60), unique=False
)


@given(timestamps, st.booleans(), st.data())
def test_chunk_payload_round_trips_bit_exact(
    ts: np.ndarray, compress: bool, data: st.DataObject
) -> None:
    ts = np.sort(ts)
    values = data.draw(hnp.arrays(np.float64, ts.size, elements=st.floats(allow_nan=True)))
    got_ts, got_values = chunks.unpack(chunks.pack(ts, values, compress=compress))
    assert np.array_equal(got_ts, ts)
    assert np.array_equal(got_values.view(np.uint64), values.view(np.uint64))


def test_chunk_uses_32_bit_deltas_unless_points_are_far_apart() -> None:
    values = np.zeros(3)
    near = chunks.pack(np.array([0, 10, 2**32 - 1]), values)
    far = chunks.pack(np.array([0, 10, 2**33]), values)
    assert len(near) == 14 + 2 * 4 + 3 * 8
    assert len(far) == 14 + 2 * 8 + 3 * 8
    assert chunks.unpack(far)[0].tolist() == [0, 10, 2**33]


def test_packing_refuses_unsorted_or_empty_points() -> None:
    with pytest.raises(StoreError, match="sorted"):
        chunks.pack(np.array([5, 4]), np.zeros(2))
    with pytest.raises(StoreError, match="at least 1"):
        chunks.pack(np.array([], np.int64), np.zeros(0))


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: p[:10], "at least 14 bytes"),
        (lambda p: b"\x02" + p[1:], "version 1"),
        (lambda p: p[:1] + b"\x80" + p[2:], "damaged"),
        (lambda p: p[:-1], "body bytes"),
        (lambda p: p[:1] + b"\x01" + p[2:], "inflate"),
    ],
)
def test_a_damaged_payload_raises_store_error_saying_why(
    damage: Callable[[bytes], bytes], message: str
) -> None:
    payload = chunks.pack(np.arange(4, dtype=np.int64), np.ones(4))
    with pytest.raises(StoreError, match=message):
        chunks.unpack(damage(payload))


def test_grouping_sorts_each_signal_by_time() -> None:
    batches = make_batches(1, 5, seed=3)
    grouped = chunks.group_by_signal(batches[::-1])
    ids, ts, values = reference_points(batches)

    assert np.array_equal(grouped.point_signal_ids(), ids)
    assert np.array_equal(grouped.timestamps_us, ts)
    assert np.array_equal(grouped.values.view(np.uint64), values.view(np.uint64))
    assert [s for s, _, _ in grouped.runs()] == sorted(set(ids.tolist()))


def test_grouping_refuses_batches_of_two_trucks() -> None:
    with pytest.raises(StoreError, match="one truck"):
        chunks.group_by_signal(make_batches(1, 1) + make_batches(2, 1))


@pytest.mark.parametrize("compress", [False, True])
def test_chunk_rows_match_packing_each_piece_and_never_span_a_split(compress: bool) -> None:
    batches = make_batches(1, 6, seed=5)
    fp = batches[0].fingerprint
    # Two points of one signal 2**33 µs apart: a chunk with 64-bit deltas.
    far = [Batch.from_points(1, 0, 98 + i, fp, [7], [10**15 + i * 2**33], [1.0]) for i in (0, 1)]
    grouped = chunks.group_by_signal([*batches, *far])
    split = 400_000  # several pieces per signal within the batches' 1.5 s
    rows = chunks.chunk_rows(grouped, split_us=split, compress=compress)

    pieces = []
    for signal_id, ts, values in grouped.runs():
        for stretch in np.unique(ts // split):
            keep = ts // split == stretch
            pieces.append((signal_id, ts[keep], values[keep]))
    assert len(rows) == len(pieces)
    for row, (signal_id, ts, values) in zip(rows, pieces, strict=True):
        finite = values[np.isfinite(values)]
        assert row[:4] == (signal_id, ts[0], ts[-1], ts.size)
        assert row[4:6] == ((finite.min(), finite.max()) if finite.size else (None, None))
        assert row[6] == chunks.pack(ts, values, compress=compress)
