"""Reading the scale through a real pseudo-terminal: simulator → pty → pyserial →
decoder → readings, with the faults a booth meets (switched off, unplugged, noise)."""

from __future__ import annotations

import array
import fcntl
import gc
import logging
import os
import sys
import termios

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from client.devices.base import DeviceConfigError, DeviceStatus
from client.devices.indicator_sim import ENCODERS, REQUESTS, IndicatorSimulator
from client.devices.scale import QtScale, ScaleReader, ScaleSettings
from common.protocols import Reading
from common.protocols.yaohua import encode_tf0

ReaderFactory = Callable[..., ScaleReader]


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


@pytest.fixture(autouse=True)
def no_leaked_threads_or_fds(qapp: object) -> Iterator[None]:
    # After qapp, so that the application's own descriptors are in the baseline.
    # Collect first: another test's garbage must not close its files during ours.
    gc.collect()
    threads, fds = threading.active_count(), open_fds()
    yield
    gc.collect()
    assert threading.active_count() == threads, threading.enumerate()
    # Only new descriptors are ours: Qt's own threads may close theirs meanwhile.
    assert open_fds() - fds == set()


class Recorder:
    """Collects what a reader reports, from its thread, and lets a test wait on it."""

    def __init__(self) -> None:
        self.readings: list[tuple[float, Reading]] = []
        self.statuses: list[tuple[float, DeviceStatus, str]] = []
        self._changed = threading.Condition()

    def on_reading(self, t: float, reading: Reading) -> None:
        with self._changed:
            self.readings.append((t, reading))
            self._changed.notify_all()

    def on_status(self, status: DeviceStatus, message: str) -> None:
        with self._changed:
            self.statuses.append((time.monotonic(), status, message))
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def weights(self) -> list[int | None]:
        with self._changed:
            return [r.weight_kg for _, r in self.readings]

    def last_status(self) -> DeviceStatus | None:
        with self._changed:
            return self.statuses[-1][1] if self.statuses else None

    def status_is(
        self, status: DeviceStatus, containing: str = ""
    ) -> Callable[[], bool]:
        def check() -> bool:
            return (
                bool(self.statuses)
                and self.statuses[-1][1] is status
                and (containing in self.statuses[-1][2])
            )

        return check

    def settled_at(self, kg: int, frames: int = 5) -> Callable[[], bool]:
        def check() -> bool:
            tail = [r.weight_kg for _, r in self.readings[-frames:]]
            return len(tail) == frames and set(tail) == {kg}

        return check


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_reader(recorder: Recorder) -> Iterator[ReaderFactory]:
    readers: list[ScaleReader] = []

    def make(url: str, **settings: object) -> ScaleReader:
        reader = ScaleReader(
            ScaleSettings(url=url, **settings),  # type: ignore[arg-type]
            on_reading=recorder.on_reading,
            on_status=recorder.on_status,
        )
        readers.append(reader)
        reader.start()
        return reader

    yield make
    for reader in readers:
        reader.stop()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[IndicatorSimulator]:
    with IndicatorSimulator(link=tmp_path / "ttyWB1") as s:
        yield s


def bytes_waiting(path: str) -> int:
    """How many bytes sit in a tty's input queue, without taking them."""
    fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        count = array.array("i", [0])
        fcntl.ioctl(fd, termios.FIONREAD, count)
        return count[0]
    finally:
        os.close(fd)


# -- readings -----------------------------------------------------------------------


def test_truck_driving_on_is_read_through_a_real_pty_until_it_settles(
    sim: IndicatorSimulator, recorder: Recorder, make_reader: ReaderFactory
) -> None:
    make_reader(sim.port_name)
    assert recorder.wait_for(recorder.settled_at(0))

    sim.drive_on(49000, ramp_s=0.5, bounce_s=1.0)
    assert recorder.wait_for(recorder.settled_at(49000), timeout=4.0)

    weights = recorder.weights()
    times = [t for t, _ in recorder.readings]
    assert max(w for w in weights if w is not None) > 49000  # the overshoot was seen
    assert times == sorted(times)
    assert recorder.readings[-1][1].raw == encode_tf0(49000)


@pytest.mark.parametrize("protocol", sorted(ENCODERS))
def test_every_simulated_protocol_is_read_back_at_its_weight(
    protocol: str, recorder: Recorder, make_reader: ReaderFactory
) -> None:
    request = REQUESTS.get(protocol)
    with IndicatorSimulator(encode=ENCODERS[protocol], answer_to=request) as sim:
        sim.set_target(32560)
        reader = make_reader(
            sim.port_name, protocol=protocol, poll_request=request, poll_interval_s=0.1
        )
        assert recorder.wait_for(recorder.settled_at(32560, frames=3))

    assert reader.rejected_count == 0
    assert all(r.protocol == protocol for _, r in recorder.readings)


