"""The ``fleetlink`` command: one subcommand per role, plus the demo and tools.

Every role reads its settings once from the environment (``FLEETLINK_*``) or
the file named by ``--config``/``FLEETLINK_CONFIG``, logs to stderr under the
``fleetlink`` logger, and stops cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from app.cli import roles
from app.config import Settings
from app.logs import setup
from edge.errors import FleetlinkError

__all__ = ["main"]

_EPILOG = """\
settings come from FLEETLINK_* environment variables or a TOML file (--config):
  FLEETLINK_AMQP_URL       e.g. amqp://guest:guest@127.0.0.1:5672/
  FLEETLINK_DATABASE_URL   e.g. mysql://root@127.0.0.1:3306/fleetlink or sqlite:///fleet.sqlite3
  FLEETLINK_MEMCACHED      e.g. 127.0.0.1:11211
with none of them set, `fleetlink demo` runs everything in one process.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fleetlink",
        description="Real-time telemetry for fleets of electric trucks.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO (default), WARNING or ERROR")
    parser.add_argument("--config", default=None, help="a TOML file of settings (lower-case keys)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="everything in one process: trucks, agents, store, hub, UI")
    demo.add_argument("--trucks", type=int, default=10, help="simulated trucks (default 10)")
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on")
    demo.add_argument(
        "--port", type=int, default=8000, help="port of the UI and hub (default 8000)"
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the simulated fleet")

    sim = sub.add_parser(
        "simulate",
        help="simulated trucks putting CAN frames on python-can buses",
        description="Simulated trucks on python-can buses. python-can's virtual interface only "
        "connects buses inside one process, so with it (the default) an agent per truck runs "
        "here too and publishes to FLEETLINK_AMQP_URL; with any other interface the frames go "
        "onto the named channels for agents elsewhere (use --no-agents).",
    )
    sim.add_argument("--trucks", type=int, default=1, help="number of trucks (default 1)")
    sim.add_argument("--first-truck", type=int, default=1, help="id of the first truck")
    sim.add_argument(
        "--interface", default="virtual", help="python-can interface (default virtual)"
    )
    sim.add_argument(
        "--channel",
        default="fleetlink-truck-{truck}",
        help="channel per truck; {truck} is replaced by its id (default fleetlink-truck-{truck})",
    )
    sim.add_argument("--seed", type=int, default=0, help="seed of the simulated fleet")
    sim.add_argument("--no-agents", action="store_true", help="only put frames on the buses")
    sim.add_argument("--duration", type=float, default=None, help="stop after so many seconds")
    sim.add_argument(
        "--stats-file", default=None, help="write the agents' counters as JSON here on exit"
    )

    agent = sub.add_parser("agent", help="read a CAN bus or log file, publish batches")
    agent.add_argument("--truck-id", type=int, required=True, help="the truck this agent runs on")
    agent.add_argument("--interface", default="virtual", help="python-can interface")
    agent.add_argument("--channel", default=None, help="python-can channel")
    agent.add_argument("--log", default=None, help="replay a .asc, .blf, .log or .trc file instead")
    agent.add_argument("--realtime", action="store_true", help="replay a log at its own pace")
    agent.add_argument("--window-ms", type=int, default=None, help="batch window (default 250)")
    agent.add_argument("--compress", action="store_true", help="zlib-compress batch bodies")

    sub.add_parser("writer", help="consume the durable queue and write batches to the database")

    hub = sub.add_parser("hub", help="push live values to browsers over websockets")
    hub.add_argument("--host", default="127.0.0.1")
    hub.add_argument("--port", type=int, default=8001)

    web = sub.add_parser("web", help="serve the Dash UI and the HTTP API")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8050)
    web.add_argument("--hub-url", default=None, help="websocket URL of the hub for browsers")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply the migrations in db/ that are missing")

    bench = sub.add_parser(
        "bench", help="end-to-end benchmark against the configured RabbitMQ and MySQL"
    )
    bench.add_argument("--trucks", type=int, default=10)
    bench.add_argument("--seconds", type=float, default=30.0)
    bench.add_argument("--processes", type=int, default=2, help="processes carrying the trucks")
    bench.add_argument("--writers", type=int, default=1, help="competing writer processes")
    bench.add_argument(
        "--source",
        default="simulated",
        choices=["simulated", "recorded"],
        help="simulated: CAN buses and an agent per truck (default); recorded: batches of "
        "simulated trucks replayed, one AMQP connection per truck, to load the data centre "
        "without the cost of simulating buses",
    )

    store_bench = sub.add_parser(
        "bench-store",
        help="how fast the store takes writer-shaped transactions",
        description="Writes rounds shaped like one writer flush (every truck's batches of "
        "--flush-s seconds) to a fresh database and prints points per second per round and "
        "the median. Without --url it uses FLEETLINK_DATABASE_URL.",
    )
    store_bench.add_argument("--url", default=None, help="database URL (a scratch database)")
    store_bench.add_argument("--trucks", type=int, default=100)
    store_bench.add_argument("--flush-s", type=float, default=2.0)
    store_bench.add_argument("--rounds", type=int, default=5)

    signals = sub.add_parser("signals", help="list the signal catalogue")
    signals.add_argument("--markdown", action="store_true", help="as docs/signals.md")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = dict(os.environ)
    if args.config:
        env["FLEETLINK_CONFIG"] = args.config
    try:
        settings = Settings.from_env(env)
        if args.log_level:
            settings = settings.with_(log_level=args.log_level)
        setup(settings.log_level)
        return roles.dispatch(args, settings)
    except FleetlinkError as exc:
        print(f"fleetlink: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
