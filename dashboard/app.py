"""The Dash application: live fleet map, truck detail panel, connection state.

The server renders the page once: the layout, the base map figure and a small
JSON configuration. From then on everything live happens in the browser. The
scripts in ``assets/`` open websockets to the hub, keep the latest values in
memory, and clientside callbacks driven by a browser-only interval draw them
into the map and the panel. No callback runs on the server, so the Flask app
serves files and nothing else, and works the same when mounted under
Starlette with ``a2wsgi`` next to the hub's ``/ws/live`` route.

Every script, stylesheet and font is served from this process: Dash is built
with ``serve_locally=True`` and no external stylesheet or script is listed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, dcc, html

from dashboard.basemap import MODE_STYLE, RING_STYLE, base_figure, check_base_map
from dashboard.panel import SECTIONS, live_config

__all__ = ["ASSETS", "create_dash"]

log = logging.getLogger(f"fleetlink.{__name__}")

ASSETS = Path(__file__).with_name("assets")
TICK_MS = 500
_NAMESPACE = "fleetlink"

_GRAPH_CONFIG = dcc.Graph.Config(
    displaylogo=False,
    scrollZoom=True,
    responsive=True,
    modeBarButtonsToRemove=["select2d", "lasso2d", "autoScale2d", "toImage"],
)


def create_dash(
    *,
    hub_ws_url: str,
    base_map: dict[str, Any],
    api_prefix: str = "/api",
    requests_pathname_prefix: str = "/",
) -> dash.Dash:
    """Build the fleet UI.

    ``hub_ws_url`` is the hub's websocket endpoint: relative (``/ws/live``,
    resolved in the browser against the page, ``ws`` or ``wss`` after the
    page's scheme) or absolute (``ws://host:8001/ws/live``). ``base_map`` is
    the depot, roads and stops the map draws under the trucks.
    """
    check_base_map(base_map)
    app = dash.Dash(
        __name__,
        title="fleetlink · live fleet",
        update_title="",
        assets_folder=str(ASSETS),
        serve_locally=True,
        include_assets_files=True,
        assets_external_path="",
        external_scripts=[],
        external_stylesheets=[],
        compress=False,
        suppress_callback_exceptions=False,
        requests_pathname_prefix=requests_pathname_prefix,
    )
    # Dash reads DASH_* variables for its developer tools; settle them here so
    # that nothing in the page ever calls home (the version check) or reloads.
    app.enable_dev_tools(
        debug=False,
        dev_tools_ui=False,
        dev_tools_props_check=False,
        dev_tools_serve_dev_bundles=False,
        dev_tools_hot_reload=False,
        dev_tools_silence_routes_logging=False,
        dev_tools_disable_version_check=True,
        dev_tools_prune_errors=True,
        dev_tools_validate_callbacks=False,
    )
    config = live_config(hub_ws_url=hub_ws_url, api_prefix=api_prefix)
    config["modeStyle"] = MODE_STYLE
    config["ringStyle"] = RING_STYLE
    app.layout = _layout(base_figure(base_map), config)
    _wire(app)
    log.info("dashboard built: hub %s, %d roads", hub_ws_url, len(base_map["roads"]))
    return app


def _layout(figure: dict[str, Any], config: dict[str, Any]) -> html.Div:
    return html.Div(
        className="fl-app",
        children=[
            _header(),
            html.Main(
                className="fl-main",
                children=[_map_pane(figure), _detail_pane()],
            ),
            dcc.Store(id="live-config", data=config),
            dcc.Interval(id="tick", interval=TICK_MS),
        ],
    )


def _header() -> html.Header:
    return html.Header(
        className="fl-header",
        children=[
            html.Div(
                className="fl-brand",
                children=[
                    html.Span("fleetlink", className="fl-brand-name"),
                    html.Span("Live fleet", className="fl-brand-page"),
                ],
            ),
            html.Div("Waiting for the hub…", id="fleet-summary", className="fl-summary"),
            html.Div(
                id="connection",
                className="fl-conn is-connecting",
                children=[
                    html.Span(className="fl-dot"),
                    html.Span("Connecting", id="connection-text"),
                ],
            ),
        ],
    )


def _map_pane(figure: dict[str, Any]) -> html.Section:
    legend = [
        html.Span(
            [html.I(className=f"fl-key fl-key-{mode.lower()}"), mode], className="fl-key-item"
        )
        for mode in ("Driving", "Parked", "Charging", "Fault")
    ]
    return html.Section(
        className="fl-map-pane",
        children=[
            dcc.Graph(
                id="fleet-map",
                figure=figure,
                config=_GRAPH_CONFIG,
                className="fl-map",
                style={"height": "100%", "width": "100%"},
            ),
            html.Div(legend, className="fl-map-legend"),
        ],
    )


def _detail_pane() -> html.Aside:
    sections = [
        html.Section(
            className="fl-section",
            children=[
                html.H3(section.title),
                html.Div(
                    className="fl-rows",
                    children=[_row(f.key, f.label) for f in section.fields],
                ),
            ],
        )
        for section in SECTIONS
    ]
    return html.Aside(
        className="fl-detail",
        children=[
            html.Div(
                className="fl-detail-head",
                children=[
                    html.H2("No truck selected", id="detail-title"),
                    dcc.Dropdown(
                        id="truck-picker",
                        options=[],
                        placeholder="Select a truck…",
                        clearable=True,
                        searchable=True,
                        className="fl-picker",
                    ),
                ],
            ),
            html.P(
                "Click a truck on the map, or pick one from the list, to see its "
                "live battery, health and GPS values.",
                id="detail-empty",
                className="fl-empty",
            ),
            html.Div(sections, id="detail-body", className="fl-detail-body is-hidden"),
        ],
    )


def _row(key: str, label: str) -> html.Div:
    return html.Div(
        id={"role": "row", "key": key},
        className="fl-row is-missing",
        children=[
            html.Span(label, className="fl-label"),
            html.Span("—", id={"role": "value", "key": key}, className="fl-value"),
            html.Span("", id={"role": "age", "key": key}, className="fl-age"),
        ],
    )


def _wire(app: dash.Dash) -> None:
    """Clientside callbacks only: live data never makes a server round trip."""
    app.clientside_callback(
        ClientsideFunction(_NAMESPACE, "tick"),
        Output("fleet-summary", "children"),
        Output("connection", "className"),
        Output("connection-text", "children"),
        Output("truck-picker", "options"),
        Input("tick", "n_intervals"),
        State("live-config", "data"),
    )
    app.clientside_callback(
        ClientsideFunction(_NAMESPACE, "pick"),
        Output("truck-picker", "value"),
        Input("fleet-map", "clickData"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(_NAMESPACE, "select"),
        Output("detail-title", "children"),
        Output("detail-body", "className"),
        Output("detail-empty", "className"),
        Input("truck-picker", "value"),
        State("live-config", "data"),
    )
    app.clientside_callback(
        ClientsideFunction(_NAMESPACE, "detail"),
        Output({"role": "value", "key": ALL}, "children"),
        Output({"role": "age", "key": ALL}, "children"),
        Output({"role": "row", "key": ALL}, "className"),
        Input("tick", "n_intervals"),
        State("live-config", "data"),
    )
