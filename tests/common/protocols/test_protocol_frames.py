"""Our own frames for every protocol, built by hand from the documented layouts.

Each case names the layout it was built from (see shared/PROTOCOLS.md). The
checksums are computed here with the rules as the manuals state them, written
again on purpose rather than imported, so that a wrong rule in a decoder cannot
agree with itself. Encoder round trips follow at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from common.protocols import DECODERS, Reading, Rejected, Result, make_decoder
from common.protocols.ascii_lines import encode_st_gs
from common.protocols.encoders import ENCODERS, POLL_REQUESTS
from common.protocols.keli import encode_xk3118t1
from common.protocols.reversed import (
    encode_d2plus,
    encode_eq_forward,
    encode_eq_reversed_signed,
)
from common.protocols.ricelake import encode_iq355
from common.protocols.sics import build_sics_request, encode_sics
from common.protocols.sma import build_sma_request, encode_sma
from common.protocols.toledo import decode_status, encode_toledo
from common.protocols.yaohua_cmd import build_request, encode_response
from common.protocols.yaohua_text import encode_a12e, encode_a12e_overload, encode_ww


def xor_hex(body: bytes) -> bytes:
    """Yaohua: XOR of the bytes as two uppercase hex characters (DS10 §5.3)."""
    acc = 0
    for b in body:
        acc ^= b
    return f"{acc:02X}".encode()


def toledo_k(frame: bytes) -> bytes:
    """Toledo: two's complement of the 7-bit sum, STX..CR (IND245 buildChecksum)."""
    return bytes([(128 - sum(frame) % 128) % 128])


def yh_cmd(body: bytes) -> bytes:
    return b"\x02" + body + xor_hex(body) + b"\x03"


def a12e(body: bytes) -> bytes:
    return body + xor_hex(body) + b"\r\n"


def outcome(results: list[Result]) -> list[Decimal | None | Rejected]:
    """Each result as its weight, or the Rejected itself."""
    return [r.weight if isinstance(r, Reading) else r for r in results]


def toledo(body: bytes, check: bool = True) -> bytes:
    frame = b"\x02" + body + b"\r"
    return frame + toledo_k(frame) if check else frame


@dataclass
class Case:
    id: str
    label: str
    data: bytes
    weight: str | None = None
    unit: str | None = "kg"
    stable: bool | None = None
    net: bool = False
    overload: bool = False
    underload: bool = False
    rejected: bool = False
    options: dict[str, Any] = field(default_factory=dict)


