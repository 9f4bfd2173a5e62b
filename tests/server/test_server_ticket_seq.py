"""``GET /api/v1/booth/ticket-seq``: where a reinstalled booth's numbering goes on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.server.server_site import (
    Booth,
    Site,
    tare_record,
    weighing_record,
    wire,
)

DAY = "20240601"


def _last_seq(booth: Booth | httpx.Client, day: str) -> httpx.Response:
    client = booth.client if isinstance(booth, Booth) else booth
    return client.get("/api/v1/booth/ticket-seq", params={"day": day})


def _ticket(booth: Booth, seq: int, day: str = DAY, **overrides: Any) -> None:
    """Store one of ``booth``'s weighings numbered ``seq`` on ``day``."""
    gross_at = datetime.strptime(f"{day} 10:00 +0800", "%Y%m%d %H:%M %z")
    tare = tare_record(station_id=booth.station_id, weighed_at=gross_at)
    weighing = weighing_record(
        tare,
        gross_at=gross_at,
        gross_station=booth.station_id,
        ticket_no=f"{booth.station_id}-{day}-{seq:04d}",
        **overrides,
    )
    answer = booth.push(wire("tare", tare), wire("weighing", weighing))
    assert answer.json()["stored"] == [tare["id"], weighing["id"]]


def test_a_day_without_tickets_continues_from_zero(site: Site) -> None:
    response = _last_seq(site.gross, "20240102")

    assert response.status_code == 200
    assert response.json() == {"day": "20240102", "last_seq": 0}


def test_the_highest_stored_number_of_the_station_and_day_is_returned(
    site: Site,
) -> None:
    _ticket(site.gross, 1)
    _ticket(site.gross, 7, voided=True, void_reason="作废的号也不再用")
    _ticket(site.gross, 3)
    _ticket(site.gross, 12, day="20240602")
    _ticket(site.tare, 42)

    assert _last_seq(site.gross, DAY).json() == {"day": DAY, "last_seq": 7}
    assert _last_seq(site.tare, DAY).json() == {"day": DAY, "last_seq": 42}
    assert _last_seq(site.gross, "20240602").json()["last_seq"] == 12


def test_numbers_past_9999_still_count_as_numbers(site: Site) -> None:
    _ticket(site.gross, 10001, day="20240603")
    _ticket(site.gross, 9999, day="20240603")

    assert _last_seq(site.gross, "20240603").json()["last_seq"] == 10001


@pytest.mark.parametrize(
    "day", ["2024-06-01", "2024061", "202406011", "20241301", "20240230", "99991231"]
)
def test_a_day_that_is_not_yyyymmdd_is_a_400(site: Site, day: str) -> None:
    response = _last_seq(site.gross, day)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 110


def test_a_missing_day_is_a_400(site: Site) -> None:
    response = site.gross.client.get("/api/v1/booth/ticket-seq")

    assert (response.status_code, response.json()["error"]["code"]) == (400, 110)


def test_asking_without_a_booth_token_is_a_401(site: Site) -> None:
    response = _last_seq(site.anonymous, DAY)

    assert (response.status_code, response.json()["error"]["code"]) == (401, 101)
