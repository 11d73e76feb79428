"""The batcher cuts points into windows, numbers them, and loses nothing."""

from __future__ import annotations

import numpy as np

from edge.batcher import Batcher

T0 = 1_700_000_000.0  # on a 250 ms boundary


def _batcher(stored: list[bool] | None = None, window_ms: int = 250) -> Batcher:
    return Batcher(
        truck_id=7,
        fingerprint=0xABCD,
        stored=stored if stored is not None else [True] * 10,
        window_ms=window_ms,
        agent_start=99,
    )


def _points(times: list[float], ids: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = np.arange(len(times), dtype=np.float64) * 1.5
    return np.array(times), np.array(ids, dtype=np.uint16), values


def test_points_stay_in_the_open_window_until_a_later_window_starts() -> None:
    batcher = _batcher()
    assert batcher.add(*_points([T0 + 0.01, T0 + 0.2], [1, 2])) == []
    assert batcher.held == 2

    closed = batcher.add(*_points([T0 + 0.26], [3]))

    assert len(closed) == 1
    assert closed[0].signal_ids.tolist() == [1, 2]
    assert closed[0].t_base_us == int(T0 * 1e6) + 10_000
    assert batcher.held == 1


def test_sequence_numbers_count_from_zero_per_agent_start() -> None:
    batcher = _batcher()
    times = [T0 + 0.25 * k + 0.01 for k in range(5)]
    closed = batcher.add(*_points(times, [1] * 5)) + batcher.flush()

    assert [b.seq for b in closed] == [0, 1, 2, 3, 4]
    assert all(b.key == (7, 99, b.seq) for b in closed)
    assert all(b.fingerprint == 0xABCD for b in closed)


def test_agent_start_is_random_when_not_given() -> None:
    first = Batcher(truck_id=1, fingerprint=0, stored=[True])
    second = Batcher(truck_id=1, fingerprint=0, stored=[True])
    assert first.agent_start != second.agent_start
    assert 0 <= first.agent_start < 2**64


def test_multiplexer_selectors_are_left_out() -> None:
    batcher = _batcher(stored=[True, False, True])
    batcher.add(*_points([T0, T0, T0], [0, 1, 2]))

    (batch,) = batcher.flush()

    assert batch.signal_ids.tolist() == [0, 2]


def test_nothing_is_lost_or_duplicated_across_windows() -> None:
    rng = np.random.default_rng(3)
    batcher = _batcher(window_ms=100)
    count = 5_000
    times = np.sort(T0 + rng.uniform(0, 10, count))
    ids = rng.integers(0, 10, count).astype(np.uint16)
    values = rng.normal(size=count)
    batches = []
    for part in np.array_split(np.arange(count), 37):
        batches += batcher.add(times[part], ids[part], values[part])
    batches += batcher.flush()

    got = np.concatenate([b.values for b in batches])
    stamps = np.concatenate([b.timestamps_us for b in batches])
    np.testing.assert_array_equal(np.sort(got), np.sort(values))
    np.testing.assert_array_equal(np.sort(stamps), np.sort(np.rint(times * 1e6).astype(np.int64)))
    for batch in batches:
        windows = batch.timestamps_us // 100_000
        assert windows.min() == windows.max()


def test_a_late_point_joins_the_open_window() -> None:
    batcher = _batcher()
    batcher.add(*_points([T0 + 0.1], [1]))
    batcher.add(*_points([T0 + 0.3], [2]))

    assert batcher.add(*_points([T0 + 0.05], [3])) == []
    (batch,) = batcher.flush()

    assert sorted(batch.signal_ids.tolist()) == [2, 3]
    assert batch.t_base_us == int(T0 * 1e6) + 50_000


def test_close_due_closes_the_window_when_the_wall_clock_passes_its_end() -> None:
    batcher = _batcher()
    batcher.add(*_points([T0 + 0.1], [1]))

    assert batcher.close_due(T0 + 0.249) == []
    (batch,) = batcher.close_due(T0 + 0.25)

    assert batch.seq == 0
    assert batcher.close_due(T0 + 10) == []
    assert batcher.flush() == []
