"""The offline base layer of the fleet map."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from dashboard.basemap import SELECTED_TRACE_UID, TRUCK_TRACE_UID, base_figure
from edge.errors import ConfigError
from tests.dashboard.scripted_hub import BASE_MAP


def trace(figure: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in figure["data"] if t["name"] == name)


def test_arterials_are_drawn_heavier_than_streets() -> None:
    figure = base_figure(BASE_MAP)

    arterial = trace(figure, "Arterial roads")
    street = trace(figure, "Streets")
    assert arterial["line"]["width"] > street["line"]["width"]
    assert trace(figure, "Arterial casing")["line"]["width"] > arterial["line"]["width"]
    assert arterial["x"] == [11.50, 11.60, None]
    assert street["x"] == [11.515, 11.515, None, 11.55, 11.55, None]


def test_depot_polygon_is_closed_and_filled() -> None:
    depot = trace(base_figure(BASE_MAP), "Depot")

    assert depot["fill"] == "toself"
    assert (depot["x"][0], depot["y"][0]) == (depot["x"][-1], depot["y"][-1])
    assert len(depot["x"]) == len(BASE_MAP["depot"]["polygon"]) + 1


def test_trucks_are_one_trace_on_a_fixed_soc_scale_under_the_selection_ring() -> None:
    figure = base_figure(BASE_MAP)

    uids = [t.get("uid") for t in figure["data"]]
    trucks = figure["data"][uids.index(TRUCK_TRACE_UID)]
    assert uids.count(TRUCK_TRACE_UID) == 1
    assert uids[-2:] == [TRUCK_TRACE_UID, SELECTED_TRACE_UID]
    assert (trucks["marker"]["cmin"], trucks["marker"]["cmax"]) == (0, 100)
    assert trucks["marker"]["showscale"] is True


def test_north_and_east_are_drawn_to_the_same_scale() -> None:
    layout = base_figure(BASE_MAP)["layout"]

    assert layout["yaxis"]["scaleanchor"] == "x"
    assert layout["yaxis"]["scaleratio"] == pytest.approx(1 / math.cos(math.radians(48.15)))


def test_base_layers_take_no_hover_so_trucks_get_the_clicks() -> None:
    figure = base_figure(BASE_MAP)

    others = [t for t in figure["data"] if t.get("uid") != TRUCK_TRACE_UID]
    assert {t["hoverinfo"] for t in others} == {"skip"}


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda m: m.pop("roads"), "roads"),
        (lambda m: m.update(bounds=[1, 2, 3]), "bounds"),
        (lambda m: m["roads"][0].update(kind="motorway"), "road 0"),
        (lambda m: m["depot"].update(polygon=[[1.0, 2.0, 3.0]]), "depot.polygon"),
        (lambda m: m.update(stops="none"), "stops"),
    ],
)
def test_a_malformed_base_map_is_refused_naming_the_part(damage: Any, named: str) -> None:
    broken = copy.deepcopy(BASE_MAP)
    damage(broken)

    with pytest.raises(ConfigError, match=named):
        base_figure(broken)
