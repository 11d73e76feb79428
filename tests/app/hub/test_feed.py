"""The feed: deliveries of the hub's queue into the hub, through a real fanout."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable

import aio_pika
import pytest

from app.bus.amqp import AmqpFanout
from app.bus.base import Fanout
from app.bus.memory import MemoryFanout
from app.cache import MemoryCache
from app.config import Settings
from app.hub.feed import feed
from app.hub.server import Hub
from app.pipeline import hub_app
from edge.catalog import Catalog
from edge.wire import Batch, pack
from tests.app.hub.helpers import T0, next_update, open_client, serving, subscribe

MakeBatch = Callable[..., Batch]


async def wait_for(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


async def test_a_malformed_delivery_is_counted_dead_lettered_and_the_feed_goes_on(
    hub: Hub, make_batch: MakeBatch
) -> None:
    fanout = MemoryFanout()
    consumer = await fanout.consumer("hub", durable=False, prefetch=100, ack=False)
    publisher = await fanout.publisher()
    feeding = asyncio.create_task(feed(hub, consumer))

    await publisher.publish(b"FL\x01 not a batch at all", message_id="bad-1")
    await publisher.publish(pack(make_batch(3, {"SOC": [(T0, 33.0)]})), message_id="good-1")
    await wait_for(lambda: hub.stats.batches == 1)
    await consumer.close()
    await feeding

    assert hub.stats.bad_deliveries == 1
    (dead,) = await fanout.dead_letters()
    assert dead.message_id == "bad-1"
    assert 3 in hub.state


async def test_a_batch_of_another_catalogue_is_set_aside_not_applied(
    hub: Hub, make_batch: MakeBatch, catalog: Catalog
) -> None:
    fanout = MemoryFanout()
    consumer = await fanout.consumer("hub", durable=False, prefetch=100, ack=False)
    publisher = await fanout.publisher()
    feeding = asyncio.create_task(feed(hub, consumer))

    foreign = make_batch(4, {"SOC": [(T0, 1.0)]}, fingerprint=catalog.fingerprint ^ 1)
    await publisher.publish(pack(foreign), message_id="foreign")
    await publisher.publish(pack(make_batch(5, {"SOC": [(T0, 2.0)]})), message_id="ok")
    await wait_for(lambda: hub.stats.batches == 1)
    await consumer.close()
    await feeding

    assert hub.stats.bad_deliveries == 1
    assert "catalogue fingerprint" in (await fanout.dead_letters())[0].reason
    assert 4 not in hub.state and 5 in hub.state


async def run_hub_role(
    fanout: Fanout, settings: Settings, catalog: Catalog, make_batch: MakeBatch
) -> dict[str, object]:
    """Serve hub_app, publish into the fanout, return the update a client sees."""
    hub = Hub(catalog=catalog, cache=MemoryCache())
    async with serving(hub_app(hub, fanout, settings)) as address:
        async with await open_client(address) as ws:
            await subscribe(ws, trucks=[11], signals=["SOC"], rate_hz=20)
            publisher = await fanout.publisher()
            batch = make_batch(11, {"SOC": [(T0, 64.5)]})
            await publisher.publish(pack(batch), message_id=secrets.token_hex(4))
            update = await next_update(ws)
            await publisher.close()
    return update


async def test_the_hub_role_feeds_clients_from_the_in_process_fanout(
    catalog: Catalog, make_batch: MakeBatch
) -> None:
    fanout = MemoryFanout()
    update = await run_hub_role(fanout, Settings(), catalog, make_batch)
    await fanout.close()

    assert update["trucks"] == {"11": {"SOC": [T0 / 1e6, 64.5]}}


@pytest.mark.services
async def test_the_hub_role_feeds_clients_from_rabbitmq(
    amqp_url: str, unique_name: str, catalog: Catalog, make_batch: MakeBatch
) -> None:
    settings = Settings(
        amqp_url=amqp_url,
        exchange=f"{unique_name}.telemetry",
        dead_letter_exchange=f"{unique_name}.dead",
    )
    fanout = AmqpFanout(
        amqp_url, exchange=settings.exchange, dead_letter_exchange=settings.dead_letter_exchange
    )
    try:
        update = await run_hub_role(fanout, settings, catalog, make_batch)
    finally:
        await fanout.close()
        await delete_exchanges(amqp_url, settings)

    assert update["trucks"] == {"11": {"SOC": [T0 / 1e6, 64.5]}}


async def delete_exchanges(amqp_url: str, settings: Settings) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(settings.dead_letter_exchange)
        await channel.exchange_delete(settings.exchange)
        await channel.exchange_delete(settings.dead_letter_exchange)
