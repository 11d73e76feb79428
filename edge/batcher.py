"""Cutting decoded points into windows: the agent's batching policy, without I/O.

Time is divided into windows of ``window_ms`` aligned on the Unix epoch (a
250 ms window starts at .000, .250, .500 and .750 of every second). Points are
held in the open window; a window closes, and becomes one :class:`edge.wire.Batch`,
when a point of a later window arrives (frame time, for log replay), when the
wall clock passes its end (:meth:`Batcher.close_due`, for live sources), or
when the agent stops (:meth:`Batcher.flush`).

A point older than the open window (a late frame) joins the open window rather
than being dropped, so no point is ever lost or sent twice. Empty windows
produce no batch. Batches are numbered 0, 1, 2 ... per agent start; the agent
start id is a random 64-bit number, so ``(truck, agent_start, seq)`` names a
batch uniquely across restarts.

Multiplexer selectors are framing, not data (see edge.catalog), and never
enter a batch.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from edge.wire import MAX_POINTS, Batch

__all__ = ["Batcher"]


class Batcher:
    """Points of one truck in, batches of one window each out."""

    def __init__(
        self,
        *,
        truck_id: int,
        fingerprint: int,
        stored: Sequence[bool] | npt.NDArray[np.bool_],
        window_ms: int = 250,
        agent_start: int | None = None,
    ) -> None:
        if window_ms <= 0:
            raise ValueError(f"window_ms: expected a positive number, got {window_ms}")
        self.truck_id = truck_id
        self.fingerprint = fingerprint
        self.window_us = int(window_ms) * 1000
        self.agent_start = secrets.randbits(64) if agent_start is None else agent_start
        self.seq = 0
        self._stored = np.asarray(stored, dtype=bool)
        self._window: int | None = None
        self._held: list[
            tuple[npt.NDArray[np.int64], npt.NDArray[np.uint16], npt.NDArray[np.float64]]
        ] = []

    @property
    def held(self) -> int:
        """Points waiting in the open window."""
        return sum(int(ids.shape[0]) for _, ids, _ in self._held)

    def add(
        self,
        timestamps: npt.NDArray[np.float64],
        signal_ids: npt.NDArray[np.uint16],
        values: npt.NDArray[np.float64],
    ) -> list[Batch]:
        """Take points (times in seconds since the epoch); return the windows they closed."""
        keep = self._stored[signal_ids]
        times_us = np.rint(timestamps[keep] * 1e6).astype(np.int64)
        ids = signal_ids[keep].astype(np.uint16, copy=False)
        vals = values[keep].astype(np.float64, copy=False)
        if times_us.size == 0:
            return []

        windows = times_us // self.window_us
        if self._window is not None:
            windows = np.maximum(windows, self._window)
        order = np.argsort(windows, kind="stable")
        keys, starts = np.unique(windows[order], return_index=True)
        ends = np.append(starts[1:], order.size)

        closed: list[Batch] = []
        for key, start, end in zip(keys.tolist(), starts.tolist(), ends.tolist(), strict=True):
            if self._window is not None and key > self._window:
                closed.extend(self._close())
            self._window = key
            rows = order[start:end]
            self._held.append((times_us[rows], ids[rows], vals[rows]))
        return closed

    def close_due(self, now: float) -> list[Batch]:
        """Close the open window if the wall clock (seconds) has passed its end."""
        if self._window is None:
            return []
        if int(now * 1e6) < (self._window + 1) * self.window_us:
            return []
        return self._close()

    def flush(self) -> list[Batch]:
        """Close the open window, whatever the time."""
        return self._close()

    def _close(self) -> list[Batch]:
        held, self._held = self._held, []
        self._window = None
        if not held:
            return []
        times_us = np.concatenate([t for t, _, _ in held])
        ids = np.concatenate([i for _, i, _ in held])
        vals = np.concatenate([v for _, _, v in held])
        batches = []
        for start in range(0, times_us.size, MAX_POINTS):
            part = slice(start, start + MAX_POINTS)
            batches.append(
                Batch.from_points(
                    self.truck_id,
                    self.agent_start,
                    self.seq,
                    self.fingerprint,
                    ids[part],
                    times_us[part],
                    vals[part],
                )
            )
            self.seq += 1
        return batches
