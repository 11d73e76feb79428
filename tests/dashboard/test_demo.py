"""The embedded demo, as a newcomer starts it, in headless Chromium.

`fleetlink demo` runs in its own process with no service configured; the test
opens the address it prints, sees the simulated trucks on the map over the
drawn base layer, clicks one and watches one of its live values change.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By

from tests.dashboard.test_browser import (
    click_truck,
    connection_text,
    truck_points,
    value_of,
    wait_for,
)

pytestmark = pytest.mark.browser

TRUCKS = 4


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`fleetlink demo` in a subprocess, embedded, in an empty working directory."""
    workdir = tmp_path_factory.mktemp("demo")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETLINK_")}
    cmd = [sys.executable, "-m", "app.cli", "demo", "--trucks", str(TRUCKS), "--port", str(port)]
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = str(root)
    log = (workdir / "demo.log").open("w")
    proc = subprocess.Popen(
        cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=log, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "is running" not in line:
            pytest.fail(f"the demo did not start: {line!r}; log in {workdir / 'demo.log'}")
        url = line.rsplit("open ", 1)[1].strip()
        yield url
    finally:
        proc.terminate()
        code = proc.wait(timeout=60)
        log.close()
        if proc.stdout is not None:
            proc.stdout.close()
        # A clean stop on SIGTERM: the demo finishes and exits 0.
        assert code == 0, (workdir / "demo.log").read_text()[-3000:]
        assert (workdir / "fleetlink.sqlite3").exists()


def test_demo_shows_the_fleet_on_the_map_and_live_values_of_a_clicked_truck(
    browser: Chrome, demo_url: str, tmp_path: Path
) -> None:
    browser.get(demo_url)
    wait_for(browser, "the hub connection", lambda: connection_text(browser) == "Connected")
    wait_for(browser, "every truck on the map", lambda: len(truck_points(browser)) == TRUCKS)

    depot = browser.find_element(By.CSS_SELECTOR, "#fleet-map .tracedepot path.js-fill")
    roads = browser.find_elements(By.CSS_SELECTOR, "#fleet-map .scatterlayer path.js-line")
    assert len(depot.get_attribute("d") or "") > 10
    assert len([r for r in roads if len(r.get_attribute("d") or "") > 10]) >= 3

    click_truck(browser, "2")
    wait_for(
        browser,
        "truck 2's panel",
        lambda: browser.find_element(By.ID, "detail-title").text == "Truck 2",
    )
    wait_for(browser, "a pack voltage", lambda: value_of(browser, "PackVoltage").endswith(" V"))
    first = {
        key: value_of(browser, key) for key in ("PackVoltage", "PackCurrent", "CellVoltageMax")
    }
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = {key: value_of(browser, key) for key in first}
        if now != first:
            break
        time.sleep(0.2)
    assert now != first, f"no live value of truck 2 changed in 30 s: {first}"
    assert value_of(browser, "SOC").endswith("%")
    browser.save_screenshot(os.environ.get("FLEETLINK_DEMO_SCREENSHOT", str(tmp_path / "demo.png")))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
