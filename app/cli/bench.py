"""The end-to-end benchmark: simulated trucks through RabbitMQ to MariaDB and a browser socket.

Every role runs as its own process, as in production: ``--processes``
simulator processes (each truck with its agent, publishing to RabbitMQ), one
writer, one hub. The benchmark itself is a websocket client of the hub
subscribed to the whole fleet. After the run it reads the ledger and the chunks
from the database and prints:

- points per second committed;
- lag from frame to commit: commit time minus the time of the oldest and of the
  newest point of each batch (p50, p99);
- latency from frame to websocket client: arrival time minus point time of
  every value the client received (p50, p99);
- batches and points lost (published by an agent but not in the ledger, or
  sequence numbers missing) and duplicated (points in chunks beyond the ledger);
- the CPU each role used, as a share of one core.

It uses its own database and exchange, removed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import asyncmy
import numpy as np
import websockets

from app.config import Settings
from edge.errors import ConfigError

__all__ = ["run_bench"]

DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_MYSQL = "mysql://root@127.0.0.1:3306"
SOURCES = ("simulated", "recorded")
LIVE_SIGNALS = ["SOC", "PackVoltage", "PackCurrent", "Latitude", "Longitude", "MotorSpeed"]
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Watched:
    """A process whose CPU time the benchmark reads from /proc."""

    name: str
    pid: int
    cpu_start: float = 0.0
    cpu_end: float = 0.0

    def cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return self.cpu_end
        return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass
class Role(Watched):
    """A child process of the benchmark: one fleetlink role."""

    proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def spawn(cls, name: str, args: list[str], env: dict[str, str]) -> Role:
        proc = subprocess.Popen([*_fleetlink(), *args], env=env)
        return cls(name, proc.pid, proc=proc)


def _services() -> list[Watched]:
    """The broker, database and cache servers running on this machine, by process name."""
    names = {
        "beam.smp": "RabbitMQ",
        "mariadbd": "MariaDB",
        "mysqld": "MySQL",
        "memcached": "memcached",
    }
    found = []
    for stat in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            comm = stat.read_text().strip()
            if comm in names:
                found.append(Watched(f"{names[comm]} (server)", int(stat.parent.name)))
    return found


@dataclass
class Observed:
    latencies_s: list[float] = field(default_factory=list)
    messages: int = 0


def run_bench(
    settings: Settings,
    *,
    trucks: int,
    seconds: float,
    processes: int,
    source: str = "simulated",
    writers: int = 1,
) -> int:
    """Run the benchmark and print its report; returns the exit code."""
    if trucks < 1 or seconds <= 0 or processes < 1 or writers < 1:
        raise ConfigError("bench: --trucks, --seconds, --processes and --writers must be positive")
    if source not in SOURCES:
        raise ConfigError(f"bench --source: expected one of {', '.join(SOURCES)}, got {source!r}")
    return asyncio.run(_bench(settings, trucks, seconds, min(processes, trucks), source, writers))


async def _bench(
    settings: Settings, trucks: int, seconds: float, processes: int, source: str, writers: int
) -> int:
    tag = f"flbench_{secrets.token_hex(3)}"
    server = _mysql_server(settings.database_url)
    amqp = settings.amqp_url or DEFAULT_AMQP
    await _admin(server, f"CREATE DATABASE `{tag}`")
    workdir = Path(tempfile.mkdtemp(prefix="fleetlink-bench-"))
    env = dict(os.environ)
    env.update(
        FLEETLINK_AMQP_URL=amqp,
        FLEETLINK_DATABASE_URL=f"{server.geturl()}/{tag}",
        FLEETLINK_EXCHANGE=f"{tag}.telemetry",
        FLEETLINK_WRITER_QUEUE=f"{tag}.writer",
        FLEETLINK_DEAD_LETTER_EXCHANGE=f"{tag}.dead",
        FLEETLINK_SPOOL_DIR=str(workdir / "spool"),
        FLEETLINK_LOG_LEVEL="WARNING",
    )
    if settings.memcached:
        env["FLEETLINK_MEMCACHED"] = settings.memcached
    roles: list[Role] = []
    try:
        _say(
            f"bench: {trucks} {source} trucks in {processes} processes for {seconds:.0f} s,"
            f" database {tag}"
        )
        await _run_quiet([*_fleetlink(), "db", "upgrade"], env)
        for index in range(writers):
            name = "writer" if writers == 1 else f"writer #{index + 1}"
            roles.append(Role.spawn(name, ["writer"], env))
        port = _free_port()
        roles.append(Role.spawn("hub", ["hub", "--port", str(port)], env))
        await _wait_port(port)
        await asyncio.sleep(1.0)  # the writer binds its queue
        observed = Observed()
        client = asyncio.create_task(_watch(f"ws://127.0.0.1:{port}/ws/live", observed))
        sims = _spawn_fleet(trucks, processes, env, workdir, source, seconds)
        roles += sims
        await _first_commit(server, tag)
        await asyncio.sleep(2.0)  # warm-up: every process past its start
        watched: list[Watched] = [*roles, *_services()]
        for role in watched:
            role.cpu_start = role.cpu_seconds()
        observed.latencies_s.clear()
        t0 = time.monotonic()
        await _progress(server, tag, seconds)
        wall = time.monotonic() - t0
        for role in watched:
            role.cpu_end = role.cpu_seconds()
        client.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await client
        for role in sims:
            _stop(role)
        for role in sims:
            await _wait(role, 60)
        published = _published(workdir)
        await _drain(server, tag, published["batches_published"])
        report = await _report(server, tag, published)
        _print_report(report, observed, watched, trucks, seconds, wall)
        return 0
    finally:
        for role in roles:
            _stop(role)
        for role in roles:
            await _wait(role, 30)
        await _admin(server, f"DROP DATABASE IF EXISTS `{tag}`")
        await _delete_amqp(amqp, tag)
        shutil.rmtree(workdir, ignore_errors=True)


def _fleetlink() -> list[str]:
    return [sys.executable, "-m", "app.cli"]


def _stop(role: Role) -> None:
    if role.proc is not None and role.proc.poll() is None:
        role.proc.send_signal(signal.SIGTERM)


async def _wait(role: Role, timeout_s: float) -> None:
    """Wait for a role to exit; kill it if it has not within timeout_s."""
    if role.proc is None:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        await asyncio.to_thread(role.proc.wait, timeout_s)
    if role.proc.poll() is None:
        role.proc.kill()
        role.proc.wait()


def _spawn_fleet(
    trucks: int, processes: int, env: dict[str, str], workdir: Path, source: str, seconds: float
) -> list[Role]:
    """The truck side: simulated trucks with agents, or recorded batches replayed."""
    sims = []
    first = 1
    for index in range(processes):
        count = trucks // processes + (1 if index < trucks % processes else 0)
        stats = workdir / f"agents-{index}.json"
        if source == "simulated":
            args = ["simulate", "--trucks", str(count), "--first-truck", str(first)]
            args += ["--seed", str(index), "--stats-file", str(stats)]
            sims.append(Role.spawn(f"simulate+agents #{index + 1}", args, env))
        else:
            # Long enough for the warm-up; the benchmark stops it with SIGTERM.
            args = ["--trucks", f"{first}-{first + count - 1}", "--seconds", str(seconds + 120)]
            args += ["--stats-file", str(stats)]
            proc = subprocess.Popen([sys.executable, "-m", "app.loadgen", *args], env=env)
            sims.append(Role(f"recorded trucks #{index + 1}", proc.pid, proc=proc))
        first += count
    return sims


async def _run_quiet(cmd: list[str], env: dict[str, str]) -> None:
    proc = await asyncio.create_subprocess_exec(*cmd, env=env, stdout=subprocess.DEVNULL)
    if await proc.wait() != 0:
        raise ConfigError(f"bench: {' '.join(cmd[2:])} failed")


def _mysql_server(url: str | None) -> Any:
    parts = urlsplit(url or DEFAULT_MYSQL)
    if parts.scheme not in ("mysql", "mariadb"):
        raise ConfigError(f"bench needs MySQL or MariaDB, FLEETLINK_DATABASE_URL is {url!r}")
    return parts._replace(path="")


async def _connect(server: Any, db: str | None = None) -> Any:
    return await asyncmy.connect(
        host=server.hostname or "127.0.0.1",
        port=server.port or 3306,
        user=server.username or "root",
        password=server.password or "",
        database=db,
    )


async def _admin(server: Any, sql: str) -> None:
    conn = await _connect(server)
    try:
        async with conn.cursor() as cur:
            await cur.execute(sql)
    finally:
        conn.close()


async def _query(server: Any, db: str, sql: str) -> list[tuple[Any, ...]]:
    conn = await _connect(server, db)
    try:
        async with conn.cursor() as cur:
            await cur.execute(sql)
            return list(await cur.fetchall())
    finally:
        conn.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_port(port: int) -> None:
    for _ in range(200):
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.1)
    raise ConfigError(f"bench: the hub did not listen on port {port}")


async def _watch(url: str, observed: Observed) -> None:
    """Subscribe to the whole fleet and record how old each value is on arrival."""
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        request = {"op": "subscribe", "trucks": "*", "signals": LIVE_SIGNALS, "rate_hz": 20}
        await ws.send(json.dumps(request))
        async for raw in ws:
            now = time.time()
            message = json.loads(raw)
            if message.get("type") != "update":
                continue
            observed.messages += 1
            for values in message["trucks"].values():
                for t, _ in values.values():
                    observed.latencies_s.append(now - t)


async def _first_commit(server: Any, db: str) -> None:
    """Wait until the writer has committed something, or fail after a minute."""
    for _ in range(120):
        rows = await _query(server, db, "SELECT COUNT(*) FROM ledger")
        if int(rows[0][0]):
            return
        await asyncio.sleep(0.5)
    raise ConfigError("bench: nothing was committed within a minute of starting the trucks")


async def _progress(server: Any, db: str, seconds: float) -> None:
    """Wait out the run, drawing a progress bar with the points committed so far."""
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        rows = await _query(server, db, "SELECT COALESCE(SUM(n_points), 0) FROM ledger")
        done = min(elapsed / seconds, 1.0)
        bar = "#" * int(done * 30)
        committed = int(rows[0][0])
        _say(f"\r  [{bar:<30}] {elapsed:5.0f}/{seconds:.0f} s {committed:>12,} points", end="")
        await asyncio.sleep(min(2.0, max(0.0, seconds - elapsed)))
    _say("")


def _published(workdir: Path) -> dict[str, int]:
    batches = replayed = lost = 0
    for path in workdir.glob("agents-*.json"):
        for stats in json.loads(path.read_text()).values():
            batches += stats["batches_published"]
            replayed += stats.get("spool_replayed", 0)
            lost += stats["batches_lost"] + stats.get("batches_spooled", 0)
            lost -= stats.get("spool_replayed", 0)
    return {"batches_published": batches + replayed, "batches_not_published": lost}


async def _drain(server: Any, db: str, expected: int) -> None:
    """Wait until the writer has committed every published batch, or makes no progress."""
    last, since = -1, time.monotonic()
    while time.monotonic() - since < 30.0:
        rows = await _query(server, db, "SELECT COUNT(*) FROM ledger")
        count = int(rows[0][0])
        _say(f"\r  draining: {count:,} of {expected:,} batches committed", end="")
        if count >= expected:
            break
        if count != last:
            last, since = count, time.monotonic()
        await asyncio.sleep(1.0)
    _say("")


async def _report(server: Any, db: str, published: dict[str, int]) -> dict[str, Any]:
    ledger = await _query(
        server, db, "SELECT n_points, t_first_us, t_last_us, committed_us FROM ledger"
    )
    arr = np.array(ledger, dtype=np.int64).reshape(-1, 4)
    gaps = await _query(
        server,
        db,
        "SELECT COALESCE(SUM(top + 1 - cnt), 0) FROM (SELECT MAX(seq) AS top, COUNT(*) AS cnt "
        "FROM ledger GROUP BY truck_id, agent_start) AS runs",
    )
    chunk_points = await _query(server, db, "SELECT COALESCE(SUM(n), 0) FROM chunks")
    points = int(arr[:, 0].sum())
    span_s = (arr[:, 3].max() - arr[:, 3].min()) / 1e6 if len(arr) > 1 else float("nan")
    return {
        "batches": len(arr),
        "points": points,
        "points_per_s": points / span_s if span_s else float("nan"),
        "lag_oldest_ms": np.percentile((arr[:, 3] - arr[:, 1]) / 1e3, [50, 99]),
        "lag_newest_ms": np.percentile((arr[:, 3] - arr[:, 2]) / 1e3, [50, 99]),
        "missing_seq": int(gaps[0][0]),
        "batches_published": published["batches_published"],
        "batches_not_published": published["batches_not_published"],
        "duplicated_points": int(chunk_points[0][0]) - points,
    }


def _print_report(
    report: dict[str, Any],
    observed: Observed,
    roles: list[Watched],
    trucks: int,
    seconds: float,
    wall: float,
) -> None:
    lat = (
        np.percentile(np.array(observed.latencies_s) * 1e3, [50, 99])
        if observed.latencies_s
        else [np.nan] * 2
    )
    lost = report["batches_published"] - report["batches"] + report["batches_not_published"]
    lines = [
        f"fleetlink bench: {trucks} trucks, {seconds:.0f} s measured, {os.cpu_count()} cores",
        f"  points committed          {report['points']:>14,}",
        f"  points/s committed        {report['points_per_s']:>14,.0f}",
        f"  frame→commit, oldest point of batch  p50 {report['lag_oldest_ms'][0]:8.1f} ms"
        f"  p99 {report['lag_oldest_ms'][1]:8.1f} ms",
        f"  frame→commit, newest point of batch  p50 {report['lag_newest_ms'][0]:8.1f} ms"
        f"  p99 {report['lag_newest_ms'][1]:8.1f} ms",
        f"  frame→websocket client               p50 {lat[0]:8.1f} ms  p99 {lat[1]:8.1f} ms"
        f"  ({len(observed.latencies_s):,} values in {observed.messages:,} updates)",
        f"  batches published {report['batches_published']:,}, committed {report['batches']:,},"
        f" lost {lost:,}, sequence gaps {report['missing_seq']:,}",
        f"  points duplicated         {report['duplicated_points']:>14,}",
        "  CPU per role (share of one core over the measured window):",
    ]
    for role in roles:
        lines.append(f"    {role.name:<24} {(role.cpu_end - role.cpu_start) / wall * 100:6.1f} %")
    _say("\n".join(lines))


async def _delete_amqp(url: str, tag: str) -> None:
    with contextlib.suppress(Exception):
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            for queue in (f"{tag}.writer", f"{tag}.dead"):
                await channel.queue_delete(queue)
            for exchange in (f"{tag}.telemetry", f"{tag}.dead"):
                await channel.exchange_delete(exchange)


def _say(text: str, end: str = "\n") -> None:
    print(text, end=end, file=sys.stdout, flush=True)
