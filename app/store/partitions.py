"""Daily partitions: which to add ahead of time and which to drop for retention.

MySQL and MariaDB tables that grow with the fleet are partitioned by RANGE on a
microsecond time column. Partition ``pYYYYMMDD`` holds the rows of that UTC day
(and, for the oldest partition, anything earlier); its bound, ``VALUES LESS
THAN``, is the first microsecond of the next day. A catch-all ``p_future``
partition (``MAXVALUE``) takes whatever lies beyond the last day, so a write
never fails for want of a partition. This module only does the arithmetic; the
MySQL store runs the ALTER TABLE statements.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["CATCH_ALL", "DAY_US", "day_start_us", "now_us", "partition_name", "to_add", "to_drop"]

DAY_US = 86_400_000_000
CATCH_ALL = "p_future"


def now_us() -> int:
    return time.time_ns() // 1000


def day_start_us(t_us: int) -> int:
    """The first microsecond of the UTC day holding t_us."""
    return t_us // DAY_US * DAY_US


def partition_name(bound_us: int) -> str:
    """The name of the daily partition whose bound is bound_us."""
    day = datetime.fromtimestamp((bound_us - DAY_US) / 1e6, tz=UTC)
    return day.strftime("p%Y%m%d")


def to_add(bounds: list[int], *, now: int, days_ahead: int) -> list[tuple[str, int]]:
    """Daily partitions (name, bound) missing for today and the next days_ahead days.

    bounds are the finite bounds that exist already; only bounds above the
    highest of them can be added, by splitting the catch-all partition.
    """
    highest = max(bounds, default=None)
    wanted = [day_start_us(now) + DAY_US * (i + 1) for i in range(days_ahead + 1)]
    return [(partition_name(b), b) for b in wanted if highest is None or b > highest]


def to_drop(partitions: list[tuple[str, int]], *, now: int, retention_days: int) -> list[str]:
    """Names of the daily partitions all of whose rows are older than the retention."""
    cutoff = day_start_us(now) - retention_days * DAY_US
    return [name for name, bound in partitions if bound <= cutoff]
