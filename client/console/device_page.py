"""The console's 设备设置 page for the weight indicator (称重仪表).

It shows how the booth reaches its indicator (port, protocol, baud rate and
framing, unit), whether the indicator is online, and live counters of what the
decoder makes of the line: good frames, rejected frames, skipped bytes and the
last good frame in hex. Those counters are what a field engineer looks at first
when the weight will not come.

自动识别 (F2) stops the reader, listens on the same port at each serial setting
in turn (:func:`common.protocols.detect.scan_port`) on a worker thread, and
reports the protocol it recognised with a few sample weights, or what to check
when nothing decoded. The reader runs again with the old settings afterwards;
应用 (Enter) emits :attr:`DevicePage.settings_applied` with the new settings and
writes them to the booth's TOML file. The caller swaps the running scale with
:func:`restart_scale`.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from common.protocols import Reading
from common.protocols.detect import (
    PortReader,
    ScanError,
    ScanResult,
    SerialSetting,
    open_serial,
    scan_port,
    serial_settings_to_try,
)

from ..config import SETTINGS
from ..devices.scale import QtScale, ScaleSettings

log = logging.getLogger(__name__)

# What an engineer calls each protocol; the label is what the config file says.
PROTOCOL_NAMES: dict[str, str] = {
    "yaohua_tf0": "耀华 XK3190-A9 连续输出 (tF=0)",
    "keli_d2008f_tf0": "柯力 D2008F 连续输出 (tf=0)",
    "yaohua_cmd": "耀华 XK3190 指令应答 (tF=1)",
    "yaohua_a12e_wg": "耀华 XK3190-A12(E) WG 帧",
    "yaohua_a12_ww": "耀华 XK3190-A12 ww 文本行",
    "yaohua_d2plus_reversed": "耀华 D2+ 兼容 倒序输出",
    "yaohua_eq_reversed_signed": "耀华 A26 “=” 倒序带符号",
    "yaohua_eq_forward": "耀华 A26 “=” 正序",
    "keli_xk3118t1_eq": "柯力 XK3118T1 “=” 文本行",
    "toledo_continuous": "梅特勒-托利多 标准连续输出",
    "mt_sics": "梅特勒-托利多 MT-SICS",
    "sma_scp": "SMA SCP-0499 标准应答",
    "ascii_st_gs": "CAS 类 ST,GS 文本行",
    "ricelake_iq355": "Rice Lake IQ355 连续输出",
    "generic_ascii": "通用 ASCII（自定义格式）",
}

STATUS_LOOK: dict[str, tuple[str, str]] = {
    "online": ("在线", "#1b8a3a"),
    "connecting": ("连接中", "#c98a00"),
    "offline": ("离线", "#c0392b"),
}

# The booth config keys the page rewrites, and the ScaleSettings field of each.
CONFIG_KEYS: dict[str, str] = {
    "scale_protocol": "protocol",
    "scale_baud": "baudrate",
    "scale_bytesize": "bytesize",
    "scale_parity": "parity",
}

REFRESH_MS = 250
CAPTION_WIDTH = 110
SAMPLES_SHOWN = 5
# Closing the page waits this long for a scan to notice it was cancelled: one
# read of scan_port's port (0.25 s) and the reader's restart.
CANCEL_WAIT_S = 3.0


def protocol_name(label: str) -> str:
    """The Chinese name of a protocol label; the label itself if it has none."""
    return PROTOCOL_NAMES.get(label, label)


def framing_text(bytesize: int, parity: str, stopbits: float = 1) -> str:
    """``8N1``, ``7E1``: how engineers write a character framing."""
    return f"{bytesize}{parity}{stopbits:g}"


class ConfigWriteError(Exception):
    """The booth config file could not be rewritten; the message is Chinese."""


# -- new settings and the config file ----------------------------------------------


def settings_from_scan(old: ScaleSettings, result: ScanResult) -> ScaleSettings:
    """``old`` with the protocol and serial setting a detection found."""
    setting = result.setting
    new = replace(
        old,
        protocol=result.label,
        baudrate=setting.baud,
        bytesize=setting.bytesize,
        parity=setting.parity,
    )
    if result.label != old.protocol:
        # Decoder options belong to one protocol (Toledo's checksum, D2+'s
        # length); another protocol's decoder would refuse them.
        new = replace(new, decoder_options={})
    return new


def config_values(settings: ScaleSettings) -> dict[str, str]:
    """The booth config keys for ``settings``, as TOML value text."""
    values: dict[str, str] = {}
    for key, field_name in CONFIG_KEYS.items():
        value = getattr(settings, field_name)
        values[key] = json.dumps(value, ensure_ascii=False)
    return values


_KEY_LINE = re.compile(
    r"""^(?P<head>\s*(?P<key>[A-Za-z0-9_-]+)\s*=\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s#]+)(?P<tail>.*)$"""
)
_TABLE_LINE = re.compile(r"^\s*\[")


