"""The 设备设置 page for the weight indicator, against a simulated indicator on a
real pseudo-terminal: live counters, 自动识别 by F2, 应用 by Enter, Esc.

A pty ignores the baud rate it is set to: the first setting scanned (9600 8N1)
reads the stream whatever the simulator paces it at. Detection through a pty
therefore proves that the protocol is recognised, not the baud rate; the baud
search itself is tested on captured bytes in tests/common.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QGroupBox, QProgressBar
from pytestqt.qtbot import QtBot

from client.config import load_config
from client.console.app import make_app
from client.console.device_page import (
    PROTOCOL_NAMES,
    DevicePage,
    restart_scale,
    rewrite_toml_keys,
)
from client.devices.indicator_sim import ENCODERS, IndicatorSimulator
from client.devices.scale import QtScale, ScaleSettings
from common.protocols import DECODERS
from common.protocols.detect import SerialSetting

PNG = Path("/tmp/device_page.png")
DETECT_TIMEOUT_MS = 20_000

BOOTH_TOML = """\
# 1号磅 — 由设备设置页改写的配置
station_id = 1
operator = "张三"   # 当班司磅员
scale_port = "/dev/ttyUSB0"
scale_protocol = "yaohua_tf0"  # 出厂设置
scale_baud = 1200

