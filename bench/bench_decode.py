"""How fast do the decoders run, against what a serial line can deliver?

Builds a long stream of frames with each protocol's encoder, feeds it to a fresh
decoder in 32-byte reads (what a USB serial adapter typically hands over), and
prints frames per second and how many times the 9600 baud 8N1 line rate that is
(960 bytes/s, so 960 / frame length frames per second).

Then times auto-detection, which runs every protocol's decoder over a capture in
one read, on a capture of real frames and on one of random bytes: once over the
whole capture (:func:`detect_protocol`) and once as ``weighbridge scale decode``
does it (on the capture's head).

Run: ``python bench/bench_decode.py [--frames N] [--chunk BYTES] [--detect-mb MB]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.protocols import Reading, make_decoder  # noqa: E402
from common.protocols.detect import (  # noqa: E402
    Detection,
    detect_capture,
    detect_protocol,
)
from common.protocols.toledo import encode_toledo  # noqa: E402
from common.protocols.yaohua import encode_tf0  # noqa: E402

LINE_BYTES_PER_S = 9600 / 10  # 8N1: ten bits on the wire per byte

BENCHES: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "yaohua_tf0": ("yaohua_tf0", lambda kg: encode_tf0(kg)),
    "toledo_continuous (with checksum)": (
        "toledo_continuous",
        lambda kg: encode_toledo(Decimal(kg) / 10, decimals=-1),
    ),
    "toledo_continuous (no checksum)": (
        "toledo_continuous",
        lambda kg: encode_toledo(Decimal(kg) / 10, decimals=-1, checksum=False),
    ),
}


def build_stream(encode: Callable[[int], bytes], frames: int) -> tuple[bytes, int]:
    rng = random.Random(1)
    parts = [encode(rng.randrange(0, 99_999) * 10) for _ in range(frames)]
    return b"".join(parts), len(parts[0])


def run(label: str, stream: bytes, chunk: int) -> tuple[float, int]:
    decoder = make_decoder(label)
    readings = 0
    started = time.perf_counter()
    for first in range(0, len(stream), chunk):
        for result in decoder.feed(stream[first : first + chunk]):
            readings += isinstance(result, Reading)
    return time.perf_counter() - started, readings


def detect_captures(size: int) -> dict[str, bytes]:
    frames, _ = build_stream(BENCHES["yaohua_tf0"][1], size // 12 + 1)
    return {
        "yaohua_tf0 frames": frames[:size],
        "random bytes": random.Random(2).randbytes(size),
    }


def bench_detect(megabytes: float) -> None:
    size = int(megabytes * 1024 * 1024)
    ways: dict[str, Callable[[bytes], Detection | None]] = {
        "whole capture": lambda data: detect_protocol(data),
        "head (scale decode)": lambda data: detect_capture(data),
    }
    print(f"\nauto-detect on {size / 1024 / 1024:g} MB, every protocol tried")
    print(f"{'capture':20} {'detected on':20} {'found':16} {'s':>7} {'MB/s':>7}")
    for name, data in detect_captures(size).items():
        for way, detect in ways.items():
            started = time.perf_counter()
            found = detect(data)
            seconds = time.perf_counter() - started
            label = found.label if found else "-"
            rate = size / 1024 / 1024 / seconds
            print(f"{name:20} {way:20} {label:16} {seconds:>7.2f} {rate:>7.2f}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=32)
    parser.add_argument("--detect-mb", type=float, default=1.0)
    args = parser.parse_args(argv)

    print(f"{args.frames} frames per protocol, fed in {args.chunk}-byte reads")
    print(f"{'protocol':36} {'frame':>6} {'frames/s':>12} {'line rate':>10} {'x':>8}")
    for name, (label, encode) in BENCHES.items():
        stream, frame_len = build_stream(encode, args.frames)
        seconds, readings = run(label, stream, args.chunk)
        if readings != args.frames:
            print(
                f"{name}: decoded {readings} of {args.frames} frames", file=sys.stderr
            )
            return 1
        rate = readings / seconds
        line = LINE_BYTES_PER_S / frame_len
        times = rate / line
        print(f"{name:36} {frame_len:>5}B {rate:>12,.0f} {line:>10.1f} {times:>8,.0f}")

    bench_detect(args.detect_mb)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
