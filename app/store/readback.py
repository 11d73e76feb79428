"""Turning rows read from a store back into arrays and figures.

Shared by both stores: unpacking the chunks of a range into sorted columns,
the rows that describe the signal catalogue, and the ledger's lag figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from app.store.chunks import unpack
from edge.catalog import Catalog

__all__ = ["catalog_rows", "lag_stats", "points_from_chunks", "sql_int_list"]

Points = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]


def points_from_chunks(rows: Iterable[tuple[int, bytes]], t_from_us: int, t_to_us: int) -> Points:
    """(signal ids, timestamps, values) of (signal id, payload) rows, cut to
    [t_from_us, t_to_us) and sorted by signal then time."""
    ids, stamps, values = [], [], []
    for signal_id, payload in rows:
        ts, vs = unpack(payload)
        keep = (ts >= t_from_us) & (ts < t_to_us)
        if keep.any():
            stamps.append(ts[keep])
            values.append(vs[keep])
            ids.append(np.full(int(keep.sum()), signal_id, dtype=np.int64))
    if not ids:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)

    # Chunks of one signal may overlap when batches arrived out of order.
    sid, ts, vs = np.concatenate(ids), np.concatenate(stamps), np.concatenate(values)
    order = np.lexsort((ts, sid))
    return sid[order], ts[order], vs[order]


def catalog_rows(catalog: Catalog) -> list[tuple[int | str | float | None, ...]]:
    """One row per signal for the signals table."""
    return [
        (
            s.id,
            s.message,
            s.name,
            s.key,
            s.unit,
            float(s.rate_hz),
            None if s.minimum is None else float(s.minimum),
            None if s.maximum is None else float(s.maximum),
            int(s.stored),
            catalog.fingerprint,
        )
        for s in catalog.signals
    ]


def lag_stats(batches: int, points: int, lags_us: Sequence[int]) -> dict[str, float]:
    """Counts and the spread of commit time minus the newest point of each batch."""
    stats: dict[str, float] = {"batches": float(batches), "points": float(points)}
    if len(lags_us):
        lags = np.asarray(lags_us, dtype=np.float64)
        p50, p99 = np.percentile(lags, [50, 99])
        stats |= {
            "lag_min_us": float(lags.min()),
            "lag_p50_us": float(p50),
            "lag_p99_us": float(p99),
            "lag_max_us": float(lags.max()),
        }
    return stats


def sql_int_list(values: Iterable[int]) -> str:
    """A comma-separated list of integers for an IN clause (ints only, so no injection)."""
    return ",".join(str(int(v)) for v in values)
