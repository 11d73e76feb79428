"""Simulated trucks with their agents, in one process.

python-can's ``virtual`` interface connects buses only inside one process, so
whoever simulates trucks on it (the demo, ``fleetlink simulate``, the
benchmark) runs each truck's agent here too: the simulator puts frames on the
truck's bus and the agent reads them from its own bus object on the same
channel, exactly as it would read a real one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from edge.agent import Agent
from edge.catalog import Catalog
from edge.codec import Codec
from edge.publish import Publisher
from edge.sim.runner import Simulation
from edge.sources import BusSource
from edge.spool import Spool

__all__ = ["Fleet"]

log = logging.getLogger(f"fleetlink.{__name__}")


class Fleet:
    """A simulation and, optionally, one agent per truck publishing to a publisher."""

    def __init__(
        self,
        *,
        trucks: int,
        catalog: Catalog,
        publisher: Publisher | None,
        interface: str = "virtual",
        channel: str = "fleetlink-truck-{truck}",
        seed: int = 0,
        first_truck_id: int = 1,
        window_ms: int = 250,
        spool_dir: str | None = None,
        bus_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.catalog = catalog
        self.simulation = Simulation(
            trucks,
            interface=interface,
            channel=channel,
            seed=seed,
            first_truck_id=first_truck_id,
            bus_kwargs=bus_kwargs,
            catalog=catalog,
        )
        self.agents: list[Agent] = []
        if publisher is not None:
            codec = Codec(catalog.database)
            for truck in self.simulation.trucks:
                spool = None
                if spool_dir:
                    spool = Spool(Path(spool_dir) / f"truck-{truck.truck_id}")
                self.agents.append(
                    Agent(
                        truck_id=truck.truck_id,
                        source=BusSource(
                            interface, self.simulation.channel_of(truck), **(bus_kwargs or {})
                        ),
                        codec=codec,
                        publisher=publisher,
                        catalog=catalog,
                        window_ms=window_ms,
                        spool=spool,
                    )
                )
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = asyncio.Event()

    async def start(self) -> None:
        """Start the agents (so no frame is missed), then the trucks."""
        for agent in self.agents:
            self._tasks.append(asyncio.create_task(agent.run(), name=f"agent-{agent.truck_id}"))
        await self.simulation.start()
        log.info(
            "fleet of %d trucks started with %d agents",
            len(self.simulation.trucks),
            len(self.agents),
        )

    async def run(self) -> None:
        """Start, then wait until stop()."""
        await self.start()
        await self._stopped.wait()

    async def stop(self) -> None:
        """Stop the trucks first, then let every agent publish what it holds."""
        await self.simulation.stop()
        await asyncio.gather(*(agent.stop() for agent in self.agents), return_exceptions=True)
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._stopped.set()
