"""Starting the console: the Qt application with the shipped CJK font, and one
booth window wired to its scale."""

from __future__ import annotations

import logging
import signal
import sys
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QTimer
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


def open_console(booth: Booth, config_path: Path | None = None
                 ) -> tuple[ConsoleWindow, QtScale]:
    """A window for ``booth`` with its scale connected and reading."""
    window = ConsoleWindow(booth, config_path)
    scale = QtScale(scale_settings(booth.cfg), parent=window)
    window.attach_scale(scale)
    scale.start()
    return window, scale


def run_booth(cfg: BoothConfig, config_path: Path | None = None) -> int:
    """``weighbridge booth``: one console until the operator closes it.

    Ctrl-C or SIGTERM (a service manager stopping the booth) closes it the same
    way as the window's close button: the scale and sync threads stop and the
    local database is closed, so nothing half-written is left behind.
    """
    app = make_app()
    if not cfg.scale_port:
        QMessageBox.critical(None, "配置错误",
                             "配置中没有称重仪表串口 (scale_port)。\n"
                             "请在配置文件中填写，例如 scale_port = \"/dev/ttyUSB0\"。")
        return 2
    log_file = start_log_file(cfg.data_path / "logs" / "booth.log")
    install_crash_dialog(log_file)
    booth = Booth(cfg)
    window, _scale = open_console(booth, config_path)
    booth.start_sync()
    window.show()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: app.quit())
    # Python runs signal handlers only between bytecodes: wake it now and then.
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)
    try:
        return app.exec()
    finally:
        wake.stop()
        if window.scale is not None:  # F9 may have replaced the first one
            window.scale.stop()
        booth.close()
        window.deleteLater()
        app.processEvents()


def start_log_file(path: Path) -> Path:
    """Engineers' log beside the booth's data, rotated so it never fills the disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=5_000_000, backupCount=5,
                                  encoding="utf-8")
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return path


def install_crash_dialog(log_file: Path) -> None:
    """Our bug, not the world's: say so plainly, show the last log lines, and keep
    the console running (the weighing data is already safe in the local store)."""

    def hook(kind: type[BaseException], err: BaseException, tb: TracebackType | None) -> None:
        log.critical("unexpected error", exc_info=(kind, err, tb))
        if QApplication.instance() is None:
            return
        try:
            tail = log_file.read_text(encoding="utf-8", errors="replace")[-3000:]
        except OSError:
            tail = ""
        box = QMessageBox(QMessageBox.Icon.Critical, "程序错误",
                          "程序内部出现错误（不是操作错误）。已保存的称重数据不受影响。\n"
                          f"请把日志文件发给维护人员：{log_file}")
        box.setDetailedText("".join(traceback.format_exception(kind, err, tb)) + tail)
        box.exec()

    sys.excepthook = hook
