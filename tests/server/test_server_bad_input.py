"""Bad input is the caller's fault: a 4xx with the error shape, never a 500.

And bodies have a size limit, enforced before the body is read or the booth's
credential is looked at.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterable
from typing import Any

import httpx
import pytest

from common.models import Tare
from server.app import MAX_BODY_BYTES
from server.sync import MAX_PUSH_BYTES
from tests.server.server_site import Site, booth_client, tare_record, wire

PUSH = "/api/v1/sync/push"
CHUNK = 64 * 1024


def _error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def _post(site: Site, body: bytes, path: str = PUSH) -> httpx.Response:
    headers = {"content-type": "application/json"}
    return site.tare.client.post(path, content=body, headers=headers)


@pytest.mark.parametrize("kind", [[], {}, 5, None])
def test_a_record_kind_that_is_not_a_string_is_a_422(site: Site, kind: Any) -> None:
    response = site.tare.client.post(
        PUSH, json={"records": [{"kind": kind, "data": {}}]}
    )

    assert response.status_code == 422
    assert (_error(response)["code"], _error(response)["index"]) == (105, 0)
    assert "第 0 条记录" in _error(response)["message"]


def test_a_pull_cursor_beyond_64_bits_is_a_400(site: Site) -> None:
    beyond = site.gross.pull(since=2**63)
    largest = site.gross.pull(since=2**63 - 1)

    assert (beyond.status_code, _error(beyond)["code"]) == (400, 110)
    assert largest.status_code == 200 and largest.json()["changes"] == []


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_a_report_day_outside_the_years_the_system_holds_is_a_400_page(
    site: Site, day: str
) -> None:
    response = site.anonymous.get("/weighings", params={"date": day})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "日期应在 2000–2100 年之间" in response.text


def test_a_body_that_is_not_utf8_is_a_400_with_its_own_code(site: Site) -> None:
    response = _post(site, b'{"records": ["\xff\xfe"]}')

    assert response.status_code == 400
    assert _error(response)["code"] == 113
    assert "UTF-8" in _error(response)["message"]


def test_absurdly_nested_json_is_a_400_with_its_own_code(site: Site) -> None:
    depth = 100_000
    response = _post(site, b'{"records": ' + b"[" * depth + b"]" * depth + b"}")

    assert response.status_code == 400
    assert _error(response)["code"] == 113
    assert "JSON" in _error(response)["message"]


def test_an_extra_key_that_is_a_lone_surrogate_is_a_422(site: Site) -> None:
    body = json.dumps({"records": [], "\ud800": 1}, ensure_ascii=True).encode()

    response = _post(site, body)

    assert (response.status_code, _error(response)["code"]) == (422, 104)


# Requests an attacker tried, and a few more like them: none may be a 500.
BAD_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", PUSH, {"json": {"records": [{"kind": [], "data": {}}]}}),
    ("POST", PUSH, {"json": {"records": [{"kind": "tare", "data": []}]}}),
    ("POST", PUSH, {"json": {"records": [["tare", {}]]}}),
    ("POST", PUSH, {"json": {"records": {"kind": "tare"}}}),
    ("POST", PUSH, {"json": []}),
    ("POST", PUSH, {"content": b"null"}),
    ("POST", PUSH, {"content": b"\x00\x01\x02"}),
    ("POST", PUSH, {"content": b'{"records": [1e999]}'}),
    ("POST", PUSH, {"content": b'{"records": [' + b"9" * 5000 + b"]}"}),
    ("POST", PUSH, {"json": {"records": [wire("tare", {"id": "x" * 37})]}}),
    ("PUT", "/api/v1/booth/key", {"json": {"public_key": "\u00e9" * 64}}),
    ("PUT", "/api/v1/booth/key", {"json": {"public_key": 5}}),
    ("PUT", "/api/v1/booth/key", {"content": b"\xff"}),
    ("GET", "/api/v1/sync/pull?since=9223372036854775808", {}),
    ("GET", "/api/v1/sync/pull?since=-9223372036854775809", {}),
    ("GET", "/api/v1/sync/pull?since=1e3", {}),
    ("GET", "/api/v1/sync/pull?limit=99999999999999999999", {}),
    ("GET", "/api/v1/booth/ticket-seq?day=%00", {}),
    ("GET", "/api/v1/booth/ticket-seq?day=" + "9" * 5000, {}),
    ("GET", "/api/v1/verify/%ff%fe", {}),
    ("GET", "/api/v1/verify/" + "A" * 4000 + "." + "B" * 86, {}),
    ("GET", "/v/%00.%00", {}),
    ("GET", "/weighings?date=9999-12-31", {}),
    ("GET", "/weighings?date=0001-01-01", {}),
    ("GET", "/weighings?date=%ff", {}),
    ("DELETE", PUSH, {}),
]


def test_no_bad_request_gets_a_500_or_leaves_a_traceback(site: Site) -> None:
    answers = []
    for method, path, kwargs in BAD_REQUESTS:
        response = site.tare.client.request(method, path, **kwargs)
        answers.append((method, path[:60], kwargs, response.status_code))
        if path.startswith("/api/"):
            assert set(_error(response)) >= {"code", "message"}
            assert _error(response)["code"] != 999

    assert all(status < 500 for *_request, status in answers), answers
    assert "Traceback" not in site.server.log_text()


def _raw(site: Site, head: str, chunks: Iterable[bytes] = ()) -> tuple[int, Any]:
    """Send a request by hand (head, then body chunks); its status and JSON."""
    with socket.create_connection(("127.0.0.1", site.server.port), timeout=20) as s:
        s.sendall(head.encode("latin-1"))
        for chunk in chunks:
            s.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        response = http.client.HTTPResponse(s)
        response.begin()
        return response.status, json.loads(response.read())


def _head(path: str, token: str | None, extra: str) -> str:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"
        f"Content-Type: application/json\r\n{extra}\r\n"
    )


@pytest.mark.parametrize("token", ["tare", "wrong", None])
def test_a_declared_body_over_the_push_limit_is_refused_unread_before_auth(
    site: Site, token: str | None
) -> None:
    credential = {"tare": site.tare.token, "wrong": "x" * 40, None: None}[token]
    head = _head(PUSH, credential, f"Content-Length: {MAX_PUSH_BYTES + 1}\r\n")

    # No body is sent at all: the answer cannot have waited for it.
    status, body = _raw(site, head)

    assert status == 413
    assert body["error"]["code"] == 114 and "8 MiB" in body["error"]["message"]


def test_a_chunked_body_over_the_push_limit_is_refused_once_it_passes(
    site: Site,
) -> None:
    head = _head(PUSH, site.tare.token, "Transfer-Encoding: chunked\r\n")
    chunks = [b" " * CHUNK] * (MAX_PUSH_BYTES // CHUNK) + [b" "]

    status, body = _raw(site, head, chunks)

    assert (status, body["error"]["code"]) == (413, 114)


def test_other_routes_take_far_smaller_bodies(site: Site) -> None:
    padded = {"public_key": "ab" * 32, "pad": " " * MAX_BODY_BYTES}

    response = site.tare.client.put("/api/v1/booth/key", json=padded)

    assert (response.status_code, _error(response)["code"]) == (413, 114)


def test_a_push_of_a_few_megabytes_is_still_taken(site: Site) -> None:
    tare = tare_record(trace_json=json.dumps([[0, 15200]] * 200_000))

    response = site.tare.push(wire("tare", tare))

    assert response.status_code == 200, response.text[:200]
    assert site.count(Tare, id=tare["id"]) == 1


def test_the_limit_is_checked_before_the_token_is(site: Site) -> None:
    with booth_client(site.server.url, "no-such-token-at-all") as impostor:
        small = impostor.post(PUSH, json={"records": []})
        huge = impostor.put("/api/v1/booth/key", content=b" " * (MAX_BODY_BYTES + 1))

    assert small.status_code == 401
    assert huge.status_code == 413
