"""The simulated trucks' world: a depot, a small road network and delivery routes.

The depot sits in the port's industrial area on the south-western edge of
Nuremberg. The roads are fictional: a jittered grid of six north-south and five
east-west roads, about 3 km by 2.3 km, joined to the depot yard by an access
road. Arterials carry 50 or 60 km/h, streets 30 km/h. Elevation is a smooth
function of position, so every road has gentle climbs and descents of up to
about 4 %.

Geometry is computed in metres on a local flat projection centred on the
network, which is exact enough at this size, and converted to (lon, lat) for
the outside world. A :class:`Route` is a polyline resampled every 25 m with its
speed limits, elevations and the events a driver reacts to: delivery stops,
traffic lights, turns and the return to the depot.
"""

from __future__ import annotations

import heapq
import itertools
import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

__all__ = [
    "Event",
    "Point",
    "RoadNetwork",
    "Route",
    "base_map",
    "road_network",
]

CENTER = (11.0465, 49.4210)
EARTH_RADIUS_M = 6_371_000.0
_M_PER_DEG_LAT = math.pi / 180.0 * EARTH_RADIUS_M
_M_PER_DEG_LON = _M_PER_DEG_LAT * math.cos(math.radians(CENTER[1]))

_COLUMNS = 6
_ROWS = 5
_SPACING_X = 600.0
_SPACING_Y = 560.0
_RESAMPLE_M = 25.0
_TURN_ANGLE_DEG = 35.0

# (name, kind, limit km/h) for the east-west rows, south to north, and the
# north-south columns, west to east.
_ROW_ROADS = [
    ("Hafenring Süd", "arterial", 60),
    ("Containerweg", "street", 30),
    ("Kanalallee", "arterial", 50),
    ("Lagerhausstraße", "street", 30),
    ("Speditionsring", "arterial", 50),
]
_COLUMN_ROADS = [
    ("Kranweg", "street", 30),
    ("Werftstraße", "arterial", 50),
    ("Palettenweg", "street", 30),
    ("Frachthofallee", "arterial", 50),
    ("Schleusenweg", "street", 30),
    ("Ostkaistraße", "street", 30),
]
_ACCESS_ROAD = ("Depotzufahrt", "street", 20)


@dataclass(frozen=True)
class Point:
    """Where a truck is on its route and what the road is like there."""

    lon: float
    lat: float
    heading_deg: float
    altitude_m: float
    grade: float
    limit_ms: float


@dataclass(frozen=True)
class Event:
    """A place on a route where the driver must slow down or stop.

    ``kind`` is ``"stop"`` (a delivery), ``"light"`` (traffic lights),
    ``"turn"`` (slow to ``speed_ms``), ``"limit"`` (a lower limit begins) or
    ``"depot"`` (the end of the route).
    """

    s: float
    kind: str
    speed_ms: float


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    """Local metres east and north of the centre to (lon, lat) degrees."""
    return CENTER[0] + x / _M_PER_DEG_LON, CENTER[1] + y / _M_PER_DEG_LAT


def elevation(x: float, y: float) -> float:
    """Ground height in metres above sea level at a local position."""
    return (
        312.0
        + 14.0 * math.sin(x / 520.0 + 0.3)
        + 9.0 * math.cos(y / 430.0)
        + 4.0 * math.sin((x + y) / 260.0)
    )


@dataclass(frozen=True)
class _Road:
    name: str
    kind: str
    limit_ms: float
    nodes: tuple[int, ...]


