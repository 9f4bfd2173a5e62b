"""The indicator simulator: the bytes on its pty, their pace, and its weight model."""

from __future__ import annotations

import gc
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from client.devices.indicator_sim import (
    IndicatorSimulator,
    WeightModel,
    build_parser,
    main,
)

ROOT = Path(__file__).resolve().parents[2]
# +12340 kg, no decimals. Checksum by hand: 2B^30^31^32^33^34^30^30 = 1F.
FRAME_12340 = bytes.fromhex("02 2B 30 31 32 33 34 30 30 31 46 03")


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


@pytest.fixture(autouse=True)
def no_leaked_threads_or_fds() -> Iterator[None]:
    # Collect first: another test's garbage must not close its files during ours.
    gc.collect()
    threads, fds = threading.active_count(), open_fds()
    yield
    gc.collect()
    assert threading.active_count() == threads, threading.enumerate()
    # Only new descriptors are ours: Qt's own threads may close theirs meanwhile.
    assert open_fds() - fds == set()


@pytest.fixture
def sim() -> Iterator[IndicatorSimulator]:
    with IndicatorSimulator() as s:
        yield s


def open_port(sim: IndicatorSimulator) -> serial.SerialBase:
    port = serial.serial_for_url(sim.port_name, baudrate=sim.baud, timeout=0.05)
    port.reset_input_buffer()
    return port


def read_for(port: serial.SerialBase, seconds: float) -> bytes:
    end = time.monotonic() + seconds
    data = bytearray()
    while time.monotonic() < end:
        data += port.read(max(1, port.in_waiting))
    return bytes(data)


def whole_frames(data: bytes, frame_len: int) -> list[bytes]:
    """The frames in ``data`` after the first STX, the incomplete last one dropped."""
    data = data[data.index(b"\x02") :]
    return [
        data[i : i + frame_len] for i in range(0, len(data) - frame_len + 1, frame_len)
    ]


# -- the line -----------------------------------------------------------------------


def test_simulator_writes_exact_tf0_frames_to_the_pty(sim: IndicatorSimulator) -> None:
    sim.set_target(12340)
    time.sleep(0.15)
    with open_port(sim) as port:
        frames = whole_frames(read_for(port, 0.6), 12)

    assert len(frames) >= 4
    assert set(frames) == {FRAME_12340}


def test_bytes_leave_no_faster_than_the_baud_rate_allows() -> None:
    # 12-byte frames at 1200 baud, 10 bits a byte: 120 B/s, whatever rate is asked.
    with (
        IndicatorSimulator(baud=1200, frames_per_s=1000) as sim,
        open_port(sim) as port,
    ):
        port.read(1)
        start = time.monotonic()
        received = len(read_for(port, 2.0))
        rate = received / (time.monotonic() - start)

    assert rate == pytest.approx(120, rel=0.1)


def test_frame_rate_is_the_configured_one_when_the_line_is_fast_enough() -> None:
    with IndicatorSimulator(baud=9600, frames_per_s=10) as sim, open_port(sim) as port:
        port.read(1)
        start = time.monotonic()
        received = len(read_for(port, 2.0))
        rate = received / (time.monotonic() - start)

    assert rate == pytest.approx(10 * 12, rel=0.1)


def test_frames_arrive_in_pieces_as_from_a_uart() -> None:
    with IndicatorSimulator(baud=1200) as sim, open_port(sim) as port:
        port.read(1)
        reads = [port.read(max(1, port.in_waiting)) for _ in range(20)]

    assert max(len(r) for r in reads) < 12


def test_custom_encoder_bytes_go_on_the_line_unchanged() -> None:
    def encode(kg: int, stable: bool) -> bytes:
        return b"\x02ww%07dkg%s\r\n" % (kg, b"S" if stable else b"M")

    with IndicatorSimulator(encode=encode) as sim, open_port(sim) as port:
        sim.set_target(500)
        time.sleep(0.15)
        port.reset_input_buffer()
        frames = whole_frames(read_for(port, 0.5), 15)

    assert set(frames) == {b"\x02ww0000500kgS\r\n"}


def test_powered_off_simulator_sends_nothing_until_switched_on(
    sim: IndicatorSimulator,
) -> None:
    with open_port(sim) as port:
        sim.power_off()
        time.sleep(0.15)
        port.reset_input_buffer()
        assert read_for(port, 0.4) == b""

        sim.power_on()
        assert b"\x02" in read_for(port, 0.4)


def test_injected_garbage_goes_on_the_line_between_frames(
    sim: IndicatorSimulator,
) -> None:
    sim.set_target(12340)
    with open_port(sim) as port:
        time.sleep(0.05)
        sim.inject(b"\xffGARBAGE\xfe")
        data = read_for(port, 0.5)

    head, garbage, tail = data.partition(b"\xffGARBAGE\xfe")
    assert garbage
    assert head.endswith(b"\x03") and tail.startswith(b"\x02")


def test_injected_bytes_are_sent_while_powered_off(sim: IndicatorSimulator) -> None:
    sim.power_off()
    with open_port(sim) as port:
        time.sleep(0.15)
        port.reset_input_buffer()
        sim.inject(b"noise")
        assert read_for(port, 0.3) == b"noise"


def test_request_response_simulator_answers_each_request_with_one_frame() -> None:
    request = bytes.fromhex("02 41 42 30 33 03")
    with IndicatorSimulator(answer_to=request) as sim, open_port(sim) as port:
        sim.set_target(12340)
        assert read_for(port, 0.3) == b""

        port.write(request + request)
        assert read_for(port, 0.4) == FRAME_12340 * 2
        assert sim.received == request * 2


