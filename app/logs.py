"""Logging for every role: one root logger, ``fleetlink``, on stderr.

Level policy: ERROR means a bug or lost data; WARNING, degraded but working;
INFO, lifecycle (start, stop, connect, reconnect); DEBUG, traffic summaries.
Per-frame and per-point traffic is never logged above level 5.
"""

from __future__ import annotations

import logging
import sys

from edge.errors import ConfigError

__all__ = ["ROOT", "TRACE", "setup"]

ROOT = "fleetlink"
TRACE = 5
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup(level: str = "INFO") -> None:
    """Send fleetlink's logs (and warnings of the libraries) to stderr."""
    logging.addLevelName(TRACE, "TRACE")
    name = level.upper()
    numeric = TRACE if name == "TRACE" else logging.getLevelName(name)
    if not isinstance(numeric, int):
        raise ConfigError(f"--log-level: expected DEBUG, INFO, WARNING or ERROR, got {level!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.WARNING))
    logging.getLogger(ROOT).setLevel(numeric)