class RoadNetwork:
    """Junctions (nodes), road segments between them and the depot."""

    def __init__(self) -> None:
        rng = np.random.default_rng(1848)
        self.xy: list[tuple[float, float]] = []
        for j in range(_ROWS):
            for i in range(_COLUMNS):
                jx, jy = rng.uniform(-70.0, 70.0, size=2)
                x = (i - (_COLUMNS - 1) / 2) * _SPACING_X + jx
                y = (j - (_ROWS - 1) / 2) * _SPACING_Y + jy
                self.xy.append((float(x), float(y)))

        # Every segment between two neighbouring junctions bends once, sideways.
        self.edges: dict[int, list[tuple[int, float, list[tuple[float, float]], int]]] = {}
        self.roads: list[_Road] = []
        for j, (name, kind, kmh) in enumerate(_ROW_ROADS):
            self._add_road(name, kind, kmh, [j * _COLUMNS + i for i in range(_COLUMNS)], rng)
        for i, (name, kind, kmh) in enumerate(_COLUMN_ROADS):
            self._add_road(name, kind, kmh, [j * _COLUMNS + i for j in range(_ROWS)], rng)

        # The depot lies south of the south-western junction, behind the ring.
        gate = self.xy[0]
        self.yard = (gate[0] + 40.0, gate[1] - 330.0)
        self.depot_node = len(self.xy)
        self.xy.append(self.yard)
        name, kind, kmh = _ACCESS_ROAD
        self._add_road(name, kind, kmh, [self.depot_node, 0], None)

        self.lights = {n for n in range(_ROWS * _COLUMNS) if self._arterials_at(n) >= 2}
        self.stop_nodes = [n for n in range(_ROWS * _COLUMNS) if n != 0]

    def _add_road(self, name: str, kind: str, kmh: float, nodes: list[int], rng: Any) -> None:
        road = _Road(name, kind, kmh / 3.6, tuple(nodes))
        index = len(self.roads)
        self.roads.append(road)
        for a, b in itertools.pairwise(nodes):
            (ax, ay), (bx, by) = self.xy[a], self.xy[b]
            bend = float(rng.uniform(-35.0, 35.0)) if rng is not None else 0.0
            length = math.hypot(bx - ax, by - ay)
            mid = (
                (ax + bx) / 2 - (by - ay) / length * bend,
                (ay + by) / 2 + (bx - ax) / length * bend,
            )
            shape = [(ax, ay), mid, (bx, by)]
            true_length = _polyline_length(shape)
            self.edges.setdefault(a, []).append((b, true_length, shape, index))
            self.edges.setdefault(b, []).append((a, true_length, shape[::-1], index))

    def _arterials_at(self, node: int) -> int:
        return sum(1 for road in self.roads if road.kind == "arterial" and node in road.nodes)

    def shortest_path(
        self, start: int, goal: int
    ) -> list[tuple[int, list[tuple[float, float]], int]]:
        """The quickest path as (node, shape from the previous node, road) steps."""
        best = {start: 0.0}
        came: dict[int, tuple[int, list[tuple[float, float]], int]] = {}
        queue = [(0.0, start)]
        while queue:
            cost, node = heapq.heappop(queue)
            if node == goal:
                break
            if cost > best[node]:
                continue
            for other, length, shape, road in self.edges[node]:
                new = cost + length / self.roads[road].limit_ms
                if new < best.get(other, math.inf):
                    best[other] = new
                    came[other] = (node, shape, road)
                    heapq.heappush(queue, (new, other))
        steps = []
        node = goal
        while node != start:
            previous, shape, road = came[node]
            steps.append((node, shape, road))
            node = previous
        return steps[::-1]

    def route(self, rng: np.random.Generator, stops: int | None = None) -> Route:
        """A delivery loop from the depot through ``stops`` stops (6 to 15) and back."""
        count = int(rng.integers(6, 16)) if stops is None else stops
        chosen = [int(n) for n in rng.choice(self.stop_nodes, size=count, replace=False)]

        # Visit the stops nearest-first, a tour a dispatcher would accept.
        order: list[int] = []
        here = self.depot_node
        remaining = chosen[:]
        while remaining:
            hx, hy = self.xy[here]
            nxt = min(remaining, key=lambda n: math.hypot(self.xy[n][0] - hx, self.xy[n][1] - hy))
            remaining.remove(nxt)
            order.append(nxt)
            here = nxt
        return _build_route(self, [*order, self.depot_node])

    def distance_to_road(self, lon: float, lat: float) -> float:
        """Metres from a position to the nearest road of the network."""
        x = (lon - CENTER[0]) * _M_PER_DEG_LON
        y = (lat - CENTER[1]) * _M_PER_DEG_LAT
        best = math.inf
        for edges in self.edges.values():
            for _, _, shape, _ in edges:
                for (ax, ay), (bx, by) in itertools.pairwise(shape):
                    best = min(best, _point_segment_distance(x, y, ax, ay, bx, by))
        return best


class Route:
    """One delivery loop, resampled every 25 m, with its events."""

    def __init__(
        self,
        xy: np.ndarray,
        limits: np.ndarray,
        events: list[Event],
        stop_count: int,
    ) -> None:
        steps = np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1]))
        self.s = np.concatenate([[0.0], np.cumsum(steps)])
        self.length = float(self.s[-1])
        self.events = events
        self.stop_count = stop_count
        self._s = self.s.tolist()
        self._x = xy[:, 0].tolist()
        self._y = xy[:, 1].tolist()
        self._z = [elevation(x, y) for x, y in zip(self._x, self._y, strict=True)]
        self._limits = limits.tolist()
        self._event_s = [e.s for e in events]

    def point(self, s: float) -> Point:
        """Position, heading, altitude, grade and limit at distance ``s`` from the start."""
        s = min(max(s, 0.0), self.length)
        i = min(max(bisect_right(self._s, s) - 1, 0), len(self._s) - 2)
        span = self._s[i + 1] - self._s[i]
        f = (s - self._s[i]) / span if span > 0 else 0.0
        dx = self._x[i + 1] - self._x[i]
        dy = self._y[i + 1] - self._y[i]
        dz = self._z[i + 1] - self._z[i]
        lon, lat = to_lonlat(self._x[i] + f * dx, self._y[i] + f * dy)
        return Point(
            lon=lon,
            lat=lat,
            heading_deg=math.degrees(math.atan2(dx, dy)) % 360.0,
            altitude_m=self._z[i] + f * dz,
            grade=dz / span if span > 0 else 0.0,
            limit_ms=self._limits[i],
        )

    def event_index(self, s: float) -> int:
        """Index in :attr:`events` of the first event beyond distance ``s``."""
        return bisect_right(self._event_s, s)


