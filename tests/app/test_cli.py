"""The fleetlink command: help, tools, and roles that stop cleanly on signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.cli import build_parser, main
from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SUBCOMMANDS = [
    "demo",
    "simulate",
    "agent",
    "writer",
    "hub",
    "web",
    "db",
    "bench",
    "bench-store",
    "signals",
]


def _fleetlink(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _service_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETLINK_")}
    env.update(
        FLEETLINK_AMQP_URL=settings.amqp_url or "",
        FLEETLINK_DATABASE_URL=settings.database_url or "",
        FLEETLINK_MEMCACHED=settings.memcached or "",
        FLEETLINK_EXCHANGE=settings.exchange,
        FLEETLINK_WRITER_QUEUE=settings.writer_queue,
        FLEETLINK_DEAD_LETTER_EXCHANGE=settings.dead_letter_exchange,
        FLEETLINK_SPOOL_DIR=settings.spool_dir,
    )
    return env


def test_every_subcommand_has_help_that_explains_its_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = build_parser()
    top = parser.format_help()
    for name in SUBCOMMANDS:
        assert name in top
        with pytest.raises(SystemExit) as stop:
            main([name, "--help"])
        assert stop.value.code == 0
        assert "usage: fleetlink " + name in capsys.readouterr().out


def test_signals_lists_the_whole_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["signals"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 289
    assert "CellVoltage192" in lines[-1] or any("CellVoltage192" in line for line in lines)


def test_a_malformed_setting_is_a_clear_error_naming_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLEETLINK_WINDOW_MS", "quarter-second")
    assert main(["signals"]) == 2
    assert "FLEETLINK_WINDOW_MS" in capsys.readouterr().err


def test_db_upgrade_creates_an_sqlite_schema_once(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETLINK_")}
    env["FLEETLINK_DATABASE_URL"] = f"sqlite:///{tmp_path / 'fleet.sqlite3'}"
    first = _fleetlink(["db", "upgrade"], env, tmp_path).communicate(timeout=60)
    again = _fleetlink(["db", "upgrade"], env, tmp_path).communicate(timeout=60)
    assert "applied: 0001" in first[0]
    assert "nothing" in again[0]


@pytest.mark.services
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_writer_role_stops_cleanly_on_a_signal(
    service_settings: Settings, tmp_path: Path, signum: int
) -> None:
    env = _service_env(service_settings)
    proc = _fleetlink(["--log-level", "INFO", "writer"], env, tmp_path)
    deadline = time.monotonic() + 60
    assert proc.stderr is not None
    started = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        started.append(line)
        if "writer started" in line or not line:
            break
    assert any("writer started" in line for line in started), "".join(started)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "writer stopped" in err
    assert "Traceback" not in err


@pytest.mark.services
def test_bench_runs_the_roles_and_reports_nothing_lost(
    service_settings: Settings, tmp_path: Path
) -> None:
    env = _service_env(service_settings)
    env["FLEETLINK_DATABASE_URL"] = "mysql://root@127.0.0.1:3306"
    args = ["bench", "--trucks", "2", "--seconds", "4", "--source", "recorded"]
    out, err = _fleetlink(args, env, tmp_path).communicate(timeout=240)
    assert "points/s committed" in out, err
    assert "lost 0, sequence gaps 0" in out
    assert "points duplicated                      0" in out


@pytest.mark.services
def test_bench_store_prints_each_round_and_the_median(mysql_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETLINK_")}
    args = ["bench-store", "--url", mysql_url, "--trucks", "3", "--rounds", "2"]
    out, err = _fleetlink(args, env, tmp_path).communicate(timeout=120)
    assert "round 2/2" in out, err
    assert "median" in out
