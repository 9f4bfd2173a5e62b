"""Every decoder takes time in proportion to its input, whatever the input is.

A capture of a few megabytes is normal (an engineer leaves a logger on the port
for an hour), and auto-detection runs every decoder over it. A decoder that does
per-frame work over the whole buffer is quadratic: four times the input takes
sixteen times as long. These tests compare the CPU time for N and 4N bytes and
allow up to 8 times, so a loaded machine does not make them flaky; an input
decoded in well under a tenth of a second passes whatever the ratio.
"""

from __future__ import annotations

import random
import time

import pytest

from common.protocols import DECODERS, Reading, Result, make_decoder
from common.protocols.encoders import ENCODERS
from common.protocols.framing import LineDecoder

SMALL = 64 * 1024
# Frames cost far more per byte than noise, so fewer bytes of them.
SMALL_FRAMES = 32 * 1024
# Below this much CPU time for the large input, timer noise outweighs the ratio.
FAST_ENOUGH = 0.05
LINEAR_LIMIT = 8.0


def cpu_seconds(label: str, data: bytes, repeats: int = 2) -> float:
    """The least CPU time one fresh decoder took to read ``data`` in one feed."""
    best = float("inf")
    for _ in range(repeats):
        decoder = make_decoder(label)
        decoder.quiet = True
        started = time.process_time()
        decoder.feed(data)
        best = min(best, time.process_time() - started)
    return best


def assert_linear(label: str, data: bytes) -> None:
    """``data`` (4N bytes) takes less than 8 times as long as its first N."""
    n = len(data) // 4
    small, large = cpu_seconds(label, data[:n]), cpu_seconds(label, data)
    assert large < FAST_ENOUGH or large / max(small, 1e-6) < LINEAR_LIMIT, (
        f"{label}: {n} bytes took {small:.3f} s, {4 * n} took {large:.3f} s"
    )


def every_protocols_frames(size: int) -> bytes:
    """Frames of every protocol in turn, as a booth with the wrong protocol set
    (or auto-detection) sees them: mostly foreign frames, full of STX and CR."""
    rng = random.Random(11)
    stream = bytearray()
    while len(stream) < size:
        for encode in ENCODERS.values():
            stream += encode(rng.randrange(0, 60_000) // 20 * 20, rng.random() < 0.5)
    return bytes(stream[:size])


@pytest.mark.parametrize("label", list(DECODERS))
def test_decoder_time_grows_linearly_with_random_bytes(label: str) -> None:
    assert_linear(label, random.Random(label).randbytes(4 * SMALL))


@pytest.mark.parametrize("label", list(DECODERS))
def test_decoder_time_grows_linearly_with_other_protocols_frames(label: str) -> None:
    assert_linear(label, every_protocols_frames(4 * SMALL_FRAMES))


LINE_LABELS = [lb for lb, cls in DECODERS.items() if issubclass(cls, LineDecoder)]


def printable_junk(size: int) -> bytes:
    return bytes(0x20 + b % 0x5F for b in random.Random(2).randbytes(size))


def one_feed_and_many(label: str, data: bytes) -> tuple[list[Result], list[Result]]:
    """What one decoder reads from ``data`` in one feed, and another in 64-byte
    reads; both should be the same, and so should their skipped counts."""
    whole, in_reads = make_decoder(label), make_decoder(label)
    read_whole = whole.feed(data)
    read_in_parts = [
        r for i in range(0, len(data), 64) for r in in_reads.feed(data[i : i + 64])
    ]
    assert whole.counters.bytes_skipped == in_reads.counters.bytes_skipped
    return read_whole, read_in_parts


@pytest.mark.parametrize("label", LINE_LABELS)
def test_line_decoder_reads_a_frame_that_ends_an_overlong_line(label: str) -> None:
    data = printable_junk(100_000) + b" " + ENCODERS[label](31_580, True)

    read_whole, read_in_parts = one_feed_and_many(label, data)

    assert read_whole == read_in_parts
    assert [r.weight_kg for r in read_whole if isinstance(r, Reading)] == [31_580]


@pytest.mark.parametrize("label", LINE_LABELS)
def test_line_decoder_judges_an_overlong_line_by_its_tail_only(label: str) -> None:
    # A frame's start (its header) at the head of a 100 kB line: one feed used to
    # refuse the whole line, with all 100 kB as the refusal's raw bytes.
    decoder = make_decoder(label)
    assert isinstance(decoder, LineDecoder)
    frame = ENCODERS[label](31_580, True)
    data = frame[:-1] + printable_junk(100_000) + decoder.terminator

    read_whole, read_in_parts = one_feed_and_many(label, data)

    assert read_whole == read_in_parts
    assert all(len(r.raw) <= decoder.max_line + 2 for r in read_whole)