# 稳定判定
hold_s = 1.5
"""


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


@pytest.fixture(scope="session")
def warm_qt(qapp: QApplication) -> None:
    """The app with its CJK font, and Qt's lazy descriptors already open.

    Painting the first group box or progress bar opens two eventfds that Qt keeps
    for the life of the process; they are not a leak of ours.
    """
    make_app()
    for widget in (QGroupBox("预热"), QProgressBar()):
        widget.grab()


@pytest.fixture(autouse=True)
def no_leaked_threads_or_fds(warm_qt: None) -> Iterator[None]:
    gc.collect()
    threads, fds = threading.active_count(), open_fds()
    yield
    gc.collect()
    assert threading.active_count() == threads, threading.enumerate()
    assert open_fds() - fds == set()


@pytest.fixture
def toledo_sim() -> Iterator[IndicatorSimulator]:
    with IndicatorSimulator(encode=ENCODERS["toledo_continuous"], seed=1) as sim:
        sim.set_target(20_000)
        yield sim


@pytest.fixture
def yaohua_sim() -> Iterator[IndicatorSimulator]:
    with IndicatorSimulator(encode=ENCODERS["yaohua_tf0"], seed=1) as sim:
        sim.set_target(35_120)
        yield sim


ScaleFactory = Callable[[str], QtScale]
PageFactory = Callable[..., DevicePage]


@pytest.fixture
def make_scale() -> Iterator[ScaleFactory]:
    """A running QtScale set up for Yaohua tF=0, on any port."""
    scales: list[QtScale] = []

    def make(url: str) -> QtScale:
        scale = QtScale(ScaleSettings(url=url, protocol="yaohua_tf0"))
        scales.append(scale)
        scale.start()
        return scale

    yield make
    for scale in scales:
        scale.stop()


@pytest.fixture
def make_page(qtbot: QtBot) -> Iterator[PageFactory]:
    pages: list[DevicePage] = []

    def make(scale: QtScale, path: Path | None = None, **kw: object) -> DevicePage:
        page = DevicePage(scale, path, **kw)  # type: ignore[arg-type]
        qtbot.addWidget(page)
        page.show()
        pages.append(page)
        return page

    yield make
    # Before the scales stop: closing the page cancels a scan still running.
    for page in pages:
        page.close()


def frames_ok(page: DevicePage) -> int:
    """The good-frame count the page shows, e.g. 23 from ``23（10.0 帧/秒）``."""
    return int(page.frames_ok_label.text().split("（")[0])


def detect(qtbot: QtBot, page: DevicePage) -> None:
    qtbot.keyClick(page, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: page.detect_button.isEnabled(), timeout=DETECT_TIMEOUT_MS)


def test_f2_recognises_toledo_on_a_port_set_up_for_yaohua(
    qtbot: QtBot,
    toledo_sim: IndicatorSimulator,
    make_scale: ScaleFactory,
    make_page: PageFactory,
) -> None:
    scale = make_scale(toledo_sim.port_name)
    page = make_page(scale)
    assert "yaohua_tf0" in page.protocol_label.text()

    qtbot.keyClick(page, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: "正在尝试 9600 8N1" in page.progress_label.text())
    assert not page.detect_button.isEnabled()
    qtbot.waitUntil(lambda: page.detect_button.isEnabled(), timeout=DETECT_TIMEOUT_MS)

    # Only the protocol is proven here: a pty reads at any baud rate.
    assert page.detected is not None and page.detected.label == "toledo_continuous"
    found = page.found_protocol_label.text()
    assert "toledo_continuous" in found and "梅特勒-托利多" in found
    assert "20000 kg" in page.found_samples_label.text()
    assert "9600" in page.found_serial_label.text()
    assert page.apply_button.isEnabled()

    # Until the operator applies, the reader is back on the old settings.
    assert scale.reader.running
    assert scale.reader.settings.protocol == "yaohua_tf0"
    page.grab().save(str(PNG))


def test_enter_applies_the_detection_and_rewrites_only_the_scale_keys(
    qtbot: QtBot,
    tmp_path: Path,
    toledo_sim: IndicatorSimulator,
    make_scale: ScaleFactory,
    make_page: PageFactory,
) -> None:
    toml = tmp_path / "booth.toml"
    toml.write_text(BOOTH_TOML, encoding="utf-8")
    page = make_page(make_scale(toledo_sim.port_name), toml)

    with qtbot.assertNotEmitted(page.settings_applied):
        qtbot.keyClick(page, Qt.Key.Key_Return)  # nothing detected yet
    detect(qtbot, page)
    with qtbot.waitSignal(page.settings_applied, timeout=1000) as applied:
        qtbot.keyClick(page, Qt.Key.Key_Return)

    new = applied.args[0]
    assert isinstance(new, ScaleSettings)
    assert (new.url, new.protocol) == (toledo_sim.port_name, "toledo_continuous")
    assert (new.baudrate, new.bytesize, new.parity) == (9600, 8, "N")
    assert "已应用" in page.result_label.text()

    text = toml.read_text(encoding="utf-8")
    assert 'scale_protocol = "toledo_continuous"  # 出厂设置' in text
    for kept in ("# 1号磅", 'operator = "张三"   # 当班司磅员', "# 稳定判定"):
        assert kept in text
    cfg = load_config(toml, environ={})
    assert (cfg.scale_protocol, cfg.scale_baud) == ("toledo_continuous", 9600)
    assert (cfg.scale_bytesize, cfg.scale_parity) == (8, "N")
    assert (cfg.station_id, cfg.operator, cfg.hold_s) == (1, "张三", 1.5)
    assert list(tmp_path.iterdir()) == [toml]  # no temporary file left behind


def test_after_a_restart_on_the_applied_settings_the_counters_show_good_frames(
    qtbot: QtBot,
    toledo_sim: IndicatorSimulator,
    make_scale: ScaleFactory,
    make_page: PageFactory,
) -> None:
    owner = QObject()
    old = make_scale(toledo_sim.port_name)
    old.setParent(owner)
    page = make_page(old)
    detect(qtbot, page)
    with qtbot.waitSignal(page.settings_applied, timeout=1000) as applied:
        qtbot.keyClick(page, Qt.Key.Key_Return)
    assert "未指定配置文件" in page.result_label.text()

    # What the console does with the signal.
    new = restart_scale(old, applied.args[0])
    try:
        assert new.parent() is owner and new.reader.running
        assert not old.reader.running
        page.set_scale(new)
        assert "toledo_continuous" in page.protocol_label.text()
        qtbot.waitUntil(lambda: frames_ok(page) >= 5, timeout=5000)
        qtbot.waitUntil(lambda: "在线" in page.status_label.text())
        assert page.last_frame_label.text().startswith("02 ")  # STX
    finally:
        new.stop()


def test_a_port_that_does_not_exist_gets_a_chinese_message_and_f2_works_again(
    qtbot: QtBot, tmp_path: Path, make_scale: ScaleFactory, make_page: PageFactory
) -> None:
    page = make_page(make_scale(str(tmp_path / "ttyGONE")))

    for _ in range(2):
        detect(qtbot, page)
        message = page.result_label.text()
        assert "打不开" in message and "线缆" in message and "COM口" in message
        assert page.detected is None
        assert not page.apply_button.isEnabled()
    qtbot.waitUntil(lambda: "离线" in page.status_label.text())


def test_a_silent_indicator_is_reported_with_what_to_check(
    qtbot: QtBot,
    toledo_sim: IndicatorSimulator,
    make_scale: ScaleFactory,
    make_page: PageFactory,
) -> None:
    toledo_sim.power_off()
    one_setting = [SerialSetting(9600, 8, "N")]
    page = make_page(make_scale(toledo_sim.port_name), settings_to_try=one_setting)

    detect(qtbot, page)
    message = page.result_label.text()
    assert "没有识别出" in message and "仪表通讯设置" in message
    assert not page.apply_button.isEnabled()


def test_counters_show_good_frames_when_the_protocol_matches(
    qtbot: QtBot,
    yaohua_sim: IndicatorSimulator,
    make_scale: ScaleFactory,
    make_page: PageFactory,
) -> None:
    page = make_page(make_scale(yaohua_sim.port_name))

    qtbot.waitUntil(lambda: frames_ok(page) >= 5)
    assert "在线" in page.status_label.text()
    assert page.frames_bad_label.text() == "0"
    assert page.last_frame_label.text().startswith("02 2B")  # STX '+'


def test_esc_during_a_scan_closes_the_page_and_the_reader_runs_on(
    qtbot: QtBot,
    toledo_sim: IndicatorSimulator,
    make_scale: ScaleFactory,
    make_page: PageFactory,
) -> None:
    scale = make_scale(toledo_sim.port_name)
    page = make_page(scale)

    qtbot.keyClick(page, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: "正在尝试" in page.progress_label.text())
    qtbot.keyClick(page, Qt.Key.Key_Escape)
    assert not page.isVisible()
    assert scale.reader.running
    assert scale.reader.settings.protocol == "yaohua_tf0"


def test_rewriting_adds_missing_keys_before_the_first_table_and_keeps_crlf() -> None:
    text = "station_id = 2\r\nscale_baud = 1200 # old\r\n[extra]\r\nscale_baud = 7\r\n"
    new = rewrite_toml_keys(text, {"scale_baud": "9600", "scale_parity": '"E"'})
    assert new == (
        "station_id = 2\r\nscale_baud = 9600 # old\r\n"
        'scale_parity = "E"\r\n[extra]\r\nscale_baud = 7\r\n'
    )


def test_rewriting_appends_to_a_file_without_a_final_newline() -> None:
    assert rewrite_toml_keys("a = 1", {"b": "2"}) == "a = 1\nb = 2\n"


def test_every_protocol_has_a_chinese_name() -> None:
    assert set(DECODERS) <= set(PROTOCOL_NAMES)
