"""``weighbridge scale decode``: JSON lines out, clear errors, stdin with ``-``."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from common.protocols.cli import decode_main
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
