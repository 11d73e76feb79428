"""The Dash UI: a live fleet map and a truck detail panel fed by the hub."""

from dashboard.app import create_dash

__all__ = ["create_dash"]
