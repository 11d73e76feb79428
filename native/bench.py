"""Benchmark: the C codec's decode_many against cantools' decode_message.

Both decode the same frames of the same DBCs on one core, and the script
prints signals per second, nanoseconds per signal and the ratio::

    python native/bench.py                 # the truck DBC
    python native/bench.py --frames 50000 --dbc path/to/other.dbc

Frames are drawn with each message's share of the bus (its cycle time in the
DBC, 100 ms when it has none) and random payloads, keeping only frames that
cantools decodes, so both sides do the same work.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from edge.catalog import DEFAULT_DBC, load_database
from edge.codec_table import CCodecEngine
from edge.errors import CatalogError

EXTENDED = 0x80000000


def make_frames(database: Any, count: int, seed: int) -> list[tuple[int, bytes]]:
    """count decodable frames, messages weighted by their rate."""
    rng = random.Random(seed)
    messages = [m for m in database.messages if not m.is_container]
    weights = [1000.0 / (m.cycle_time or 100) for m in messages]
    frames: list[tuple[int, bytes]] = []
    while len(frames) < count:
        message = rng.choices(messages, weights)[0]
        frame_id = message.frame_id
        if message.is_extended_frame and frame_id <= 0x7FF:
            frame_id |= EXTENDED
        data = rng.randbytes(message.length)
        try:
            database.decode_message(frame_id, data, decode_choices=False)
        except Exception:  # an undecodable draw is simply redrawn
            continue
        frames.append((frame_id, data))
    return frames


def time_cantools(database: Any, frames: list[tuple[int, bytes]]) -> tuple[float, int]:
    decode = database.decode_message
    start = time.perf_counter()
    signals = 0
    for frame_id, data in frames:
        signals += len(decode(frame_id, data, decode_choices=False))
    return time.perf_counter() - start, signals


def time_c(engine: CCodecEngine, frames: list[tuple[int, bytes]], block: int) -> tuple[float, int]:
    """Seconds for decode_many over all frames in blocks, and the signals it gave."""
    stride = 64 if any(len(d) > 8 for _, d in frames) else 8
    ids = np.array([f for f, _ in frames], dtype=np.uint32)
    rows = np.zeros((len(frames), stride), dtype=np.uint8)
    lengths = np.array([len(d) for _, d in frames], dtype=np.uint8)
    for i, (_, data) in enumerate(frames):
        rows[i, : len(data)] = np.frombuffer(data, dtype=np.uint8)
    seconds = 0.0
    signals = 0
    for first in range(0, len(frames), block):
        last = first + block
        start = time.perf_counter()
        _, signal, _ = engine.decode_many(ids[first:last], rows[first:last], lengths[first:last])
        seconds += time.perf_counter() - start
        signals += len(signal)
    return seconds, signals


def bench(path: Path, frames_wanted: int, block: int, rounds: int) -> None:
    database = load_database(path)
    engine = CCodecEngine(database)
    frames = make_frames(database, frames_wanted, seed=1)

    slow_runs, fast_runs = [], []
    for round_no in range(1, rounds + 1):
        slow, slow_signals = time_cantools(database, frames)
        fast, fast_signals = time_c(engine, frames, block)
        if fast_signals != slow_signals:
            raise SystemExit(f"signal counts differ: cantools {slow_signals}, C {fast_signals}")
        slow_runs.append(slow)
        fast_runs.append(fast)
        print(f"  round {round_no}/{rounds}: ratio {slow / fast:.0f}x", flush=True)

    slow, fast = statistics.median(slow_runs), statistics.median(fast_runs)
    print(f"{path.name}: {len(frames)} frames, {slow_signals} signals, blocks of {block} frames,")
    print(f"  medians of {rounds} rounds, both codecs timed in each round")
    for label, seconds in (("cantools decode_message", slow), ("C decode_many", fast)):
        rate = slow_signals / seconds
        print(f"  {label:24s} {rate / 1e6:10.2f} M signals/s {1e9 / rate:10.1f} ns/signal")
    ratios = [s / f for s, f in zip(slow_runs, fast_runs, strict=True)]
    print(f"  ratio {statistics.median(ratios):.0f}x (median of the rounds' ratios)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dbc", type=Path, action="append", help="DBC file (repeatable)")
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--block", type=int, default=1000, help="frames per decode_many call")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; medians are printed")
    args = parser.parse_args()
    for path in args.dbc or [DEFAULT_DBC]:
        try:
            bench(path, args.frames, args.block, args.rounds)
        except CatalogError as exc:
            print(f"{path.name}: skipped, {exc}")


if __name__ == "__main__":
    main()
