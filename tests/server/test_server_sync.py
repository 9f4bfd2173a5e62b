"""Booths pushing tares and weighings and pulling master data, against a live server."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from common.models import AuditEntry, Counter, Tare, Weighing
from server.journal import verify_chain
from tests.server.server_site import (
    GROSS,
    TARE,
    Booth,
    Site,
    booth_client,
    new_signer,
    tare_record,
    weighing_record,
    wire,
)


def _rev(site: Site) -> int:
    with site.session() as session:
        return session.get_one(Counter, "rev").value


def _error_code(response: httpx.Response) -> int:
    code: int = response.json()["error"]["code"]
    return code


def _pushed_pair(
    site: Site, plate: str = "晋A12345"
) -> tuple[dict[str, Any], dict[str, Any]]:
    tare = tare_record(plate=plate)
    weighing = weighing_record(tare)
    assert site.tare.push(wire("tare", tare)).status_code == 200
    assert site.gross.push(wire("weighing", weighing)).status_code == 200
    return tare, weighing


def test_heartbeat_reports_ok_and_the_server_time(site: Site) -> None:
    body = site.anonymous.get("/api/v1/heartbeat").json()

    assert body["status"] == "ok"
    assert body["server_time"].endswith("+00:00")


def test_push_without_a_token_is_refused_with_401(site: Site) -> None:
    response = site.anonymous.post(
        "/api/v1/sync/push", json={"records": [wire("tare", tare_record())]}
    )

    assert response.status_code == 401
    assert _error_code(response) == 101
    assert response.headers["www-authenticate"] == "Bearer"


def test_push_and_pull_with_a_wrong_token_are_refused_with_401(site: Site) -> None:
    with booth_client(site.server.url, "not-a-real-token") as impostor:
        pushed = impostor.post(
            "/api/v1/sync/push", json={"records": [wire("tare", tare_record())]}
        )
        pulled = impostor.get("/api/v1/sync/pull")

    assert (pushed.status_code, _error_code(pushed)) == (401, 102)
    assert (pulled.status_code, _error_code(pulled)) == (401, 102)


def test_booth_registers_its_key_once_and_a_different_key_is_refused(
    site: Site,
) -> None:
    first, second = new_signer(), new_signer()
    client = site.keyless.client

    registered = client.put(
        "/api/v1/booth/key", json={"public_key": first.public_key_hex}
    )
    again = client.put("/api/v1/booth/key", json={"public_key": first.public_key_hex})
    other = client.put("/api/v1/booth/key", json={"public_key": second.public_key_hex})

    assert registered.json()["status"] == "registered"
    assert again.json()["status"] == "unchanged"
    assert (other.status_code, _error_code(other)) == (409, 107)


def test_a_public_key_that_is_not_32_bytes_of_hex_is_refused(site: Site) -> None:
    response = site.tare.client.put("/api/v1/booth/key", json={"public_key": "zz" * 32})

    assert (response.status_code, _error_code(response)) == (422, 104)


def test_pushed_records_are_stored_once_and_a_repeat_changes_nothing(
    site: Site,
) -> None:
    tare = tare_record()
    weighing = weighing_record(tare)

    first = site.tare.push(wire("tare", tare)).json()
    second = site.gross.push(wire("weighing", weighing)).json()
    rev_after = _rev(site)
    repeat_tare = site.tare.push(wire("tare", tare)).json()
    repeat_weighing = site.gross.push(wire("weighing", weighing)).json()

    assert first["stored"] == [tare["id"]] and second["stored"] == [weighing["id"]]
    assert repeat_tare == {
        "stored": [],
        "unchanged": [tare["id"]],
        "conflicts": [],
        "rev": rev_after,
    }
    assert repeat_weighing["unchanged"] == [weighing["id"]]
    assert site.count(Tare, id=tare["id"]) == 1
    assert site.count(Weighing, id=weighing["id"]) == 1
    assert _rev(site) == rev_after


def test_stored_records_read_back_exactly_as_pushed(site: Site) -> None:
    tare, weighing = _pushed_pair(site)

    with site.session() as session:
        stored = session.get_one(Weighing, weighing["id"])
        assert stored.gross_at.tzinfo is not None
        assert stored.gross_at.astimezone(UTC).isoformat() == weighing["gross_at"]
        assert (stored.tare_kg, stored.gross_kg, stored.net_kg) == (
            tare["tare_kg"],
            weighing["gross_kg"],
            weighing["net_kg"],
        )
        assert stored.rev > 0


def test_a_batch_with_one_bad_record_is_refused_whole_naming_the_record(
    site: Site,
) -> None:
    good, bad = tare_record(), tare_record()
    bad["tare_kg"] = 15200.5  # weights are whole kilograms

    response = site.tare.push(wire("tare", good), wire("tare", bad))

    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["index"]) == (105, 1)
    assert "第 1 条" in error["message"] and "tare_kg" in error["message"]
    assert site.count(Tare, id=good["id"]) == 0


def test_unknown_fields_and_unknown_kinds_are_refused(site: Site) -> None:
    extra = tare_record(colour="red")

    unknown_field = site.tare.push(wire("tare", extra))
    unknown_kind = site.tare.push(wire("vehicle", {"id": "x", "plate": "晋A1"}))

    assert unknown_field.status_code == unknown_kind.status_code == 422
    assert "colour" in unknown_field.json()["error"]["message"]


def test_a_weighing_whose_net_is_not_gross_minus_tare_is_refused(site: Site) -> None:
    weighing = weighing_record(tare_record())
    weighing["net_kg"] += 100

    response = site.gross.push(wire("weighing", weighing))

    assert (response.status_code, _error_code(response)) == (422, 105)
    assert site.count(Weighing, id=weighing["id"]) == 0


def test_a_booth_pushing_another_stations_record_is_refused_with_403(
    site: Site,
) -> None:
    own = weighing_record(tare_record())
    foreign = tare_record(station_id=TARE)

    response = site.gross.push(wire("weighing", own), wire("tare", foreign))

    assert (response.status_code, _error_code(response)) == (403, 103)
    assert response.json()["error"]["index"] == 1
    assert site.count(Weighing, id=own["id"]) == 0


def test_a_batch_of_more_than_500_records_is_refused(site: Site) -> None:
    records = [wire("tare", tare_record()) for _ in range(501)]

    response = site.tare.push(*records)

    assert (response.status_code, _error_code(response)) == (413, 106)


def test_a_malformed_body_gets_the_json_error_shape(site: Site) -> None:
    response = site.tare.client.post(
        "/api/v1/sync/push",
        content=b'{"records": [',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422
    assert set(response.json()["error"]) == {"code", "message"}


def test_voiding_a_stored_weighing_is_applied_with_a_new_change_stamp(
    site: Site,
) -> None:
    _tare, weighing = _pushed_pair(site)
    rev_before = _rev(site)

    voided = dict(weighing, voided=True, void_reason="毛重读数有误，重新过磅")
    body = site.gross.push(wire("weighing", voided)).json()

    assert body["stored"] == [weighing["id"]] and body["conflicts"] == []
    assert body["rev"] > rev_before
    with site.session() as session:
        stored = session.get_one(Weighing, weighing["id"])
        assert stored.voided and stored.void_reason == "毛重读数有误，重新过磅"
        assert stored.gross_kg == weighing["gross_kg"]


def test_any_other_change_to_a_stored_weighing_is_a_conflict_not_applied(
    site: Site,
) -> None:
    _tare, weighing = _pushed_pair(site)

    edited = dict(weighing, gross_kg=52000, net_kg=52000 - weighing["tare_kg"])
    body = site.gross.push(wire("weighing", edited)).json()

    assert body["stored"] == [] and body["unchanged"] == []
    [conflict] = body["conflicts"]
    assert (conflict["id"], conflict["code"]) == (weighing["id"], "changed")
    assert "gross_kg" in conflict["reason"] and "net_kg" in conflict["reason"]
    with site.session() as session:
        assert session.get_one(Weighing, weighing["id"]).gross_kg == 49320


def test_a_voided_weighing_cannot_be_restored(site: Site) -> None:
    _tare, weighing = _pushed_pair(site)
    site.gross.push(wire("weighing", dict(weighing, voided=True, void_reason="x")))

    body = site.gross.push(wire("weighing", weighing)).json()

    assert [c["id"] for c in body["conflicts"]] == [weighing["id"]]


def test_a_ticket_number_used_by_another_weighing_is_a_conflict(site: Site) -> None:
    _tare, weighing = _pushed_pair(site)
    other_tare = tare_record()
    site.tare.push(wire("tare", other_tare)).raise_for_status()
    copy = weighing_record(other_tare, ticket_no=weighing["ticket_no"])

    body = site.gross.push(wire("weighing", copy)).json()

    assert [(c["id"], c["code"]) for c in body["conflicts"]] == [
        (copy["id"], "ticket_no_used")
    ]
    assert weighing["ticket_no"] in body["conflicts"][0]["reason"]
    assert site.count(Weighing, id=copy["id"]) == 0


def _changes(site: Site, since: int) -> list[dict[str, Any]]:
    body = site.gross.pull(since=since).json()
    changes: list[dict[str, Any]] = body["changes"]
    return changes


def test_pull_since_a_cursor_returns_new_vehicles_and_open_tares(site: Site) -> None:
    since = _rev(site)
    tare = tare_record(plate="晋B00001")
    site.tare.push(wire("tare", tare))

    body = site.gross.pull(since=since).json()

    assert [(c["kind"], c["data"]["id"]) for c in body["changes"]] == [
        ("tare", tare["id"])
    ]
    assert body["changes"][0]["data"] == tare
    assert body["cursor"] == body["changes"][0]["rev"] > since
    assert body["more"] is False
    assert site.gross.pull(since=body["cursor"]).json() == {
        "changes": [],
        "cursor": body["cursor"],
        "more": False,
    }


def test_first_pull_includes_the_registered_vehicles(site: Site) -> None:
    changes = _changes(site, 0)

    vehicles = [c["data"] for c in changes if c["kind"] == "vehicle"]
    assert [v["plate"] for v in vehicles] == ["晋A12345"]
    assert vehicles[0]["ref_tare_kg"] == 15200
    assert [c["rev"] for c in changes] == sorted(c["rev"] for c in changes)


def test_a_consumed_tare_is_pulled_as_closed(site: Site) -> None:
    since = _rev(site)
    tare = tare_record(plate="晋B00002")
    site.tare.push(wire("tare", tare))
    open_rev = _changes(site, since)[-1]["rev"]

    site.gross.push(wire("weighing", weighing_record(tare)))

    later = [c for c in _changes(site, open_rev) if c["data"]["id"] == tare["id"]]
    assert later == [
        {"kind": "tare_closed", "data": {"id": tare["id"]}, "rev": later[0]["rev"]}
    ]
    assert later[0]["rev"] > open_rev


def test_voiding_the_weighing_reopens_its_tare(site: Site) -> None:
    tare, weighing = _pushed_pair(site, plate="晋B00003")
    since = _rev(site)

    site.gross.push(wire("weighing", dict(weighing, voided=True, void_reason="错车")))

    kinds = [(c["kind"], c["data"]["id"]) for c in _changes(site, since)]
    assert ("tare", tare["id"]) in kinds


def test_a_tare_consumed_in_the_batch_that_brings_it_is_pulled_as_closed(
    site: Site,
) -> None:
    # A booth that weighs both tare and gross pushes the two together.
    since = _rev(site)
    tare = tare_record(plate="晋B00004", station_id=GROSS)
    weighing = weighing_record(tare)

    body = site.gross.push(wire("tare", tare), wire("weighing", weighing)).json()

    assert body["stored"] == [tare["id"], weighing["id"]]
    kinds = [(c["kind"], c["data"]["id"]) for c in _changes(site, since)]
    assert kinds == [("tare_closed", tare["id"])]


def test_pull_pages_by_limit_and_says_when_more_is_waiting(site: Site) -> None:
    since = _rev(site)
    tares = [tare_record(plate=f"晋C0000{n}") for n in range(5)]
    site.tare.push(*(wire("tare", t) for t in tares))

    first = site.gross.pull(since=since, limit=3).json()
    rest = site.gross.pull(since=first["cursor"], limit=3).json()

    assert (len(first["changes"]), first["more"]) == (3, True)
    assert (len(rest["changes"]), rest["more"]) == (2, False)
    pulled = [c["data"]["id"] for c in first["changes"] + rest["changes"]]
    assert pulled == [t["id"] for t in tares]


def test_pull_with_a_negative_cursor_is_a_400(site: Site) -> None:
    response = site.gross.pull(since=-1)

    assert (response.status_code, _error_code(response)) == (400, 110)


def test_an_unknown_api_route_answers_with_the_json_error_shape(site: Site) -> None:
    response = site.anonymous.get("/api/v1/no-such-thing")

    assert (response.status_code, _error_code(response)) == (404, 109)


def _recomputed_hash(prev_hash: str, entry: AuditEntry) -> str:
    # The documented recipe, written out again rather than borrowed from the server.
    at = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    body = json.dumps(
        {
            "action": entry.action,
            "actor": entry.actor,
            "at": at,
            "detail": entry.detail,
            "record_id": entry.record_id,
            "record_kind": entry.record_kind,
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def test_every_applied_change_is_in_an_audit_chain_that_verifies(site: Site) -> None:
    tare, weighing = _pushed_pair(site, plate="晋D00001")
    site.gross.push(wire("weighing", dict(weighing, voided=True, void_reason="复核")))

    with site.session() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert verify_chain(session) == len(entries)

    prev = "0" * 64
    for entry in entries:
        assert entry.prev_hash == prev
        assert entry.hash == _recomputed_hash(prev, entry)
        prev = entry.hash
    mine = [
        (e.action, e.record_kind, e.actor)
        for e in entries
        if e.record_id in (tare["id"], weighing["id"])
    ]
    assert mine == [
        ("create", "tare", "station:2"),
        ("create", "weighing", "station:1"),
        ("void", "weighing", "station:1"),
    ]


def test_pushes_from_two_booths_at_once_get_distinct_change_stamps(site: Site) -> None:
    consumed = [tare_record(plate=f"晋F{n:05d}") for n in range(40)]
    site.tare.push(*(wire("tare", t) for t in consumed)).raise_for_status()
    since = _rev(site)
    tares = [tare_record(plate=f"晋E{n:05d}") for n in range(40)]
    weighings = [weighing_record(tare) for tare in consumed]

    statuses: list[int] = []

    def push_each(booth: Booth, kind: str, records: list[dict[str, Any]]) -> None:
        statuses.extend(booth.push(wire(kind, r)).status_code for r in records)

    threads = [
        threading.Thread(target=push_each, args=(site.tare, "tare", tares)),
        threading.Thread(target=push_each, args=(site.gross, "weighing", weighings)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with site.session() as session:
        revs = list(session.scalars(select(Weighing.rev).where(Weighing.rev > since)))
        revs += session.scalars(select(Tare.rev).where(Tare.rev > since))
        assert verify_chain(session) > 0
    # 40 new tares, 40 weighings, and the 40 tares those closed.
    assert statuses == [200] * 80
    assert len(revs) == len(set(revs)) == 120


def test_records_survive_a_killed_server_and_a_repeat_push_after_restart(
    site: Site,
) -> None:
    tare, weighing = _pushed_pair(site, plate="晋G00001")

    site.server.kill()
    site.server.start()

    body = site.gross.push(wire("weighing", weighing)).json()
    assert body["unchanged"] == [weighing["id"]]
    assert site.count(Tare, id=tare["id"]) == 1


def test_a_stopped_server_stops_once_and_serves_again_after_restart(
    site: Site,
) -> None:
    site.server.stop()
    site.server.stop()
    with pytest.raises(httpx.ConnectError):
        site.anonymous.get("/api/v1/heartbeat")

    site.server.restart()

    assert site.anonymous.get("/api/v1/heartbeat").status_code == 200
