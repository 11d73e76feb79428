"""Type stub of the C extension built from native/python/ccodec.c."""

from typing import Any

MESSAGE_SIZE: int
NODE_SIZE: int
SIGNAL_SIZE: int
BRANCH_SIZE: int
EMPTY_SLOT: int
EXTENDED: int
MAX_DEPTH: int
MAX_PAYLOAD: int
ENOENT: int
EMSGSIZE: int
EBADMSG: int

def slot_hash(key: int, slot_count: int, /) -> int: ...

class Decoder:
    def __init__(
        self,
        messages: Any,
        nodes: Any,
        signals: Any,
        branches: Any,
        slots: Any,
        id_mask: int,
        output_ids: int,
        max_values: int,
    ) -> None: ...
    def decode_one(
        self, frame_id: int, data: Any, /
    ) -> tuple[int, int, list[tuple[int, int | float]] | None]: ...
    def decode_many(
        self,
        ids: Any,
        payloads: Any,
        stride: int,
        lengths: Any,
        out_frame: Any,
        out_sig: Any,
        out_val: Any,
        /,
    ) -> tuple[int, int, int, int, int]: ...
