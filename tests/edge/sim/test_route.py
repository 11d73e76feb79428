"""The map: depot, roads, routes and the base layer the dashboard draws."""

from __future__ import annotations

import json
import math

import numpy as np

from edge.sim.route import base_map, road_network


def test_base_map_has_the_documented_shape_and_is_json() -> None:
    data = json.loads(json.dumps(base_map()))
    assert set(data) == {"center", "bounds", "depot", "roads", "stops"}
    min_lon, min_lat, max_lon, max_lat = data["bounds"]
    assert min_lon < data["center"][0] < max_lon and min_lat < data["center"][1] < max_lat
    assert len(data["depot"]["polygon"]) >= 4 and data["depot"]["chargers"]
    assert {r["kind"] for r in data["roads"]} == {"arterial", "street"}
    for road in data["roads"]:
        assert road["name"] and len(road["coords"]) >= 2


def test_network_is_a_few_kilometres_across() -> None:
    min_lon, min_lat, max_lon, max_lat = base_map()["bounds"]
    width = (max_lon - min_lon) * 111_195 * math.cos(math.radians(min_lat))
    height = (max_lat - min_lat) * 111_195
    assert 1_500 < width < 6_000 and 1_500 < height < 6_000


def test_route_is_a_loop_from_the_depot_through_its_stops() -> None:
    for seed in range(5):
        route = road_network().route(np.random.default_rng(seed))
        assert 6 <= route.stop_count <= 15
        kinds = [e.kind for e in route.events]
        assert kinds.count("stop") == route.stop_count and kinds[-1] == "depot"
        start, end = route.point(0.0), route.point(route.length)
        assert math.isclose(start.lon, end.lon) and math.isclose(start.lat, end.lat)


def test_route_stays_on_the_roads_of_the_base_map() -> None:
    net = road_network()
    route = net.route(np.random.default_rng(4))
    for s in np.linspace(0.0, route.length, 200):
        p = route.point(float(s))
        assert net.distance_to_road(p.lon, p.lat) < 0.5


def test_stops_on_the_base_map_are_junctions_of_the_network() -> None:
    net = road_network()
    for lon, lat in base_map()["stops"]:
        assert net.distance_to_road(lon, lat) < 0.5


def test_depot_yard_lies_inside_the_depot_polygon() -> None:
    data = base_map()
    start = road_network().route(np.random.default_rng(0)).point(0.0)
    lons = [p[0] for p in data["depot"]["polygon"]]
    lats = [p[1] for p in data["depot"]["polygon"]]
    assert min(lons) < start.lon < max(lons) and min(lats) < start.lat < max(lats)
