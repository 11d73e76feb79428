"""Partial rollups and their merge rule, against plain numpy."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.store.chunks import group_by_signal
from app.store.rollup import MINUTE_US, Rollups, merge, partial
from edge.catalog import default_catalog
from edge.wire import Batch

T0 = 1_700_000_000_000_000


def _batches(seed: int, count: int) -> list[Batch]:
    rng = np.random.default_rng(seed)
    fp = default_catalog().fingerprint
    out = []
    for seq in range(count):
        ids = rng.integers(0, 5, 50)
        # Coarse timestamps and values make ties, the hard case for `last`.
        ts = T0 + seq * 30_000_000 + rng.integers(0, 4, 50) * 10_000_000
        values = rng.integers(-3, 4, 50).astype(np.float64)
        out.append(Batch.from_points(1, 1, seq, fp, ids, ts, values))
    return out


def _reference(batches: list[Batch]) -> dict[tuple[int, int], tuple[float, ...]]:
    ids = np.concatenate([b.signal_ids for b in batches]).astype(np.int64)
    ts = np.concatenate([b.timestamps_us for b in batches])
    values = np.concatenate([b.values for b in batches])
    minutes = ts // MINUTE_US * MINUTE_US
    out: dict[tuple[int, int], tuple[float, ...]] = {}
    for s, m in sorted(set(zip(ids.tolist(), minutes.tolist(), strict=True))):
        mask = (ids == s) & (minutes == m)
        v, t = values[mask], ts[mask]
        newest = v[t == t.max()].max()
        out[(s, m)] = (mask.sum(), v.min(), v.max(), v.sum(), newest, t.max())
    return out


def _as_dict(r: Rollups) -> dict[tuple[int, int], tuple[float, ...]]:
    return {
        (int(r.signal_ids[i]), int(r.minute_us[i])): (
            r.count[i],
            r.vmin[i],
            r.vmax[i],
            r.vsum[i],
            r.last[i],
            r.last_t_us[i],
        )
        for i in range(len(r))
    }


def test_partial_rollups_equal_a_numpy_reference() -> None:
    batches = _batches(0, 6)
    assert _as_dict(partial(group_by_signal(batches))) == _reference(batches)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32), st.permutations(range(6)), st.integers(1, 5))
def test_merging_partials_gives_the_same_rows_in_any_order(
    seed: int, order: list[int], cut: int
) -> None:
    batches = _batches(seed, 6)
    arrived = [batches[i] for i in order]
    merged = merge(partial(group_by_signal(arrived[:cut])), partial(group_by_signal(arrived[cut:])))
    # Integer-valued data keeps sums exact, so equality is exact too.
    assert _as_dict(merged) == _reference(batches)


def test_merge_with_nothing_is_the_identity() -> None:
    rollups = partial(group_by_signal(_batches(1, 2)))
    assert _as_dict(merge(rollups, Rollups.empty())) == _as_dict(rollups)
    assert len(merge(Rollups.empty(), Rollups.empty())) == 0
