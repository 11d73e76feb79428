"""One-minute rollups: count, min, max, sum and last of a signal per minute.

A write computes a partial rollup per (signal, minute) from the points it
stores, and the database merges it into the stored row with the rule of
:func:`merge`: counts and sums add, min and max take the smaller and larger,
and ``last`` is the value with the latest timestamp; between two values at the
same timestamp the larger one wins. Every part of the rule is commutative and
associative, so the stored row does not depend on the order batches arrive in
(sums up to floating-point rounding). The ledger keeps a batch from being
merged twice.

Values that are not finite (NaN, ±inf), or larger in magnitude than
``ROLLUP_LIMIT``, are stored in chunks but left out of rollups: a database
column cannot hold a non-finite number, one would poison every aggregate of
its minute, and below the limit no sum of 2**32 values can overflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.store.chunks import Grouped

__all__ = ["MINUTE_US", "ROLLUP_LIMIT", "Rollups", "merge", "partial"]

MINUTE_US = 60_000_000
ROLLUP_LIMIT = 1e150


@dataclass(frozen=True, eq=False)
class Rollups:
    """Rollup rows of one truck, columnar, sorted by signal then minute."""

    signal_ids: npt.NDArray[np.int64]
    minute_us: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]
    vmin: npt.NDArray[np.float64]
    vmax: npt.NDArray[np.float64]
    vsum: npt.NDArray[np.float64]
    last: npt.NDArray[np.float64]
    last_t_us: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.signal_ids.shape[0])

    @property
    def mean(self) -> npt.NDArray[np.float64]:
        return self.vsum / self.count

    @classmethod
    def empty(cls) -> Rollups:
        i, f = np.empty(0, np.int64), np.empty(0, np.float64)
        return cls(i, i, i, f, f, f, f, i)

    @classmethod
    def from_rows(
        cls, rows: list[tuple[int, int, int, float, float, float, float, int]]
    ) -> Rollups:
        """From (signal, minute, count, min, max, sum, last, last_t) rows."""
        if not rows:
            return cls.empty()
        sid, minute, count, vmin, vmax, vsum, last, last_t = zip(*rows, strict=True)
        return cls(
            np.array(sid, np.int64),
            np.array(minute, np.int64),
            np.array(count, np.int64),
            np.array(vmin, np.float64),
            np.array(vmax, np.float64),
            np.array(vsum, np.float64),
            np.array(last, np.float64),
            np.array(last_t, np.int64),
        )


def partial(grouped: Grouped) -> Rollups:
    """The rollups of a grouped truck write (points within ROLLUP_LIMIT only)."""
    ids = grouped.point_signal_ids()
    kept = np.abs(grouped.values) <= ROLLUP_LIMIT
    ids, ts, values = ids[kept], grouped.timestamps_us[kept], grouped.values[kept]
    if ids.size == 0:
        return Rollups.empty()

    # Grouped points are sorted by signal, time and value: a minute is a run.
    minute = ts // MINUTE_US * MINUTE_US
    change = (ids[1:] != ids[:-1]) | (minute[1:] != minute[:-1])
    starts = np.concatenate(([0], np.flatnonzero(change) + 1))
    ends = np.concatenate((starts[1:], [ids.size])) - 1
    return Rollups(
        signal_ids=ids[starts],
        minute_us=minute[starts],
        count=np.diff(np.concatenate((starts, [ids.size]))).astype(np.int64),
        vmin=np.minimum.reduceat(values, starts),
        vmax=np.maximum.reduceat(values, starts),
        vsum=np.add.reduceat(values, starts),
        last=values[ends],
        last_t_us=ts[ends],
    )


def merge(a: Rollups, b: Rollups) -> Rollups:
    """Combine two rollups row by row with the store's merge rule."""
    cat = {
        name: np.concatenate((getattr(a, name), getattr(b, name)))
        for name in (
            "signal_ids",
            "minute_us",
            "count",
            "vmin",
            "vmax",
            "vsum",
            "last",
            "last_t_us",
        )
    }
    if cat["signal_ids"].size == 0:
        return Rollups.empty()

    # Sorting by (signal, minute, last_t, last) puts the winning `last` at the end.
    order = np.lexsort((cat["last"], cat["last_t_us"], cat["minute_us"], cat["signal_ids"]))
    cat = {name: column[order] for name, column in cat.items()}
    ids, minute = cat["signal_ids"], cat["minute_us"]
    change = (ids[1:] != ids[:-1]) | (minute[1:] != minute[:-1])
    starts = np.concatenate(([0], np.flatnonzero(change) + 1))
    ends = np.concatenate((starts[1:], [ids.size])) - 1
    return Rollups(
        signal_ids=ids[starts],
        minute_us=minute[starts],
        count=np.add.reduceat(cat["count"], starts),
        vmin=np.minimum.reduceat(cat["vmin"], starts),
        vmax=np.maximum.reduceat(cat["vmax"], starts),
        vsum=np.add.reduceat(cat["vsum"], starts),
        last=cat["last"][ends],
        last_t_us=cat["last_t_us"][ends],
    )
