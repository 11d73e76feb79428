"""Bringing a database to the current schema: ``fleetlink db upgrade``.

The migrations live in ``db/migrations/<dialect>/`` (see :mod:`db`). Each
missing version is applied in its own step and recorded in
``schema_migrations``, so running the upgrade again applies nothing. Daily partitions for today and
the next days are created at the end (MySQL only; the writer keeps them ahead
while it runs).
"""

from __future__ import annotations

from app.store.base import open_store
from edge.catalog import Catalog, default_catalog

__all__ = ["upgrade"]


async def upgrade(database_url: str, catalog: Catalog | None = None) -> list[str]:
    """Apply the missing migrations to the database at database_url, then make sure
    daily partitions exist ahead; the versions applied."""
    store = open_store(database_url, catalog or default_catalog())
    await store.open()
    try:
        applied = await store.upgrade()
        await store.ensure_partitions()
        return applied
    finally:
        await store.close()
