"""What the detail panel asks the hub for."""

from __future__ import annotations

from dashboard.panel import DETAIL_SIGNALS, FLEET_SIGNALS, SECTIONS, live_config
from edge.catalog import default_catalog


def test_every_signal_the_page_subscribes_to_is_stored_in_the_catalogue() -> None:
    catalog = default_catalog()

    for key in (*FLEET_SIGNALS, *DETAIL_SIGNALS):
        assert key in catalog.by_key, key
        assert catalog.by_key[key].stored, key


def test_panel_has_battery_health_and_gps_sections_in_that_order() -> None:
    assert [s.title for s in SECTIONS][:3] == ["Battery", "Health", "GPS"]


def test_detail_subscription_includes_both_cell_voltages_for_the_spread() -> None:
    keys = [f.key for s in SECTIONS for f in s.fields]

    assert "spread" in keys
    assert "spread" not in DETAIL_SIGNALS
    assert {"CellVoltageMin", "CellVoltageMax"} <= set(DETAIL_SIGNALS)
    assert len(DETAIL_SIGNALS) == len(set(DETAIL_SIGNALS))


def test_live_config_carries_the_hub_url_and_the_panel_as_json_data() -> None:
    config = live_config(hub_ws_url="ws://hub:8001/ws/live", api_prefix="/api")

    assert config["hubUrl"] == "ws://hub:8001/ws/live"
    assert config["fleetSignals"] == list(FLEET_SIGNALS)
    soc = config["sections"][0]["fields"][0]
    assert soc["key"] == "SOC"
    assert {"low": 15, "high": None, "equals": None, "level": "bad"} in soc["limits"]
