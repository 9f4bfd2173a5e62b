"""The web pages people read: index, 过磅记录 report, 车辆登记 list."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.server.server_site import Site, tare_record, weighing_record, wire


def _get(site: Site, path: str, status: int = 200) -> str:
    response = site.anonymous.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def _weigh(
    site: Site, plate: str, tare_kg: int, gross_kg: int, gross_at: str, **overrides: Any
) -> dict[str, Any]:
    at = datetime.fromisoformat(gross_at)
    tare = tare_record(
        plate=plate, tare_kg=tare_kg, weighed_at=at - timedelta(minutes=40), **overrides
    )
    weighing = weighing_record(tare, gross_kg=gross_kg, gross_at=at)
    site.tare.push(wire("tare", tare)).raise_for_status()
    site.gross.push(wire("weighing", weighing)).raise_for_status()
    return weighing


def _between(html: str, start: str, end: str) -> str:
    head = html.index(start)
    return html[head : html.index(end, head)]


def test_index_links_to_the_report_and_the_vehicle_list(site: Site) -> None:
    html = _get(site, "/")

    assert 'href="/weighings"' in html and 'href="/vehicles"' in html
    assert "过磅记录" in html and "车辆登记" in html
    assert f"{site.server.url}/v/" in html


def test_report_lists_the_days_weighings_with_totals_in_tonnes(site: Site) -> None:
    first = _weigh(
        site,
        "晋H00001",
        15200,
        49320,
        "2024-03-01T01:00:00+00:00",
        product="洗精煤",
        customer="大阳电厂",
    )
    second = _weigh(site, "晋H00002", 14800, 47810, "2024-03-01T02:30:00+00:00")

    html = _get(site, "/weighings?date=2024-03-01")

    assert "过磅记录" in html
    for text in (
        first["ticket_no"],
        second["ticket_no"],
        "晋H00001",
        "晋H00002",
        "洗精煤",
        "大阳电厂",
        "49.32",
        "15.20",
        "34.12",
        "33.01",
        "03-01 09:00",
    ):
        assert text in html
    totals = _between(html, "<tfoot>", "</tfoot>")
    assert "合计 2 车" in totals
    assert "30.00" in totals and "97.13" in totals and "67.13" in totals


def test_report_marks_voided_tickets_and_leaves_them_out_of_the_totals(
    site: Site,
) -> None:
    kept = _weigh(site, "晋H00011", 15000, 45000, "2024-03-02T03:00:00+00:00")
    voided = _weigh(site, "晋H00012", 15000, 50000, "2024-03-02T04:00:00+00:00")
    cancel = dict(voided, voided=True, void_reason="毛重有误")
    site.gross.push(wire("weighing", cancel)).raise_for_status()

    html = _get(site, "/weighings?date=2024-03-02")

    assert kept["ticket_no"] in html and voided["ticket_no"] in html
    assert "作废：毛重有误" in html
    totals = _between(html, "<tfoot>", "</tfoot>")
    assert "合计 1 车" in totals and "另有作废 1 张" in totals
    assert "30.00" in totals and "35.00" not in totals


def test_report_days_follow_the_sites_local_time(site: Site) -> None:
    # 17:00 UTC on 4 March is 01:00 on 5 March in Shanxi.
    late = _weigh(site, "晋H00021", 15000, 45000, "2024-03-04T17:00:00+00:00")

    on_the_4th = _get(site, "/weighings?date=2024-03-04")
    on_the_5th = _get(site, "/weighings?date=2024-03-05")

    assert late["ticket_no"] not in on_the_4th
    assert late["ticket_no"] in on_the_5th and "03-05 01:00" in on_the_5th


def test_report_for_a_day_without_weighings_says_so(site: Site) -> None:
    html = _get(site, "/weighings?date=2001-01-01")

    assert "这一天没有过磅记录" in html


def test_report_with_a_malformed_date_is_a_400_page_in_chinese(site: Site) -> None:
    html = _get(site, "/weighings?date=2024-13-45", status=400)

    assert "日期应写成 YYYY-MM-DD" in html


def test_record_text_is_escaped_in_the_pages(site: Site) -> None:
    _weigh(
        site,
        "晋H00031",
        15000,
        45000,
        "2024-03-06T03:00:00+00:00",
        customer="<script>alert(1)</script>",
    )

    html = _get(site, "/weighings?date=2024-03-06")

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_vehicle_list_shows_the_registered_vehicles(site: Site) -> None:
    html = _get(site, "/vehicles")

    assert "车辆登记" in html
    row = _between(html, "<td>晋A12345</td>", "</tr>")
    for text in (
        "大阳运输",
        "张三",
        "13800000000",
        "15.20",
        "49.00",
        "混煤",
        "大阳电厂",
        "在用",
    ):
        assert text in row


def test_an_unknown_page_is_a_404_page(site: Site) -> None:
    html = _get(site, "/no-such-page", status=404)

    assert "没有这个地址" in html
