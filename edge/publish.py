"""What the agent needs from a message bus: a confirmed publish.

The AMQP publisher (edge.amqp) and the in-process fanout (app.bus.memory) both
fit this protocol, so the agent runs unchanged on a truck and in the demo.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Publisher"]


class Publisher(Protocol):
    """Publishes batch bodies to the telemetry fanout."""

    async def publish(self, body: bytes, *, message_id: str) -> None:
        """Return once the bus has taken the message for good.

        Raises UnroutableError when it reached no queue, and TransportError when
        the bus cannot be reached; either way the caller still owns the body.
        """
        ...

    async def close(self) -> None:
        """Wait for messages in flight, then release the connection."""
        ...
