"""Settings, read once from the environment (prefix ``FLEETLINK_``) or a TOML file.

Keyword arguments are the API: every role takes a :class:`Settings`. Only
:meth:`Settings.from_env` looks at the environment, and it is called once, by
the CLI. A file named by ``FLEETLINK_CONFIG`` may hold the same keys in lower
case (``amqp_url = "amqp://..."``); the environment wins over the file.

Without ``amqp_url``, ``database_url`` and ``memcached`` the platform runs
embedded: an in-process fanout, an SQLite store and an in-memory latest-state
cache.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from edge.catalog import DEFAULT_DBC
from edge.errors import ConfigError

__all__ = ["PREFIX", "Settings"]

PREFIX = "FLEETLINK_"


@dataclass(frozen=True)
class Settings:
    """Everything a role needs to know about its surroundings."""

    amqp_url: str | None = None
    database_url: str | None = None
    memcached: str | None = None
    exchange: str = "telemetry"
    writer_queue: str = "telemetry.writer"
    dead_letter_exchange: str = "telemetry.dead"
    dbc: str = str(DEFAULT_DBC)
    window_ms: int = 250
    spool_dir: str = "fleetlink-spool"
    flush_interval_s: float = 2.0
    writer_prefetch: int = 2000
    retention_days: int = 0
    hub_url: str = "ws://127.0.0.1:8001/ws/live"
    log_level: str = "INFO"

    @property
    def embedded(self) -> bool:
        """True when no external service is configured."""
        return not (self.amqp_url or self.database_url or self.memcached)

    def with_(self, **changes: Any) -> Settings:
        """A copy with some settings changed."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the file named by FLEETLINK_CONFIG, then FLEETLINK_* variables."""
        env = os.environ if environ is None else environ
        raw: dict[str, Any] = {}
        path = env.get(PREFIX + "CONFIG")
        if path:
            raw.update(_read_file(Path(path)))
        for f in fields(cls):
            key = PREFIX + f.name.upper()
            if key in env:
                raw[f.name] = env[key]
        return cls(**{name: _cast(name, value) for name, value in raw.items()})


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown keys in {path}: {', '.join(unknown)}")
    return data


def _cast(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}.get(name)
    if kind is None:
        raise ConfigError(f"unknown setting {name!r}")
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{PREFIX}{name.upper()}: expected a {kind}, got {value!r}") from None
    if value == "" and "None" in str(kind):
        return None
    return str(value)
