"""The operator console, driven by keyboard, reading a simulated indicator
through a real pseudo-terminal: one tare and one gross weighing.

No server is running: the booth must weigh on its own (本地 mode) and keep both
records in its outbox.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from client.booth import Booth
from client.config import load_config
from client.console.app import make_app, open_console
from client.console.keyboard import press, type_text
from client.console.window import ConsoleWindow
from client.devices.indicator_sim import IndicatorSimulator
from client.workflow import Outcome, Phase
from tests.support.qr import decode_qr, pdf_to_images


@pytest.fixture
def sim() -> Iterator[IndicatorSimulator]:
    with IndicatorSimulator(baud=9600, division_kg=20, seed=1) as s:
        yield s


@pytest.fixture
def console(qtbot, sim: IndicatorSimulator, tmp_path: Path) -> Iterator[ConsoleWindow]:
    make_app()
    cfg = load_config(None, {
        "station_id": 3, "purpose": "both", "data_dir": str(tmp_path / "booth"),
        "scale_port": sim.port_name, "server_url": "http://127.0.0.1:9",
        "token": "x", "sync_interval_s": 0.5, "hold_s": 1.0}, environ={})
    booth = Booth(cfg)
    window, scale = open_console(booth)
    qtbot.addWidget(window)
    window.show()
    booth.start_sync()
    yield window
    assert window.scale is not None
    window.scale.stop()  # F9 may have replaced the first scale
    booth.close()


def weigh(qtbot, window: ConsoleWindow, sim: IndicatorSimulator, plate: str,
          kg: int) -> Outcome:
    sim.drive_on(kg, ramp_s=1.0, bounce_s=1.5)
    qtbot.waitUntil(lambda: window.booth.flow.phase is Phase.ON_SCALE, timeout=5000)
    assert not window.save_button.isEnabled()  # still moving: no save possible
    qtbot.waitUntil(lambda: window.booth.flow.phase is Phase.READY, timeout=15000)
    assert window.state_chip.text() == "稳定"
    assert window.weight_label.text().replace(" ", "") == str(kg)

    type_text(window.plate_edit, plate)
    press(window.plate_edit, Qt.Key.Key_Return)
    assert window.plan_label.text()  # Enter shows what F5 will do
    with qtbot.waitSignal(window.outcome_ready, timeout=10000) as blocker:
        press(window.plate_edit, Qt.Key.Key_F5)
    outcome = blocker.args[0]

    sim.drive_off()
    qtbot.waitUntil(lambda: window.booth.flow.phase is Phase.IDLE, timeout=10000)
    return outcome


def test_console_weighs_tare_then_gross_by_keyboard_while_offline(
        qtbot, console: ConsoleWindow, sim: IndicatorSimulator, tmp_path: Path) -> None:
    qtbot.waitUntil(lambda: "在线" in console.scale_label.text(), timeout=5000)

    tare = weigh(qtbot, console, sim, "晋K58231", 15_280)
    assert tare.kind == "tare" and tare.record.tare_kg == 15_280
    assert "回皮完成" in console.result_label.text()

    gross = weigh(qtbot, console, sim, "晋k58231", 49_300)
    assert gross.kind == "weighing"
    assert (gross.record.gross_kg, gross.record.net_kg) == (49_300, 34_020)
    assert console.table.rowCount() == 1
    assert console.table.item(0, 5).text() == "34.02 t"
    assert console.table.item(0, 7).text() == "待上传"

    # The server is unreachable: the console says so and keeps both records.
    qtbot.waitUntil(lambda: console.mode_chip.text() == "本地", timeout=5000)
    assert console.booth.store.pending_count() == 2

    # The ticket is real: its QR code holds the signed verify URL.
    assert gross.ticket_path is not None
    [page] = pdf_to_images(gross.ticket_path)
    assert decode_qr(page) == gross.verify_url


def test_scale_going_silent_shows_offline_not_the_last_weight(
        qtbot, console: ConsoleWindow, sim: IndicatorSimulator) -> None:
    sim.set_target(20_000)
    qtbot.waitUntil(lambda: console.weight_label.text().replace(" ", "") == "20000",
                    timeout=8000)
    sim.power_off()
    started = time.monotonic()
    qtbot.waitUntil(lambda: console.state_chip.text() == "仪表离线", timeout=3000)
    assert time.monotonic() - started < 1.6
    assert console.weight_label.text() == "----"
    assert not console.save_button.isEnabled()
    sim.power_on()
    qtbot.waitUntil(lambda: console.state_chip.text() != "仪表离线", timeout=5000)


def test_save_key_while_empty_explains_instead_of_saving(
        qtbot, console: ConsoleWindow) -> None:
    type_text(console.plate_edit, "晋K58231")
    qtbot.keyClick(console.plate_edit, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: "不能保存" in console.result_label.text(), timeout=5000)
    assert console.booth.store.pending_count() == 0


def test_f9_opens_device_page_and_applied_settings_restart_the_scale(
        qtbot, console: ConsoleWindow, sim: IndicatorSimulator) -> None:
    from dataclasses import replace

    from client.console.device_page import DevicePage

    qtbot.waitUntil(lambda: "在线" in console.scale_label.text(), timeout=5000)
    press(console.plate_edit, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: console.findChild(DevicePage) is not None
                    and console.findChild(DevicePage).isVisible(), timeout=3000)
    page = console.findChild(DevicePage)
    old = console.scale
    assert old is not None

    # Keli D2008F with tf=0 sends the same frame: readings must carry on.
    page.settings_applied.emit(replace(old.reader.settings, protocol="keli_d2008f_tf0"))
    assert console.scale is not old
    qtbot.waitUntil(lambda: "keli_d2008f_tf0" in console.scale_label.text()
                    and "在线" in console.scale_label.text(), timeout=5000)
    sim.set_target(12_340)
    qtbot.waitUntil(lambda: console.weight_label.text().replace(" ", "") == "12340",
                    timeout=8000)
    page.close()
