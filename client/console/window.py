"""The booth operator console (PySide6).

Keyboard first: the plate field always has focus; Enter shows what F5 will do,
F5 saves the stable weight, Esc clears. The live weight is the largest thing on
screen with a coloured mark for its state; the mode (联网 / 本地), the indicator
status and the outbox count are always visible in the status bar.

Readings arrive by Qt signal from the scale's reader thread; every one goes to
the weighing flow at once (capture never waits for a repaint). Saving runs on a
worker thread so a slow disk never freezes the screen.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from common.plates import normalise_plate
from common.protocols import Reading
from common.stability import Stability, StabilityState
from common.units import tonnes

from ..booth import Booth
from ..devices.scale import QtScale, ScaleSettings
from ..sync import SyncStatus
from ..workflow import PHASE_TEXT, Outcome, Phase, WorkflowError
from .device_page import DevicePage, restart_scale
from .trace_plot import TracePlot

log = logging.getLogger(__name__)
SITE_TZ = ZoneInfo("Asia/Shanghai")

# Colour and short word per stability state: green only when a weight may be taken.
STATE_LOOK: dict[StabilityState, tuple[str, str]] = {
    StabilityState.STABLE: ("稳定", "#1b8a3a"),
    StabilityState.SETTLING: ("稳定中", "#c98a00"),
    StabilityState.MOVING: ("波动", "#d35400"),
    StabilityState.EMPTY: ("空磅", "#5d6d7e"),
    StabilityState.CURTAIN_BLOCKED: ("未完全上磅", "#c0392b"),
    StabilityState.OVERLOAD: ("超载", "#c0392b"),
    StabilityState.OUT_OF_RANGE: ("超出量程", "#c0392b"),
    StabilityState.OFFLINE: ("仪表离线", "#7f8c8d"),
}


class _SaveBridge(QObject):
    """Carries a worker thread's result back to the GUI thread."""

    done = Signal(object)
    failed = Signal(str)


