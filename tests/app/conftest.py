"""A store of each kind, upgraded and empty: SQLite in tmp_path and MariaDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.store import Store, open_store
from edge.catalog import default_catalog


@pytest.fixture(params=["sqlite", "mysql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/fleet.db"
    url: str = request.getfixturevalue("mysql_url")
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = open_store(store_url, default_catalog())
    await opened.open()
    await opened.upgrade()
    yield opened
    await opened.close()
