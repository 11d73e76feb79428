"""A scratch area on the real RabbitMQ: names one test uses, deleted afterwards.

The ``scratch`` fixture of tests/conftest.py hands one to each test that asks.
"""

from __future__ import annotations

import aio_pika


class Scratch:
    """Exchanges and queues of one test, with a connection to inspect them."""

    def __init__(self, connection: aio_pika.abc.AbstractConnection, prefix: str) -> None:
        self.connection = connection
        self.prefix = prefix
        self.exchanges: set[str] = set()
        self.queues: set[str] = set()

    def name(self, suffix: str) -> str:
        return f"{self.prefix}.{suffix}"

    def exchange(self, suffix: str) -> str:
        name = self.name(suffix)
        self.exchanges.add(name)
        return name

    async def bind_queue(self, queue_suffix: str, exchange: str) -> aio_pika.abc.AbstractQueue:
        channel = await self.connection.channel()
        name = self.name(queue_suffix)
        self.queues.add(name)
        await channel.declare_exchange(exchange, aio_pika.ExchangeType.FANOUT, durable=True)
        queue = await channel.declare_queue(name, durable=True)
        await queue.bind(exchange)
        return queue

    async def drain(
        self, queue: aio_pika.abc.AbstractQueue
    ) -> list[aio_pika.abc.AbstractIncomingMessage]:
        messages = []
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            messages.append(message)
        return messages

    async def cleanup(self) -> None:
        channel = await self.connection.channel()
        for queue in self.queues:
            await channel.queue_delete(queue)
        for exchange in self.exchanges:
            await channel.exchange_delete(exchange)
        await channel.close()
