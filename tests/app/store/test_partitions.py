"""Which daily partitions to add and drop."""

from __future__ import annotations

from app.store import partitions
from app.store.partitions import DAY_US

NOON = 1_700_000_000_000_000 // DAY_US * DAY_US + DAY_US // 2  # 2023-11-14 12:00 UTC


def test_partitions_are_named_after_the_day_they_hold() -> None:
    bound = partitions.day_start_us(NOON) + DAY_US
    assert partitions.partition_name(bound) == "p20231114"


def test_partitions_are_added_for_today_and_the_days_ahead() -> None:
    wanted = partitions.to_add([], now=NOON, days_ahead=2)
    assert [name for name, _ in wanted] == ["p20231114", "p20231115", "p20231116"]
    assert partitions.to_add([b for _, b in wanted], now=NOON, days_ahead=2) == []


def test_only_days_after_the_last_partition_can_be_added() -> None:
    existing = [partitions.day_start_us(NOON) + DAY_US]
    wanted = partitions.to_add(existing, now=NOON, days_ahead=1)
    assert [name for name, _ in wanted] == ["p20231115"]


def test_partitions_older_than_the_retention_are_dropped() -> None:
    today = partitions.day_start_us(NOON)
    existing = [
        (partitions.partition_name(today - i * DAY_US), today - i * DAY_US)
        for i in range(5, -1, -1)
    ]
    # The oldest holds 8 Nov; keeping 11 to 13 Nov and today, 8 to 10 Nov go.
    dropped = partitions.to_drop(existing, now=NOON, retention_days=3)
    assert dropped == ["p20231108", "p20231109", "p20231110"]
