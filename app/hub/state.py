"""The latest value of every signal of every truck, held as dense numpy arrays.

One row per truck, one column per signal id. A cell holds the time and value
of the newest point seen, the state version at which its value last changed,
and how many times it changed. Each applied batch raises the state version by
one, so "what changed since version s" is a vectorised comparison, and a
reader that remembers the version of its last look gets exactly the cells
whose value changed after it.

A batch updates the state without a Python object per point: for each signal
the batch's newest point is picked with one ``maximum.at`` over a key made of
time and position. A point older than the one held never replaces it. A point
that repeats the held value moves the held time forward but counts as a change
only once the held time has moved on by ``refresh_us`` (one second by default)
since the cell last changed: readers are not sent a steady value at its full
rate, yet every value they hold is at most about a second old, so a browser
can tell a steady signal from a truck that went quiet.

Nothing here does I/O; the hub, the feed and the tests drive it directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.wire import MAX_POINTS, Batch

__all__ = ["Cells", "LiveState"]

_POS_BITS = MAX_POINTS.bit_length()
_POS_MASK = (1 << _POS_BITS) - 1
_UNSET_T = np.iinfo(np.int64).min


@dataclass(frozen=True, eq=False)
class Cells:
    """A selection of cells: parallel columns of truck id, signal id, time and value."""

    truck_ids: npt.NDArray[np.int64]
    signal_ids: npt.NDArray[np.intp]
    t_us: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    changes: int
    """Value changes the selected region has seen in total (for conflation counts)."""

    def __len__(self) -> int:
        return int(self.truck_ids.shape[0])


class LiveState:
    """Latest (time, value) per truck and signal, with change versions."""

    def __init__(self, n_signals: int, *, capacity: int = 64, refresh_us: int = 1_000_000) -> None:
        self.n_signals = n_signals
        self.refresh_us = refresh_us
        self.version = 0
        self.points_dropped = 0
        """Points skipped because their signal id is unknown or their value is not finite."""
        self._rows: dict[int, int] = {}
        self._truck_ids = np.zeros(capacity, dtype=np.int64)
        self._t = np.full((capacity, n_signals), _UNSET_T, dtype=np.int64)
        self._v = np.full((capacity, n_signals), np.nan, dtype=np.float64)
        self._ver = np.zeros((capacity, n_signals), dtype=np.int64)
        self._t_changed = np.zeros((capacity, n_signals), dtype=np.int64)
        self._changes = np.zeros((capacity, n_signals), dtype=np.int64)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, truck_id: object) -> bool:
        return truck_id in self._rows

    def trucks(self) -> list[int]:
        """Every truck seen so far, in the order they appeared."""
        return list(self._rows)

    def apply(self, batch: Batch) -> int:
        """Take a batch's newest point per signal; return how many cells changed value."""
        ids = batch.signal_ids.astype(np.intp)
        values = batch.values
        offsets = batch.t_offsets_us
        usable = (ids < self.n_signals) & np.isfinite(values)
        if not usable.all():
            self.points_dropped += int(usable.size - np.count_nonzero(usable))
            ids, values, offsets = ids[usable], values[usable], offsets[usable]
        if ids.size == 0:
            return 0

        # The newest point of each signal; among equal times, the later one in the batch.
        key = (offsets.astype(np.int64) << _POS_BITS) | np.arange(ids.size, dtype=np.int64)
        best = np.full(self.n_signals, -1, dtype=np.int64)
        np.maximum.at(best, ids, key)
        cols = np.flatnonzero(best >= 0)
        picked = best[cols] & _POS_MASK
        return self._merge(
            batch.truck_id, cols, offsets[picked].astype(np.int64) + batch.t_base_us, values[picked]
        )

    def restore(self, truck_id: int, points: Mapping[int, tuple[int, float]]) -> int:
        """Merge known (t_us, value) per signal id, as from a cache; older points lose."""
        known = [(i, t, v) for i, (t, v) in points.items() if 0 <= i < self.n_signals]
        if not known:
            return 0
        cols = np.array([i for i, _, _ in known], dtype=np.intp)
        t_us = np.array([t for _, t, _ in known], dtype=np.int64)
        values = np.array([v for _, _, v in known], dtype=np.float64)
        finite = np.isfinite(values)
        return self._merge(truck_id, cols[finite], t_us[finite], values[finite])

    def _merge(
        self,
        truck_id: int,
        cols: npt.NDArray[np.intp],
        t_us: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
    ) -> int:
        row = self._row(truck_id)
        newer = t_us >= self._t[row, cols]
        cols, t_us, values = cols[newer], t_us[newer], values[newer]
        moved_on = t_us - self._t_changed[row, cols] >= self.refresh_us
        changed_mask = (values != self._v[row, cols]) | moved_on
        changed = cols[changed_mask]
        self._t[row, cols] = t_us
        self._v[row, cols] = values
        if changed.size:
            self.version += 1
            self._ver[row, changed] = self.version
            self._t_changed[row, changed] = t_us[changed_mask]
            self._changes[row, changed] += 1
        return int(changed.size)

    def select(
        self,
        trucks: Sequence[int] | None,
        signal_ids: npt.NDArray[np.intp],
        *,
        since: int = 0,
    ) -> Cells:
        """Cells of these trucks (None: all) and signals whose value changed after since.

        With since=0 this is every cell that holds a value: a snapshot.
        """
        rows = self._select_rows(trucks)
        region = np.ix_(rows, signal_ids)
        r, c = np.nonzero(self._ver[region] > since)
        rr, cc = rows[r], signal_ids[c]
        return Cells(
            truck_ids=self._truck_ids[rr],
            signal_ids=cc,
            t_us=self._t[rr, cc],
            values=self._v[rr, cc],
            changes=int(self._changes[region].sum()),
        )

    def changed_trucks(self, since: int, signal_ids: npt.NDArray[np.intp]) -> list[int]:
        """Trucks with a cell of these signals whose value changed after version since."""
        n = len(self._rows)
        hit = (self._ver[:n, signal_ids] > since).any(axis=1)
        return [int(t) for t in self._truck_ids[:n][hit]]

    def latest(self, truck_id: int, signal_ids: Iterable[int]) -> dict[int, tuple[int, float]]:
        """The held (t_us, value) of some signals of one truck; signals never seen are left out."""
        row = self._rows.get(truck_id)
        if row is None:
            return {}
        out: dict[int, tuple[int, float]] = {}
        for sid in signal_ids:
            t = int(self._t[row, sid])
            if t != _UNSET_T:
                out[sid] = (t, float(self._v[row, sid]))
        return out

    def _select_rows(self, trucks: Sequence[int] | None) -> npt.NDArray[np.intp]:
        if trucks is None:
            return np.arange(len(self._rows), dtype=np.intp)
        rows = [self._rows[t] for t in trucks if t in self._rows]
        return np.array(rows, dtype=np.intp)

    def _row(self, truck_id: int) -> int:
        row = self._rows.get(truck_id)
        if row is not None:
            return row
        row = len(self._rows)
        if row == self._truck_ids.shape[0]:
            self._grow()
        self._rows[truck_id] = row
        self._truck_ids[row] = truck_id
        return row

    def _grow(self) -> None:
        size = self._truck_ids.shape[0]
        self._truck_ids = np.concatenate([self._truck_ids, np.zeros(size, dtype=np.int64)])
        self._t = np.vstack([self._t, np.full_like(self._t, _UNSET_T)])
        self._v = np.vstack([self._v, np.full_like(self._v, np.nan)])
        self._ver = np.vstack([self._ver, np.zeros_like(self._ver)])
        self._t_changed = np.vstack([self._t_changed, np.zeros_like(self._t_changed)])
        self._changes = np.vstack([self._changes, np.zeros_like(self._changes)])
