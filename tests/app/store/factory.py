"""Batches for store and writer tests, and the reference the stores must match."""

from __future__ import annotations

import asyncmy
import numpy as np
import numpy.typing as npt

from edge.catalog import default_catalog
from edge.wire import Batch

WINDOW_US = 250_000
#: 2023-11-14 22:13:20 UTC, a fixed day so partitions and minutes are predictable.
T0_US = 1_700_000_000_000_000


def make_batches(
    truck_id: int,
    count: int,
    *,
    seed: int = 0,
    signals: int = 30,
    points_per_signal: int = 4,
    t0_us: int = T0_US,
    agent_start: int = 0xFEDC_BA98_7654_3210,
) -> list[Batch]:
    """count consecutive windows of one truck; each signal has distinct timestamps."""
    rng = np.random.default_rng(seed)
    fingerprint = default_catalog().fingerprint
    batches = []
    for seq in range(count):
        ids = rng.choice(len(default_catalog()), size=signals, replace=False)
        offsets = np.concatenate(
            [rng.choice(WINDOW_US, size=points_per_signal, replace=False) for _ in ids]
        )
        # Raw random bits give every kind of finite double, not just tidy ones.
        values = np.frombuffer(rng.bytes(8 * offsets.size), dtype=np.float64)
        values = np.where(np.isfinite(values), values, rng.normal(size=values.size))
        batches.append(
            Batch.from_points(
                truck_id,
                agent_start,
                seq,
                fingerprint,
                np.repeat(ids, points_per_signal),
                t0_us + seq * WINDOW_US + offsets,
                values,
            )
        )
    return batches


def reference_points(
    batches: list[Batch],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """All points of the batches sorted by signal then time."""
    ids = np.concatenate([b.signal_ids for b in batches]).astype(np.int64)
    ts = np.concatenate([b.timestamps_us for b in batches])
    values = np.concatenate([b.values for b in batches])
    order = np.lexsort((ts, ids))
    return ids[order], ts[order], values[order]


async def partition_names(url: str, table: str) -> list[str]:
    """The partitions of a table of the MariaDB database at url, in order."""
    database = url.rsplit("/", 1)[1]
    conn = await asyncmy.connect(host="127.0.0.1", port=3306, user="root", password="")
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "SELECT PARTITION_NAME FROM information_schema.PARTITIONS"
                " WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY PARTITION_ORDINAL_POSITION",
                (database, table),
            )
            return [str(row[0]) for row in await cur.fetchall()]
    finally:
        conn.close()
