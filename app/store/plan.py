"""What one write puts in each table, as rows ready for ``executemany``.

Both stores turn the batches a write has to store (the ones the ledger has not
seen) into the same rows: one chunk per truck, signal and UTC day, one rollup
row per truck, signal and minute, one ledger row per batch; only the SQL
around them differs. Rows are plain tuples of Python ints, floats and bytes,
so the MySQL driver can send them through its binary bulk path, and they are
sorted by key so that competing writers take row locks in the same order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.store.chunks import chunk_rows, group_by_signal
from app.store.partitions import DAY_US
from app.store.rollup import Rollups, partial
from edge.wire import Batch

__all__ = ["LedgerKey", "WritePlan", "ledger_key", "plan_write", "signed64"]

LedgerKey = tuple[int, int, int, int]

_U64 = 1 << 64
_I64_MAX = (1 << 63) - 1


def signed64(value: int) -> int:
    """The signed 64-bit twin of an unsigned one (databases store agent starts signed)."""
    return value - _U64 if value > _I64_MAX else value


def ledger_key(batch: Batch) -> LedgerKey:
    """The ledger's unique key of a batch: truck, agent start, seq and window start."""
    return (batch.truck_id, signed64(batch.agent_start), batch.seq, batch.t_base_us)


@dataclass
class WritePlan:
    """Rows of one write, per table."""

    ledger: list[tuple[int, ...]] = field(default_factory=list)
    chunks: list[tuple[int | float | bytes | None, ...]] = field(default_factory=list)
    rollups: list[tuple[int | float, ...]] = field(default_factory=list)
    trucks: list[tuple[int, ...]] = field(default_factory=list)
    points: int = 0


def plan_write(batches: Sequence[Batch], *, committed_us: int, compress: bool = False) -> WritePlan:
    """Rows for the ledger, chunks, rollups and trucks tables from new batches."""
    plan = WritePlan()
    by_truck: dict[int, list[Batch]] = defaultdict(list)
    for batch in batches:
        by_truck[batch.truck_id].append(batch)
        plan.ledger.append(_ledger_row(batch, committed_us))
    plan.ledger.sort()

    for truck_id in sorted(by_truck):
        group = by_truck[truck_id]
        # The first batch of the group names its chunks; the ledger makes it unique.
        opener = min(group, key=lambda b: (b.agent_start, b.seq))
        grouped = group_by_signal(group)
        plan.points += len(grouped)
        agent_start, seq = signed64(opener.agent_start), opener.seq
        for sid, t_start, t_end, n, vmin, vmax, payload in chunk_rows(
            grouped, split_us=DAY_US, compress=compress
        ):
            plan.chunks.append(
                (truck_id, sid, t_start, agent_start, seq, t_end, n, vmin, vmax, payload)
            )
        plan.rollups.extend(_rollup_rows(truck_id, partial(grouped)))
        if len(grouped):
            t_first, t_last = int(grouped.timestamps_us.min()), int(grouped.timestamps_us.max())
            plan.trucks.append((truck_id, t_first, t_last, committed_us))
    return plan


def _ledger_row(batch: Batch, committed_us: int) -> tuple[int, ...]:
    truck, start, seq, t_base = ledger_key(batch)
    if len(batch):
        t_first = t_base + int(batch.t_offsets_us.min())
        t_last = t_base + int(batch.t_offsets_us.max())
    else:
        t_first = t_last = t_base
    return (truck, start, seq, t_base, len(batch), t_first, t_last, committed_us)


def _rollup_rows(truck_id: int, r: Rollups) -> list[tuple[int | float, ...]]:
    columns = (
        r.signal_ids.tolist(),
        r.minute_us.tolist(),
        r.count.tolist(),
        r.vmin.tolist(),
        r.vmax.tolist(),
        r.vsum.tolist(),
        r.last.tolist(),
        r.last_t_us.tolist(),
    )
    return [(truck_id, *row) for row in zip(*columns, strict=True)]
