"""Properties every decoder keeps, whatever the serial line does to the bytes.

Random bytes never raise; frames survive any split into reads, noise between
them and a reader that starts in the middle of one; a truncated frame never
turns into a weight; and for the protocols with a checksum, no single flipped
bit in a frame lets a weight through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.protocols import DECODERS, Decoder, Reading, Rejected, Result, make_decoder
from common.protocols.ascii_lines import encode_st_gs
from common.protocols.keli import encode_xk3118t1
from common.protocols.reversed import (
    encode_d2plus,
    encode_eq_forward,
    encode_eq_reversed_signed,
)
from common.protocols.ricelake import encode_iq355
from common.protocols.sics import encode_sics
from common.protocols.sma import encode_sma
from common.protocols.toledo import encode_toledo
from common.protocols.yaohua import encode_tf0
from common.protocols.yaohua_cmd import encode_response
from common.protocols.yaohua_text import encode_a12e, encode_ww

PROPERTY_SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# Each example of the flipped-bit test already tries every bit of a frame.
EXHAUSTIVE_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=25)

Encoder = Callable[[Decimal, int], bytes]


@dataclass(frozen=True)
class Format:
    """One protocol as the tests drive it: an encoder and decoder options."""

    id: str
    label: str
    encode: Encoder
    options: dict[str, Any] = field(default_factory=dict)
    max_decimals: int = 3

    def decoder(self) -> Decoder:
        return make_decoder(self.label, **self.options)


FORMATS = [
    Format("yaohua_tf0", "yaohua_tf0", lambda w, d: encode_tf0(w, d)),
    Format("keli_d2008f_tf0", "keli_d2008f_tf0", lambda w, d: encode_tf0(w, d)),
    Format("yaohua_cmd", "yaohua_cmd", lambda w, d: encode_response(w, d)),
    Format("yaohua_a12e_wg", "yaohua_a12e_wg", lambda w, d: encode_a12e(w, d)),
    Format("yaohua_a12_ww", "yaohua_a12_ww", lambda w, d: encode_ww(w, d)),
    # The length is configured: an unconfigured D2+ reader cannot tell a cut new
    # frame from a whole old one (see reversed.py).
    Format(
        "yaohua_d2plus_reversed",
        "yaohua_d2plus_reversed",
        lambda w, d: encode_d2plus(w, d, chars=8),
        {"chars": 8},
    ),
    Format(
        "yaohua_eq_reversed_signed",
        "yaohua_eq_reversed_signed",
        encode_eq_reversed_signed,
    ),
    Format("yaohua_eq_forward", "yaohua_eq_forward", encode_eq_forward),
    Format("keli_xk3118t1_eq", "keli_xk3118t1_eq", lambda w, d: encode_xk3118t1(w, d)),
    Format(
        "toledo_continuous-checksum",
        "toledo_continuous",
        lambda w, d: encode_toledo(w, decimals=d),
        max_decimals=5,
    ),
    Format(
        "toledo_continuous-no-checksum",
        "toledo_continuous",
        lambda w, d: encode_toledo(w, decimals=d, checksum=False, pad=b"0"),
        max_decimals=5,
    ),
    Format("mt_sics", "mt_sics", lambda w, d: encode_sics(w, d)),
    Format("sma_scp", "sma_scp", lambda w, d: encode_sma(w, d)),
    Format("ascii_st_gs", "ascii_st_gs", lambda w, d: encode_st_gs(w, d)),
    Format("ricelake_iq355", "ricelake_iq355", lambda w, d: encode_iq355(w, d)),
]
FORMAT_IDS = [f.id for f in FORMATS]
CHECKSUMMED = [
    f
    for f in FORMATS
    if f.id
    in {
        "yaohua_tf0",
        "keli_d2008f_tf0",
        "yaohua_cmd",
        "yaohua_a12e_wg",
        "toledo_continuous-checksum",
    }
]

# Noise that is no protocol's alphabet (and not STX or CR with bit 7 masked).
noise = st.binary(min_size=1, max_size=6).map(lambda b: bytes(0xE0 | x for x in b))


@st.composite
def weights(draw: st.DrawFn, fmt: Format) -> tuple[Decimal, int]:
    decimals = draw(st.integers(0, fmt.max_decimals))
    magnitude = draw(st.integers(0, 99_999))
    negative = draw(st.booleans())
    value = Decimal(magnitude).scaleb(-decimals)
    return (-value if negative else value), decimals


def frames_for(fmt: Format, items: list[tuple[Decimal, int]]) -> list[bytes]:
    return [fmt.encode(w, d) for w, d in items]


def feed_in_pieces(decoder: Decoder, data: bytes, cuts: list[int]) -> list[Result]:
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    results: list[Result] = []
    for first, stop in zip(bounds, bounds[1:], strict=False):
        results += decoder.feed(data[first:stop])
    return results


def weights_of(results: list[Result]) -> list[Decimal | None]:
    return [r.weight for r in results if isinstance(r, Reading)]


@pytest.mark.parametrize("label", list(DECODERS))
@PROPERTY_SETTINGS
@given(data=st.binary(max_size=600), cuts=st.lists(st.integers(0, 600), max_size=12))
def test_random_bytes_never_raise_and_are_counted(
    label: str, data: bytes, cuts: list[int]
) -> None:
    decoder = make_decoder(label)
    results = feed_in_pieces(decoder, data, cuts)

    assert all(isinstance(r, Reading | Rejected) for r in results)
    assert all(
        r.weight is None or isinstance(r.weight, Decimal)
        for r in results
        if isinstance(r, Reading)
    )
    counters = decoder.counters
    assert counters.frames_ok + counters.frames_bad == len(results)


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
@PROPERTY_SETTINGS
@given(st.data())
def test_frames_survive_any_split_into_reads(fmt: Format, data: st.DataObject) -> None:
    items = data.draw(st.lists(weights(fmt), min_size=1, max_size=6))
    stream = b"".join(frames_for(fmt, items))
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))

    results = feed_in_pieces(fmt.decoder(), stream, cuts)
    assert weights_of(results) == [w for w, _ in items]
    assert not [r for r in results if isinstance(r, Rejected)]


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
@PROPERTY_SETTINGS
@given(st.data())
def test_noise_between_frames_is_skipped(fmt: Format, data: st.DataObject) -> None:
    items = data.draw(st.lists(weights(fmt), min_size=1, max_size=5))
    gaps = data.draw(st.lists(noise, min_size=len(items), max_size=len(items)))
    stream = b"".join(g + f for g, f in zip(gaps, frames_for(fmt, items), strict=True))

    decoder = fmt.decoder()
    if fmt.id == "toledo_continuous-no-checksum":
        # Noise right after CR is what a bad checksum looks like; say there is none.
        decoder = make_decoder(fmt.label, checksum=False)
    assert weights_of(decoder.feed(stream)) == [w for w, _ in items]


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
@PROPERTY_SETTINGS
@given(st.data())
def test_reader_starting_mid_frame_loses_only_that_frame(
    fmt: Format, data: st.DataObject
) -> None:
    items = data.draw(st.lists(weights(fmt), min_size=2, max_size=5))
    frames = frames_for(fmt, items)
    skip = data.draw(st.integers(1, len(frames[0]) - 1))
    stream = b"".join(frames)[skip:]
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=8))

    results = feed_in_pieces(fmt.decoder(), stream, cuts)
    assert weights_of(results) == [w for w, _ in items[1:]]


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
@PROPERTY_SETTINGS
@given(st.data())
def test_truncated_frame_yields_no_other_weight_and_decoding_recovers(
    fmt: Format, data: st.DataObject
) -> None:
    (w0, d0), (w1, d1) = data.draw(st.lists(weights(fmt), min_size=2, max_size=2))
    cut = fmt.encode(w0, d0)
    cut = cut[: data.draw(st.integers(1, len(cut) - 1))]
    whole = fmt.encode(w1, d1)

    # Alone, a cut frame gives nothing, or its own weight when what is left is
    # still a whole frame (Toledo without its optional K, IQ355 without its LF).
    alone = set(weights_of(fmt.decoder().feed(cut)))
    assert alone <= {w0}
    results = fmt.decoder().feed(cut + whole + whole)
    assert set(weights_of(results)) <= {w1} | alone
    assert weights_of(results)[-1] == w1


@pytest.mark.parametrize("fmt", CHECKSUMMED, ids=[f.id for f in CHECKSUMMED])
@EXHAUSTIVE_SETTINGS
@given(st.data())
def test_no_single_flipped_bit_lets_a_weight_through(
    fmt: Format, data: st.DataObject
) -> None:
    weight, decimals = data.draw(weights(fmt))
    frame = fmt.encode(weight, decimals)
    after = fmt.encode(Decimal(7), 0)
    # Toledo's checksum covers bits 0-6; bit 7 is parity (tested below).
    bits = range(7) if fmt.label == "toledo_continuous" else range(8)

    for position in range(len(frame)):
        for bit in bits:
            damaged = bytearray(frame)
            damaged[position] ^= 1 << bit
            alone = fmt.decoder().feed(bytes(damaged))
            assert weights_of(alone) in ([], [None]), (position, bit, alone)
            # ...and the next good frame still comes through.
            followed = fmt.decoder().feed(bytes(damaged) + after + after)
            assert [w for w in weights_of(followed) if w is not None][-1] == 7


@PROPERTY_SETTINGS
@given(magnitude=st.integers(0, 999_999), position=st.integers(0, 17))
def test_toledo_parity_bit_never_changes_the_weight(
    magnitude: int, position: int
) -> None:
    frame = bytearray(encode_toledo(magnitude))
    frame[position] ^= 0x80
    assert weights_of(make_decoder("toledo_continuous").feed(bytes(frame))) in (
        [Decimal(magnitude)],
        [],
    )