CASES = [
    # Yaohua command mode: DS10 §5.3(2) requests; responses derived from the layout.
    Case(
        "cmd-request-handshake", "yaohua_cmd", bytes.fromhex("024141303003"), unit=None
    ),
    Case("cmd-request-tare", "yaohua_cmd", bytes.fromhex("024143303203"), unit=None),
    Case("cmd-request-net", "yaohua_cmd", bytes.fromhex("024144303503"), unit=None),
    Case(
        "cmd-net-negative-decimals",
        "yaohua_cmd",
        yh_cmd(b"AD-0012302"),
        weight="-12.30",
        net=True,
    ),
    Case("cmd-gross-address-3", "yaohua_cmd", yh_cmd(b"CB+0497800"), weight="49780"),
    Case(
        "cmd-keli-k9-radix-point", "yaohua_cmd", yh_cmd(b"AB+1234.56"), weight="1234.56"
    ),
    Case(
        "cmd-a22-plus30-nibbles",
        "yaohua_cmd",
        b"\x02AB+0015600" + bytes([0x30 + 1, 0x30 + 0x0A]) + b"\x03",
        weight="1560",
    ),
    Case(
        "cmd-bad-checksum", "yaohua_cmd", b"\x02AB+0015600" + b"1B\x03", rejected=True
    ),
    Case("cmd-lowercase-address", "yaohua_cmd", yh_cmd(b"aB+0015600"), rejected=True),
    Case("cmd-decimal-count-9", "yaohua_cmd", yh_cmd(b"AB+0015609"), rejected=True),
    # Yaohua A12(E), manual p. 12.
    Case(
        "a12e-negative-integer", "yaohua_a12e_wg", a12e(b"WG-01230 kg"), weight="-1230"
    ),
    Case(
        "a12e-net-tonnes",
        "yaohua_a12e_wg",
        a12e(b"WN012.340 t"),
        weight="12.340",
        unit="t",
        net=True,
    ),
    Case("a12e-underload", "yaohua_a12e_wg", a12e(b" " * 9 + b"LO"), underload=True),
    Case(
        "a12e-letter-in-weight", "yaohua_a12e_wg", a12e(b"WG0O4.139kg"), rejected=True
    ),
    # "ww" line: LIDEN LUW2001 App. 1 §2 and pengshulin/mcush Yaohua.py.
    Case("ww-negative-liden", "yaohua_a12_ww", b"ww-0015.000kg\r\n", weight="-15.000"),
    Case("ww-pounds-mcush", "yaohua_a12_ww", b"ww000.000lb\n", weight="0", unit="lb"),
    Case("ww-net", "yaohua_a12_ww", b"wn00230.500kg\r\n", weight="230.5", net=True),
    Case("ww-two-points", "yaohua_a12_ww", b"ww00.15.000kg\r\n", rejected=True),
    # D2+ reversed: DS10 §5.3(3); the sign position is our reading (A26 format 1).
    Case(
        "d2plus-new-negative", "yaohua_d2plus_reversed", b"51.0700-=", weight="-70.15"
    ),
    Case("d2plus-integer-old", "yaohua_d2plus_reversed", b"0432100=", weight="12340"),
    Case(
        "d2plus-bounded-wrong-length",
        "yaohua_d2plus_reversed",
        b"=51.07=",
        rejected=True,
    ),
    Case("d2plus-minus-inside", "yaohua_d2plus_reversed", b"=51.-700=", rejected=True),
    Case(
        "d2plus-configured-new-refuses-old",
        "yaohua_d2plus_reversed",
        b"=51.0700=",
        rejected=True,
        options={"chars": 8},
    ),
    # A26 format 1 / A23P format 2, and the PROTOCOLS.md §3 ambiguity example.
    Case(
        "eq-reversed-trailing-point",
        "yaohua_eq_reversed_signed",
        b"=.0021500",
        weight="51200",
    ),
    Case(
        "eq-reversed-plus-sign-undocumented",
        "yaohua_eq_reversed_signed",
        b"=000.300+",
        rejected=True,
    ),
    # A26 format 2 manual example.
    Case("eq-forward-negative", "yaohua_eq_forward", b"=-0001.00", weight="-1.00"),
    Case("eq-forward-letter", "yaohua_eq_forward", b"=0003.0O0", rejected=True),
    # Keli XK3118T1: Perl driver formats with a comma.
    Case("xk3118t1-comma", "keli_xk3118t1_eq", b"=0023,45(kg)\r\n", weight="23.45"),
    Case("xk3118t1-gw-sync", "keli_xk3118t1_eq", b"GW:0023,45(kg)\r\n", weight="23.45"),
    Case(
        "xk3118t1-unknown-unit", "keli_xk3118t1_eq", b"=5123.45(xx)\r\n", rejected=True
    ),
    # Toledo continuous: WILDCAT Tables 6-8..6-11, IND245 ContOut.c, Cardinal 225.
    Case(
        "toledo-negative-net",
        "toledo_continuous",
        toledo(b"*3   1230   500"),
        weight="-1230",
        stable=True,
        net=True,
    ),
    Case(
        "toledo-motion",
        "toledo_continuous",
        toledo(b"*8   1230     0"),
        weight="1230",
        stable=False,
    ),
    Case(
        "toledo-underload",
        "toledo_continuous",
        toledo(b"*6   9999     0"),
        underload=True,
    ),
    Case(
        "toledo-grams-word-c",
        "toledo_continuous",
        toledo(b"*0!   500     0"),
        weight="500",
        unit="g",
        stable=True,
    ),
    Case(
        "toledo-tonnes-three-decimals",
        "toledo_continuous",
        toledo(b'-0"012345000000'),
        weight="12.345",
        unit="t",
        stable=True,
    ),
    Case(
        "toledo-dummy-zeros-x100",
        "toledo_continuous",
        toledo(b"(0    123     0"),
        weight="12300",
        stable=True,
    ),
    Case(
        "toledo-short-no-checksum",
        "toledo_continuous",
        toledo(b"*0 000610", check=False),
        weight="610",
        stable=True,
    ),
    Case(
        "toledo-short-with-checksum",
        "toledo_continuous",
        toledo(b"*0    610"),
        weight="610",
        stable=True,
    ),
    Case(
        "toledo-7e1-parity-bits",
        "toledo_continuous",
        bytes(
            b | 0x80 if bin(b).count("1") % 2 else b for b in toledo(b"*0   1230     0")
        ),
        weight="1230",
        stable=True,
    ),
    Case(
        "toledo-bad-checksum",
        "toledo_continuous",
        toledo(b"*0   1230     0")[:-1] + b"\x11",
        rejected=True,
    ),
    Case(
        "toledo-status-bit5-missing",
        "toledo_continuous",
        toledo(b"\x0a0   1230     0"),
        rejected=True,
    ),
    Case(
        "toledo-blank-inside-digits",
        "toledo_continuous",
        toledo(b"*0  12 30     0"),
        rejected=True,
    ),
    Case(
        "toledo-unknown-unit-code",
        "toledo_continuous",
        toledo(b"*0$  1230     0"),
        rejected=True,
    ),
    Case(
        "toledo-required-checksum-missing",
        "toledo_continuous",
        toledo(b"*0   1230     0", check=False) + b"\x02",
        rejected=True,
        options={"checksum": True},
    ),
    # MT-SICS: Mettler Toledo "S" reply, InstrumentKit single-blank form.
    Case(
        "sics-negative", "mt_sics", b"S S    -12.50 kg\r\n", weight="-12.5", stable=True
    ),
    Case(
        "sics-single-blanks-dynamic",
        "mt_sics",
        b"S D 1.234 g\r\n",
        weight="1.234",
        unit="g",
        stable=False,
    ),
    Case("sics-overload", "mt_sics", b"S +\r\n", unit=None, overload=True),
    Case("sics-transmission-error", "mt_sics", b"ET\r\n", unit=None),
    Case("sics-garbled-number", "mt_sics", b"S S     1x2.50 kg\r\n", rejected=True),
    # SMA SCP-0499: Sartorius PR 5220 p. 130; motion example and derived states.
    Case(
        "sma-motion", "sma_scp", b"\n 1GM      7.650kg \r", weight="7.65", stable=False
    ),
    Case(
        "sma-negative-net",
        "sma_scp",
        b"\n 1N      -1.500kg \r",
        weight="-1.5",
        stable=True,
        net=True,
    ),
    Case("sma-underload", "sma_scp", b"\nU1G     -12.000kg \r", underload=True),
    Case("sma-zero-error-dashes", "sma_scp", b"\nE1G  ----------kg \r"),
    Case("sma-letter-in-weight", "sma_scp", b"\n 1G       7.6S0kg \r", rejected=True),
    # ST,GS family: CAS CI-400 / CI-600D, Selleton SL-7516.
    Case(
        "stgs-unstable-net-negative",
        "ascii_st_gs",
        b"US,NT,-0000123kg\r\n",
        weight="-123",
        stable=False,
        net=True,
    ),
    Case("stgs-overload", "ascii_st_gs", b"OL,GS,+9999999kg\r\n", overload=True),
    Case(
        "stgs-cas-22-byte",
        "ascii_st_gs",
        b"ST,GS,\x01\xc4,000013.5 kg\r\n",
        weight="13.5",
        stable=True,
    ),
    Case("stgs-garbled", "ascii_st_gs", b"ST,GS,+00166.9.1kg\r\n", rejected=True),
    # Rice Lake IQ355: Cardinal 200-series p. 27, Rice Lake 480 figure.
    Case(
        "iq355-negative-net-motion",
        "ricelake_iq355",
        b"\x02-   12.5KNM\r\n",
        weight="-12.5",
        stable=False,
        net=True,
    ),
    Case("iq355-invalid", "ricelake_iq355", b"\x02     120KGI\r\n"),
    Case("iq355-underload", "ricelake_iq355", b"\x02-  99999KGO\r\n", underload=True),
    Case(
        "iq355-cr-only",
        "ricelake_iq355",
        b"\x02   1.234TG \r",
        weight="1.234",
        unit="t",
        stable=True,
    ),
    Case("iq355-unknown-unit", "ricelake_iq355", b"\x02   1234XG \r\n", rejected=True),
    # generic_ascii: our own tool, set up for made-up lines.
    Case(
        "generic-default-first-number",
        "generic_ascii",
        b"GROSS   12340 kg\r\n",
        weight="12340",
    ),
    Case(
        "generic-d2plus-like",
        "generic_ascii",
        b"=51.0700",
        weight="70.15",
        options={"start": b"=", "end": b"", "length": 8, "reverse": True},
    ),
    Case(
        "generic-field-and-decimals",
        "generic_ascii",
        b"\x02+0012345\x03",
        weight="123.45",
        options={"start": b"\x02", "end": b"\x03", "field": (0, 8), "decimals": 2},
    ),
    Case(
        "generic-pattern-markers",
        "generic_ascii",
        b"N:  1.5 t M\n",
        weight="-1.5",
        unit="t",
        stable=False,
        options={
            "end": b"\n",
            "pattern": r"(?P<weight>[0-9.]+) (?P<unit>t|kg)",
            "negative_marker": b"N:",
            "motion_marker": b"M",
        },
    ),
    Case(
        "generic-overload-marker",
        "generic_ascii",
        b"--OL--\r\n",
        overload=True,
        options={"overload_marker": b"OL"},
    ),
    Case("generic-no-number", "generic_ascii", b"HELLO\r\n", rejected=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_documented_layout_decodes(case: Case) -> None:
    decoder = make_decoder(case.label, **case.options)
    results = decoder.feed(case.data)
    readings = [r for r in results if isinstance(r, Reading)]

    if case.rejected:
        assert any(isinstance(r, Rejected) for r in results), results
        assert all(r.weight is None for r in readings)
        return
    assert len(results) == 1 and readings, results
    r = readings[0]
    assert r.weight == (None if case.weight is None else Decimal(case.weight))
    assert (r.unit, r.stable, r.net) == (case.unit, case.stable, case.net)
    assert (r.overload, r.underload) == (case.overload, case.underload)


def test_toledo_status_words_decode_increment_and_flags() -> None:
    # WILDCAT Table 6-9: bits 3-4 of word A, 01 x1, 10 x2, 11 x5.
    status = decode_status(0x39, 0x3B, 0x38)
    assert status is not None
    assert (status.decimals, status.increment) == (-1, 5)
    assert (status.net, status.negative, status.motion) == (True, True, True)
    assert (status.unit, status.print_request) == ("kg", True)
    assert decode_status(0x0A, 0x30, 0x20) is None


def test_toledo_decoder_learns_the_checksum_and_then_waits_for_it() -> None:
    decoder = make_decoder("toledo_continuous")
    first = toledo(b"*0   1230     0")
    assert outcome(decoder.feed(first)) == [Decimal(1230)]

    # Now a frame with a corrupted digit arrives without its K yet: held back,
    # then refused when K comes.
    bad = bytearray(toledo(b"*0   1240     0"))
    bad[8] ^= 0x01
    assert decoder.feed(bytes(bad[:-1])) == []
    assert isinstance(decoder.feed(bytes(bad[-1:]))[0], Rejected)


def test_toledo_frames_without_checksum_are_read_back_to_back() -> None:
    frames = [toledo(b"*0   %d     0" % w, check=False) for w in (1230, 1240, 1250)]
    results = make_decoder("toledo_continuous").feed(b"".join(frames))
    assert outcome(results) == [Decimal(w) for w in (1230, 1240, 1250)]


def test_d2plus_learns_the_frame_length_from_the_first_bounded_frame() -> None:
    decoder = make_decoder("yaohua_d2plus_reversed")
    results = decoder.feed(b"51.07000=51.07000=1.07000=")
    weights = [r.weight for r in results if isinstance(r, Reading)]
    assert weights == [Decimal("70.15"), Decimal("70.15")]
    assert isinstance(results[-1], Rejected)


def test_yaohua_request_builder_matches_the_ds10_table() -> None:
    # DS10 §5.3(2): address 1, commands A..D.
    assert build_request(1, "A").hex().upper() == "024141303003"
    assert build_request(1, "B").hex().upper() == "024142303303"
    assert build_request(1, "C").hex().upper() == "024143303203"
    assert build_request(1, "D").hex().upper() == "024144303503"
    with pytest.raises(ValueError):
        build_request(27, "B")


def test_host_request_builders_follow_their_manuals() -> None:
    assert build_sics_request("SI") == b"SI\r\n"
    assert build_sma_request("W") == b"\nW\r"


def test_a12e_encoder_reproduces_the_manual_example() -> None:
    assert encode_a12e(Decimal("4.139"), 3).hex().upper() == (
        "57473030342E3133396B6733440D0A"
    )
    assert encode_a12e_overload().hex().upper() == "2020202020202020204F4C32330D0A"


def test_toledo_encoder_reproduces_the_derived_vectors() -> None:
    frame = encode_toledo(12340, decimals=-1, increment=2)
    assert frame.hex().upper() == "023130202020313233342020202020300D16"
    h610 = encode_toledo(610, pad=b"0", checksum=False)
    assert h610.hex().upper() == "022A30203030303631303030303030300D"


ROUND_TRIPS = [
    ("yaohua_cmd", lambda w, d: encode_response(w, d, command="B")),
    ("yaohua_a12e_wg", lambda w, d: encode_a12e(w, d)),
    ("yaohua_a12_ww", lambda w, d: encode_ww(w, d)),
    ("yaohua_d2plus_reversed", lambda w, d: encode_d2plus(w, d, chars=8)),
    ("yaohua_eq_reversed_signed", encode_eq_reversed_signed),
    ("yaohua_eq_forward", encode_eq_forward),
    ("keli_xk3118t1_eq", lambda w, d: encode_xk3118t1(w, d)),
    ("toledo_continuous", lambda w, d: encode_toledo(w, decimals=d)),
    ("mt_sics", lambda w, d: encode_sics(w, d)),
    ("sma_scp", lambda w, d: encode_sma(w, d)),
    ("ascii_st_gs", lambda w, d: encode_st_gs(w, d)),
    ("ricelake_iq355", lambda w, d: encode_iq355(w, d)),
]


@pytest.mark.parametrize("label,encode", ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS])
@pytest.mark.parametrize("weight,decimals", [("-1230", 0), ("49.78", 2), ("0", 1)])
def test_encoder_output_decodes_to_the_same_weight(
    label: str, encode: Any, weight: str, decimals: int
) -> None:
    results = make_decoder(label).feed(encode(Decimal(weight), decimals))
    assert outcome(results) == [Decimal(weight)]


@pytest.mark.parametrize("label", sorted(ENCODERS))
@pytest.mark.parametrize("kg,stable", [(0, True), (31580, False), (-120, True)])
def test_simulator_encoder_table_round_trips(label: str, kg: int, stable: bool) -> None:
    (reading,) = make_decoder(label).feed(ENCODERS[label](kg, stable))
    assert isinstance(reading, Reading)
    assert (reading.weight, reading.unit) == (Decimal(kg), "kg")
    assert reading.stable in (None, stable)


def test_every_detectable_protocol_has_a_simulator_encoder() -> None:
    assert set(ENCODERS) == set(DECODERS) - {"generic_ascii"}
    for label, request in POLL_REQUESTS.items():
        assert make_decoder(label).feed(request) in (
            [],
            [Reading(label, None, None, raw=request)],
        )
