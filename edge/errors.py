"""The one exception tree of fleetlink.

Every error the project raises on purpose derives from :class:`FleetlinkError`.
Where a built-in exception means the same thing, the class inherits it too, so
callers that only know the built-ins still catch the right thing::

    FleetlinkError
    ├── ConfigError (ValueError)          a setting is missing or malformed
    ├── CatalogError (ValueError)         a DBC or signal catalogue cannot be used
    ├── DecodeError (ValueError)          a CAN frame cannot be decoded
    │   └── FrameTooShortError            fewer data bytes than its DBC message
    ├── UnknownFrameError (KeyError)      no DBC message has this frame id
    ├── WireFormatError (ValueError)      a batch message is malformed
    ├── ProtocolError (ValueError)        a websocket client broke the hub protocol
    ├── StoreError                        the store refused or lost a write
    ├── CacheError (ConnectionError)      the latest-state cache cannot be reached
    └── TransportError (ConnectionError)  the message bus cannot be reached
        └── UnroutableError               a message reached no queue
"""

from __future__ import annotations

__all__ = [
    "CacheError",
    "CatalogError",
    "ConfigError",
    "DecodeError",
    "FleetlinkError",
    "FrameTooShortError",
    "ProtocolError",
    "StoreError",
    "TransportError",
    "UnknownFrameError",
    "UnroutableError",
    "WireFormatError",
]


class FleetlinkError(Exception):
    """Root of every error fleetlink raises on purpose."""


class ConfigError(FleetlinkError, ValueError):
    """A setting is missing or cannot be parsed; the message names the key."""


class CatalogError(FleetlinkError, ValueError):
    """A DBC file or signal catalogue cannot be loaded or does not match."""


class DecodeError(FleetlinkError, ValueError):
    """A CAN frame cannot be decoded with the DBC."""


class FrameTooShortError(DecodeError):
    """A frame carries fewer data bytes than its DBC message needs."""


class UnknownFrameError(FleetlinkError, KeyError):
    """No message of the DBC has this frame id."""

    def __str__(self) -> str:
        # KeyError quotes its argument; a message reads better unquoted.
        return str(self.args[0]) if self.args else ""


class WireFormatError(FleetlinkError, ValueError):
    """A batch message does not follow the wire format."""


class ProtocolError(FleetlinkError, ValueError):
    """A websocket client sent something the hub protocol does not allow."""


class StoreError(FleetlinkError):
    """The store refused a write or lost its connection."""


class CacheError(FleetlinkError, ConnectionError):
    """The latest-state cache (memcached) cannot be reached or refused a request."""


class TransportError(FleetlinkError, ConnectionError):
    """The message bus cannot be reached or refused a message."""


class UnroutableError(TransportError):
    """The broker accepted a message but no queue was bound to take it."""
