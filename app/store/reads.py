"""The read side that both SQL stores share: the same queries, two placeholder styles.

A store mixes in :class:`SqlReads`, names its driver's placeholder in
``PARAM`` (``%s`` for asyncmy, ``?`` for sqlite3) and provides ``_query``;
the queries themselves are written once, here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.store.readback import Points, lag_stats, points_from_chunks, sql_int_list
from app.store.rollup import Rollups

__all__ = ["SqlReads"]


class SqlReads:
    """read_points, read_rollups, latest, trucks and ledger_stats over SQL."""

    PARAM = "%s"

    async def _query(self, sql: str, args: tuple[int, ...]) -> list[Any]:
        raise NotImplementedError

    def _sql(self, text: str) -> str:
        return text.replace("{p}", self.PARAM)

    async def read_points(
        self, truck_id: int, signal_ids: Sequence[int] | None, t_from_us: int, t_to_us: int
    ) -> Points:
        sql = self._sql(
            "SELECT signal_id, payload FROM chunks WHERE truck_id = {p}"
            " AND t_start_us < {p} AND t_end_us >= {p}" + _signal_filter(signal_ids)
        )
        rows = await self._query(sql, (truck_id, t_to_us, t_from_us))
        return points_from_chunks(rows, t_from_us, t_to_us)

    async def read_rollups(
        self, truck_id: int, signal_ids: Sequence[int] | None, t_from_us: int, t_to_us: int
    ) -> Rollups:
        sql = self._sql(
            "SELECT signal_id, t_minute_us, n, vmin, vmax, vsum, vlast, last_t_us FROM rollup_1m"
            " WHERE truck_id = {p} AND t_minute_us >= {p} AND t_minute_us < {p}"
            + _signal_filter(signal_ids)
            + " ORDER BY signal_id, t_minute_us"
        )
        return Rollups.from_rows(await self._query(sql, (truck_id, t_from_us, t_to_us)))

    async def latest(self, truck_id: int) -> dict[int, tuple[int, float]]:
        sql = self._sql(
            "SELECT r.signal_id, r.last_t_us, r.vlast FROM rollup_1m r JOIN"
            " (SELECT signal_id, MAX(t_minute_us) AS m FROM rollup_1m WHERE truck_id = {p}"
            " GROUP BY signal_id) x ON r.signal_id = x.signal_id AND r.t_minute_us = x.m"
            " WHERE r.truck_id = {p}"
        )
        rows = await self._query(sql, (truck_id, truck_id))
        return {int(s): (int(t), float(v)) for s, t, v in rows}

    async def trucks(self) -> list[int]:
        rows = await self._query("SELECT truck_id FROM trucks ORDER BY truck_id", ())
        return [int(r[0]) for r in rows]

    async def ledger_stats(self) -> dict[str, float]:
        totals = await self._query("SELECT COUNT(*), COALESCE(SUM(n_points), 0) FROM ledger", ())
        lags = await self._query("SELECT committed_us - t_last_us FROM ledger", ())
        return lag_stats(int(totals[0][0]), int(totals[0][1]), [int(r[0]) for r in lags])


def _signal_filter(signal_ids: Sequence[int] | None) -> str:
    """An SQL condition on signal_id; ids are ints, so nothing can be injected."""
    if signal_ids is None:
        return ""
    if not signal_ids:
        return " AND 1 = 0"
    return f" AND signal_id IN ({sql_int_list(signal_ids)})"