def test_unread_bytes_are_dropped_instead_of_blocking_the_writer() -> None:
    with IndicatorSimulator(baud=115200, frames_per_s=1000) as sim:
        deadline = time.monotonic() + 5
        while sim.bytes_dropped == 0 and time.monotonic() < deadline:
            time.sleep(0.05)

    assert sim.bytes_dropped > 0


# -- lifetime -----------------------------------------------------------------------


def test_link_points_at_the_pty_and_is_removed_on_close(tmp_path: Path) -> None:
    link = tmp_path / "ttyWB1"
    sim = IndicatorSimulator(link=link)
    assert os.readlink(link) == sim.port_name
    assert sim.port_name.startswith("/dev/pts/")

    sim.close()
    sim.close()
    assert not os.path.lexists(link)


def test_closing_an_old_simulator_leaves_a_newer_ones_link(tmp_path: Path) -> None:
    link = tmp_path / "ttyWB1"
    with IndicatorSimulator(link=link) as old:
        with IndicatorSimulator(link=link) as new:
            old.close()
            assert os.readlink(link) == new.port_name


def test_a_regular_file_in_the_link_place_is_not_replaced(tmp_path: Path) -> None:
    link = tmp_path / "ttyWB1"
    link.write_text("keep me")
    with pytest.raises(FileExistsError):
        IndicatorSimulator(link=link)
    assert link.read_text() == "keep me"


def test_a_baud_rate_the_tty_does_not_know_is_refused() -> None:
    with pytest.raises(ValueError, match="12345"):
        IndicatorSimulator(baud=12345)


# -- the weight model ---------------------------------------------------------------


def test_drive_on_ramps_up_overshoots_and_settles_on_the_weight() -> None:
    model = WeightModel(division_kg=20)
    model.drive_on(49000, 0.0, ramp_s=2.0, bounce_s=3.0)
    trace = [model.weight_at(t / 10)[0] for t in range(0, 61)]

    assert trace[0] == 0
    assert trace[10] == pytest.approx(24500, abs=20)
    assert max(trace) > 49000 + 1000
    assert trace[-1] == 49000
    assert model.weight_at(5.0) == (49000, True)
    assert model.weight_at(4.0)[1] is False


def test_drive_on_without_bounce_never_overshoots() -> None:
    model = WeightModel()
    model.drive_on(30000, 0.0, bounce=False, ramp_s=1.0)

    assert max(model.weight_at(t / 20)[0] for t in range(0, 60)) == 30000
    assert model.weight_at(1.0) == (30000, True)


def test_drive_off_returns_the_platform_to_zero() -> None:
    model = WeightModel()
    model.set_target(16000, 0.0)
    model.drive_off(1.0, ramp_s=2.0)

    assert 0 < model.weight_at(2.0)[0] < 16000
    assert model.weight_at(3.0) == (0, True)


def test_display_moves_in_whole_divisions() -> None:
    model = WeightModel(division_kg=50)
    model.set_target(12_374, 0.0)

    assert model.weight_at(0.0) == (12_350, True)


def test_noise_stays_within_the_configured_divisions_and_is_repeatable() -> None:
    model = WeightModel(division_kg=20, noise_divisions=1, seed=7)
    model.set_target(20000, 0.0)
    shown = [model.weight_at(0.0)[0] for _ in range(300)]
    again = WeightModel(division_kg=20, noise_divisions=1, seed=7)
    again.set_target(20000, 0.0)

    assert set(shown) == {19980, 20000, 20020}
    assert [again.weight_at(0.0)[0] for _ in range(300)] == shown


def test_creep_drifts_while_it_lasts_and_the_weight_is_not_stable() -> None:
    model = WeightModel(division_kg=10)
    model.set_target(40000, 0.0)
    model.creep(-20, 1.0, duration_s=5.0)

    assert model.weight_at(3.0) == (39960, False)
    assert model.weight_at(10.0) == (39900, True)


def test_stopping_creep_keeps_what_has_drifted() -> None:
    model = WeightModel(division_kg=10)
    model.set_target(40000, 0.0)
    model.creep(10, 0.0)
    model.creep(0, 3.0)

    assert model.weight_at(10.0) == (40030, True)


# -- the command line ---------------------------------------------------------------


def test_help_names_the_command_and_its_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--help"])
    text = capsys.readouterr().out

    assert exit_info.value.code == 0
    assert text.startswith("usage: weighbridge sim indicator")
    for option in ("--protocol", "--baud", "--link", "--trucks", "--settle"):
        assert option in text


def test_malformed_truck_list_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--trucks", "15000,heavy"])

    assert exit_info.value.code == 2
    assert "--trucks" in capsys.readouterr().err


def test_cli_prints_the_pty_sends_trucks_and_exits_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    link = tmp_path / "ttyWB1"
    code = (
        "import sys; from client.devices.indicator_sim import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    args = ["--link", str(link), "--trucks", "15000", "--noise", "0", "--settle", "9"]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        pty_path = re.search(r"/dev/pts/\d+", first)
        assert pty_path and os.readlink(link) == pty_path.group()

        with serial.serial_for_url(str(link), baudrate=9600, timeout=0.05) as port:
            # Ramp 2 s and ring-down 3 s, then the truck stands still.
            time.sleep(5.3)
            port.reset_input_buffer()
            frames = whole_frames(read_for(port, 0.5), 12)
        assert frames and frames[-1][1:8] == b"+015000"

        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 0
    assert "模拟仪表已停止" in out
    assert not os.path.lexists(link)
