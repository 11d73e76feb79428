"""Behaviour both stores share, run against SQLite and the real MariaDB."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from app.store import Store, open_store
from app.store.partitions import DAY_US
from app.store.rollup import MINUTE_US
from edge.catalog import default_catalog
from edge.wire import Batch
from tests.app.store.factory import T0_US, make_batches, reference_points

EVERYTHING = (0, 2**62)


def assert_points_equal(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> None:
    assert np.array_equal(got[0], want[0])
    assert np.array_equal(got[1], want[1])
    # Bit-exact: compare the float64 bit patterns, not the numbers.
    assert np.array_equal(got[2].view(np.uint64), want[2].view(np.uint64))


async def test_upgrade_applies_each_migration_once(store_url: str) -> None:
    store = open_store(store_url, default_catalog())
    await store.open()
    try:
        assert await store.upgrade() == ["0001"]
        assert await store.upgrade() == []
        assert await store.trucks() == []
    finally:
        await store.close()


async def test_write_then_read_points_is_bit_exact(store: Store) -> None:
    fleet = {truck: make_batches(truck, 6, seed=truck) for truck in (1, 2, 3)}
    result = await store.write([b for batches in fleet.values() for b in batches])

    assert result.batches_written == 18
    assert result.points_written == sum(len(b) for batches in fleet.values() for b in batches)
    for truck, batches in fleet.items():
        assert_points_equal(
            await store.read_points(truck, None, *EVERYTHING), reference_points(batches)
        )


async def test_read_points_keeps_only_the_asked_signals_and_range(store: Store) -> None:
    batches = make_batches(5, 8)
    await store.write(batches)
    ids, ts, values = reference_points(batches)
    wanted = sorted(set(ids.tolist()))[:5]
    t_from, t_to = T0_US + 300_000, T0_US + 1_300_000

    keep = np.isin(ids, wanted) & (ts >= t_from) & (ts < t_to)
    got = await store.read_points(5, wanted, t_from, t_to)
    assert_points_equal(got, (ids[keep], ts[keep], values[keep]))
    assert (await store.read_points(5, [], *EVERYTHING))[0].size == 0


async def test_batch_written_twice_is_stored_once(store: Store) -> None:
    batches = make_batches(9, 4)
    first = await store.write(batches[:3])
    again = await store.write([batches[1], batches[3], batches[3]])

    assert (first.batches_written, first.batches_duplicate) == (3, 0)
    assert (again.batches_written, again.batches_duplicate) == (1, 2)
    assert_points_equal(await store.read_points(9, None, *EVERYTHING), reference_points(batches))
    assert (await store.ledger_stats())["batches"] == 4


async def test_two_concurrent_writers_store_each_batch_once(store: Store, store_url: str) -> None:
    batches = make_batches(4, 12, seed=4)
    other = open_store(store_url, default_catalog())
    await other.open()
    try:
        results = await asyncio.gather(
            store.write(batches[:8]), other.write(batches[4:][::-1]), store.write(batches[2:6])
        )
    finally:
        await other.close()

    assert sum(r.batches_written for r in results) == 12
    assert sum(r.batches_duplicate for r in results) == 8
    assert_points_equal(await store.read_points(4, None, *EVERYTHING), reference_points(batches))
    stats = await store.ledger_stats()
    assert (stats["batches"], stats["points"]) == (12, sum(len(b) for b in batches))


def _minute_batches(count: int) -> list[Batch]:
    """Batches 20 s apart, so a write spans several minutes, with tidy values."""
    rng = np.random.default_rng(7)
    fingerprint = default_catalog().fingerprint
    out = []
    for seq in range(count):
        ids = rng.integers(0, 12, size=200)
        ts = T0_US + seq * 20_000_000 + rng.integers(0, 20_000_000, size=200)
        out.append(Batch.from_points(3, 11, seq, fingerprint, ids, ts, rng.normal(50, 20, 200)))
    return out


def _reference_rollups(batches: list[Batch]) -> dict[tuple[int, int], tuple[float, ...]]:
    ids, ts, values = reference_points(batches)
    minutes = ts // MINUTE_US * MINUTE_US
    out: dict[tuple[int, int], tuple[float, ...]] = {}
    for key in sorted(set(zip(ids.tolist(), minutes.tolist(), strict=True))):
        mask = (ids == key[0]) & (minutes == key[1])
        v, t = values[mask], ts[mask]
        out[key] = (mask.sum(), v.min(), v.max(), v.mean(), v[np.argmax(t)], t.max())
    return out


@pytest.mark.parametrize("order_seed", [None, 1, 2])
async def test_rollups_equal_a_numpy_reference_in_any_arrival_order(
    store: Store, order_seed: int | None
) -> None:
    batches = _minute_batches(15)
    arrival = list(batches)
    if order_seed is not None:
        np.random.default_rng(order_seed).shuffle(arrival)
    for i in range(0, 15, 4):
        await store.write(arrival[i : i + 4])
    await store.write(arrival[:3])  # redelivered: the ledger keeps them out

    rollups = await store.read_rollups(3, None, *EVERYTHING)
    want = _reference_rollups(batches)
    assert list(zip(rollups.signal_ids.tolist(), rollups.minute_us.tolist(), strict=True)) == list(
        want
    )
    for i, (count, vmin, vmax, mean, last, last_t) in enumerate(want.values()):
        assert (rollups.count[i], rollups.vmin[i], rollups.vmax[i]) == (count, vmin, vmax)
        assert (rollups.last[i], rollups.last_t_us[i]) == (last, last_t)
        assert rollups.mean[i] == pytest.approx(mean, rel=1e-12)


async def test_latest_gives_the_newest_value_of_each_signal(store: Store) -> None:
    batches = _minute_batches(9)
    await store.write(batches[4:])
    await store.write(batches[:4])

    ids, ts, values = reference_points(batches)
    newest = {
        int(s): (int(ts[ids == s].max()), float(values[ids == s][-1])) for s in set(ids.tolist())
    }
    assert await store.latest(3) == newest
    assert await store.latest(99) == {}


async def test_non_finite_values_are_stored_but_left_out_of_rollups(store: Store) -> None:
    fingerprint = default_catalog().fingerprint
    values = [1.0, float("nan"), float("inf"), 3.0, -float("inf")]
    batch = Batch.from_points(6, 1, 0, fingerprint, [2] * 5, T0_US + np.arange(5), values)
    await store.write([batch])

    _, _, stored = await store.read_points(6, [2], *EVERYTHING)
    assert np.array_equal(stored, np.array(values), equal_nan=True)
    rollups = await store.read_rollups(6, [2], *EVERYTHING)
    assert (rollups.count.tolist(), rollups.vsum.tolist(), rollups.last.tolist()) == (
        [2],
        [4.0],
        [3.0],
    )


async def test_trucks_lists_every_truck_written(store: Store) -> None:
    await store.write(make_batches(12, 1) + make_batches(8, 1) + make_batches(12, 2)[1:])
    assert await store.trucks() == [8, 12]


async def test_ledger_records_commit_lag_after_the_newest_point(store: Store) -> None:
    batches = make_batches(2, 3)
    await store.write(batches)
    stats = await store.ledger_stats()
    # The batches are from 2023 and written now: every lag is positive and years long.
    assert stats["batches"] == 3
    assert 0 < stats["lag_min_us"] <= stats["lag_p50_us"] <= stats["lag_max_us"]


async def test_retention_drops_old_days_and_keeps_recent_ones(store: Store) -> None:
    old = make_batches(1, 2, t0_us=T0_US - 10 * DAY_US, agent_start=1)
    recent = make_batches(1, 2, t0_us=T0_US, agent_start=2)
    await store.ensure_partitions(now_us=T0_US - 11 * DAY_US, days_ahead=12)
    await store.write(old + recent)

    await store.drop_partitions(retention_days=5, now_us=T0_US)
    assert_points_equal(await store.read_points(1, None, *EVERYTHING), reference_points(recent))
    assert (await store.read_rollups(1, None, 0, T0_US - 5 * DAY_US)).count.size == 0
    assert (await store.ledger_stats())["batches"] == 2