def _split_eol(line: str) -> tuple[str, str]:
    body = line.rstrip("\r\n")
    return body, line[len(body) :]


def rewrite_toml_keys(text: str, values: Mapping[str, str]) -> str:
    """``text`` with the top-level ``values`` set, every other line as it was.

    A key already in the file keeps its place, indentation and trailing comment;
    a missing one is added at the end of the top-level keys.
    """
    pending = dict(values)
    eol = "\r\n" if "\r\n" in text else "\n"
    out: list[str] = []
    top_level = True
    for line in text.splitlines(keepends=True):
        body, line_end = _split_eol(line)
        if top_level and _TABLE_LINE.match(body):
            top_level = False
            out.extend(f"{k} = {v}{eol}" for k, v in pending.items())
            pending.clear()
        m = _KEY_LINE.match(body) if top_level else None
        if m is not None and m["key"] in pending:
            body = m["head"] + pending.pop(m["key"]) + m["tail"]
        out.append(body + line_end)

    if pending and out and not out[-1].endswith("\n"):
        out[-1] += eol
    out.extend(f"{k} = {v}{eol}" for k, v in pending.items())
    return "".join(out)


def _replace_atomically(path: Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it over: never half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        with suppress(FileNotFoundError):
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def write_scale_settings(path: Path, settings: ScaleSettings) -> None:
    """Set the scale keys of the booth config at ``path`` to ``settings``.

    Raises :class:`ConfigWriteError` (in Chinese) when the file cannot be read,
    is not valid TOML, or cannot be written; the file is then unchanged.
    """
    try:
        old = path.read_bytes().decode("utf-8") if path.exists() else ""
        tomllib.loads(old)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigWriteError(f"配置文件 {path} 读取失败（{err}），未修改") from err

    new = rewrite_toml_keys(old, config_values(settings))
    _check_written(path, new, settings)
    try:
        _replace_atomically(path, new)
    except OSError as err:
        raise ConfigWriteError(f"配置文件 {path} 写入失败（{err}）") from err
    log.info("scale settings written to %s: %s", path, config_values(settings))


def _check_written(path: Path, text: str, settings: ScaleSettings) -> None:
    # A rewrite that does not read back as what was meant must not be saved.
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigWriteError(f"配置文件 {path} 改写后格式错误，未修改") from err
    for key, field_name in CONFIG_KEYS.items():
        if parsed.get(key) != getattr(settings, field_name):
            raise ConfigWriteError(f"配置文件 {path} 中 {key} 无法改写，未修改")


def env_overrides() -> list[str]:
    """Environment variables that would override the rewritten keys."""
    names = [s.env_var for s in SETTINGS if s.name in CONFIG_KEYS]
    return [n for n in names if n in os.environ]


def restart_scale(scale: QtScale, settings: ScaleSettings) -> QtScale:
    """Stop ``scale`` and start a new one on ``settings`` with the same parent.

    The new scale is made first, so settings it refuses (DeviceConfigError) leave
    the old one running. The old one is deleted later: connect the new one's
    signals and stop using the old.
    """
    parent = scale.parent()
    new = QtScale(settings, parent=parent)
    scale.stop()
    scale.deleteLater()
    new.start()
    log.info("scale restarted on %s with %s", settings.url, settings.protocol)
    return new


# -- detection on a worker thread --------------------------------------------------


@dataclass(frozen=True, slots=True)
class DetectOutcome:
    """What one 自动识别 run found: a result, or what to tell the operator."""

    result: ScanResult | None
    problem: str = ""


class _Cancelled(Exception):
    """The page closed during a scan. Not an OSError, so scan_port lets it out."""


class _CancellablePort:
    """A port whose next read ends the scan once the page has closed."""

    def __init__(self, port: PortReader, cancel: threading.Event) -> None:
        self._port = port
        self._cancel = cancel

    def read(self, size: int = 1) -> bytes:
        if self._cancel.is_set():
            raise _Cancelled
        return self._port.read(size)

    def close(self) -> None:
        self._port.close()


class _ScanBridge(QObject):
    """Carries the worker's progress and outcome to the GUI thread."""

    trying = Signal(int, int, str)  # number, of how many, "9600 8N1"
    finished = Signal(object)  # DetectOutcome


class _Scan:
    """One detection run: stop the reader, scan its port, start it again."""

    def __init__(
        self, scale: QtScale, to_try: Sequence[SerialSetting], bridge: _ScanBridge
    ) -> None:
        self._scale = scale
        self._to_try = list(to_try)
        # Held here as well, so the bridge outlives a page closed mid-scan.
        self._bridge = bridge
        self._cancel = threading.Event()
        self._tried = 0
        self._thread = threading.Thread(
            target=self._run, name="scale scan", daemon=True
        )

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Stop scanning and wait (briefly) for the reader to run again."""
        self._cancel.set()
        self._thread.join(CANCEL_WAIT_S)
        if self._thread.is_alive():
            log.error("scale scan did not stop in %.1f s", CANCEL_WAIT_S)

    def _run(self) -> None:
        settings = self._scale.reader.settings
        was_running = self._scale.reader.running
        self._scale.stop()
        try:
            outcome = self._scan(settings)
        finally:
            if was_running:
                self._scale.start()
        if not self._cancel.is_set():
            self._bridge.finished.emit(outcome)

    def _scan(self, settings: ScaleSettings) -> DetectOutcome:
        url = settings.url
        try:
            result = scan_port(
                url, self._open, settings=self._to_try, unit=settings.unit
            )
        except _Cancelled:
            return DetectOutcome(None, "自动识别已取消")
        except ScanError as err:
            log.warning("auto-detect: %s", err)
            return DetectOutcome(None, _cannot_open_text(url))
        except Exception:  # our bug: say so and keep the console alive
            log.exception("auto-detect on %s failed", url)
            return DetectOutcome(None, "自动识别失败（程序错误，已记录日志）。")

        if result is None:
            return DetectOutcome(None, _nothing_decoded_text(url))
        log.info("auto-detect: %s speaks %s at %s", url, result.label, result.setting)
        return DetectOutcome(result)

    def _open(self, url: str, baud: int, bytesize: int, parity: str) -> PortReader:
        if self._cancel.is_set():
            raise _Cancelled
        self._tried += 1
        shown = f"{baud} {framing_text(bytesize, parity)}"
        self._bridge.trying.emit(self._tried, len(self._to_try), shown)
        try:
            port = open_serial(url, baud, bytesize, parity)
        except ValueError as err:
            # A setting this port refuses (an odd baud rate): try the next one.
            raise OSError(str(err)) from err
        return _CancellablePort(port, self._cancel)


def _cannot_open_text(url: str) -> str:
    return (
        f"串口 {url} 打不开，无法识别。请检查：线缆是否插好（USB 转串口是否被拔出）、"
        "COM口是否选对、串口是否被其他程序占用。"
    )


def _nothing_decoded_text(url: str) -> str:
    return (
        f"串口 {url} 已打开，但在尝试的各种波特率和数据格式下都没有识别出已知协议。"
        "请检查：仪表是否开机、线缆（收发线是否接反）、COM口是否选对、"
        "仪表通讯设置（是否设为连续输出，如耀华 tF=0）。"
    )


# -- the page ----------------------------------------------------------------------


class DevicePage(QDialog):
    """设备设置 — 称重仪表: what the booth reads, and automatic detection.

    F2 detects, Enter applies a detection, Esc closes. ``settings_applied``
    carries the new :class:`ScaleSettings`; the caller restarts the scale with
    :func:`restart_scale` and hands the new one over with :meth:`set_scale`.
    """

    settings_applied = Signal(object)

    def __init__(
        self,
        scale: QtScale,
        settings_path: Path | None,
        parent: QWidget | None = None,
        *,
        settings_to_try: Sequence[SerialSetting] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("设备设置 — 称重仪表")
        self.settings_path = settings_path
        self.detected: ScanResult | None = None
        self._to_try = list(settings_to_try or serial_settings_to_try())
        self._scan: _Scan | None = None
        self._bridge = _ScanBridge()
        self._bridge.trying.connect(self._on_trying)
        self._bridge.finished.connect(self._on_finished)
        self._last_raw = b""
        self._rate_mark = (time.monotonic(), 0)
        self._rate = 0.0

        self._build()
        self._scale = scale
        self.set_scale(scale)

        self._timer = QTimer(self)
        self._timer.timeout.connect(self._refresh_live)
        self._timer.start(REFRESH_MS)
        self.detect_button.setFocus()

    # -- layout --------------------------------------------------------------

    def _build(self) -> None:
        col = QVBoxLayout(self)
        col.addWidget(self._build_settings_box())
        col.addWidget(self._build_live_box())
        col.addWidget(self._build_detect_box())
        col.addLayout(self._build_buttons())
        self.resize(620, 0)

    def _build_settings_box(self) -> QGroupBox:
        box = QGroupBox("当前设置")
        form = QFormLayout(box)
        self.port_label = _value_label()
        self.protocol_label = _value_label()
        self.serial_label = _value_label()
        self.unit_label = _value_label()
        self.status_label = _value_label()
        _add_row(form, "串口：", self.port_label)
        _add_row(form, "协议：", self.protocol_label)
        _add_row(form, "波特率 / 格式：", self.serial_label)
        _add_row(form, "单位：", self.unit_label)
        _add_row(form, "状态：", self.status_label)
        return box

    def _build_live_box(self) -> QGroupBox:
        box = QGroupBox("实时计数（本次启动以来）")
        form = QFormLayout(box)
        self.frames_ok_label = _value_label()
        self.frames_bad_label = _value_label()
        self.skipped_label = _value_label()
        self.last_frame_label = _value_label(mono=True)
        self.last_frame_label.setWordWrap(False)
        _add_row(form, "正常帧：", self.frames_ok_label)
        _add_row(form, "错误帧：", self.frames_bad_label)
        _add_row(form, "跳过字节：", self.skipped_label)
        _add_row(form, "最近一帧：", self.last_frame_label)
        return box

    def _build_detect_box(self) -> QGroupBox:
        box = QGroupBox("自动识别")
        col = QVBoxLayout(box)
        self.progress_label = QLabel("按 F2 在当前串口上自动识别仪表协议和波特率。")
        self.progress_label.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(10)
        self.progress_bar.hide()
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.result_label.hide()
        col.addWidget(self.progress_label)
        col.addWidget(self.progress_bar)
        col.addWidget(self._build_found_form())
        col.addWidget(self.result_label)
        return box

    def _build_found_form(self) -> QWidget:
        self.found_box = QWidget()
        form = QFormLayout(self.found_box)
        form.setContentsMargins(0, 0, 0, 0)
        self.found_protocol_label = _value_label(bold=True)
        self.found_serial_label = _value_label(bold=True)
        self.found_samples_label = _value_label()
        _add_row(form, "识别协议：", self.found_protocol_label)
        _add_row(form, "波特率 / 格式：", self.found_serial_label)
        _add_row(form, "样本读数：", self.found_samples_label)
        self.found_box.hide()
        return self.found_box

    def _build_buttons(self) -> QHBoxLayout:
        self.detect_button = _button("自动识别 (F2)", self.detect)
        self.apply_button = _button("应用 (Enter)", self.apply)
        self.apply_button.setEnabled(False)
        self.close_button = _button("关闭 (Esc)", self.reject)
        row = QHBoxLayout()
        row.addWidget(self.detect_button)
        row.addStretch(1)
        row.addWidget(self.apply_button)
        row.addWidget(self.close_button)
        return row

    # -- the scale -----------------------------------------------------------

    @property
    def scale(self) -> QtScale:
        return self._scale

    def set_scale(self, scale: QtScale) -> None:
        """Show ``scale`` (after :func:`restart_scale` replaced the old one)."""
        if scale is not self._scale:
            with suppress(RuntimeError, TypeError):
                self._scale.reading.disconnect(self._on_reading)
        self._scale = scale
        scale.reading.connect(self._on_reading)
        self._last_raw = b""
        self._rate_mark = (time.monotonic(), scale.reader.decoder.counters.frames_ok)
        self._show_settings(scale.reader.settings)
        self._refresh_live()

    def _show_settings(self, s: ScaleSettings) -> None:
        self.port_label.setText(s.url or "（未配置）")
        self.protocol_label.setText(f"{protocol_name(s.protocol)}（{s.protocol}）")
        framing = framing_text(s.bytesize, s.parity, s.stopbits)
        self.serial_label.setText(f"{s.baudrate} 波特，{framing}")
        self.unit_label.setText(
            s.unit or f"{self._scale.reader.decoder.unit}（协议默认）"
        )

    @Slot(float, object)
    def _on_reading(self, t: float, reading: Reading) -> None:
        self._last_raw = reading.raw

    @Slot()
    def _refresh_live(self) -> None:
        self._show_status()
        counters = self._scale.reader.decoder.counters
        self.frames_ok_label.setText(
            f"{counters.frames_ok}（{self._frame_rate(counters.frames_ok):.1f} 帧/秒）"
        )
        self.frames_bad_label.setText(str(counters.frames_bad))
        self.skipped_label.setText(str(counters.bytes_skipped))
        self.last_frame_label.setText(self._last_raw.hex(" ").upper() or "—")

    def _show_status(self) -> None:
        reader = self._scale.reader
        if self.scanning:
            word, colour, message = "暂停", "#c98a00", "自动识别中，读数暂停"
        else:
            word, colour = STATUS_LOOK.get(reader.status.value, ("未知", "#7f8c8d"))
            message = reader.message
        self.status_label.setText(
            f"<span style='color:{colour};font-weight:bold'>● {word}</span>"
            f"　{html.escape(message)}"
        )

    def _frame_rate(self, frames_ok: int) -> float:
        # Over the last second or so, so the rate follows the line closely.
        now = time.monotonic()
        then, count = self._rate_mark
        if now - then < 1.0:
            return self._rate
        self._rate = (frames_ok - count) / (now - then)
        self._rate_mark = (now, frames_ok)
        return self._rate

    # -- detection -----------------------------------------------------------

    @property
    def scanning(self) -> bool:
        return self._scan is not None and self._scan.running

    @Slot()
    def detect(self) -> None:
        """Start 自动识别; does nothing while one runs."""
        if self.scanning:
            return
        self.detected = None
        self.detect_button.setEnabled(False)
        self.apply_button.setEnabled(False)
        self.found_box.hide()
        self.result_label.hide()
        self.progress_label.setText("正在停止读数，准备识别…")
        self.progress_bar.setRange(0, len(self._to_try))
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self._scan = _Scan(self._scale, self._to_try, self._bridge)
        self._scan.start()

    @Slot(int, int, str)
    def _on_trying(self, number: int, total: int, setting: str) -> None:
        self.progress_label.setText(f"正在尝试 {setting}…（{number}/{total}）")
        self.progress_bar.setValue(number - 1)

    @Slot(object)
    def _on_finished(self, outcome: DetectOutcome) -> None:
        self.progress_bar.hide()
        self.detect_button.setEnabled(True)
        self.detected = outcome.result
        self._refresh_live()
        if outcome.result is None:
            self.progress_label.setText("未识别。仪表已按原设置继续读取。")
            self._say(outcome.problem, error=True)
            return

        self.progress_label.setText(
            "识别完成。仪表暂按原设置读取，按 Enter 应用新设置。"
        )
        self._show_found(outcome.result)
        self.apply_button.setEnabled(True)

    def _show_found(self, result: ScanResult) -> None:
        s = result.setting
        self.found_protocol_label.setText(
            f"{protocol_name(result.label)}（{result.label}）"
        )
        self.found_serial_label.setText(
            f"{s.baud} 波特，{framing_text(s.bytesize, s.parity, s.stopbits)}"
        )
        self.found_samples_label.setText(samples_text(result.readings))
        self.found_box.show()
        self.result_label.hide()
        self._fit()

    # -- applying ------------------------------------------------------------

    @Slot()
    def apply(self) -> None:
        """Emit the detected settings and save them; needs a detection first."""
        if self.detected is None or not self.apply_button.isEnabled():
            return
        new = settings_from_scan(self._scale.reader.settings, self.detected)
        problem = self._save(new)
        self.apply_button.setEnabled(False)
        log.info("operator applied %s at %d baud", new.protocol, new.baudrate)
        self.settings_applied.emit(new)

        text = f"已应用：{protocol_name(new.protocol)}，{new.baudrate} 波特。"
        self._say(text + problem, error=bool(problem))

    def _save(self, new: ScaleSettings) -> str:
        """Write ``new`` to the config file; what went wrong, or ''."""
        if self.settings_path is None:
            return "（未指定配置文件，重启后恢复原设置。）"
        try:
            write_scale_settings(self.settings_path, new)
        except ConfigWriteError as err:
            log.error("%s", err)
            return f"\n但{err}，重启后将恢复原设置。"
        overridden = env_overrides()
        if overridden:
            return f"\n注意：环境变量 {', '.join(overridden)} 优先于配置文件。"
        return f"\n已保存到 {self.settings_path}。"

    def _say(self, text: str, *, error: bool) -> None:
        self.result_label.setText(text)
        self.result_label.show()
        self._fit()
        self.result_label.setStyleSheet(
            "color:#c0392b;font-weight:bold" if error else "color:#1b5e20"
        )

    def _fit(self) -> None:
        # Wrapped messages need more height at the same width; a dialog does not
        # grow for them by itself.
        layout = self.layout()
        if layout is not None:
            layout.activate()
        needed = self.heightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    # -- keys and closing ----------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        # The buttons leave these keys to the page. QDialog would press its
        # default button on Enter; here Enter applies, and does nothing before
        # a detection.
        if event.key() == Qt.Key.Key_F2:
            self.detect()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.apply()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def done(self, result: int) -> None:
        """Closing (Esc, 关闭) cancels a scan; the reader runs on as before."""
        self._timer.stop()
        if self._scan is not None and self.scanning:
            self._scan.cancel()
        super().done(result)


def samples_text(readings: Sequence[Reading]) -> str:
    """The last few readings in a line: ``20000、20020 kg（稳定）``."""
    shown = readings[-SAMPLES_SHOWN:]
    if not shown:
        return "—"
    units = {r.unit for r in shown if r.weight is not None}
    unit = f" {units.pop()}" if len(units) == 1 else ""
    values = "、".join(_sample_value(r, bool(unit)) for r in shown)
    stable = {r.stable for r in shown}
    state = "（稳定）" if stable == {True} else "（波动）" if False in stable else ""
    return f"{values}{unit}{state}"


def _sample_value(reading: Reading, unit_given: bool) -> str:
    if reading.overload:
        return "超载"
    if reading.underload:
        return "欠载"
    if reading.weight is None:
        return "无读数"
    return str(reading.weight) if unit_given else f"{reading.weight} {reading.unit}"


def _add_row(form: QFormLayout, caption: str, field: QWidget) -> None:
    # One caption width on every group, so the values line up down the page.
    label = QLabel(caption)
    label.setMinimumWidth(CAPTION_WIDTH)
    form.addRow(label, field)


def _value_label(*, mono: bool = False, bold: bool = False) -> QLabel:
    label = QLabel()
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    font = QFont("DejaVu Sans Mono") if mono else label.font()
    font.setBold(bold)
    label.setFont(font)
    return label


def _button(text: str, slot: Callable[[], object]) -> QPushButton:
    button = QPushButton(text)
    # Enter belongs to the page (apply), not to whichever button has focus.
    button.setAutoDefault(False)
    button.setMinimumHeight(34)
    button.clicked.connect(slot)
    return button
