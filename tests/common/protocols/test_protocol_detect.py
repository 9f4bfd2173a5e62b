"""Protocol detection on captured streams, and the serial-setting scan."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from decimal import Decimal

import pytest

from common.protocols import make_decoder
from common.protocols.ascii_lines import encode_st_gs
from common.protocols.detect import (
    PortReader,
    ScanError,
    SerialSetting,
    detect_protocol,
    rank_protocols,
    scan_port,
    serial_settings_to_try,
)
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
from common.protocols.yaohua_cmd import build_request, encode_response
from common.protocols.yaohua_text import encode_a12e, encode_ww

# A truck driving on: weights rise, wobble, settle (kg, two decimals where the
# format wants some).
TRUCK = [
    Decimal(w)
    for w in ("0", "1520", "8640", "23170", "31580", "31560", "31580", "31580")
]
TRUCK_T = [w / 1000 for w in TRUCK]


def polled(weight: Decimal) -> bytes:
    # A booth polling an indicator in command mode: the request, then the answer.
    return build_request(1, "B") + encode_response(weight, 0)


STREAMS: dict[str, tuple[Callable[[Decimal], bytes], list[Decimal], set[str]]] = {
    "yaohua_tf0": (lambda w: encode_tf0(w), TRUCK, {"yaohua_tf0", "keli_d2008f_tf0"}),
    "yaohua_cmd": (polled, TRUCK, {"yaohua_cmd"}),
    "yaohua_a12e_wg": (lambda w: encode_a12e(w, 3), TRUCK_T, {"yaohua_a12e_wg"}),
    "yaohua_a12_ww": (lambda w: encode_ww(w, 3), TRUCK_T, {"yaohua_a12_ww"}),
    "yaohua_d2plus_reversed": (
        lambda w: encode_d2plus(w, 3),
        TRUCK_T,
        {"yaohua_d2plus_reversed"},
    ),
    # A26 format 1 is the new D2+ stream seen one byte earlier.
    "yaohua_eq_reversed_signed": (
        lambda w: encode_eq_reversed_signed(w, 3),
        TRUCK_T,
        {"yaohua_eq_reversed_signed", "yaohua_d2plus_reversed"},
    ),
    "yaohua_eq_forward": (
        lambda w: encode_eq_forward(w, 3),
        TRUCK_T,
        {"yaohua_eq_forward"},
    ),
    "keli_xk3118t1_eq": (
        lambda w: encode_xk3118t1(w, 3, unit="t"),
        TRUCK_T,
        {"keli_xk3118t1_eq"},
    ),
    "toledo_continuous": (
        lambda w: encode_toledo(w, decimals=-1, increment=2),
        TRUCK,
        {"toledo_continuous"},
    ),
    "mt_sics": (lambda w: encode_sics(w, 0, stable=w == TRUCK[-1]), TRUCK, {"mt_sics"}),
    "sma_scp": (lambda w: encode_sma(w), TRUCK, {"sma_scp"}),
    "ascii_st_gs": (lambda w: encode_st_gs(w), TRUCK, {"ascii_st_gs"}),
    "ricelake_iq355": (lambda w: encode_iq355(w), TRUCK, {"ricelake_iq355"}),
}


def capture(label: str, *, start: int = 0) -> bytes:
    encode, weights, _ = STREAMS[label]
    return b"".join(encode(w) for w in weights)[start:]


@pytest.mark.parametrize("label", list(STREAMS))
def test_detect_picks_the_protocol_of_a_clean_capture(label: str) -> None:
    found = detect_protocol(capture(label))
    assert found is not None
    assert found.label in STREAMS[label][2]
    assert [r.weight for r in found.readings if r.weight is not None][-1] == (
        STREAMS[label][1][-1]
    )


@pytest.mark.parametrize("label", list(STREAMS))
def test_detect_works_on_a_capture_that_starts_mid_frame(label: str) -> None:
    found = detect_protocol(capture(label, start=5))
    assert found is not None and found.label in STREAMS[label][2]


def test_detect_gives_up_on_noise_and_on_too_few_frames() -> None:
    rng = random.Random(7)
    assert detect_protocol(bytes(rng.randrange(256) for _ in range(2000))) is None
    assert detect_protocol(encode_tf0(1560) + encode_tf0(1570)) is None


def test_detect_passes_the_configured_unit_to_formats_without_one() -> None:
    found = detect_protocol(capture("yaohua_tf0"), unit="t")
    assert found is not None and {r.unit for r in found.readings} == {"t"}


def test_rank_lists_every_detectable_protocol_best_first() -> None:
    ranked = rank_protocols(capture("sma_scp"))
    assert ranked[0].label == "sma_scp"
    assert "generic_ascii" not in {c.label for c in ranked}


def test_settings_cover_1200_to_115200_in_8n1_and_7e1() -> None:
    settings = serial_settings_to_try()
    assert settings[0] == SerialSetting(9600, 8, "N")
    assert {s.baud for s in settings} == {
        1200,
        2400,
        4800,
        9600,
        19200,
        38400,
        57600,
        115200,
    }
    assert {(s.bytesize, s.parity) for s in settings} == {(8, "N"), (7, "E")}
    assert str(settings[1]) == "9600 7E1"


class CapturedPort:
    """A port that plays back a capture, in 64-byte reads, then times out."""

    def __init__(self, data: bytes) -> None:
        self.data, self.closed = data, False

    def read(self, size: int = 1) -> bytes:
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk

    def close(self) -> None:
        self.closed = True


def test_scan_finds_the_setting_at_which_the_capture_decodes() -> None:
    good = capture("toledo_continuous") * 3
    opened: list[CapturedPort] = []

    def open_port(url: str, baud: int, bytesize: int, parity: str) -> CapturedPort:
        # At the wrong speed a UART reads framing garbage.
        ok = (baud, bytesize, parity) == (2400, 7, "E")
        port = CapturedPort(good if ok else bytes(b ^ 0x5A for b in good))
        opened.append(port)
        return port

    result = scan_port("COM3", open_port, capture_bytes=200)
    assert result is not None
    assert (result.setting, result.label) == (
        SerialSetting(2400, 7, "E"),
        "toledo_continuous",
    )
    assert all(p.closed for p in opened)


def test_scan_returns_none_when_nothing_decodes_and_raises_when_never_open() -> None:
    settings = serial_settings_to_try(bauds=(9600, 1200))
    assert (
        scan_port("x", lambda *a: CapturedPort(b"\x00" * 300), settings=settings)
        is None
    )

    def refuse(url: str, baud: int, bytesize: int, parity: str) -> CapturedPort:
        raise OSError(2, "could not open port")

    with pytest.raises(ScanError, match="cannot open COM9"):
        scan_port("COM9", refuse, settings=settings)


def test_scan_opens_a_real_loop_port_through_pyserial() -> None:
    serial = pytest.importorskip("serial")

    def open_loop(url: str, baud: int, bytesize: int, parity: str) -> PortReader:
        port: PortReader = serial.serial_for_url(
            url, baudrate=baud, bytesize=bytesize, parity=parity, timeout=0.05
        )
        port.write(capture("ascii_st_gs"))  # type: ignore[attr-defined]
        return port

    result = scan_port("loop://", open_loop, settings=serial_settings_to_try((9600,)))
    assert result is not None and result.label == "ascii_st_gs"


# The shared vectors for 3.000 kg in A26 format 2 and in format 1. Each is, byte
# for byte, also a well-formed frame of the other format (0.3000 kg).
EQ_FORWARD_3KG = bytes.fromhex("3D303030332E303030")
EQ_REVERSED_3KG = bytes.fromhex("3D3030302E33303030")


@pytest.mark.parametrize(
    ("frame", "label", "other"),
    [
        (EQ_FORWARD_3KG, "yaohua_eq_forward", "yaohua_eq_reversed_signed"),
        (EQ_REVERSED_3KG, "yaohua_eq_reversed_signed", "yaohua_eq_forward"),
    ],
)
def test_eq_vector_sent_three_times_is_reported_ambiguous_in_both_directions(
    frame: bytes, label: str, other: str
) -> None:
    found = detect_protocol(frame * 3)

    assert found is not None
    assert found.ambiguous_with == [other]
    # The pick is a guess (fewer decimals: 3.000 rather than 0.3000); it is
    # flagged, not trusted.
    assert found.label == label
    assert {r.weight for r in found.readings} == {Decimal("3.000")}
    assert {r.weight for r in found.rivals[0].readings} == {Decimal("0.3000")}


@pytest.mark.parametrize("label", ["yaohua_eq_forward", "yaohua_eq_reversed_signed"])
def test_truck_capture_in_an_eq_format_names_the_backwards_reading(label: str) -> None:
    found = detect_protocol(capture(label))

    assert found is not None and found.label == label
    assert found.ambiguous_with
    assert all(
        not rival.agrees_with(found.chosen) and rival.weighed >= 3
        for rival in found.rivals
    )


@pytest.mark.parametrize("label", ["yaohua_tf0", "yaohua_d2plus_reversed"])
def test_protocols_that_read_the_same_weights_are_not_ambiguous(label: str) -> None:
    # Yaohua tF=0 is Keli D2008F tf=0; a new-D2+ stream is A26 format 1 shifted.
    found = detect_protocol(capture(label))
    assert found is not None and found.ambiguous_with == []


def test_a26_format_1_stream_agrees_with_new_d2plus_and_is_not_ambiguous() -> None:
    weights = [Decimal("31.580"), Decimal("-1.00"), Decimal("0.000")]
    stream = b"".join(encode_eq_reversed_signed(w, 3) for w in weights * 2)
    ranked = {c.label: c for c in rank_protocols(stream)}
    assert ranked["yaohua_d2plus_reversed"].agrees_with(
        ranked["yaohua_eq_reversed_signed"]
    )


def test_a_single_clean_frame_is_detected_when_short_captures_are_allowed() -> None:
    frame = b"\x02+001560019\x03"
    assert detect_protocol(frame) is None

    found = detect_protocol(frame, allow_short=True)
    assert found is not None
    assert found.label in {"yaohua_tf0", "keli_d2008f_tf0"}
    assert [r.weight for r in found.readings] == [Decimal(1560)]
    assert found.ambiguous_with == []


@pytest.mark.parametrize(
    "label", [lb for lb in STREAMS if lb not in {"yaohua_cmd", "mt_sics"}]
)
def test_a_short_capture_of_two_frames_starting_mid_frame_is_detected(
    label: str,
) -> None:
    encode, weights, expected = STREAMS[label]
    frames = b"".join(encode(w) for w in weights[-2:])
    found = detect_protocol(frames[3:], allow_short=True)
    assert found is not None and found.label in expected


def test_a_short_capture_is_refused_when_noise_is_more_than_a_cut_frame() -> None:
    frame = encode_tf0(1560)
    noise = bytes(random.Random(3).randrange(0x80, 0x100) for _ in range(20))
    assert detect_protocol(noise + frame, allow_short=True) is None
    assert detect_protocol(frame + noise, allow_short=True) is None


def test_short_random_captures_are_never_detected() -> None:
    rng = random.Random(5)
    for _ in range(300):
        junk = rng.randbytes(rng.randrange(1, 60))
        assert detect_protocol(junk, allow_short=True) is None, junk.hex()


def test_a_short_capture_with_a_refused_frame_is_not_detected() -> None:
    bad = bytes.fromhex("022B30303135363030313803")  # checksum wrong
    assert detect_protocol(bad + encode_tf0(1560), allow_short=True) is None


def test_detection_logs_no_warning_for_frames_the_other_decoders_refuse(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Two command-mode frames with a bad checksum in a tF=0 capture.
    data = (
        capture("yaohua_tf0") * 2 + b"\x02AB00\x03\x02AB01\x03" + capture("yaohua_tf0")
    )
    with caplog.at_level(logging.WARNING, logger="common.protocols"):
        make_decoder("yaohua_cmd").feed(data)
    assert caplog.text.count("checksum mismatch") == 2
    caplog.clear()

    with caplog.at_level(logging.DEBUG, logger="common.protocols"):
        found = detect_protocol(data)
    assert found is not None and found.label == "yaohua_tf0"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []


def test_scan_reports_which_other_protocols_read_the_capture() -> None:
    data = capture("yaohua_eq_forward") * 2
    result = scan_port(
        "COM3",
        lambda *a: CapturedPort(data),
        settings=serial_settings_to_try((9600,)),
        capture_bytes=len(data),
    )
    assert result is not None and result.label == "yaohua_eq_forward"
    assert "yaohua_eq_reversed_signed" in result.ambiguous_with
