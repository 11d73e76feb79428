"""Where telemetry is stored: packed chunks, rollups and the ledger.

``open_store(url, catalog)`` gives a :class:`Store` for MySQL/MariaDB or
SQLite; see docs/storage.md for the schema and the reasons behind it.
"""

from __future__ import annotations

from app.store.base import Points, Store, WriteResult, open_store
from app.store.rollup import Rollups

__all__ = ["Points", "Rollups", "Store", "WriteResult", "open_store"]
