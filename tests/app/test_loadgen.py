"""Recorded trucks: what the load generator replays is what agents would send."""

from __future__ import annotations

import numpy as np

from app.loadgen import record
from edge.catalog import default_catalog


def test_recorded_batches_are_consecutive_windows_of_stored_signals_only() -> None:
    catalog = default_catalog()
    recorded = record(catalog, trucks=2, seconds=3.0, window_ms=250)

    assert len(recorded) == 2
    for batches in recorded:
        assert [b.seq for b in batches] == list(range(len(batches)))
        assert len(batches) >= 11
        starts = [b.t_base_us for b in batches]
        assert starts == sorted(starts)
        ids = np.concatenate([b.signal_ids for b in batches])
        assert all(catalog.signals[i].stored for i in np.unique(ids))
        points = sum(len(b) for b in batches)
        # About 2,579 stored points a second at the DBC's rates.
        assert 0.8 * 3 * 2579 < points < 1.2 * 3 * 2579
