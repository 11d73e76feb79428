"""The Dash UI as an ASGI mount.

The Dash UI is a WSGI (Flask) application; it is mounted at ``/`` under
Starlette through a2wsgi, next to the hub's websocket route and the HTTP API,
so the demo serves everything on one port.
"""

from __future__ import annotations

from a2wsgi import WSGIMiddleware
from starlette.routing import Mount

from dashboard.app import create_dash
from edge.sim.route import base_map

__all__ = ["dash_mount"]


def dash_mount(hub_ws_url: str) -> Mount:
    """The Dash UI, mounted at the root, reading live values from hub_ws_url."""
    dash_app = create_dash(hub_ws_url=hub_ws_url, base_map=base_map())
    return Mount("/", app=WSGIMiddleware(dash_app.server, workers=4))  # type: ignore[arg-type]
