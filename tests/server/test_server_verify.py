"""Scanning a ticket's QR code (一票一码): genuine, pending, voided, altered, forged."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.server.server_site import (
    KEYLESS,
    Site,
    claims_for,
    new_signer,
    tare_record,
    weighing_record,
    wire,
)

VALID_WORD, INVALID_WORD = "真实有效", "无效"


def _check(site: Site, token: str) -> httpx.Response:
    return site.anonymous.get(f"/api/v1/verify/{token}")


def _page(site: Site, token: str) -> str:
    response = site.anonymous.get(f"/v/{token}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def _verdict_of(html: str) -> str:
    marker = 'data-verdict="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def _stored_weighing(
    site: Site, gross_at: datetime | None = None, **overrides: Any
) -> dict[str, Any]:
    tare_at = gross_at - timedelta(minutes=40) if gross_at else None
    tare = tare_record(
        plate="晋A12345", customer="大阳电厂", product="洗精煤", weighed_at=tare_at
    )
    weighing = weighing_record(tare, gross_at=gross_at, **overrides)
    site.tare.push(wire("tare", tare)).raise_for_status()
    site.gross.push(wire("weighing", weighing)).raise_for_status()
    return weighing


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _flip(text: str, index: int) -> str:
    replacement = "B" if text[index] != "B" else "C"
    return text[:index] + replacement + text[index + 1 :]


def test_a_genuine_ticket_is_valid_and_shows_the_record(site: Site) -> None:
    weighing = _stored_weighing(site, gross_kg=49320)
    token = site.gross.sign(weighing)

    body = _check(site, token).json()
    html = _page(site, token)

    assert (body["verdict"], body["valid"]) == ("genuine", True)
    assert body["weighing"]["ticket_no"] == weighing["ticket_no"]
    assert body["page"].endswith(f"/v/{token}")
    assert _verdict_of(html) == "genuine" and VALID_WORD in html
    for text in (
        weighing["ticket_no"],
        "晋A12345",
        "洗精煤",
        "大阳电厂",
        "49.32 t",
        "15.20 t",
        "34.12 t",
        "1 号磅",
        "2 号磅",
    ):
        assert text in html


def test_the_ticket_page_shows_times_in_the_sites_local_time(site: Site) -> None:
    gross_at = datetime.fromisoformat("2024-05-01T17:30:05+00:00")
    weighing = _stored_weighing(site, gross_at=gross_at)

    html = _page(site, site.gross.sign(weighing))

    assert "2024-05-02 01:30:05" in html


def test_a_signed_ticket_not_yet_synced_is_valid_but_pending(site: Site) -> None:
    weighing = weighing_record(tare_record(), gross_kg=50000)
    token = site.gross.sign(weighing)

    body = _check(site, token).json()
    html = _page(site, token)

    assert (body["verdict"], body["valid"], body["weighing"]) == (
        "genuine_pending",
        True,
        None,
    )
    assert body["claims"]["gross_kg"] == 50000
    assert _verdict_of(html) == "genuine_pending"
    assert "记录尚未同步到中心" in html and weighing["ticket_no"] in html


def test_a_voided_ticket_is_invalid(site: Site) -> None:
    weighing = _stored_weighing(site)
    token = site.gross.sign(weighing)
    voided = dict(weighing, voided=True, void_reason="车号录错")
    site.gross.push(wire("weighing", voided)).raise_for_status()

    body = _check(site, token).json()
    html = _page(site, token)

    assert (body["verdict"], body["valid"]) == ("voided", False)
    assert _verdict_of(html) == "voided"
    assert INVALID_WORD in html and "作废" in html and "车号录错" in html
    assert VALID_WORD not in html


def test_a_signed_ticket_that_differs_from_the_record_is_a_mismatch(site: Site) -> None:
    weighing = _stored_weighing(site, gross_kg=49320)
    claimed = dict(weighing, gross_kg=55320, net_kg=55320 - weighing["tare_kg"])
    token = site.gross.sign(claimed)

    body = _check(site, token).json()
    html = _page(site, token)

    assert (body["verdict"], body["valid"]) == ("mismatch", False)
    assert "毛重" in body["reason"] and "净重" in body["reason"]
    assert _verdict_of(html) == "mismatch" and INVALID_WORD in html
    assert VALID_WORD not in html


def test_a_flipped_signature_character_makes_the_ticket_forged(site: Site) -> None:
    token = site.gross.sign(_stored_weighing(site))
    payload, signature = token.split(".")
    tampered = f"{payload}.{_flip(signature, len(signature) // 2)}"

    body = _check(site, tampered).json()
    html = _page(site, tampered)

    assert (body["verdict"], body["valid"]) == ("forged", False)
    assert _verdict_of(html) == "forged"
    assert "伪造或篡改" in html and "假磅单" in html and VALID_WORD not in html


def test_a_raised_weight_in_the_payload_makes_the_ticket_forged(site: Site) -> None:
    token = site.gross.sign(_stored_weighing(site))
    payload, signature = token.split(".")
    doc = json.loads(_unb64(payload))
    doc["g"] += 10000
    doc["w"] += 10000
    raised = json.dumps(
        doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")
    tampered = f"{_b64(raised)}.{signature}"

    assert _check(site, tampered).json()["verdict"] == "forged"
    assert _verdict_of(_page(site, tampered)) == "forged"


def test_a_flipped_payload_character_is_never_taken_for_genuine(site: Site) -> None:
    token = site.gross.sign(_stored_weighing(site))
    payload, signature = token.split(".")
    tampered = f"{_flip(payload, len(payload) // 2)}.{signature}"

    response = _check(site, tampered)

    # Either the payload no longer parses (400, unreadable) or its signature
    # fails (forged); the page says the same as the API.
    body = response.json()
    verdict = body.get("verdict") or body["error"]["verdict"]
    assert verdict in ("forged", "unreadable")
    assert response.status_code == (400 if verdict == "unreadable" else 200)
    assert _verdict_of(_page(site, tampered)) == verdict


RANDOM_STRINGS = [
    "hello",
    "q8Zr1KxV0bN4mW7pYtE2uHs6Lc9DfGjA3iOwXyRn5",
    "abc.def",
    "a.b.c",
]
UNREADABLE_WORDS = "二维码不完整或无法识别，请重新扫描"


def _assert_unreadable_page(html: str) -> None:
    assert _verdict_of(html) == "unreadable"
    assert UNREADABLE_WORDS in html
    assert "假磅单" not in html and "伪造" not in html and VALID_WORD not in html
    assert 'class="verdict unreadable"' in html and "verdict invalid" not in html


@pytest.mark.parametrize("token", RANDOM_STRINGS)
def test_a_random_string_is_a_400_for_the_api_and_an_unreadable_page_for_people(
    site: Site, token: str
) -> None:
    response = _check(site, token)
    html = _page(site, token)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["verdict"]) == (108, "unreadable")
    assert error["message"] == UNREADABLE_WORDS
    _assert_unreadable_page(html)


def test_a_token_cut_short_by_the_scan_asks_for_a_rescan_not_forged(
    site: Site,
) -> None:
    token = site.gross.sign(_stored_weighing(site))

    for cut in (token[:-10], token[: len(token) // 2], token.split(".")[0]):
        response = _check(site, cut)
        assert (response.status_code, response.json()["error"]["verdict"]) == (
            400,
            "unreadable",
        )
        _assert_unreadable_page(_page(site, cut))


def test_a_ticket_naming_a_station_no_bridge_can_have_is_forged(site: Site) -> None:
    weighing = weighing_record(tare_record(), gross_station=2**70)

    body = _check(site, site.gross.sign(weighing)).json()

    assert body["verdict"] == "forged" and "未知的磅房" in body["reason"]


def test_a_ticket_signed_with_an_unregistered_key_is_forged(site: Site) -> None:
    weighing = _stored_weighing(site)
    token = new_signer().sign(claims_for(weighing))

    assert _check(site, token).json()["verdict"] == "forged"


def test_a_ticket_from_an_unknown_station_is_forged(site: Site) -> None:
    weighing = weighing_record(tare_record(), gross_station=99)

    body = _check(site, site.gross.sign(weighing)).json()

    assert body["verdict"] == "forged" and "99" in body["reason"]


def test_a_ticket_from_a_station_without_a_key_is_forged(site: Site) -> None:
    weighing = weighing_record(tare_record(), gross_station=KEYLESS)

    body = _check(site, site.gross.sign(weighing)).json()

    assert body["verdict"] == "forged" and "尚未登记" in body["reason"]