def test_every_frame_is_handed_on_not_just_the_latest(
    tmp_path: Path, recorder: Recorder, make_reader: ReaderFactory
) -> None:
    with IndicatorSimulator(frames_per_s=50) as sim:
        reader = make_reader(sim.port_name)
        assert recorder.wait_for(lambda: len(recorder.readings) >= 1)
        sent_before = sim.frames_sent
        time.sleep(1.0)
        sim.power_off()
        time.sleep(0.1)

        delivered = reader.readings_count - 1
        assert delivered >= sim.frames_sent - sent_before - 1
        assert len(recorder.readings) == reader.readings_count


def test_bytes_sent_before_the_port_was_opened_are_not_a_reading(
    recorder: Recorder, make_reader: ReaderFactory
) -> None:
    with IndicatorSimulator(powered=False) as sim:
        # The indicator showed 77 780 kg to nobody; then the truck left and the
        # booth program started. The old frames still sit in the tty's input queue.
        sim.inject(encode_tf0(77780) * 3)
        while sim.bytes_sent < 36:
            time.sleep(0.01)
        time.sleep(0.1)
        assert bytes_waiting(sim.port_name) == 36

        make_reader(sim.port_name)
        time.sleep(0.3)
        sim.power_on()
        assert recorder.wait_for(lambda: len(recorder.readings) >= 3)

    assert 77780 not in recorder.weights()
    assert recorder.weights()[0] == 0


def test_garbage_on_the_line_is_counted_and_dropped(
    sim: IndicatorSimulator, recorder: Recorder, make_reader: ReaderFactory
) -> None:
    sim.set_target(20000)
    reader = make_reader(sim.port_name)
    assert recorder.wait_for(recorder.settled_at(20000, frames=3))

    bad_checksum = encode_tf0(30000)[:9] + b"00\x03"
    sim.inject(b"\xff\x00noise" + bad_checksum + b"\x02+12")
    assert recorder.wait_for(lambda: reader.rejected_count >= 2)
    count = len(recorder.readings)
    assert recorder.wait_for(lambda: len(recorder.readings) >= count + 5)

    assert set(recorder.weights()) == {20000}
    assert reader.decoder.counters.bytes_skipped >= len(b"\xff\x00noise")
    assert recorder.last_status() is DeviceStatus.ONLINE


