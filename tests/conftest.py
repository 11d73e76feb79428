"""Fixtures shared by the whole suite.

Integration tests talk to the real services of the machine: RabbitMQ on
127.0.0.1:5672 (guest/guest), MariaDB on 127.0.0.1:3306 (root, no password)
and memcached on 127.0.0.1:11211. ``tests/run`` starts whichever is not
running. Every test run uses its own database, exchange and queue names, so
two runs on one machine cannot see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from app.config import Settings
from tests.amqp_scratch import Scratch

AMQP_URL = os.environ.get("FLEETLINK_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
MYSQL_SERVER = os.environ.get("FLEETLINK_TEST_MYSQL", "mysql://root@127.0.0.1:3306")
MEMCACHED = os.environ.get("FLEETLINK_TEST_MEMCACHED", "127.0.0.1:11211")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def run_id() -> str:
    """A short random tag that names this run's databases, exchanges and queues."""
    return secrets.token_hex(4)


@pytest.fixture
def unique_name(run_id: str) -> Iterator[str]:
    """A name no other test of any run uses."""
    yield f"fltest_{run_id}_{secrets.token_hex(3)}"


@pytest.fixture(scope="session")
def amqp_url() -> str:
    if not _reachable("127.0.0.1", 5672):
        pytest.fail("RabbitMQ is not running on 127.0.0.1:5672; start it (tests/run does)")
    return AMQP_URL


@pytest.fixture(scope="session")
def mysql_server() -> str:
    if not _reachable("127.0.0.1", 3306):
        pytest.fail("MariaDB is not running on 127.0.0.1:3306; start it (tests/run does)")
    return MYSQL_SERVER


@pytest.fixture
def mysql_url(mysql_server: str, unique_name: str) -> Iterator[str]:
    """The URL of a fresh, empty database, dropped after the test."""
    import asyncmy

    async def admin(sql: str) -> None:
        conn = await asyncmy.connect(host="127.0.0.1", port=3306, user="root", password="")
        try:
            async with conn.cursor() as cur:
                await cur.execute(sql)
        finally:
            conn.close()

    asyncio.run(admin(f"CREATE DATABASE `{unique_name}`"))
    try:
        yield f"{mysql_server}/{unique_name}"
    finally:
        asyncio.run(admin(f"DROP DATABASE IF EXISTS `{unique_name}`"))


@pytest.fixture(scope="session")
def memcached() -> Iterator[str]:
    """host:port of a running memcached, started for the session if none runs."""
    host, port = MEMCACHED.split(":")
    proc = None
    if not _reachable(host, int(port)):
        binary = shutil.which("memcached")
        if binary is None:
            pytest.fail("memcached is not installed; tests/run installs it")
        proc = subprocess.Popen([binary, "-l", host, "-p", port, "-U", "0", "-u", "root"])
        deadline = time.monotonic() + 10
        while not _reachable(host, int(port)):
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("memcached did not start within 10 s")
            time.sleep(0.05)
    yield MEMCACHED
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def service_settings(
    amqp_url: str, mysql_url: str, memcached: str, unique_name: str, tmp_path: object
) -> Iterator[Settings]:
    """Settings that point every role at the real services, with this test's names.

    The exchanges and durable queues of those names are deleted afterwards.
    """
    settings = Settings(
        amqp_url=amqp_url,
        database_url=mysql_url,
        memcached=memcached,
        exchange=f"{unique_name}.telemetry",
        writer_queue=f"{unique_name}.writer",
        dead_letter_exchange=f"{unique_name}.dead",
        spool_dir=str(tmp_path) + "/spool",
        flush_interval_s=0.2,
    )
    yield settings
    asyncio.run(_delete_amqp(settings))


async def _delete_amqp(settings: Settings) -> None:
    import aio_pika

    connection = await aio_pika.connect(settings.amqp_url or AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for queue in (settings.writer_queue, settings.dead_letter_exchange):
            await channel.queue_delete(queue)
        for exchange in (settings.exchange, settings.dead_letter_exchange):
            await channel.exchange_delete(exchange)


@pytest.fixture
async def scratch(amqp_url: str, unique_name: str) -> AsyncIterator[Scratch]:
    """Exchanges and queues for one test on the real RabbitMQ, deleted afterwards."""
    import aio_pika

    connection = await aio_pika.connect(amqp_url)
    area = Scratch(connection, unique_name)
    try:
        yield area
    finally:
        await area.cleanup()
        await connection.close()
