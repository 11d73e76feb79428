"""The Dash app as the server sees it: local assets only, no server callbacks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dashboard import create_dash
from edge.errors import ConfigError
from tests.dashboard.scripted_hub import BASE_MAP


def page_links(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_page_links_only_assets_served_by_the_app_itself() -> None:
    app = create_dash(hub_ws_url="/ws/live", base_map=BASE_MAP)
    client = app.server.test_client()

    with client.get("/") as response:
        page = response.get_data(as_text=True)
    links = page_links(page)
    assert any(link.startswith("/assets/live.js") for link in links)
    assert any(link.startswith("/assets/style.css") for link in links)
    for link in links:
        assert link.startswith("/"), link
        with client.get(link) as response:
            assert response.status_code == 200, link
    assert app.config.serve_locally is True


def test_every_callback_runs_in_the_browser() -> None:
    app = create_dash(hub_ws_url="/ws/live", base_map=BASE_MAP)

    callbacks = app.server.test_client().get("/_dash-dependencies").get_json()
    assert len(callbacks) == 4
    assert all(c["clientside_function"]["namespace"] == "fleetlink" for c in callbacks)


def test_page_under_a_prefix_requests_its_files_under_that_prefix() -> None:
    app = create_dash(
        hub_ws_url="ws://hub:8001/ws/live", base_map=BASE_MAP, requests_pathname_prefix="/ui/"
    )

    page = app.server.test_client().get("/").get_data(as_text=True)
    assert all(link.startswith("/ui/") for link in page_links(page))


def find(node: Any, component_id: str) -> dict[str, Any] | None:
    """The component with this id in a serialised Dash layout."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node
        children = node.get("props", {}).get("children")
        return find(children, component_id)
    if isinstance(node, list):
        for child in node:
            found = find(child, component_id)
            if found is not None:
                return found
    return None


def test_layout_hands_the_hub_url_to_the_browser() -> None:
    app = create_dash(hub_ws_url="ws://hub:8001/ws/live", base_map=BASE_MAP, api_prefix="/v1")

    layout = app.server.test_client().get("/_dash-layout").get_json()
    store = find(layout, "live-config")
    assert store is not None
    assert store["props"]["data"]["hubUrl"] == "ws://hub:8001/ws/live"
    assert store["props"]["data"]["apiPrefix"] == "/v1"


def test_a_base_map_without_a_depot_is_refused() -> None:
    broken = {k: v for k, v in BASE_MAP.items() if k != "depot"}

    with pytest.raises(ConfigError, match="depot"):
        create_dash(hub_ws_url="/ws/live", base_map=broken)