def _build_route(net: RoadNetwork, targets: list[int]) -> Route:
    points: list[tuple[float, float]] = [net.xy[net.depot_node]]
    limits: list[float] = []
    marks: list[tuple[int, str]] = []
    here = net.depot_node
    for target in targets:
        for node, shape, road in net.shortest_path(here, target):
            limit = net.roads[road].limit_ms
            for a, b in itertools.pairwise(shape):
                pieces = max(1, math.ceil(math.dist(a, b) / _RESAMPLE_M))
                for k in range(1, pieces + 1):
                    f = k / pieces
                    points.append((a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])))
                    limits.append(limit)
            if node in net.lights and node != target:
                marks.append((len(points) - 1, "light"))
        kind = "depot" if target == net.depot_node else "stop"
        marks.append((len(points) - 1, kind))
        here = target

    xy = np.array(points)
    route_limits = np.array(limits)
    s = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1])))])
    events = [Event(float(s[i]), kind, 0.0) for i, kind in marks]

    # Turns: slow down where the heading changes sharply; limits: where one drops.
    headings = np.degrees(np.arctan2(np.diff(xy[:, 0]), np.diff(xy[:, 1])))
    for i in range(1, len(headings)):
        change = abs((headings[i] - headings[i - 1] + 180.0) % 360.0 - 180.0)
        if change > _TURN_ANGLE_DEG:
            speed = 4.0 if change > 150.0 else 5.0 if change > 60.0 else 7.0
            events.append(Event(float(s[i]), "turn", speed))
        if route_limits[i] < route_limits[i - 1] - 0.1:
            events.append(Event(float(s[i]), "limit", float(route_limits[i])))
    events.sort(key=lambda e: (e.s, e.kind != "stop"))
    return Route(xy, route_limits, events, stop_count=len(targets) - 1)


def _polyline_length(shape: list[tuple[float, float]]) -> float:
    return sum(math.dist(a, b) for a, b in itertools.pairwise(shape))


def _point_segment_distance(
    x: float, y: float, ax: float, ay: float, bx: float, by: float
) -> float:
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else min(max(((x - ax) * dx + (y - ay) * dy) / length2, 0.0), 1.0)
    return math.hypot(x - (ax + t * dx), y - (ay + t * dy))


@cache
def road_network() -> RoadNetwork:
    """The one road network every simulated truck drives on."""
    return RoadNetwork()


def base_map() -> dict[str, Any]:
    """The map's base layer as JSON-ready data, for when no tile server is reachable."""
    net = road_network()
    yx, yy = net.yard
    polygon = [(yx - 90, yy - 70), (yx + 110, yy - 70), (yx + 110, yy + 80), (yx - 90, yy + 80)]
    chargers = [(yx - 70 + 28 * k, yy - 50) for k in range(6)]
    roads = []
    for road in net.roads:
        coords = [net.xy[road.nodes[0]]]
        for a, b in zip(road.nodes, road.nodes[1:], strict=False):
            shape = next(sh for other, _, sh, _ in net.edges[a] if other == b)
            coords.extend(shape[1:])
        roads.append({"name": road.name, "kind": road.kind, "coords": [_ll(p) for p in coords]})
    all_xy = np.array(net.xy)
    lo = to_lonlat(float(all_xy[:, 0].min()) - 150, float(all_xy[:, 1].min()) - 150)
    hi = to_lonlat(float(all_xy[:, 0].max()) + 150, float(all_xy[:, 1].max()) + 150)
    return {
        "center": list(CENTER),
        "bounds": [lo[0], lo[1], hi[0], hi[1]],
        "depot": {
            "name": "fleetlink depot Nürnberg-Hafen",
            "polygon": [_ll(p) for p in [*polygon, polygon[0]]],
            "chargers": [_ll(p) for p in chargers],
        },
        "roads": roads,
        "stops": [_ll(net.xy[n]) for n in net.stop_nodes],
    }


def _ll(p: tuple[float, float]) -> list[float]:
    lon, lat = to_lonlat(p[0], p[1])
    return [round(lon, 7), round(lat, 7)]
