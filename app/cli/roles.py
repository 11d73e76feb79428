"""What each subcommand of the CLI runs, once its arguments are parsed."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import sys
from pathlib import Path

from starlette.routing import BaseRoute

from app.api import api_routes
from app.config import Settings
from app.demo import Demo
from app.fleet import Fleet
from app.hub.server import Hub
from app.lifecycle import run_until_signal, serve
from app.pipeline import WriterRole, hub_app
from app.serving import make_server, starlette_app
from app.webapp import dash_mount
from app.wiring import make_cache, make_fanout, make_store
from edge.agent import Agent
from edge.catalog import Catalog
from edge.codec import Codec
from edge.errors import ConfigError
from edge.signals_doc import render_markdown
from edge.sources import BusSource, FrameSource, LogSource
from edge.spool import Spool

__all__ = ["dispatch"]

log = logging.getLogger(f"fleetlink.{__name__}")


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """Run the subcommand args.command; returns the process exit code."""
    handler = {
        "demo": _demo,
        "simulate": _simulate,
        "agent": _agent,
        "writer": _writer,
        "hub": _hub,
        "web": _web,
        "db": _db,
        "bench": _bench,
        "bench-store": _bench_store,
        "signals": _signals,
    }[args.command]
    return handler(args, settings)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    def ready(url: str) -> None:
        mode = "embedded" if settings.embedded else "with the configured services"
        print(f"fleetlink demo ({args.trucks} trucks, {mode}) is running: open {url}", flush=True)

    async def main() -> None:
        demo = Demo(
            settings,
            trucks=args.trucks,
            host=args.host,
            port=args.port,
            seed=args.seed,
            on_ready=ready,
        )
        await run_until_signal(demo, "demo")

    serve(main)
    return 0


def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    with_agents = not args.no_agents
    if with_agents and not settings.amqp_url:
        raise ConfigError(
            "simulate: agents publish to RabbitMQ, but FLEETLINK_AMQP_URL is not set "
            "(use `fleetlink demo` for everything in one process, or --no-agents)"
        )

    async def main() -> None:
        catalog = Catalog.from_dbc(settings.dbc)
        fanout = make_fanout(settings) if with_agents else None
        publisher = await fanout.publisher() if fanout is not None else None
        fleet = Fleet(
            trucks=args.trucks,
            catalog=catalog,
            publisher=publisher,
            interface=args.interface,
            channel=args.channel,
            seed=args.seed,
            first_truck_id=args.first_truck,
            window_ms=settings.window_ms,
            spool_dir=settings.spool_dir,
        )
        stopper = None
        if args.duration is not None:
            stopper = asyncio.get_running_loop().call_later(
                args.duration, lambda: asyncio.ensure_future(fleet.stop())
            )
        try:
            await run_until_signal(fleet, "simulate")
        finally:
            if stopper is not None:
                stopper.cancel()
            if fanout is not None:
                await fanout.close()
        if args.stats_file:
            counters = {str(a.truck_id): dataclasses.asdict(a.stats) for a in fleet.agents}
            Path(args.stats_file).write_text(json.dumps(counters))

    serve(main)
    return 0


def _agent(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.amqp_url:
        raise ConfigError("agent: FLEETLINK_AMQP_URL is not set; the agent publishes to RabbitMQ")
    source: FrameSource
    if args.log:
        if not Path(args.log).is_file():
            raise ConfigError(f"agent --log: no such file {args.log}")
        source = LogSource(args.log, realtime=args.realtime)
    else:
        if args.channel is None:
            raise ConfigError("agent: give --channel for the bus, or --log for a log file")
        source = BusSource(args.interface, args.channel)
    catalog = Catalog.from_dbc(settings.dbc)
    window_ms = args.window_ms or settings.window_ms

    async def main() -> None:
        fanout = make_fanout(settings)
        publisher = await fanout.publisher()
        agent = Agent(
            truck_id=args.truck_id,
            source=source,
            codec=Codec(catalog.database),
            publisher=publisher,
            catalog=catalog,
            window_ms=window_ms,
            spool=Spool(Path(settings.spool_dir) / f"truck-{args.truck_id}"),
            compress=args.compress,
        )
        try:
            await run_until_signal(agent, "agent")
        finally:
            await fanout.close()
        print(f"agent of truck {args.truck_id}: {agent.stats}", file=sys.stderr)

    serve(main)
    return 0


def _writer(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog.from_dbc(settings.dbc)

    async def main() -> None:
        fanout = make_fanout(settings)
        role = WriterRole(
            settings=settings, fanout=fanout, store=make_store(settings, catalog), catalog=catalog
        )
        try:
            await run_until_signal(role, "writer")
        finally:
            await fanout.close()

    serve(main)
    return 0


def _hub(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog.from_dbc(settings.dbc)

    async def main() -> None:
        fanout = make_fanout(settings)
        cache = make_cache(settings)
        app = hub_app(Hub(catalog=catalog, cache=cache), fanout, settings)
        try:
            await run_until_signal(
                make_server(app, args.host, args.port, settings.log_level), "hub"
            )
        finally:
            await fanout.close()
            await cache.close()

    serve(main)
    return 0


def _web(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog.from_dbc(settings.dbc)
    hub_url = args.hub_url or settings.hub_url

    async def main() -> None:
        cache = make_cache(settings)
        store = make_store(settings, catalog) if settings.database_url else None

        async def startup() -> None:
            if store is not None:
                await store.open()

        async def shutdown() -> None:
            if store is not None:
                await store.close()
            await cache.close()

        routes: list[BaseRoute] = [*api_routes(cache=cache, store=store, catalog=catalog)]
        routes.append(dash_mount(hub_url))
        app = starlette_app(routes, startup=startup, shutdown=shutdown)
        print(f"fleetlink web: open http://{args.host}:{args.port}/ (hub {hub_url})", flush=True)
        await run_until_signal(make_server(app, args.host, args.port, settings.log_level), "web")

    serve(main)
    return 0


def _db(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog.from_dbc(settings.dbc)

    async def main() -> None:
        store = make_store(settings, catalog)
        await store.open()
        try:
            applied = await store.upgrade()
        finally:
            await store.close()
        print("applied: " + (", ".join(applied) if applied else "nothing, the schema is current"))

    serve(main)
    return 0


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    from app.cli.bench import run_bench

    return run_bench(
        settings,
        trucks=args.trucks,
        seconds=args.seconds,
        processes=args.processes,
        source=args.source,
        writers=args.writers,
    )


def _bench_store(args: argparse.Namespace, settings: Settings) -> int:
    from app.store.bench import bench_write

    url = args.url or settings.database_url
    if not url:
        raise ConfigError("bench-store: give --url or set FLEETLINK_DATABASE_URL")

    def progress(round_no: int, points: int, seconds: float) -> None:
        print(
            f"  round {round_no}/{args.rounds}: {points:,} points in {seconds:.2f} s"
            f" ({points / seconds:,.0f} points/s)",
            flush=True,
        )

    print(f"bench-store: {args.trucks} trucks, {args.flush_s:.1f} s of data per round")
    figures = asyncio.run(
        bench_write(
            url, trucks=args.trucks, flush_s=args.flush_s, rounds=args.rounds, on_round=progress
        )
    )
    print(f"median {figures['median_points_per_s']:,.0f} points/s written")
    return 0


def _signals(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog.from_dbc(settings.dbc)
    if args.markdown:
        print(render_markdown(catalog), end="")
        return 0
    for s in catalog.signals:
        with contextlib.suppress(BrokenPipeError):
            print(f"{s.id:4d}  {s.key:28s} {s.unit:6s} {s.rate_hz:6.1f} Hz  {s.message}")
    return 0
