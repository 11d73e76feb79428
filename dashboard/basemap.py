"""The fleet map's figure: an offline base layer and one trace for every truck.

No tile server is reachable where fleetlink runs, so the map draws its own
ground from the base map the simulator describes (depot outline, chargers,
roads, stops) on plain longitude/latitude axes. The y axis is scaled by
``1 / cos(latitude)`` so that a kilometre east and a kilometre north are the
same length on screen.

The trucks are one scatter trace, last in the figure and tagged with the uid
:data:`TRUCK_TRACE_UID`; the browser finds it by that uid and restyles only
it as values arrive. A second one-point trace, :data:`SELECTED_TRACE_UID`,
rings the truck whose details are open.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from edge.errors import ConfigError

__all__ = [
    "MODE_STYLE",
    "RING_STYLE",
    "SELECTED_TRACE_UID",
    "SOC_COLORSCALE",
    "TRUCK_TRACE_UID",
    "base_figure",
    "check_base_map",
]

TRUCK_TRACE_UID = "trucks"
SELECTED_TRACE_UID = "selected-truck"

# Red below 15 %, amber around a third, green from two thirds: fixed 0-100 %.
SOC_COLORSCALE: list[list[float | str]] = [
    [0.0, "#b3261e"],
    [0.15, "#e0562b"],
    [0.35, "#f2b33d"],
    [0.6, "#a8c94a"],
    [1.0, "#1e8f4e"],
]

# Marker symbol and outline by VehicleMode (the DBC's value names).
MODE_STYLE: dict[str, dict[str, Any]] = {
    "Driving": {"symbol": "arrow", "line": "#1d2733", "width": 1.0, "size": 15},
    "Parked": {"symbol": "circle", "line": "#5b6675", "width": 1.0, "size": 11},
    "Charging": {"symbol": "diamond", "line": "#1565c0", "width": 2.5, "size": 13},
    "Fault": {"symbol": "square", "line": "#b3261e", "width": 3.0, "size": 12},
    "Unknown": {"symbol": "circle-open", "line": "#5b6675", "width": 1.5, "size": 10},
}

# The ring around the selected truck.
RING_STYLE: dict[str, Any] = {"symbol": "circle-open", "line": "#1565c0", "width": 3.0, "size": 28}

_LAND = "#eef1ec"
_DEPOT_FILL = "rgba(120, 132, 150, 0.22)"
_DEPOT_EDGE = "#7d8898"
_ARTERIAL_CASING = "#b9c0ca"
_ARTERIAL = "#ffffff"
_STREET = "#d5dae1"
_STOP = "#8a94a3"
_CHARGER = "#1565c0"
_PAD = 0.06


def check_base_map(base_map: Any) -> None:
    """Raise ConfigError unless ``base_map`` has the shape the map draws from."""
    if not isinstance(base_map, dict):
        raise ConfigError(f"base map: expected a JSON object, got {type(base_map).__name__}")
    for key in ("center", "bounds", "depot", "roads", "stops"):
        if key not in base_map:
            raise ConfigError(f"base map: expected key {key!r}, got keys {sorted(base_map)}")
    bounds = base_map["bounds"]
    if not (isinstance(bounds, list | tuple) and len(bounds) == 4):
        raise ConfigError(
            f"base map: expected bounds [min_lon, min_lat, max_lon, max_lat], got {bounds!r}"
        )
    depot = base_map["depot"]
    if not isinstance(depot, dict) or "polygon" not in depot:
        raise ConfigError(f"base map: expected depot with a polygon, got {depot!r:.80}")
    _points("depot.polygon", depot["polygon"])
    _points("depot.chargers", depot.get("chargers", []))
    _points("stops", base_map["stops"])
    for i, road in enumerate(base_map["roads"]):
        if not isinstance(road, dict) or road.get("kind") not in ("arterial", "street"):
            raise ConfigError(
                f"base map: road {i} expected kind arterial or street, got {road!r:.80}"
            )
        _points(f"roads[{i}].coords", road.get("coords"))


def base_figure(base_map: dict[str, Any]) -> dict[str, Any]:
    """A Plotly figure (as a dict) of the base layer and an empty truck trace."""
    check_base_map(base_map)
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in base_map["bounds"])
    pad_lon = (max_lon - min_lon) * _PAD
    pad_lat = (max_lat - min_lat) * _PAD
    mid_lat = float(base_map["center"][1])

    traces = [
        *_depot_traces(base_map["depot"]),
        *_road_traces(base_map["roads"]),
        _marker_trace("Stops", base_map["stops"], symbol="circle", size=5, color=_STOP),
        _marker_trace(
            "Chargers",
            base_map["depot"].get("chargers", []),
            symbol="square",
            size=7,
            color=_CHARGER,
        ),
        _truck_trace(),
        _selected_trace(),
    ]
    axis = {"showgrid": False, "zeroline": False, "showticklabels": False, "ticks": ""}
    layout = {
        "uirevision": "fleet-map",
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": _LAND,
        "showlegend": False,
        "hovermode": "closest",
        "dragmode": "pan",
        "font": {"family": "Inter, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"},
        "hoverlabel": {"bgcolor": "#1d2733", "font": {"color": "#ffffff", "size": 12}},
        "xaxis": {**axis, "range": [min_lon - pad_lon, max_lon + pad_lon]},
        "yaxis": {
            **axis,
            "range": [min_lat - pad_lat, max_lat + pad_lat],
            "scaleanchor": "x",
            "scaleratio": 1.0 / math.cos(math.radians(mid_lat)),
        },
    }
    return {"data": traces, "layout": layout}


def _points(what: str, value: Any) -> None:
    if not isinstance(value, list | tuple):
        raise ConfigError(f"base map: {what} expected a list of [lon, lat], got {value!r:.80}")
    for point in value:
        if not (isinstance(point, list | tuple) and len(point) == 2):
            raise ConfigError(f"base map: {what} expected [lon, lat] pairs, got {point!r:.80}")


def _split(points: Sequence[Sequence[float]]) -> tuple[list[float], list[float]]:
    return [float(p[0]) for p in points], [float(p[1]) for p in points]


def _depot_traces(depot: dict[str, Any]) -> list[dict[str, Any]]:
    xs, ys = _split(depot["polygon"])
    if xs and (xs[0], ys[0]) != (xs[-1], ys[-1]):
        xs.append(xs[0])
        ys.append(ys[0])
    outline = {
        "type": "scatter",
        "name": "Depot",
        "uid": "depot",
        "x": xs,
        "y": ys,
        "mode": "lines",
        "fill": "toself",
        "fillcolor": _DEPOT_FILL,
        "line": {"color": _DEPOT_EDGE, "width": 1.5, "dash": "dot"},
        "hoverinfo": "skip",
    }
    label = {
        "type": "scatter",
        "name": "Depot label",
        "x": [sum(xs) / len(xs)] if xs else [],
        "y": [max(ys)] if ys else [],
        "mode": "text",
        "text": [str(depot.get("name", "Depot"))],
        "textposition": "top center",
        "textfont": {"size": 12, "color": "#4a5563"},
        "hoverinfo": "skip",
    }
    return [outline, label]


def _road_traces(roads: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    # One trace per road kind, roads separated by gaps (None), so that a city
    # of roads costs a handful of traces, not one per road.
    lines: dict[str, tuple[list[float | None], list[float | None]]] = {
        "arterial": ([], []),
        "street": ([], []),
    }
    labels: tuple[list[float], list[float], list[str]] = ([], [], [])
    for road in roads:
        xs, ys = _split(road["coords"])
        bucket = lines[road["kind"]]
        bucket[0].extend([*xs, None])
        bucket[1].extend([*ys, None])
        if road["kind"] == "arterial" and road.get("name") and xs:
            middle = len(xs) // 2
            labels[0].append(xs[middle])
            labels[1].append(ys[middle])
            labels[2].append(str(road["name"]))

    def line(name: str, kind: str, color: str, width: float) -> dict[str, Any]:
        xs, ys = lines[kind]
        return {
            "type": "scatter",
            "name": name,
            "x": xs,
            "y": ys,
            "mode": "lines",
            "line": {"color": color, "width": width},
            "hoverinfo": "skip",
            "connectgaps": False,
        }

    return [
        line("Streets", "street", _STREET, 2.0),
        line("Arterial casing", "arterial", _ARTERIAL_CASING, 8.0),
        line("Arterial roads", "arterial", _ARTERIAL, 5.0),
        {
            "type": "scatter",
            "name": "Road names",
            "x": labels[0],
            "y": labels[1],
            "text": labels[2],
            "mode": "text",
            "textposition": "middle right",
            "textfont": {"size": 10, "color": "#7a8494"},
            "hoverinfo": "skip",
        },
    ]


def _marker_trace(
    name: str, points: Sequence[Sequence[float]], *, symbol: str, size: int, color: str
) -> dict[str, Any]:
    xs, ys = _split(points)
    return {
        "type": "scatter",
        "name": name,
        "x": xs,
        "y": ys,
        "mode": "markers",
        "marker": {"symbol": symbol, "size": size, "color": color, "opacity": 0.8},
        "hoverinfo": "skip",
    }


def _truck_trace() -> dict[str, Any]:
    return {
        "type": "scatter",
        "name": "Trucks",
        "uid": TRUCK_TRACE_UID,
        "x": [],
        "y": [],
        "customdata": [],
        "text": [],
        "mode": "markers",
        "hovertemplate": "%{text}<extra></extra>",
        "marker": {
            "color": [],
            "cmin": 0,
            "cmax": 100,
            "colorscale": SOC_COLORSCALE,
            "showscale": True,
            "colorbar": {
                "title": {"text": "SOC %", "side": "top"},
                "thickness": 12,
                "len": 0.5,
                "x": 0.995,
                "xanchor": "right",
                "y": 0.03,
                "yanchor": "bottom",
                "bgcolor": "rgba(255,255,255,0.85)",
                "outlinewidth": 0,
                "tickvals": [0, 15, 50, 100],
            },
            "symbol": [],
            "angle": [],
            "size": [],
            "line": {"color": [], "width": []},
        },
    }


def _selected_trace() -> dict[str, Any]:
    return {
        "type": "scatter",
        "name": "Selected truck",
        "uid": SELECTED_TRACE_UID,
        "x": [],
        "y": [],
        "mode": "markers",
        "marker": {
            "symbol": RING_STYLE["symbol"],
            "size": RING_STYLE["size"],
            "color": RING_STYLE["line"],
            "line": {"color": RING_STYLE["line"], "width": RING_STYLE["width"]},
        },
        "hoverinfo": "skip",
    }
