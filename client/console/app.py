"""Starting the console: the Qt application with the shipped CJK font, and one
booth window wired to its scale."""

from __future__ import annotations

import logging
import sys

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QMessageBox

from common.resources import CJK_FONT, resource_path

from ..booth import Booth
from ..config import BoothConfig
from ..devices.scale import QtScale, ScaleSettings
from .window import ConsoleWindow

log = logging.getLogger(__name__)


def make_app(argv: list[str] | None = None) -> QApplication:
    """The one QApplication, with WenQuanYi Micro Hei as its font so Chinese
    renders the same on any machine, fonts installed or not."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or sys.argv[:1])
    assert isinstance(app, QApplication)
    font_id = QFontDatabase.addApplicationFont(str(resource_path(CJK_FONT)))
    if font_id < 0:
        log.warning("could not load %s; Chinese may render with a fallback", CJK_FONT)
    else:
        family = QFontDatabase.applicationFontFamilies(font_id)[0]
        app.setFont(QFont(family, 11))
    return app


def scale_settings(cfg: BoothConfig) -> ScaleSettings:
    return ScaleSettings(url=cfg.scale_port, protocol=cfg.scale_protocol,
                         unit=cfg.scale_unit, baudrate=cfg.scale_baud,
                         bytesize=cfg.scale_bytesize, parity=cfg.scale_parity)


def open_console(booth: Booth) -> tuple[ConsoleWindow, QtScale]:
    """A window for ``booth`` with its scale connected and reading."""
    window = ConsoleWindow(booth)
    scale = QtScale(scale_settings(booth.cfg), parent=window)
    scale.reading.connect(window.on_reading)
    scale.status.connect(window.on_scale_status)
    scale.start()
    return window, scale


def run_booth(cfg: BoothConfig) -> int:
    """``weighbridge booth``: one console until the operator closes it."""
    app = make_app()
    if not cfg.scale_port:
        QMessageBox.critical(None, "配置错误",
                             "配置中没有称重仪表串口 (scale_port)。\n"
                             "请在配置文件中填写，例如 scale_port = \"/dev/ttyUSB0\"。")
        return 2
    booth = Booth(cfg)
    window, scale = open_console(booth)
    booth.start_sync()
    window.show()
    try:
        return app.exec()
    finally:
        scale.stop()
        booth.close()
