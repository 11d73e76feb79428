"""Fixtures of the simulator tests: a fixed route and trucks driven for a while."""

from __future__ import annotations

import numpy as np
import pytest

from edge.sim.route import Route, road_network


@pytest.fixture(scope="session")
def six_stop_route() -> Route:
    """The same six-stop delivery loop for every test that compares runs."""
    return road_network().route(np.random.default_rng(11), stops=6)
