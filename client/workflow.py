"""The weighing at one booth, as a state machine (R2, R3, R14).

    IDLE ──weight above the minimum──▶ ON_SCALE ──settled──▶ READY
      ▲                                   ▲  └────moves again───┘ │ operator confirms
      └──────── platform empty ◀── SAVED ◀┴───────────────────────┘ (or auto mode)

A vehicle is weighed once per visit: after a save the booth waits for the platform
to empty before it will take another weight. What a confirm does depends on the
station's purpose and on whether the plate has an open tare:

* tare station (回皮): writes a Tare;
* gross station (过重): finds the plate's open tare, writes the Weighing with
  net = gross − tare, signs it and renders the ticket (磅单);
* a station for both: gross when an open tare exists, else tare.

The class is free of Qt so that tests and the headless demo drive it directly;
the console calls it from the GUI thread and runs ``confirm`` in a worker.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from common.models import Tare, Weighing
from common.plates import normalise_plate, plate_problem
from common.protocols import Reading
from common.signing import TicketClaims, TicketSigner
from common.stability import Stability, StabilityConfig, StabilityDetector, StabilityState
from common.trace import WeightTrace
from common.units import tonnes

from .config import BoothConfig
from .store import LocalStore

log = logging.getLogger(__name__)

class WorkflowError(Exception):
    """A confirm that cannot go ahead; the message tells the operator why (Chinese)."""


class Phase(str, Enum):
    IDLE = "idle"
    ON_SCALE = "on_scale"
    READY = "ready"
    SAVED = "saved"


PHASE_TEXT = {
    Phase.IDLE: "等待车辆上磅",
    Phase.ON_SCALE: "车辆上磅，等待稳定",
    Phase.READY: "重量稳定，请核对车号后按 F5 保存",
    Phase.SAVED: "已保存，请车辆下磅",
}


@dataclass(frozen=True)
class Outcome:
    kind: str  # "tare" or "weighing"
    record: Tare | Weighing
    ticket_path: Path | None
    verify_url: str | None
    message: str


@dataclass(frozen=True)
class Plan:
    """What a confirm would do for a plate, shown before the operator presses F5."""

    kind: str
    tare: Tare | None
    message: str


class WeighingFlow:
    def __init__(self, cfg: BoothConfig, store: LocalStore, signer: TicketSigner) -> None:
        self.cfg = cfg
        self.store = store
        self.signer = signer
        self.detector = StabilityDetector(StabilityConfig(
            division_kg=cfg.division_kg, band_divisions=cfg.band_divisions,
            hold_s=cfg.hold_s, min_weight_kg=cfg.min_weight_kg,
            max_capacity_kg=cfg.max_capacity_kg))
        self.phase = Phase.IDLE
        self.last = Stability(StabilityState.OFFLINE, None, None, 0.0, "仪表离线")
        self._trace = WeightTrace()
        self._lock = threading.Lock()

    # -- readings ------------------------------------------------------------

    def on_reading(self, t: float, reading: Reading,
                   curtain_clear: bool | None = None) -> Stability:
        """Every decoded frame comes here, unthrottled."""
        with self._lock:
            # A tare line from the indicator is not the load on the platform.
            kg = None if reading.tare else reading.weight_kg
            st = self.detector.update(t, kg, stable_flag=reading.stable,
                                      overload=reading.overload,
                                      curtain_clear=curtain_clear)
            self._record(t, reading, st, curtain_clear)
            self._advance(st)
            self.last = st
            return st

    def on_tick(self, t: float) -> Stability:
        """Called by a timer: lets the detector notice a silent indicator."""
        with self._lock:
            st = self.detector.poll(t)
            if st.state is StabilityState.OFFLINE and self.phase is Phase.READY:
                self.phase = Phase.ON_SCALE
            self.last = st
            return st

    def _record(self, t: float, reading: Reading, st: Stability,
                curtain_clear: bool | None) -> None:
        if st.state is StabilityState.EMPTY and self.phase in (Phase.IDLE, Phase.SAVED):
            return
        self._trace.add_reading(t, reading, curtain_clear=curtain_clear)

    def _advance(self, st: Stability) -> None:
        empty = st.state is StabilityState.EMPTY
        if self.phase in (Phase.IDLE, Phase.SAVED):
            if empty:
                if self.phase is Phase.SAVED:
                    log.info("platform empty: ready for the next vehicle")
                self.phase = Phase.IDLE
                self._clear_trace()
            elif self.phase is Phase.IDLE:
                self.phase = Phase.ON_SCALE
        elif empty:
            self.phase = Phase.IDLE
            self._clear_trace()
        elif st.state is StabilityState.STABLE:
            self.phase = Phase.READY
        else:
            self.phase = Phase.ON_SCALE

    def _clear_trace(self) -> None:
        self._trace = WeightTrace()

    # -- deciding and saving -------------------------------------------------

    def plan(self, plate: str) -> Plan:
        """What F5 would do for this plate here."""
        problem = plate_problem(plate)
        if problem is not None:
            raise WorkflowError(problem if plate.strip() else "请输入车号")
        plate = normalise_plate(plate)
        tare = self.store.find_open_tare(plate) if self.cfg.does_gross else None
        if tare is not None:
            return Plan("weighing", tare,
                        f"过重：找到回皮记录 {tonnes(tare.tare_kg, self.cfg.division_kg)}"
                        f"（{tare.station_id}号磅）")
        if self.cfg.does_tare:
            return Plan("tare", None, "回皮：本次称重记为皮重")
        raise WorkflowError(f"未找到车号 {plate} 的回皮记录：请先到回皮磅回皮；"
                            "若已回皮，请检查网络同步状态")

    def confirm(self, plate: str, product: str = "", customer: str = "",
                tickets_dir: Path | None = None) -> Outcome:
        """Save the stable weight for ``plate``. Raises WorkflowError to refuse."""
        with self._lock:
            if self.phase is Phase.SAVED:
                raise WorkflowError("本车已保存，请车辆下磅后再称下一车")
            if self.phase is not Phase.READY or self.last.stable_kg is None:
                raise WorkflowError(f"现在不能保存：{self.last.message}")
            kg = self.last.stable_kg
            trace = self._trace.to_json()
        plan = self.plan(plate)
        plate = normalise_plate(plate)
        vehicle = self.store.vehicle(plate)
        product = product or (vehicle.default_product if vehicle else "")
        customer = customer or (vehicle.default_customer if vehicle else "")

        if plan.kind == "tare":
            outcome = self._save_tare(plate, kg, product, customer, trace)
        else:
            assert plan.tare is not None
            outcome = self._save_weighing(plate, kg, plan.tare, product, customer,
                                          trace, tickets_dir)
        with self._lock:
            self.phase = Phase.SAVED
        return outcome

    def _save_tare(self, plate: str, kg: int, product: str, customer: str,
                   trace: str) -> Outcome:
        tare = self.store.add_tare(station_id=self.cfg.station_id, plate=plate,
                                   tare_kg=kg, operator=self.cfg.operator,
                                   product=product, customer=customer,
                                   trace_json=trace)
        msg = f"回皮完成：{plate} 皮重 {tonnes(kg, self.cfg.division_kg)}"
        vehicle = self.store.vehicle(plate)
        if vehicle and vehicle.ref_tare_kg is not None:
            off = kg - vehicle.ref_tare_kg
            if abs(off) > vehicle.tare_tolerance_kg:
                msg += (f"；⚠ 皮重超出参考皮重 {tonnes(vehicle.ref_tare_kg)} 的允许范围"
                        f"（差 {off:+d} kg），请通知计量部门")
        return Outcome("tare", tare, None, None, msg)

    def _save_weighing(self, plate: str, gross: int, tare: Tare, product: str,
                       customer: str, trace: str, tickets_dir: Path | None) -> Outcome:
        if gross <= tare.tare_kg:
            raise WorkflowError(f"毛重 {tonnes(gross)} 不大于皮重 {tonnes(tare.tare_kg)}："
                                "请确认车辆已装货，或车号是否正确")
        w = self.store.add_weighing(
            self.cfg.station_id, plate=plate, product=product or tare.product,
            customer=customer or tare.customer, tare_id=tare.id, tare_kg=tare.tare_kg,
            gross_kg=gross, net_kg=gross - tare.tare_kg, tare_station=tare.station_id,
            tare_at=tare.weighed_at, tare_operator=tare.operator,
            gross_operator=self.cfg.operator, trace_json=trace,
            sign=lambda rec: self.signer.sign(claims_for(rec)).rsplit(".", 1)[1])

        token = self.signer.sign(claims_for(w))
        verify_url = f"{self.cfg.server_url.rstrip('/')}/v/{token}"
        ticket = self._render(w, verify_url, tickets_dir)
        msg = (f"过重完成：{plate} 毛重 {tonnes(gross, self.cfg.division_kg)} "
               f"净重 {tonnes(w.net_kg, self.cfg.division_kg)}，磅单 {w.ticket_no}")
        return Outcome("weighing", w, ticket, verify_url, msg)

    def render_missing_tickets(self, tickets_dir: Path) -> list[Path]:
        """Tickets for this booth's weighings that have no PDF yet.

        The record is committed before its PDF is drawn, so a booth killed in
        between has the weighing but no ticket for the driver. At start-up the
        booth draws those again (the signature is deterministic, so the QR code
        is the same as it would have been).
        """
        made = []
        for w in self.store.recent_weighings(200):
            if w.gross_station != self.cfg.station_id or w.voided:
                continue
            if (tickets_dir / f"{w.ticket_no}.pdf").exists():
                continue
            token = self.signer.sign(claims_for(w))
            url = f"{self.cfg.server_url.rstrip('/')}/v/{token}"
            made.append(self._render(w, url, tickets_dir))
            log.warning("ticket %s had no PDF (booth stopped mid-save): drawn again",
                        w.ticket_no)
        return made

    def _render(self, w: Weighing, verify_url: str, tickets_dir: Path | None) -> Path:
        from .ticket import TicketData, render_ticket_pdf

        folder = tickets_dir or (self.cfg.data_path / "tickets")
        folder.mkdir(parents=True, exist_ok=True)
        data = TicketData(
            mine=self.cfg.mine_name, ticket_no=w.ticket_no, plate=w.plate,
            product=w.product, customer=w.customer, tare_kg=w.tare_kg,
            gross_kg=w.gross_kg, net_kg=w.net_kg, tare_at=w.tare_at,
            gross_at=w.gross_at, tare_station=w.tare_station,
            gross_station=w.gross_station, tare_operator=w.tare_operator,
            gross_operator=w.gross_operator, verify_url=verify_url,
            division_kg=self.cfg.division_kg)
        return render_ticket_pdf(data, folder / f"{w.ticket_no}.pdf")


def claims_for(w: Weighing) -> TicketClaims:
    return TicketClaims(w.id, w.ticket_no, w.plate, w.tare_kg, w.gross_kg, w.net_kg,
                        w.gross_station, int(w.gross_at.timestamp()))
