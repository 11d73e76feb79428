"""Fixtures for the browser tests: headless Chromium, and the page served for real.

The server is a Starlette app run by uvicorn in a thread on a free port: the
Dash app mounted at ``/`` through a2wsgi, and the scripted hub at
``/ws/live``, as the one-port demo mounts them.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from a2wsgi import WSGIMiddleware
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from dashboard import create_dash
from tests.dashboard.scripted_hub import BASE_MAP, ScriptedHub

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

_CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1440,900",
)


@dataclass
class Served:
    url: str
    hub: ScriptedHub


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """The dashboard and a scripted hub on one port, for the module's tests."""
    hub = ScriptedHub()
    dash_app = create_dash(hub_ws_url="/ws/live", base_map=BASE_MAP)
    app = hub.app(WSGIMiddleware(dash_app.server))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        ws="websockets-sansio",
        lifespan="on",
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start within 15 s")
        time.sleep(0.02)
    try:
        yield Served(url=f"http://127.0.0.1:{port}/", hub=hub)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Headless Chromium with its console and network logs readable.

    One browser serves a module (its cache makes each page load quick); every
    test loads the page afresh, so no page state carries over.
    """
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"browser tests need Chromium and chromedriver; missing: {', '.join(missing)}")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in _CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
