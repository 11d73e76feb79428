"""Many simulated trucks, each sending its frames on its own python-can bus.

One asyncio task carries the whole fleet: it wakes every ``tick_s`` (20 ms by
default), advances every truck by the time that passed, and sends each truck
the frames that fell due, stamped with their scheduled times. There is no
thread or timer per message, so one process carries many trucks.

``time_scale`` runs the fleet faster (or slower) than real time; frame
timestamps then follow simulated time. :meth:`Simulation.advance` runs the
fleet without buses or a clock and returns the frames, for tests and tools.

python-can's ``virtual`` interface only connects buses of one process, so
with it the receiving agents must run in the same process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import can

from edge.catalog import Catalog
from edge.errors import TransportError
from edge.sim.frames import FrameScheduler
from edge.sim.truck import SimTruck

__all__ = ["Simulation"]

log = logging.getLogger(f"fleetlink.{__name__}")

_YIELD_EVERY_TRUCKS = 8


class Simulation:
    """A fleet of simulated trucks putting CAN frames on python-can buses."""

    def __init__(
        self,
        trucks: int,
        *,
        interface: str = "virtual",
        channel: str = "fleetlink-truck-{truck}",
        seed: int = 0,
        first_truck_id: int = 1,
        bus_kwargs: dict[str, Any] | None = None,
        time_scale: float = 1.0,
        tick_s: float = 0.02,
        catalog: Catalog | None = None,
    ) -> None:
        if trucks < 0:
            raise ValueError(f"trucks: expected a count of zero or more, got {trucks}")
        if time_scale <= 0:
            raise ValueError(f"time_scale: expected a positive factor, got {time_scale}")
        self.interface = interface
        self.channel = channel
        self.time_scale = time_scale
        self.tick_s = tick_s
        self.bus_kwargs = dict(bus_kwargs or {})
        if interface == "virtual":
            # Receivers should see the scheduled timestamps, not the copy time.
            self.bus_kwargs.setdefault("preserve_timestamps", True)

        self.trucks = [SimTruck(first_truck_id + i, seed=seed) for i in range(trucks)]
        self.epoch = time.time()
        self.sim_time_s = 0.0
        self._schedulers = [
            FrameScheduler(self.epoch, stagger=(i * 0.618) % 1.0, catalog=catalog)
            for i in range(trucks)
        ]
        self._buses: list[can.BusABC] = []
        self._task: asyncio.Task[None] | None = None

        self.frames_sent = 0
        self.send_errors = 0
        self.error: BaseException | None = None
        self._failing: set[int] = set()

    @property
    def frames_skipped(self) -> int:
        """Frames not sent because the loop fell more than a second behind."""
        return sum(s.skipped for s in self._schedulers)

    def channel_of(self, truck: SimTruck) -> str:
        return self.channel.format(truck=truck.truck_id)

    # -- real time -------------------------------------------------------------

    async def start(self) -> None:
        """Open one bus per truck and start sending."""
        if self._task is not None:
            return
        for truck in self.trucks:
            channel = self.channel_of(truck)
            try:
                bus = can.Bus(interface=self.interface, channel=channel, **self.bus_kwargs)
            except (can.CanError, OSError, ValueError) as exc:
                self._shutdown_buses()
                raise TransportError(
                    f"cannot open CAN bus interface={self.interface!r} channel={channel!r}: {exc}"
                ) from exc
            self._buses.append(bus)
        self._task = asyncio.create_task(self._run(), name="fleetlink-sim")
        log.info(
            "simulating %d trucks on %s buses %s (time scale %s)",
            len(self.trucks),
            self.interface,
            self.channel,
            self.time_scale,
        )

    async def stop(self) -> None:
        """Stop sending and close the buses."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._shutdown_buses()
        log.info(
            "simulation stopped: %d frames sent, %d send errors, %d frames skipped",
            self.frames_sent,
            self.send_errors,
            self.frames_skipped,
        )

    def _shutdown_buses(self) -> None:
        for bus in self._buses:
            bus.shutdown()
        self._buses.clear()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        deadline = last
        try:
            while True:
                deadline += self.tick_s
                delay = deadline - loop.time()
                if delay < -1.0:
                    deadline = loop.time()  # far behind: start afresh, do not race
                await asyncio.sleep(max(delay, 0.0))
                now = loop.time()
                await self._tick((now - last) * self.time_scale)
                last = now
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bus driver or a model failed in a way we did not foresee: stop
            # sending rather than send garbage, and keep the reason for stop().
            self.error = exc
            log.exception("simulation stopped by an unexpected error")

    async def _tick(self, dt: float) -> None:
        self.sim_time_s += dt
        stamp = self.epoch + self.sim_time_s
        for i, truck in enumerate(self.trucks):
            truck.step(dt)
            frames = self._schedulers[i].due(stamp, truck.values())
            self._send(i, frames)
            if i % _YIELD_EVERY_TRUCKS == _YIELD_EVERY_TRUCKS - 1:
                await asyncio.sleep(0)

    def _send(self, index: int, frames: list[can.Message]) -> None:
        bus = self._buses[index]
        failed = 0
        for message in frames:
            try:
                bus.send(message)
            except can.CanOperationError as exc:
                failed += 1
                if index not in self._failing:
                    self._failing.add(index)
                    log.warning(
                        "truck %d: sending on %s failed, counting further failures: %s",
                        self.trucks[index].truck_id,
                        bus.channel_info,
                        exc,
                    )
        self.frames_sent += len(frames) - failed
        self.send_errors += failed
        if not failed and index in self._failing:
            self._failing.discard(index)
            log.info("truck %d: sending works again", self.trucks[index].truck_id)

    # -- simulated time --------------------------------------------------------

    def advance(
        self, seconds: float, *, tick_s: float | None = None
    ) -> list[tuple[int, can.Message]]:
        """Run ``seconds`` of simulated time at once and return (truck id, frame) pairs.

        Nothing is sent; this is the simulator without buses or a clock.
        """
        step = tick_s or self.tick_s
        out: list[tuple[int, can.Message]] = []
        remaining = seconds
        while remaining > 1e-9:
            dt = min(step, remaining)
            remaining -= dt
            self.sim_time_s += dt
            stamp = self.epoch + self.sim_time_s
            for truck, scheduler in zip(self.trucks, self._schedulers, strict=True):
                truck.step(dt)
                frames = scheduler.due(stamp, truck.values())
                out.extend((truck.truck_id, message) for message in frames)
        return out
