"""``weighbridge scale decode``: JSON lines out, clear errors, stdin with ``-``."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from common.protocols import DECODERS
from common.protocols.cli import decode_main
from common.protocols.detect import DETECT_HEAD_BYTES
from common.protocols.toledo import encode_toledo
from common.protocols.yaohua import encode_tf0

REPO = Path(__file__).resolve().parents[3]
# +15.60 t, +15.62 t, then the manual's 1560 frame with a corrupted checksum.
CAPTURE = (
    encode_tf0(15600) + encode_tf0(15620) + bytes.fromhex("022B30303135363030313803")
)


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_decode_prints_one_json_line_per_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "com3.bin"
    capture.write_bytes(CAPTURE)

    assert decode_main(["--protocol", "yaohua_tf0", "--unit", "kg", str(capture)]) == 0
    lines = json_lines(capsys.readouterr().out)

    assert [line.get("weight") for line in lines[:2]] == [15600.0, 15620.0]
    assert lines[0] == {
        "protocol": "yaohua_tf0",
        "weight": 15600.0,
        "unit": "kg",
        "weight_kg": 15600,
        "stable": None,
        "overload": False,
        "underload": False,
        "net": False,
        "raw_hex": encode_tf0(15600).hex().upper(),
    }
    assert lines[2] == {
        "protocol": "yaohua_tf0",
        "raw_hex": "022B30303135363030313803",
        "error": "checksum mismatch",
    }


def test_decode_detects_the_protocol_and_says_so_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "toledo.bin"
    capture.write_bytes(b"".join(encode_toledo(w, unit="lb") for w in (20, 40, 60)))

    assert decode_main([str(capture)]) == 0
    out, err = capsys.readouterr()
    assert "detected protocol toledo_continuous" in err
    assert [(d["weight"], d["unit"]) for d in json_lines(out)] == [
        (20.0, "lb"),
        (40.0, "lb"),
        (60.0, "lb"),
    ]


def test_unknown_protocol_exits_2_and_lists_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "x.bin"
    capture.write_bytes(CAPTURE)
    assert decode_main(["--protocol", "keli_magic", str(capture)]) == 2
    err = capsys.readouterr().err
    assert "unknown protocol 'keli_magic'" in err and "toledo_continuous" in err


def test_unreadable_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert decode_main([str(tmp_path / "missing.bin")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_capture_no_protocol_reads_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "noise.bin"
    capture.write_bytes(bytes(range(256)) * 2)
    assert decode_main([str(capture)]) == 1
    assert "no known protocol" in capsys.readouterr().err


def test_help_names_the_command_and_the_protocols(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert decode_main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: weighbridge scale decode")
    assert "yaohua_tf0" in out and "'-' reads standard input" in out


def test_bad_unit_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert decode_main(["--unit", "stone", "-"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_decode_reads_standard_input_with_a_dash() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "common.protocols.cli",
            "--protocol",
            "yaohua_tf0",
            "--unit",
            "t",
            "-",
        ],
        input=encode_tf0(Decimal("12.345"), 3),
        capture_output=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    (line,) = json_lines(proc.stdout.decode())
    assert (line["weight"], line["unit"], line["weight_kg"]) == (12.345, "t", 12345)


def test_empty_file_says_it_is_empty_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "empty.bin"
    capture.write_bytes(b"")
    for argv in ([str(capture)], ["--protocol", "yaohua_tf0", str(capture)]):
        assert decode_main(argv) == 1
        out, err = capsys.readouterr()
        assert out == "" and "文件为空 / file is empty" in err


@pytest.mark.parametrize("label", list(DECODERS))
def test_explicit_protocol_that_finds_no_frame_says_so_and_exits_1(
    label: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Text with no STX, '=', CR or LF: no protocol's frame can even start.
    capture = tmp_path / "text.bin"
    capture.write_bytes(b"not a scale, just some text; " * 20)

    assert decode_main(["--protocol", label, str(capture)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"未找到任何 {label} 数据帧（跳过 580 字节）" in err


def test_explicit_protocol_prints_the_frames_it_refused_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "bad.bin"
    capture.write_bytes(bytes.fromhex("022B30303135363030313803") * 2)

    assert decode_main(["--protocol", "yaohua_tf0", str(capture)]) == 0
    out, err = capsys.readouterr()
    assert [line["error"] for line in json_lines(out)] == ["checksum mismatch"] * 2
    assert "all 2 yaohua_tf0 frames were refused" in err


def test_a_single_valid_frame_decodes_in_auto_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "one.bin"
    capture.write_bytes(b"\x02+001560019\x03")

    assert decode_main([str(capture)]) == 0
    out, err = capsys.readouterr()
    (line,) = json_lines(out)
    assert line["weight"] == 1560.0
    assert "detected protocol" in err and "WARNING" not in err


def test_auto_mode_that_finds_nothing_says_how_many_frames_it_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "noisy.bin"
    capture.write_bytes(bytes(range(0x80, 0x100)) + encode_tf0(1560))

    assert decode_main([str(capture)]) == 1
    err = capsys.readouterr().err
    assert "at least 3 whole frames" in err and "--protocol" in err


@pytest.mark.parametrize(
    ("hex_frame", "chosen", "other"),
    [
        ("3D303030332E303030", "yaohua_eq_forward", "yaohua_eq_reversed_signed"),
        ("3D3030302E33303030", "yaohua_eq_reversed_signed", "yaohua_eq_forward"),
    ],
)
def test_ambiguous_capture_warns_naming_both_readings_before_and_after_output(
    hex_frame: str,
    chosen: str,
    other: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capture = tmp_path / "eq.bin"
    capture.write_bytes(bytes.fromhex(hex_frame) * 3)

    assert decode_main([str(capture)]) == 0
    out, err = capsys.readouterr()
    assert [line["protocol"] for line in json_lines(out)] == [chosen] * 3
    warning = f"多个协议都能解读此数据：{chosen}（3.000 kg）、{other}（0.3000 kg）"
    assert err.count(warning) == 2
    assert "请用 --protocol 指定" in err


def test_auto_mode_does_not_log_the_trial_decoders_complaints(
    tmp_path: Path,
) -> None:
    # A tF=0 capture with a few command-mode frames whose checksum is wrong:
    # yaohua_cmd, tried during detection, would warn about each of them.
    bad_command = b"\x02AB00\x03"
    capture = tmp_path / "tf0.bin"
    capture.write_bytes(
        b"".join(
            encode_tf0(w) + (bad_command if w % 2000 == 0 else b"")
            for w in range(0, 40_000, 20)
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "common.cli", "scale", "decode", str(capture)],
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(b"checksum") == 0
    assert proc.stdout.count(b'"weight_kg"') == 2000
    assert proc.stderr.decode().splitlines() == [
        "weighbridge scale decode: detected protocol yaohua_tf0"
    ]


def test_auto_mode_detects_on_the_head_of_a_long_capture_and_decodes_it_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frames = [encode_toledo(w % 99_999) for w in range(0, 12_000)]
    capture = tmp_path / "long.bin"
    capture.write_bytes(b"".join(frames))
    assert len(frames[0]) * len(frames) > 2 * DETECT_HEAD_BYTES

    assert decode_main([str(capture)]) == 0
    out, err = capsys.readouterr()
    assert "detected protocol toledo_continuous" in err
    assert len(json_lines(out)) == len(frames)
