from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.hub.state import LiveState
from edge.catalog import Catalog
from edge.wire import Batch
from tests.app.hub.helpers import T0

MakeBatch = Callable[..., Batch]


def ids(catalog: Catalog, *keys: str) -> np.ndarray:
    return np.array([catalog.id_of(k) for k in keys], dtype=np.intp)


def held(state: LiveState, catalog: Catalog, truck: int, key: str) -> tuple[int, float]:
    return state.latest(truck, [catalog.id_of(key)])[catalog.id_of(key)]


def test_apply_keeps_the_newest_point_of_each_signal_whatever_the_order(
    catalog: Catalog, make_batch: MakeBatch
) -> None:
    state = LiveState(len(catalog))
    batch = make_batch(7, {"SOC": [(T0 + 300, 81.0), (T0 + 100, 80.0), (T0 + 200, 79.0)]})

    assert state.apply(batch) == 1
    assert held(state, catalog, 7, "SOC") == (T0 + 300, 81.0)


def test_an_older_point_never_overwrites_a_newer_one(
    catalog: Catalog, make_batch: MakeBatch
) -> None:
    state = LiveState(len(catalog))
    state.apply(make_batch(7, {"SOC": [(T0 + 500, 81.0)]}))

    assert state.apply(make_batch(7, {"SOC": [(T0 + 100, 12.0)]})) == 0
    assert held(state, catalog, 7, "SOC") == (T0 + 500, 81.0)


def test_a_repeated_value_moves_the_time_but_is_not_a_change(
    catalog: Catalog, make_batch: MakeBatch
) -> None:
    state = LiveState(len(catalog))
    state.apply(make_batch(7, {"SOC": [(T0, 81.0)]}))
    version = state.version

    assert state.apply(make_batch(7, {"SOC": [(T0 + 1000, 81.0)]})) == 0
    assert state.version == version
    assert held(state, catalog, 7, "SOC") == (T0 + 1000, 81.0)


def test_a_steady_value_counts_as_a_change_again_once_a_second_has_passed(
    catalog: Catalog, make_batch: MakeBatch
) -> None:
    state = LiveState(len(catalog), refresh_us=1_000_000)
    state.apply(make_batch(7, {"SOC": [(T0, 81.0)]}))

    assert state.apply(make_batch(7, {"SOC": [(T0 + 999_999, 81.0)]})) == 0
    assert state.apply(make_batch(7, {"SOC": [(T0 + 1_000_000, 81.0)]})) == 1
    assert state.apply(make_batch(7, {"SOC": [(T0 + 1_500_000, 81.0)]})) == 0
    assert held(state, catalog, 7, "SOC") == (T0 + 1_500_000, 81.0)


def test_select_since_a_version_returns_only_cells_changed_after_it(
    catalog: Catalog, make_batch: MakeBatch
) -> None:
    state = LiveState(len(catalog))
    state.apply(make_batch(1, {"SOC": [(T0, 50.0)], "SOH": [(T0, 90.0)]}))
    state.apply(make_batch(2, {"SOC": [(T0, 60.0)]}))
    since = state.version
    state.apply(make_batch(1, {"SOC": [(T0 + 1, 51.0)], "SOH": [(T0 + 1, 90.0)]}))

    cells = state.select(None, ids(catalog, "SOC", "SOH"), since=since)

    assert cells.truck_ids.tolist() == [1]
    assert cells.signal_ids.tolist() == [catalog.id_of("SOC")]
    assert cells.values.tolist() == [51.0]
    assert cells.t_us.tolist() == [T0 + 1]


def test_select_from_zero_is_a_snapshot_of_the_chosen_trucks_only(
    catalog: Catalog, make_batch: MakeBatch
) -> None:
    state = LiveState(len(catalog))
    for truck in (1, 2, 3):
        state.apply(make_batch(truck, {"SOC": [(T0, float(truck))]}))

    cells = state.select([3, 1, 99], ids(catalog, "SOC", "Latitude"))

    assert sorted(zip(cells.truck_ids.tolist(), cells.values.tolist(), strict=True)) == [
        (1, 1.0),
        (3, 3.0),
    ]


def test_select_counts_every_change_so_readers_can_count_what_they_missed(
    catalog: Catalog, make_batch: MakeBatch
) -> None:
    state = LiveState(len(catalog))
    for i in range(5):
        state.apply(make_batch(1, {"SOC": [(T0 + i, float(i))]}))

    assert state.select(None, ids(catalog, "SOC")).changes == 5


def test_unknown_signal_ids_and_values_that_are_not_finite_are_dropped_and_counted(
    catalog: Catalog,
) -> None:
    state = LiveState(len(catalog))
    soc = catalog.id_of("SOC")
    batch = Batch.from_points(
        4, 1, 0, catalog.fingerprint, [soc, 60000, soc], [T0, T0, T0 + 1], [1.0, 2.0, np.nan]
    )

    assert state.apply(batch) == 1
    assert state.points_dropped == 2
    assert held(state, catalog, 4, "SOC") == (T0, 1.0)


def test_state_grows_past_its_initial_capacity_without_losing_values(
    catalog: Catalog, make_batch: MakeBatch
) -> None:
    state = LiveState(len(catalog), capacity=2)
    for truck in range(10):
        state.apply(make_batch(truck, {"Latitude": [(T0, 50.0 + truck)]}))

    assert len(state) == 10
    assert [held(state, catalog, t, "Latitude")[1] for t in range(10)] == [
        50.0 + t for t in range(10)
    ]


def test_restore_merges_known_points_and_loses_to_newer_ones(
    catalog: Catalog, make_batch: MakeBatch
) -> None:
    state = LiveState(len(catalog))
    state.apply(make_batch(1, {"SOC": [(T0 + 10, 70.0)]}))
    soc, soh = catalog.id_of("SOC"), catalog.id_of("SOH")

    state.restore(1, {soc: (T0, 99.0), soh: (T0, 95.0)})

    assert state.latest(1, [soc, soh]) == {soc: (T0 + 10, 70.0), soh: (T0, 95.0)}


def test_changed_trucks_looks_only_at_the_given_signals(
    catalog: Catalog, make_batch: MakeBatch
) -> None:
    state = LiveState(len(catalog))
    state.apply(make_batch(1, {"SOC": [(T0, 1.0)]}))
    state.apply(make_batch(2, {"MotorSpeed": [(T0, 1.0)]}))

    assert state.changed_trucks(0, ids(catalog, "SOC")) == [1]