def test_rejected_frames_are_warned_about_once_per_interval(
    sim: IndicatorSimulator,
    recorder: Recorder,
    make_reader: ReaderFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    reader = make_reader(sim.port_name, warn_every_s=60.0)
    assert recorder.wait_for(lambda: len(recorder.readings) >= 1)

    for _ in range(5):
        sim.inject(encode_tf0(30000)[:9] + b"00\x03")
    assert recorder.wait_for(lambda: reader.rejected_count >= 5)

    warnings = [r for r in caplog.records if "rejected frame" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


# -- status -------------------------------------------------------------------------


def test_indicator_switched_off_is_offline_within_a_second_and_back_by_itself(
    sim: IndicatorSimulator, recorder: Recorder, make_reader: ReaderFactory
) -> None:
    make_reader(sim.port_name)
    assert recorder.wait_for(recorder.status_is(DeviceStatus.ONLINE))

    sim.power_off()
    off_at = time.monotonic()
    assert recorder.wait_for(recorder.status_is(DeviceStatus.OFFLINE, "仪表无数据"))
    assert recorder.statuses[-1][0] - off_at <= 1.2

    sim.power_on()
    assert recorder.wait_for(recorder.status_is(DeviceStatus.ONLINE), timeout=1.0)


def test_unplugged_port_is_offline_and_reconnects_when_it_comes_back(
    tmp_path: Path, recorder: Recorder, make_reader: ReaderFactory
) -> None:
    link = tmp_path / "ttyUSB0"
    first = IndicatorSimulator(link=link)
    make_reader(str(link), retry_s=0.2)
    assert recorder.wait_for(recorder.status_is(DeviceStatus.ONLINE))

    # Pulling the adapter: the pty goes away and so does the device path.
    first.close()
    assert recorder.wait_for(recorder.status_is(DeviceStatus.OFFLINE, "打不开"))
    messages = [m for _, s, m in recorder.statuses if s is DeviceStatus.OFFLINE]
    assert any("通讯中断" in m for m in messages)

    with IndicatorSimulator(link=link) as second:
        second.set_target(15000)
        assert recorder.wait_for(recorder.settled_at(15000, frames=3))
        assert recorder.last_status() is DeviceStatus.ONLINE


def test_missing_port_is_reported_with_what_to_check(
    tmp_path: Path, recorder: Recorder, make_reader: ReaderFactory
) -> None:
    reader = make_reader(str(tmp_path / "COM3"))

    assert recorder.wait_for(recorder.status_is(DeviceStatus.OFFLINE, "打不开"))
    assert "请检查线缆和COM口设置" in recorder.statuses[-1][2]
    assert reader.running


def test_bad_serial_settings_are_reported_and_do_not_end_the_thread(
    sim: IndicatorSimulator, recorder: Recorder, make_reader: ReaderFactory
) -> None:
    reader = make_reader(sim.port_name, parity="X")

    assert recorder.wait_for(recorder.status_is(DeviceStatus.OFFLINE, "参数无效"))
    assert reader.running


def test_unknown_protocol_is_refused_when_the_reader_is_made() -> None:
    with pytest.raises(DeviceConfigError, match="nonesuch") as err:
        ScaleReader(ScaleSettings(url="loop://", protocol="nonesuch"))
    assert "未知的仪表协议" in err.value.message_cn


def test_options_the_decoder_does_not_take_are_refused() -> None:
    settings = ScaleSettings(url="loop://", decoder_options={"bogus": 1})
    with pytest.raises(DeviceConfigError) as err:
        ScaleReader(settings)
    assert "参数无效" in err.value.message_cn


def test_port_open_without_frames_goes_offline_after_the_freshness_limit(
    recorder: Recorder, make_reader: ReaderFactory
) -> None:
    with IndicatorSimulator(powered=False) as sim:
        make_reader(sim.port_name, offline_after_s=0.3)
        assert recorder.wait_for(recorder.status_is(DeviceStatus.OFFLINE, "仪表无数据"))

    kinds = [s for _, s, _ in recorder.statuses]
    assert kinds[:2] == [DeviceStatus.CONNECTING, DeviceStatus.OFFLINE]


# -- URLs, polling and the thread ---------------------------------------------------


def test_loop_url_reads_back_what_the_reader_polls_with(
    recorder: Recorder, make_reader: ReaderFactory
) -> None:
    # loop:// hands back what is written, so the poll request comes back as a frame.
    make_reader("loop://", poll_request=encode_tf0(1234), poll_interval_s=0.05)

    assert recorder.wait_for(lambda: len(recorder.readings) >= 3)
    assert set(recorder.weights()) == {1234}


def test_request_response_indicator_is_polled_at_the_interval(
    recorder: Recorder, make_reader: ReaderFactory
) -> None:
    request = bytes.fromhex("02 41 42 30 33 03")
    with IndicatorSimulator(answer_to=request) as sim:
        sim.set_target(8000)
        make_reader(sim.port_name, poll_request=request, poll_interval_s=0.1)
        assert recorder.wait_for(lambda: len(recorder.readings) >= 5)
        time.sleep(0.5)
        polls = sim.received.count(request)

    assert set(recorder.weights()) == {8000}
    assert 9 <= polls <= 12


def test_a_failing_callback_is_logged_and_reading_goes_on(
    sim: IndicatorSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[float] = []

    def broken(t: float, reading: Reading) -> None:
        calls.append(t)
        raise RuntimeError("bug in the capture logic")

    with ScaleReader(ScaleSettings(url=sim.port_name), on_reading=broken):
        deadline = time.monotonic() + 2
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)

    assert len(calls) >= 3
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def test_stop_is_idempotent_and_joins_the_thread(sim: IndicatorSimulator) -> None:
    reader = ScaleReader(ScaleSettings(url=sim.port_name))
    reader.stop()
    reader.start()
    reader.start()
    assert reader.running

    started = time.monotonic()
    reader.stop()
    reader.stop()
    assert not reader.running
    assert time.monotonic() - started < 2.0
    assert reader.status is DeviceStatus.OFFLINE


# -- Qt -----------------------------------------------------------------------------


def test_qt_scale_delivers_readings_and_status_in_the_gui_thread(
    sim: IndicatorSimulator, qtbot: QtBot
) -> None:
    gui_thread = threading.get_ident()
    seen_in: set[int] = set()
    statuses: list[tuple[str, str]] = []
    sim.set_target(32560)
    scale = QtScale(ScaleSettings(url=sim.port_name))
    scale.reading.connect(lambda t, r: seen_in.add(threading.get_ident()))
    scale.status.connect(lambda s, m: statuses.append((s, m)))

    with scale:
        with qtbot.waitSignal(scale.reading, timeout=3000) as blocker:
            pass
        qtbot.waitUntil(lambda: ("online", "仪表在线") in statuses, timeout=3000)

    t, reading = blocker.args
    assert isinstance(t, float) and reading.weight_kg == 32560
    assert seen_in == {gui_thread}
    assert statuses[0][0] == "connecting"


def test_many_emits_leave_the_reference_count_of_true_alone() -> None:
    # PySide6 6.12.0 drops a reference to True per emit; Python 3.11 then aborts.
    scale = QtScale(ScaleSettings(url="loop://"))
    before = sys.getrefcount(True)
    for _ in range(2000):
        scale._emit_status(DeviceStatus.ONLINE, "仪表在线")

    assert abs(sys.getrefcount(True) - before) < 100
