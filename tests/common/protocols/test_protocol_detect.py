"""Protocol detection on captured streams, and the serial-setting scan."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

import pytest

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
    assert found[0] in STREAMS[label][2]
    assert [r.weight for r in found[1] if r.weight is not None][-1] == (
        STREAMS[label][1][-1]
    )


@pytest.mark.parametrize("label", list(STREAMS))
def test_detect_works_on_a_capture_that_starts_mid_frame(label: str) -> None:
    found = detect_protocol(capture(label, start=5))
    assert found is not None and found[0] in STREAMS[label][2]


def test_detect_gives_up_on_noise_and_on_too_few_frames() -> None:
    rng = random.Random(7)
    assert detect_protocol(bytes(rng.randrange(256) for _ in range(2000))) is None
    assert detect_protocol(encode_tf0(1560) + encode_tf0(1570)) is None


def test_detect_passes_the_configured_unit_to_formats_without_one() -> None:
    found = detect_protocol(capture("yaohua_tf0"), unit="t")
    assert found is not None and {r.unit for r in found[1]} == {"t"}


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
