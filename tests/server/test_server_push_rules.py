"""Impossible tares and weighings are refused at the centre, naming the record.

A refusal is ``422`` with error code 105, the record's ``index`` and the reason in
Chinese, and nothing of the batch is stored. A weighing that would consume a tare
already consumed is a conflict (``tare_used``): not stored, the rest of the batch is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from common.models import Tare, Weighing
from tests.server.server_site import (
    Booth,
    Site,
    iso,
    tare_record,
    weighing_record,
    wire,
)

Record = dict[str, Any]


def _refused(response: httpx.Response, index: int, *words: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["index"]) == (105, index)
    assert error["message"].startswith(f"第 {index} 条记录")
    for word in words:
        assert word in error["message"]


def _push_raw(booth: Booth, records: list[Record]) -> httpx.Response:
    # Escaped JSON, so that a lone surrogate can travel as \ud800.
    body = json.dumps({"records": records}, ensure_ascii=True).encode("ascii")
    headers = {"content-type": "application/json"}
    return booth.client.post("/api/v1/sync/push", content=body, headers=headers)


def _shifted(record: Record, key: str, delta: timedelta) -> str:
    return iso(datetime.fromisoformat(record[key]) + delta)


TARE_CASES: dict[str, tuple[Callable[[Record], None], str]] = {
    "negative_tare": (lambda t: t.update(tare_kg=-20), "不能为负数"),
    "tare_over_200_t": (lambda t: t.update(tare_kg=200_001), "200000 kg"),
    "tare_of_2_to_the_70": (lambda t: t.update(tare_kg=2**70), "200000 kg"),
    "empty_plate": (lambda t: t.update(plate=""), "车号不能为空"),
    "blank_plate": (lambda t: t.update(plate=" \u3000 "), "车号不能为空"),
    "lower_case_plate": (lambda t: t.update(plate="晋a12345"), "车号应写作 晋A12345"),
    "plate_with_a_space": (lambda t: t.update(plate="晋A 12345"), "车号应写作"),
    "plate_with_a_dot": (lambda t: t.update(plate="晋A·12345"), "车号应写作"),
    "plate_with_a_hash": (lambda t: t.update(plate="晋A#1234"), "不允许的字符"),
    "station_0": (lambda t: t.update(station_id=0), "磅号应在 1–99"),
    "station_100": (lambda t: t.update(station_id=100), "磅号应在 1–99"),
    "year_1999": (
        lambda t: t.update(weighed_at="1999-12-31T23:59:59+00:00"),
        "2000–2100",
    ),
    "year_2101": (
        lambda t: t.update(weighed_at="2101-01-01T00:00:00+00:00"),
        "2000–2100",
    ),
    "year_1_east_of_utc": (
        lambda t: t.update(weighed_at="0001-01-01T00:00:00+01:00"),
        "2000–2100",
    ),
    "year_9999_west_of_utc": (
        lambda t: t.update(weighed_at="9999-12-31T23:59:59-01:00"),
        "2000–2100",
    ),
    "time_without_offset": (
        lambda t: t.update(weighed_at="2024-05-01T08:00:00"),
        "UTC 偏移",
    ),
    "time_that_is_a_number": (lambda t: t.update(weighed_at=1714550400), "ISO 8601"),
    "nul_in_a_text": (lambda t: t.update(operator="李\x00四"), "无法保存"),
    "lone_surrogate_in_a_text": (lambda t: t.update(customer="\ud800"), "无法保存"),
}


@pytest.mark.parametrize("case", TARE_CASES)
def test_an_impossible_tare_refuses_the_whole_batch_naming_it(
    site: Site, case: str
) -> None:
    change, reason = TARE_CASES[case]
    good, bad = tare_record(), tare_record()
    change(bad)

    response = _push_raw(site.tare, [wire("tare", good), wire("tare", bad)])

    _refused(response, 1, reason)
    assert site.count(Tare, id=good["id"]) == 0


def _gross(w: Record, gross_kg: int) -> None:
    w.update(gross_kg=gross_kg, net_kg=gross_kg - w["tare_kg"])


WEIGHING_CASES: dict[str, tuple[Callable[[Record], None], str]] = {
    "gross_equal_to_tare": (lambda w: _gross(w, w["tare_kg"]), "不大于皮重"),
    "gross_below_tare": (lambda w: _gross(w, w["tare_kg"] - 1000), "不大于皮重"),
    "negative_gross": (lambda w: _gross(w, -5), "不能为负数"),
    "gross_over_200_t": (lambda w: _gross(w, 200_001), "200000 kg"),
    "gross_of_2_to_the_70": (lambda w: _gross(w, 2**70), "200000 kg"),
    "net_of_2_to_the_70": (lambda w: w.update(net_kg=2**70), "净重不等于"),
    "gross_before_tare": (
        lambda w: w.update(gross_at=_shifted(w, "tare_at", -timedelta(minutes=1))),
        "过重时间早于回皮时间",
    ),
    "gross_time_in_year_9999": (
        lambda w: w.update(gross_at="9999-12-31T23:59:59-01:00"),
        "过重时间",
    ),
    "unknown_tare": (
        lambda w: w.update(tare_id="00000000-0000-0000-0000-000000000000"),
        "中心没有它的回皮记录",
    ),
    "other_tare_weight": (
        lambda w: w.update(tare_kg=w["tare_kg"] + 20, net_kg=w["net_kg"] - 20),
        "皮重（tare_kg）",
    ),
    "other_plate": (lambda w: w.update(plate="晋A99999"), "车号（plate）"),
    "other_tare_station": (lambda w: w.update(tare_station=3), "回皮磅号"),
    "other_tare_time": (
        lambda w: w.update(tare_at=_shifted(w, "tare_at", timedelta(seconds=1))),
        "回皮时间（tare_at）",
    ),
    "tare_station_100": (lambda w: w.update(tare_station=100), "磅号应在 1–99"),
    "gross_station_0": (lambda w: w.update(gross_station=0), "磅号应在 1–99"),
    "plate_not_normalised": (lambda w: w.update(plate="晋a12345"), "车号应写作"),
}


@pytest.mark.parametrize("case", WEIGHING_CASES)
def test_an_impossible_weighing_refuses_the_whole_batch_naming_it(
    site: Site, case: str
) -> None:
    change, reason = WEIGHING_CASES[case]
    tares = [tare_record(), tare_record()]
    site.tare.push(*(wire("tare", t) for t in tares)).raise_for_status()
    good, bad = (weighing_record(t) for t in tares)
    change(bad)

    response = _push_raw(site.gross, [wire("weighing", good), wire("weighing", bad)])

    _refused(response, 1, reason)
    assert site.count(Weighing, id=good["id"]) == 0


def test_a_weighing_before_its_tare_in_the_same_batch_is_refused(site: Site) -> None:
    tare = tare_record(station_id=1)
    weighing = weighing_record(tare)

    response = site.gross.push(wire("weighing", weighing), wire("tare", tare))

    _refused(response, 0, "中心没有它的回皮记录", tare["id"])
    assert site.count(Tare, id=tare["id"]) == 0


def test_a_weighing_without_a_tare_id_is_refused(site: Site) -> None:
    weighing = weighing_record(tare_record(), tare_id=None)

    response = site.gross.push(wire("weighing", weighing))

    _refused(response, 0, "tare_id")


def test_a_second_weighing_on_a_consumed_tare_is_a_tare_used_conflict(
    site: Site,
) -> None:
    tare, other = tare_record(), tare_record()
    site.tare.push(wire("tare", tare), wire("tare", other)).raise_for_status()
    first = weighing_record(tare)
    site.gross.push(wire("weighing", first)).raise_for_status()
    second, unrelated = weighing_record(tare), weighing_record(other)

    body = site.gross.push(wire("weighing", second), wire("weighing", unrelated))

    answer = body.json()
    assert answer["stored"] == [unrelated["id"]]
    [conflict] = answer["conflicts"]
    assert (conflict["id"], conflict["code"]) == (second["id"], "tare_used")
    assert first["ticket_no"] in conflict["reason"]
    assert site.count(Weighing, id=second["id"]) == 0


def test_two_weighings_on_one_tare_in_one_batch_store_only_the_first(
    site: Site,
) -> None:
    tare = tare_record()
    site.tare.push(wire("tare", tare)).raise_for_status()
    first, second = weighing_record(tare), weighing_record(tare)

    body = site.gross.push(wire("weighing", first), wire("weighing", second)).json()

    assert body["stored"] == [first["id"]]
    assert [(c["id"], c["code"]) for c in body["conflicts"]] == [
        (second["id"], "tare_used")
    ]


def test_after_voiding_its_weighing_a_tare_may_be_consumed_again(site: Site) -> None:
    tare = tare_record()
    site.tare.push(wire("tare", tare)).raise_for_status()
    first = weighing_record(tare)
    site.gross.push(wire("weighing", first)).raise_for_status()
    voided = dict(first, voided=True, void_reason="车号录错")
    site.gross.push(wire("weighing", voided)).raise_for_status()

    again = weighing_record(tare)
    body = site.gross.push(wire("weighing", again)).json()

    assert body["stored"] == [again["id"]] and body["conflicts"] == []


def test_a_void_weighing_on_a_consumed_tare_is_stored_as_a_record(
    site: Site,
) -> None:
    tare = tare_record()
    site.tare.push(wire("tare", tare)).raise_for_status()
    site.gross.push(wire("weighing", weighing_record(tare))).raise_for_status()
    cancelled = weighing_record(tare, voided=True, void_reason="重复开单")

    body = site.gross.push(wire("weighing", cancelled)).json()

    assert body["stored"] == [cancelled["id"]]


def test_every_conflict_carries_a_stable_code(site: Site) -> None:
    tare = tare_record()
    site.tare.push(wire("tare", tare)).raise_for_status()
    weighing = weighing_record(tare)
    site.gross.push(wire("weighing", weighing)).raise_for_status()
    edited_tare = dict(tare, operator="别人")

    body = site.tare.push(wire("tare", edited_tare)).json()

    assert [(c["id"], c["code"]) for c in body["conflicts"]] == [
        (tare["id"], "changed")
    ]
    assert set(body["conflicts"][0]) == {"id", "code", "reason"}
