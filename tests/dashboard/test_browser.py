"""The fleet page in headless Chromium, fed by the scripted hub over a real websocket."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.webdriver import ActionChains, Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.dashboard.conftest import Served

pytestmark = pytest.mark.browser

TRUCKS = 6
WAIT_S = 30


def wait_for(browser: Chrome, what: str, condition: Any, timeout: float = WAIT_S) -> Any:
    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(
        lambda _: condition(), message=f"waited {timeout} s for {what}"
    )


def truck_points(browser: Chrome) -> list[WebElement]:
    return browser.find_elements(By.CSS_SELECTOR, "#fleet-map .tracetrucks path.point")


def open_page(browser: Chrome, served: Served) -> None:
    """Load the page afresh and wait until every scripted truck is on the map.

    The logs of earlier pages are read and dropped first, so what a test reads
    from them belongs to this page load.
    """
    browser.get_log("browser")
    browser.get_log("performance")
    browser.get(served.url)
    wait_for(browser, "the hub connection", lambda: connection_text(browser) == "Connected")
    wait_for(browser, "all truck markers", lambda: len(truck_points(browser)) == TRUCKS)


def connection_text(browser: Chrome) -> str:
    return str(browser.find_element(By.ID, "connection-text").text)


def row(browser: Chrome, key: str, role: str) -> WebElement:
    element_id = json.dumps({"key": key, "role": role}, separators=(",", ":"))
    element = browser.execute_script("return document.getElementById(arguments[0]);", element_id)
    assert element is not None, f"no {role} element for {key}"
    return element


def value_of(browser: Chrome, key: str) -> str:
    return str(row(browser, key, "value").text)


def marker_fills(browser: Chrome) -> dict[str, tuple[int, int, int]]:
    """Truck id to the fill colour its marker is drawn with."""
    pairs = browser.execute_script(
        """
        const gd = document.querySelector('#fleet-map .js-plotly-plot');
        const trace = gd.data.find((t) => t.uid === 'trucks');
        const points = gd.querySelectorAll('.tracetrucks path.point');
        return Array.from(points).map((p, i) => [trace.customdata[i], p.style.fill]);
        """
    )
    fills = {}
    for truck, fill in pairs:
        red, green, blue = (int(part) for part in fill[fill.index("(") + 1 : -1].split(","))
        fills[str(truck)] = (red, green, blue)
    return fills


def click_truck(browser: Chrome, truck: str) -> None:
    ids = browser.execute_script(
        "return document.querySelector('#fleet-map .js-plotly-plot')"
        ".data.find((t) => t.uid === 'trucks').customdata;"
    )
    point = truck_points(browser)[list(ids).index(truck)]
    ActionChains(browser).move_to_element(point).pause(0.2).click().perform()


def requested_urls(browser: Chrome) -> list[str]:
    """Every URL the page asked for since the last call, websockets included."""
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    return urls


def test_page_loads_without_console_errors_or_requests_to_other_hosts(
    browser: Chrome, served: Served
) -> None:
    open_page(browser, served)
    click_truck(browser, "2")
    wait_for(browser, "the detail panel", lambda: value_of(browser, "PackVoltage") != "—")

    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    urls = requested_urls(browser)
    assert errors == []
    assert any(url.endswith("/ws/live") for url in urls)
    network = [u for u in urls if urlsplit(u).scheme in ("http", "https", "ws", "wss")]
    foreign = [u for u in network if urlsplit(u).hostname != "127.0.0.1"]
    assert len(network) > 10
    assert foreign == []


def test_map_draws_depot_roads_and_one_marker_per_truck(browser: Chrome, served: Served) -> None:
    open_page(browser, served)

    depot = browser.find_element(By.CSS_SELECTOR, "#fleet-map .tracedepot path.js-fill")
    lines = browser.find_elements(By.CSS_SELECTOR, "#fleet-map .scatterlayer path.js-line")
    drawn_lines = [line for line in lines if len(line.get_attribute("d") or "") > 10]
    assert len(depot.get_attribute("d") or "") > 10
    assert len(drawn_lines) >= 3  # depot outline, streets, arterial casing and fill
    assert len(truck_points(browser)) == TRUCKS


def test_marker_colour_follows_state_of_charge(browser: Chrome, served: Served) -> None:
    open_page(browser, served)

    fills = marker_fills(browser)
    empty_red, empty_green, _ = fills["1"]  # SOC 8 %
    full_red, full_green, _ = fills["2"]  # SOC 95 %
    assert empty_red > 1.5 * empty_green
    assert full_green > 1.5 * full_red


def test_clicking_a_truck_opens_its_panel_and_live_values_change(
    browser: Chrome, served: Served
) -> None:
    open_page(browser, served)
    click_truck(browser, "2")

    wait_for(
        browser,
        "truck 2's panel",
        lambda: browser.find_element(By.ID, "detail-title").text == "Truck 2",
    )
    wait_for(browser, "a pack voltage", lambda: value_of(browser, "PackVoltage").endswith(" V"))
    first = value_of(browser, "PackVoltage")
    wait_for(
        browser, "the pack voltage to change", lambda: value_of(browser, "PackVoltage") != first
    )
    assert value_of(browser, "SOC") == "95.0 %"
    assert value_of(browser, "HvState") == "Ready"
    assert "is-hidden" in (row(browser, "DtcSpn", "row").get_attribute("class") or "")


def test_picking_a_faulted_truck_from_the_list_shows_its_fault_code(
    browser: Chrome, served: Served
) -> None:
    open_page(browser, served)
    browser.find_element(By.CSS_SELECTOR, "#truck-picker").click()
    option = wait_for(
        browser,
        "the truck list",
        lambda: next(
            (
                e
                for e in browser.find_elements(By.XPATH, "//*[text()='Truck 4']")
                if e.is_displayed()
            ),
            None,
        ),
    )
    option.click()

    wait_for(
        browser,
        "truck 4's panel",
        lambda: browser.find_element(By.ID, "detail-title").text == "Truck 4",
    )
    wait_for(browser, "the fault code", lambda: value_of(browser, "DtcSpn") == "520")
    assert "is-hidden" not in (row(browser, "DtcSpn", "row").get_attribute("class") or "")
    assert value_of(browser, "VehicleMode") == "Fault"


def test_panel_marks_low_charge_low_insulation_and_red_lamp(
    browser: Chrome, served: Served
) -> None:
    open_page(browser, served)
    click_truck(browser, "1")

    wait_for(
        browser, "truck 1's insulation", lambda: value_of(browser, "InsulationResistance") != "—"
    )
    for key in ("SOC", "InsulationResistance", "RedStopLamp"):
        assert "is-bad" in (row(browser, key, "row").get_attribute("class") or ""), key
    assert value_of(browser, "RedStopLamp") == "On"
    assert "is-bad" not in (row(browser, "SOH", "row").get_attribute("class") or "")


def test_live_values_reach_the_page_without_server_callbacks(
    browser: Chrome, served: Served
) -> None:
    open_page(browser, served)
    click_truck(browser, "2")
    wait_for(browser, "a pack voltage", lambda: value_of(browser, "PackVoltage").endswith(" V"))
    requested_urls(browser)  # forget the page load

    seen: set[str] = set()

    def three_voltages() -> bool:
        seen.add(value_of(browser, "PackVoltage"))
        return len(seen) >= 3

    wait_for(browser, "three different pack voltages", three_voltages)

    assert [u for u in requested_urls(browser) if "_dash-update-component" in u] == []


def test_connection_indicator_shows_reconnecting_and_recovers(
    browser: Chrome, served: Served
) -> None:
    open_page(browser, served)
    hub = served.hub

    hub.refusing = True
    try:
        hub.call(hub.drop_all())
        wait_for(
            browser,
            "the reconnecting state",
            lambda: connection_text(browser).startswith("Reconnecting"),
        )
        state = browser.find_element(By.ID, "connection").get_attribute("class") or ""
        assert "is-reconnecting" in state
    finally:
        hub.refusing = False

    wait_for(browser, "the connection to recover", lambda: connection_text(browser) == "Connected")
    assert len(truck_points(browser)) == TRUCKS


def test_trucks_are_drawn_from_the_api_while_the_hub_refuses_connections(
    browser: Chrome, served: Served
) -> None:
    hub = served.hub
    hub.refusing = True
    try:
        browser.get(served.url)
        wait_for(
            browser,
            "the reconnecting state",
            lambda: connection_text(browser).startswith("Reconnecting"),
        )
        wait_for(browser, "trucks from the API", lambda: len(truck_points(browser)) == TRUCKS)
        assert hub.api_requests >= 1
    finally:
        hub.refusing = False
    wait_for(browser, "the connection to recover", lambda: connection_text(browser) == "Connected")
