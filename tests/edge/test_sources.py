"""Sources deliver data frames as columns and count what they skip."""

from __future__ import annotations

import asyncio
from pathlib import Path

import can
import numpy as np
import pytest

from edge.sources import BusSource, FrameBlock, LogSource

T0 = 1_700_000_000.0


def _data_frames() -> list[can.Message]:
    frames = [
        can.Message(
            timestamp=T0 + 0.01 * i,
            arbitration_id=0x100 + i % 3,
            data=bytes([i, i + 1, 2, 3, 4, 5, 6, 7]),
            is_extended_id=False,
        )
        for i in range(20)
    ]
    frames.append(
        can.Message(
            timestamp=T0 + 0.5, arbitration_id=0x18F0010B, data=b"\x01\x02\x03", is_extended_id=True
        )
    )
    return frames


def _with_junk(frames: list[can.Message]) -> list[can.Message]:
    junk = [
        can.Message(timestamp=T0 + 0.031, is_error_frame=True),
        can.Message(
            timestamp=T0 + 0.042,
            arbitration_id=0x101,
            is_remote_frame=True,
            dlc=8,
            is_extended_id=False,
        ),
    ]
    return sorted(frames + junk, key=lambda m: m.timestamp)


def _write(path: Path, frames: list[can.Message]) -> None:
    with can.Logger(str(path)) as writer:
        for frame in frames:
            writer.on_message_received(frame)


async def _collect(source: LogSource | BusSource) -> list[FrameBlock]:
    return [block async for block in source.blocks()]


def _assert_frames(blocks: list[FrameBlock], frames: list[can.Message]) -> None:
    ids = np.concatenate([b.ids for b in blocks])
    times = np.concatenate([b.timestamps for b in blocks])
    lengths = np.concatenate([b.lengths for b in blocks])
    assert ids.tolist() == [f.arbitration_id for f in frames]
    np.testing.assert_allclose(times, [f.timestamp for f in frames], atol=1e-5)
    assert lengths.tolist() == [len(f.data) for f in frames]
    rows = [bytes(r[:n]) for b in blocks for r, n in zip(b.payloads, b.lengths, strict=True)]
    assert rows == [bytes(f.data) for f in frames]
    assert all(b.payloads.shape[1] == 8 and b.payloads.dtype == np.uint8 for b in blocks)


@pytest.mark.parametrize("suffix", [".asc", ".blf", ".log"])
async def test_log_replay_skips_and_counts_error_and_remote_frames(
    tmp_path: Path, suffix: str
) -> None:
    frames = _data_frames()
    path = tmp_path / f"drive{suffix}"
    _write(path, _with_junk(frames))

    blocks = await _collect(LogSource(path))

    _assert_frames(blocks, frames)
    assert sum(b.skipped for b in blocks) == 2


async def test_log_replay_of_trc_delivers_every_frame(tmp_path: Path) -> None:
    # python-can's TRC writer cannot store error or remote frames, so none are written.
    frames = _data_frames()
    path = tmp_path / "drive.trc"
    _write(path, frames)

    blocks = await _collect(LogSource(path))

    _assert_frames(blocks, frames)


async def test_a_line_that_cannot_be_parsed_is_counted_and_the_replay_goes_on(
    tmp_path: Path,
) -> None:
    frames = _data_frames()
    path = tmp_path / "drive.log"
    _write(path, frames)
    lines = path.read_text().splitlines()
    lines.insert(5, "(1700000000.045) vcan0 not-a-frame")
    path.write_text("\n".join(lines) + "\n")
    source = LogSource(path)

    blocks = await _collect(source)

    _assert_frames(blocks, frames)
    assert sum(b.skipped for b in blocks) == 1
    assert source.unparsed == 1


async def test_realtime_replay_keeps_the_frame_order_and_times(tmp_path: Path) -> None:
    frames = _data_frames()[:10]
    path = tmp_path / "drive.blf"
    _write(path, frames)

    blocks = await _collect(LogSource(path, realtime=True, block_s=0.02))

    _assert_frames(blocks, frames)
    assert len(blocks) > 1


async def test_bus_source_reads_frames_from_a_virtual_bus(unique_name: str) -> None:
    source = BusSource("virtual", unique_name, block_s=0.02)
    sender = can.Bus(interface="virtual", channel=unique_name)
    frames = _data_frames()
    blocks: list[FrameBlock] = []

    async def read() -> None:
        async for block in source.blocks():
            blocks.append(block)
            if sum(len(b) for b in blocks) >= len(frames):
                await source.close()

    reader = asyncio.create_task(read())
    for frame in _with_junk(frames):
        sender.send(frame)
    await asyncio.wait_for(reader, 10)
    sender.shutdown()

    got = [int(i) for b in blocks for i in b.ids]
    assert got == [f.arbitration_id for f in frames]
    assert sum(b.skipped for b in blocks) == 2


async def test_a_silent_bus_still_yields_empty_blocks(unique_name: str) -> None:
    source = BusSource("virtual", unique_name, block_s=0.01)
    blocks = []
    async for block in source.blocks():
        blocks.append(block)
        if len(blocks) == 3:
            await source.close()
    assert [len(b) for b in blocks] == [0, 0, 0]
    assert source.live
