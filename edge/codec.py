"""The CAN codec: frames in, signal values out, keyed by catalogue id.

This is the one place the agent turns frame bytes into numbers. The work is
done by the C codec in ``native/`` (through :mod:`edge.codec_table`, which
builds its decode table from whatever cantools loads), so a block of frames is
decoded in one C call with no Python object per frame or point.

- ``Codec(database)`` or ``Codec.from_dbc(path)``;
- ``codec.signals``: (message name, signal name) pairs; a signal id is an
  index into this list and names the same signal as ``Catalog.signals``;
- ``codec.decode(frame_id, data)``: a dict equal to cantools'
  ``Database.decode_message(frame_id, data, decode_choices=False)``; raises
  :class:`~edge.errors.UnknownFrameError` for an unknown id and
  :class:`~edge.errors.FrameTooShortError` for too few data bytes;
- ``codec.decode_many(ids, payloads, lengths=None)``: three numpy arrays
  (frame index, signal id, value), in frame order; frames with unknown ids or
  too few bytes yield nothing and are counted in ``codec.stats``.

Frame ids are looked up as cantools looks them up (extended ids, J1939
masks); docs/codec.md has the details.
"""

from __future__ import annotations

from pathlib import Path

from edge.catalog import load_database
from edge.codec_table import CCodecEngine, EngineStats

__all__ = ["Codec", "CodecStats"]

CodecStats = EngineStats


class Codec(CCodecEngine):
    """Decodes CAN frames of one CAN database through the C codec."""

    @classmethod
    def from_dbc(cls, path: str | Path) -> Codec:
        """A codec for a DBC file; raises CatalogError if it cannot be loaded."""
        return cls(load_database(path))
