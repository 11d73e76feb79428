"""The Store protocol, and open_store choosing a backend by URL scheme.

A store keeps what the writer takes off the queue: packed chunks, one-minute
rollups, the ledger of written batches and the list of trucks. Two backends
fit the protocol: MySQL/MariaDB through asyncmy (``mysql://`` or
``mariadb://user:password@host:port/database``) for production, and SQLite
(``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or
``sqlite://:memory:``) for the embedded mode and tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from app.store.rollup import Rollups
from edge.catalog import Catalog
from edge.errors import ConfigError
from edge.wire import Batch

__all__ = ["Points", "Store", "WriteResult", "open_store"]

Points = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]


@dataclass(frozen=True)
class WriteResult:
    """What one write stored."""

    batches_written: int = 0
    batches_duplicate: int = 0
    points_written: int = 0


class Store(Protocol):
    """Where telemetry is kept; every method that touches the database is async."""

    async def open(self) -> None:
        """Connect; the schema is not touched (see upgrade)."""
        ...

    async def close(self) -> None:
        """Release every connection."""
        ...

    async def upgrade(self) -> list[str]:
        """Apply missing migrations and sync the signals table with the catalogue.

        Returns the versions applied now; an up-to-date database gives [].
        """
        ...

    async def write(self, batches: Sequence[Batch]) -> WriteResult:
        """Store batches in one transaction, skipping those the ledger holds.

        Raises StoreError when the write failed for good (transient errors are
        retried inside); nothing of the batches is stored then.
        """
        ...

    async def read_points(
        self,
        truck_id: int,
        signal_ids: Sequence[int] | None,
        t_from_us: int,
        t_to_us: int,
    ) -> Points:
        """(signal ids, timestamps µs, values) with t_from_us <= t < t_to_us,
        sorted by signal then time; signal_ids None means every signal."""
        ...

    async def read_rollups(
        self,
        truck_id: int,
        signal_ids: Sequence[int] | None,
        t_from_us: int,
        t_to_us: int,
    ) -> Rollups:
        """One-minute rollups whose minute starts in [t_from_us, t_to_us)."""
        ...

    async def latest(self, truck_id: int) -> dict[int, tuple[int, float]]:
        """signal id -> (t µs, value) of the newest finite point of each signal."""
        ...

    async def trucks(self) -> list[int]:
        """Ids of every truck with stored points."""
        ...

    async def ledger_stats(self) -> dict[str, float]:
        """batches, points, and lag_min/p50/p99/max_us (commit time - newest point)."""
        ...

    async def ensure_partitions(
        self, *, days_ahead: int = 3, now_us: int | None = None
    ) -> list[str]:
        """Create daily partitions up to days_ahead days after today; their names."""
        ...

    async def drop_partitions(self, *, retention_days: int, now_us: int | None = None) -> list[str]:
        """Drop data of days older than retention_days before today; what was dropped."""
        ...


def open_store(url: str, catalog: Catalog, *, compress: bool = False) -> Store:
    """A store for a database URL (not yet opened); ConfigError for an unknown scheme."""
    scheme = url.partition("://")[0].lower()
    if scheme in ("mysql", "mariadb"):
        from app.store.mysql import MysqlStore

        return MysqlStore(url, catalog, compress=compress)
    if scheme == "sqlite":
        from app.store.sqlite import SqliteStore

        return SqliteStore(url, catalog, compress=compress)
    raise ConfigError(f"database_url: expected mysql://, mariadb:// or sqlite://, got {url!r}")