class ConsoleWindow(QMainWindow):
    outcome_ready = Signal(object)  # emitted in the GUI thread after each save
    save_refused = Signal(str)  # the reason a save did not happen

    def __init__(self, booth: Booth, config_path: Path | None = None) -> None:
        super().__init__()
        self.booth = booth
        self.config_path = config_path
        self.scale: QtScale | None = None
        self.setWindowTitle(booth.title)
        self.resize(1280, 800)
        self._saving = False
        self._last_scale_msg = "仪表连接中…"
        self._bridge = _SaveBridge()
        self._bridge.done.connect(self._on_saved)
        self._bridge.failed.connect(self._on_save_failed)
        self._sync_bridge = _SyncBridge()
        self._sync_bridge.changed.connect(self._on_sync_status)
        booth.sync.on_status = self._sync_bridge.changed.emit

        self._build()
        self._bind_keys()
        self.refresh_records()
        if booth.recovered_tickets:
            names = "、".join(p.stem for p in booth.recovered_tickets)
            self._say(f"上次退出时未生成的磅单已补出：{names}", error=True)

        self._tick = QTimer(self)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start(200)

    # -- layout --------------------------------------------------------------

    def _build(self) -> None:
        root = QWidget()
        grid = QGridLayout(root)
        grid.addWidget(self._build_header(), 0, 0, 1, 2)
        grid.addWidget(self._build_weight_panel(), 1, 0)
        grid.addWidget(self._build_entry_panel(), 1, 1)
        grid.addWidget(self._build_records(), 2, 0, 1, 2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setRowStretch(2, 1)
        self.setCentralWidget(root)

        self.scale_label = QLabel()
        self.sync_label = QLabel()
        self.operator_label = QLabel(f"司磅员：{self.booth.cfg.operator}　F9 设备设置")
        bar = self.statusBar()
        bar.addWidget(self.scale_label, 2)
        bar.addWidget(self.sync_label, 2)
        bar.addPermanentWidget(self.operator_label)
        self._show_scale_status("connecting", self._last_scale_msg)
        self._on_sync_status(self.booth.sync.status)
        self._show_state(self.booth.flow.last)

    def _build_header(self) -> QWidget:
        box = QFrame()
        box.setStyleSheet("QFrame{background:#1f3a5f;border-radius:6px}"
                          "QLabel{color:white}")
        row = QHBoxLayout(box)
        title = QLabel(self.booth.title)
        title.setFont(_font(18, bold=True))
        self.mode_chip = QLabel("本地")
        self.mode_chip.setFont(_font(14, bold=True))
        self.clock = QLabel()
        self.clock.setFont(_font(14))
        row.addWidget(title, 1)
        row.addWidget(self.mode_chip)
        row.addSpacing(16)
        row.addWidget(self.clock)
        return box

    def _build_weight_panel(self) -> QWidget:
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        col = QVBoxLayout(box)

        self.weight_label = QLabel("----")
        self.weight_label.setObjectName("weight")
        self.weight_label.setAlignment(Qt.AlignmentFlag.AlignRight
                                       | Qt.AlignmentFlag.AlignVCenter)
        self.weight_label.setFont(_font(72, bold=True, mono=True))
        self.weight_label.setStyleSheet("background:#0b0f14;color:#39ff6a;"
                                        "padding:8px 24px;border-radius:6px")
        unit = QLabel("kg")
        unit.setFont(_font(20))

        self.state_chip = QLabel()
        self.state_chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state_chip.setFont(_font(22, bold=True))
        self.state_chip.setMinimumWidth(180)
        self.phase_label = QLabel(PHASE_TEXT[Phase.IDLE])
        self.phase_label.setFont(_font(16))

        top = QHBoxLayout()
        top.addWidget(self.weight_label, 1)
        top.addWidget(unit, 0, Qt.AlignmentFlag.AlignBottom)
        chips = QHBoxLayout()
        chips.addWidget(self.state_chip)
        chips.addWidget(self.phase_label, 1)
        col.addLayout(top)
        col.addLayout(chips)
        col.addWidget(self._build_plot(), 1)
        return box

    def _build_plot(self) -> QWidget:
        self.plot = TracePlot()
        self._points: list[tuple[float, int]] = []
        return self.plot

    def _build_entry_panel(self) -> QWidget:
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        col = QVBoxLayout(box)

        self.plate_edit = QLineEdit()
        self.plate_edit.setPlaceholderText("输入车号，回车确认")
        self.plate_edit.setFont(_font(28, bold=True))
        self.plate_edit.setAccessibleName("车号")
        self._completer = QCompleter(self.booth.store.plates(), self)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.plate_edit.setCompleter(self._completer)
        self.plate_edit.returnPressed.connect(self.preview)
        self.plate_edit.textEdited.connect(lambda _t: self.plan_label.setText(""))

        self.product_box = _combo(["原煤", "洗精煤", "块煤", "末煤", "矸石"])
        self.customer_box = _combo([])
        self.plan_label = QLabel("")
        self.plan_label.setWordWrap(True)
        self.plan_label.setFont(_font(14))

        self.save_button = QPushButton("保存 (F5)")
        self.save_button.setFont(_font(20, bold=True))
        self.save_button.setMinimumHeight(56)
        self.save_button.clicked.connect(self.save)

        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.result_label.setFont(_font(15))
        self.result_label.setMinimumHeight(90)

        col.addWidget(_caption("车号 (车辆识别或手工输入)"))
        col.addWidget(self.plate_edit)
        col.addWidget(_caption("品种"))
        col.addWidget(self.product_box)
        col.addWidget(_caption("客户"))
        col.addWidget(self.customer_box)
        col.addWidget(self.plan_label)
        col.addStretch(1)
        col.addWidget(self.save_button)
        col.addWidget(self.result_label)
        return box

    def _build_records(self) -> QWidget:
        # A tare-only booth lists its tares; the others list completed tickets.
        self._tare_table = self.booth.cfg.purpose == "tare"
        headers = (["车号", "皮重", "参考皮重", "品种", "回皮时间", "司磅员", "同步"]
                   if self._tare_table else
                   ["磅单号", "车号", "品种", "毛重", "皮重", "净重", "过重时间", "同步"])
        self.table = QTableWidget(0, len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return self.table

    def attach_scale(self, scale: QtScale) -> None:
        """Read weights from ``scale`` (replacing any scale attached before)."""
        self.scale = scale
        scale.reading.connect(self.on_reading)
        scale.status.connect(self.on_scale_status)

    @Slot()
    def open_device_page(self) -> DevicePage | None:
        """F9: the indicator's settings, live counters and auto-detection."""
        if self.scale is None:
            return None
        page = DevicePage(self.scale, self.config_path, self)
        page.settings_applied.connect(lambda s: self._apply_scale_settings(page, s))
        page.open()
        return page

    def _apply_scale_settings(self, page: DevicePage, settings: ScaleSettings) -> None:
        assert self.scale is not None
        new = restart_scale(self.scale, settings)
        self.attach_scale(new)
        page.set_scale(new)
        self.booth.cfg = replace(
            self.booth.cfg, scale_protocol=settings.protocol,
            scale_baud=settings.baudrate, scale_bytesize=settings.bytesize,
            scale_parity=settings.parity)
        self._show_scale_status("connecting", "已应用新的仪表设置，连接中…")

    def _bind_keys(self) -> None:
        QShortcut(QKeySequence(Qt.Key.Key_F9), self, activated=self.open_device_page)
        QShortcut(QKeySequence(Qt.Key.Key_F5), self, activated=self.save)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.clear_entry)
        # The completion list is a window of its own: while it is open the
        # window's F5 shortcut would not fire, and an operator who types the
        # whole plate and presses F5 would see nothing happen.
        self._completer.popup().installEventFilter(self)
        self.plate_edit.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_F5):
            self._completer.popup().hide()
            self.save()
            return True
        return super().eventFilter(watched, event)

    # -- readings and status -------------------------------------------------

    @Slot(float, object)
    def on_reading(self, t: float, reading: Reading) -> None:
        st = self.booth.flow.on_reading(t, reading)
        self._show_state(st)
        if st.weight_kg is not None and self.booth.flow.phase is not Phase.IDLE:
            self._points.append((t, st.weight_kg))
        elif self.booth.flow.phase is Phase.IDLE:
            self._points.clear()

    @Slot(str, str)
    def on_scale_status(self, status: str, message: str) -> None:
        self._show_scale_status(status, message)

    def _show_scale_status(self, status: str, message: str) -> None:
        self._last_scale_msg = message
        cfg = self.booth.cfg
        colour = "#1b8a3a" if status == "online" else "#c0392b"
        self.scale_label.setText(
            f"<span style='color:{colour}'>●</span> 仪表：{message}"
            f"（{cfg.scale_protocol} {cfg.scale_baud}）")

    def _on_tick(self) -> None:
        self.clock.setText(datetime.now(SITE_TZ).strftime("%Y-%m-%d %H:%M:%S"))
        st = self.booth.flow.on_tick(time.monotonic())
        if st.state is StabilityState.OFFLINE:
            self._show_state(st)
        cfg = self.booth.cfg
        self.plot.set_points(self._points, self.booth.flow.last.stable_kg,
                             cfg.band_divisions * cfg.division_kg)

    def _show_state(self, st: Stability) -> None:
        word, colour = STATE_LOOK[st.state]
        shown = st.stable_kg if st.stable_kg is not None else st.weight_kg
        self.weight_label.setText("----" if shown is None else f"{shown:,}".replace(",", " "))
        self.weight_label.setStyleSheet(
            "background:#0b0f14;padding:8px 24px;border-radius:6px;"
            f"color:{'#39ff6a' if st.state is StabilityState.STABLE else '#f5d000'}"
            if shown is not None else
            "background:#0b0f14;color:#555;padding:8px 24px;border-radius:6px")
        self.state_chip.setText(word)
        self.state_chip.setStyleSheet(f"background:{colour};color:white;"
                                      "border-radius:6px;padding:6px 12px")
        self.state_chip.setToolTip(st.message)
        phase = self.booth.flow.phase
        text = PHASE_TEXT[phase]
        if st.state in (StabilityState.CURTAIN_BLOCKED, StabilityState.OVERLOAD,
                        StabilityState.OUT_OF_RANGE, StabilityState.OFFLINE):
            text = st.message
        elif st.state is StabilityState.EMPTY and st.message != "空磅":
            text = f"{st.message}（{self.booth.cfg.min_weight_kg} kg），不能称重"
        self.phase_label.setText(text)
        self.save_button.setEnabled(phase is Phase.READY and not self._saving)

    @Slot(object)
    def _on_sync_status(self, status: SyncStatus) -> None:
        # 联网 green; 本地 amber (no network: weighing goes on, records wait);
        # 拒绝 red (the server answers but refuses this booth: someone must act).
        word, colour = (("联网", "#1b8a3a") if status.online else
                        ("拒绝", "#c0392b") if status.refused else ("本地", "#c98a00"))
        self.mode_chip.setText(word)
        self.mode_chip.setStyleSheet(f"background:{colour};padding:4px 10px;"
                                     "border-radius:4px")
        text = f"同步：{status.message}（待上传 {status.pending}）"
        if status.rejected:
            text = (f"<span style='color:#c0392b;font-weight:bold'>⚠ {status.rejected} "
                    "条记录被中心拒收，请联系管理员</span>　" + text)
        self.sync_label.setText(text)
        self.sync_label.setToolTip(status.message)
        # Only a round that moved records makes the lists stale: no database work
        # on the GUI thread for the idle rounds every second or two.
        if status.changed:
            self._completer.model().setStringList(self.booth.store.plates())  # type: ignore[attr-defined]
            self.refresh_records()

    # -- operator actions ----------------------------------------------------

    @Slot()
    def preview(self) -> None:
        try:
            plan = self.booth.flow.plan(self.plate_edit.text())
        except WorkflowError as err:
            self._say(str(err), error=True)
            return
        vehicle = self.booth.store.vehicle(normalise_plate(self.plate_edit.text()))
        if vehicle is not None:
            if vehicle.default_product:
                self.product_box.setCurrentText(vehicle.default_product)
            if vehicle.default_customer:
                self.customer_box.setCurrentText(vehicle.default_customer)
        self.plan_label.setText(plan.message)
        self.plan_label.setStyleSheet("color:#1f3a5f")
        self.result_label.setText("")

    @Slot()
    def save(self) -> None:
        if self._saving:
            return
        plate = self.plate_edit.text()
        product = self.product_box.currentText().strip()
        customer = self.customer_box.currentText().strip()
        try:
            self.booth.flow.plan(plate)
        except WorkflowError as err:
            self._say(str(err), error=True)
            return
        self._saving = True
        self.save_button.setEnabled(False)
        self._say("正在保存…")

        def work() -> None:
            try:
                outcome = self.booth.flow.confirm(plate, product, customer,
                                                  self.booth.tickets_dir)
            except WorkflowError as err:
                self._bridge.failed.emit(str(err))
            except Exception as err:  # our bug: keep the console alive, say so
                log.exception("save failed")
                self._bridge.failed.emit(f"保存失败（程序错误，已记录日志）：{err}")
            else:
                self._bridge.done.emit(outcome)

        threading.Thread(target=work, name="save", daemon=True).start()

    @Slot(object)
    def _on_saved(self, outcome: Outcome) -> None:
        self._saving = False
        text = outcome.message
        if outcome.ticket_path is not None:
            text += f"\n磅单已生成：{outcome.ticket_path.name}"
        self._say(text, error="⚠" in text)
        self.plate_edit.clear()
        self.plan_label.setText("")
        self.refresh_records()
        self.booth.sync.kick()
        self.outcome_ready.emit(outcome)

    @Slot(str)
    def _on_save_failed(self, message: str) -> None:
        self._saving = False
        self._say(message, error=True)
        self._show_state(self.booth.flow.last)
        self.save_refused.emit(message)

    @Slot()
    def clear_entry(self) -> None:
        self.plate_edit.clear()
        self.plan_label.setText("")
        self.plate_edit.setFocus()

    def _say(self, text: str, error: bool = False) -> None:
        self.result_label.setText(text)
        self.result_label.setStyleSheet(
            "color:#c0392b;font-weight:bold" if error else "color:#1b5e20")

    def refresh_records(self) -> None:
        store, division = self.booth.store, self.booth.cfg.division_kg
        pending = store.pending_ids()
        refused = {row.record_id for row in store.rejected()}
        rows: list[list[str]] = []
        if self._tare_table:
            tares = store.recent_tares(self.booth.cfg.station_id, 30)
            refs = store.ref_tares({t.plate for t in tares})
            for t in tares:
                ref = refs.get(t.plate)
                rows.append([t.plate, tonnes(t.tare_kg, division),
                             tonnes(ref, division) if ref is not None else "—",
                             t.product, _local(t.weighed_at), t.operator,
                             _sync_word(t.id, pending, refused)])
        else:
            for w in store.recent_weighings(30):
                rows.append([w.ticket_no, w.plate, w.product,
                             tonnes(w.gross_kg, division), tonnes(w.tare_kg, division),
                             tonnes(w.net_kg, division), _local(w.gross_at),
                             _sync_word(w.id, pending, refused)])
        self.table.setRowCount(len(rows))
        for i, cells in enumerate(rows):
            for j, text in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(text))


def _sync_word(record_id: str, pending: set[str], refused: set[str]) -> str:
    if record_id in refused:
        return "被拒收"
    return "待上传" if record_id in pending else "已同步"


def _local(moment: datetime) -> str:
    return moment.astimezone(SITE_TZ).strftime("%m-%d %H:%M")


class _SyncBridge(QObject):
    changed = Signal(object)


def _font(size: int, bold: bool = False, mono: bool = False) -> QFont:
    f = QFont("DejaVu Sans Mono" if mono else "WenQuanYi Micro Hei")
    f.setPointSize(size)
    f.setBold(bold)
    return f


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    label.setFont(_font(12))
    label.setStyleSheet("color:#555")
    return label


def _combo(items: list[str]) -> QComboBox:
    box = QComboBox()
    box.setEditable(True)
    box.addItems(items)
    box.setFont(_font(16))
    return box
