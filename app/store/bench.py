"""How fast a store takes writes shaped like the writer's: a benchmark, not a test.

Each round is one write of ``flush_s`` seconds of data from ``trucks`` trucks
(``points_per_s`` per truck spread over the catalogue's stored signals, in
250 ms batches), which is what one writer flush holds. The figures come back
as a dict for the caller (the CLI or a script) to print.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from app.store.base import open_store
from app.store.partitions import now_us
from edge.catalog import default_catalog
from edge.wire import Batch

__all__ = ["bench_write"]

WINDOW_US = 250_000


async def bench_write(
    url: str,
    *,
    trucks: int = 100,
    flush_s: float = 2.0,
    points_per_s: int = 2_500,
    rounds: int = 5,
    on_round: Callable[[int, int, float], None] | None = None,
) -> dict[str, float]:
    """Write rounds of fleet-shaped batches to the store at url; points/s and s/round.

    on_round(round, points, seconds) is called after each round, for progress.
    """
    catalog = default_catalog()
    stored = np.array([s.id for s in catalog.signals if s.stored], dtype=np.int64)
    per_batch = int(points_per_s * WINDOW_US / 1e6)
    windows = int(flush_s * 1e6 / WINDOW_US)
    rng = np.random.default_rng(0)
    t0 = now_us() - 3_600_000_000

    store = open_store(url, catalog)
    await store.open()
    try:
        await store.upgrade()
        await store.ensure_partitions()
        elapsed, points = 0.0, 0
        rates = []
        for r in range(rounds):
            batches = []
            for truck in range(1, trucks + 1):
                for w in range(windows):
                    seq = r * windows + w
                    ids = stored[np.arange(per_batch) % stored.size]
                    ts = t0 + seq * WINDOW_US + rng.integers(0, WINDOW_US, per_batch)
                    values = rng.normal(size=per_batch)
                    batches.append(
                        Batch.from_points(truck, 1, seq, catalog.fingerprint, ids, ts, values)
                    )
            started = time.perf_counter()
            result = await store.write(batches)
            seconds = time.perf_counter() - started
            elapsed += seconds
            points += result.points_written
            rates.append(result.points_written / seconds)
            if on_round is not None:
                on_round(r + 1, result.points_written, seconds)
    finally:
        await store.close()
    return {
        "points": float(points),
        "seconds": elapsed,
        "points_per_s": points / elapsed,
        "median_points_per_s": statistics.median(rates),
        "seconds_per_round": elapsed / rounds,
    }
