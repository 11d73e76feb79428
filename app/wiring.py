"""Choosing the parts from the settings: bus, store and cache.

Without a URL for a service, the embedded part stands in for it: an
in-process fanout for RabbitMQ, an SQLite file for MySQL, a dictionary for
memcached. Each role asks here and never looks at the settings itself.
"""

from __future__ import annotations

import logging

from app.bus.amqp import AmqpFanout
from app.bus.base import Fanout
from app.bus.memory import MemoryFanout
from app.cache import LatestCache, MemcachedCache, MemoryCache
from app.config import Settings
from app.store.base import Store, open_store
from edge.catalog import Catalog

__all__ = ["DEFAULT_SQLITE", "make_cache", "make_fanout", "make_store"]

log = logging.getLogger(f"fleetlink.{__name__}")

DEFAULT_SQLITE = "sqlite:///fleetlink.sqlite3"


def make_fanout(settings: Settings) -> Fanout:
    """RabbitMQ when FLEETLINK_AMQP_URL is set, else the in-process fanout."""
    if settings.amqp_url:
        return AmqpFanout(
            settings.amqp_url,
            exchange=settings.exchange,
            dead_letter_exchange=settings.dead_letter_exchange,
        )
    log.info("no AMQP URL set: using the in-process fanout")
    return MemoryFanout()


def make_store(settings: Settings, catalog: Catalog) -> Store:
    """MySQL/MariaDB or SQLite by the database URL; SQLite in the working directory by default."""
    url = settings.database_url or DEFAULT_SQLITE
    if not settings.database_url:
        log.info("no database URL set: using %s", url)
    return open_store(url, catalog)


def make_cache(settings: Settings) -> LatestCache:
    """memcached when FLEETLINK_MEMCACHED is set, else an in-memory cache.

    Keys are prefixed with the exchange's name, so two deployments (or a
    benchmark next to production) sharing one memcached never mix trucks.
    """
    if settings.memcached:
        return MemcachedCache(settings.memcached, prefix=f"fleetlink.{settings.exchange}")
    return MemoryCache()
