"""The weighing flow on real local stores: tare at one booth, gross at another."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from client.config import load_config
from client.store import LocalStore
from client.workflow import Phase, WeighingFlow, WorkflowError
from common.protocols import Reading
from common.signing import TicketSigner, verify_token
from common.wire import to_wire


def reading(kg: int) -> Reading:
    return Reading("yaohua_tf0", Decimal(kg), "kg", raw=b"\x02+0000000")


def make_flow(tmp_path: Path, station: int, purpose: str) -> WeighingFlow:
    cfg = load_config(None, {"station_id": station, "purpose": purpose,
                             "data_dir": str(tmp_path / f"b{station}")}, environ={})
    store = LocalStore(cfg.data_path / "booth.db")
    signer = TicketSigner.load_or_create(cfg.data_path / "key.pem")
    return WeighingFlow(cfg, store, signer)


def settle(flow: WeighingFlow, kg: int, t0: float = 0.0, seconds: float = 3.0) -> float:
    """Feed a truck that drives on and stands still, 10 frames a second."""
    t = t0
    for ramp in (kg // 3, 2 * kg // 3):
        flow.on_reading(t, reading(ramp))
        t += 0.1
    for _ in range(int(seconds * 10)):
        flow.on_reading(t, reading(kg))
        t += 0.1
    return t


def drive_off(flow: WeighingFlow, t: float) -> float:
    for _ in range(3):
        flow.on_reading(t, reading(0))
        t += 0.1
    return t


@pytest.fixture
def tare_flow(tmp_path: Path) -> WeighingFlow:
    return make_flow(tmp_path, 2, "tare")


@pytest.fixture
def gross_flow(tmp_path: Path) -> WeighingFlow:
    return make_flow(tmp_path, 1, "gross")


def carry_tares(src: WeighingFlow, dst: WeighingFlow) -> None:
    """What the server's pull would deliver: the other booth's open tares."""
    changes = [{"kind": "tare", "data": to_wire(t)}
               for t in src.store.recent_tares(src.cfg.station_id)]
    dst.store.apply_pulled(changes, cursor=1, own_station=dst.cfg.station_id)


def test_tare_then_gross_at_another_booth_gives_net_and_a_signed_ticket(
        tare_flow: WeighingFlow, gross_flow: WeighingFlow, tmp_path: Path) -> None:
    t = settle(tare_flow, 15_280)
    assert tare_flow.phase is Phase.READY
    tare = tare_flow.confirm("晋k 58231")
    assert tare.kind == "tare" and tare.record.tare_kg == 15_280
    assert tare.record.plate == "晋K58231"
    drive_off(tare_flow, t)
    assert tare_flow.phase is Phase.IDLE

    carry_tares(tare_flow, gross_flow)
    settle(gross_flow, 49_300)
    out = gross_flow.confirm("晋K58231", "原煤", "阳泉电厂", tmp_path / "tickets")

    w = out.record
    assert (w.gross_kg, w.tare_kg, w.net_kg) == (49_300, 15_280, 34_020)
    assert (w.tare_station, w.gross_station) == (2, 1)
    assert w.ticket_no.startswith("1-") and w.ticket_no.endswith("-0001")
    assert out.ticket_path is not None and out.ticket_path.stat().st_size > 10_000
    token = out.verify_url.rsplit("/v/", 1)[1]
    claims = verify_token(token, gross_flow.signer.public_key_hex)
    assert (claims.net_kg, claims.plate) == (34_020, "晋K58231")
    # The tare is consumed: the same plate cannot be weighed gross again.
    assert gross_flow.store.find_open_tare("晋K58231") is None


def test_a_moving_truck_cannot_be_saved(tare_flow: WeighingFlow) -> None:
    t = 0.0
    for i in range(40):
        tare_flow.on_reading(t, reading(10_000 + 60 * i))
        t += 0.1
    assert tare_flow.phase is Phase.ON_SCALE
    with pytest.raises(WorkflowError, match="不能保存"):
        tare_flow.confirm("晋K58231")
    assert tare_flow.store.pending_count() == 0


def test_gross_without_open_tare_is_refused_with_what_to_do(
        gross_flow: WeighingFlow) -> None:
    settle(gross_flow, 49_300)
    with pytest.raises(WorkflowError, match="未找到车号 晋K99999 的回皮记录"):
        gross_flow.confirm("晋K99999")
    assert gross_flow.store.pending_count() == 0


def test_a_vehicle_is_weighed_once_per_visit(tare_flow: WeighingFlow) -> None:
    settle(tare_flow, 15_000)
    tare_flow.confirm("晋K58231")
    settle(tare_flow, 15_000, t0=10.0)
    assert tare_flow.phase is Phase.SAVED
    with pytest.raises(WorkflowError):
        tare_flow.confirm("晋K60917")


def test_gross_not_above_tare_is_refused(tare_flow: WeighingFlow,
                                        gross_flow: WeighingFlow) -> None:
    settle(tare_flow, 15_000)
    tare_flow.confirm("晋K58231")
    carry_tares(tare_flow, gross_flow)
    settle(gross_flow, 14_000)
    with pytest.raises(WorkflowError, match="不大于皮重"):
        gross_flow.confirm("晋K58231")


def test_tickets_number_per_station_and_day(tmp_path: Path) -> None:
    flow = make_flow(tmp_path, 3, "both")
    numbers = []
    t = 0.0
    for i in range(3):
        t = settle(flow, 15_000 + i * 100, t0=t)
        flow.confirm(f"晋K0000{i}")
        t = drive_off(flow, t)
        t = settle(flow, 45_000, t0=t)
        numbers.append(flow.confirm(f"晋K0000{i}", tickets_dir=tmp_path).record.ticket_no)
        t = drive_off(flow, t)
    assert [n.rsplit("-", 1)[1] for n in numbers] == ["0001", "0002", "0003"]
    assert len({n.split("-")[1] for n in numbers}) == 1
    # Every tare and weighing waits in the outbox, in order.
    kinds = [row.kind for row in flow.store.pending()]
    assert kinds == ["tare", "weighing"] * 3


def test_the_stored_trace_replays_through_decoder_and_detector_to_the_same_weight(
        tare_flow: WeighingFlow) -> None:
    from common.protocols import make_decoder
    from common.protocols.yaohua import encode_tf0
    from common.trace import WeightTrace, replay

    # Frames as the indicator sent them: the record must keep the raw bytes.
    t = 0.0
    for kg in (5_000, 11_000, 15_600, 15_240, 15_280, *[15_280] * 25):
        tare_flow.on_reading(t, Reading("yaohua_tf0", Decimal(kg), "kg",
                                        raw=encode_tf0(kg)))
        t += 0.1
    out = tare_flow.confirm("晋K58231")

    trace = WeightTrace.from_json(out.record.trace_json)
    decoder = make_decoder("yaohua_tf0")
    decoded = [r.weight_kg for _t, hex_ in trace.frames
               for r in decoder.feed(bytes.fromhex(hex_))]
    assert decoded == [p.weight_kg for p in trace.points]
    verdicts = replay(trace, tare_flow.detector.config)
    assert verdicts[-1].stable_kg == out.record.tare_kg == 15_280


@pytest.mark.parametrize("plate, reason", [
    ("", "请输入车号"), ("晋A1234567890ABCDEFG", "16"), ("晋A-12345", "不允许")])
def test_a_plate_the_centre_would_refuse_is_refused_at_the_booth(
        tare_flow: WeighingFlow, plate: str, reason: str) -> None:
    settle(tare_flow, 15_000)
    with pytest.raises(WorkflowError, match=reason):
        tare_flow.confirm(plate)
    assert tare_flow.store.pending_count() == 0


def test_plates_typed_with_spaces_dots_or_full_width_letters_are_one_vehicle(
        tare_flow: WeighingFlow) -> None:
    settle(tare_flow, 15_000)
    assert tare_flow.confirm("晋ａ·582 31").record.plate == "晋A58231"


def test_a_ticket_lost_to_a_crash_after_saving_is_drawn_again_with_the_same_qr(
        tmp_path: Path) -> None:
    from tests.support.qr import decode_qr, pdf_to_images

    flow = make_flow(tmp_path, 3, "both")
    t = settle(flow, 15_000)
    flow.confirm("晋K58231")
    t = drive_off(flow, t)
    settle(flow, 49_000, t0=t)
    tickets = tmp_path / "tickets"
    out = flow.confirm("晋K58231", tickets_dir=tickets)
    assert out.ticket_path is not None
    out.ticket_path.unlink()  # as if the booth died between commit and PDF

    redrawn = flow.render_missing_tickets(tickets)

    assert redrawn == [out.ticket_path]
    [page] = pdf_to_images(out.ticket_path)
    assert decode_qr(page) == out.verify_url
    assert flow.render_missing_tickets(tickets) == []


def test_pressing_save_again_after_a_save_says_to_drive_off(
        tare_flow: WeighingFlow) -> None:
    settle(tare_flow, 15_000)
    tare_flow.confirm("晋K58231")
    with pytest.raises(WorkflowError, match="请车辆下磅"):
        tare_flow.confirm("晋K58231")
