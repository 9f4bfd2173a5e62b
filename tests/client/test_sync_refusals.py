"""What the booth does when the server says no: nothing refused is ever marked
as sent, and one bad record never blocks the rest. Real server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from client.store import SITE_TZ, LocalStore
from client.sync import SyncClient, SyncWorker
from common.signing import TicketSigner
from server.db import sqlite_url
from tests.support.live_server import LiveServer, add_station, start_live_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    db = sqlite_url(tmp_path / "srv" / "server.db")
    token = add_station(db, 1, "both")
    live = start_live_server(db, tmp_path)
    yield live, token
    live.stop()


def booth(tmp_path: Path, name: str, server: LiveServer, token: str
          ) -> tuple[LocalStore, SyncWorker]:
    store = LocalStore(tmp_path / name / "booth.db")
    key = TicketSigner.load_or_create(tmp_path / "key.pem")  # one booth, one key
    worker = SyncWorker(SyncClient(server.url, token, store, 1), key.public_key_hex,
                        interval_s=60)
    return store, worker


def tare_and_weighing(store: LocalStore, plate: str) -> None:
    at = datetime.now(UTC) - timedelta(minutes=30)
    tare = store.add_tare(station_id=1, plate=plate, tare_kg=15_000, weighed_at=at)
    store.add_weighing(1, plate=plate, tare_id=tare.id, tare_kg=15_000,
                       gross_kg=49_000, net_kg=34_000, tare_station=1, tare_at=at)


def test_a_refused_record_is_set_aside_and_the_records_behind_it_still_go(
        server: tuple[LiveServer, str], tmp_path: Path) -> None:
    live, token = server
    store, worker = booth(tmp_path, "b", live, token)
    store.add_tare(station_id=1, plate="晋K00001", tare_kg=15_000)
    store.add_tare(station_id=1, plate="晋A1234567890ABCDEFG", tare_kg=15_000)
    store.add_tare(station_id=1, plate="晋K00003", tare_kg=15_000)

    status = worker.run_once()

    assert status.online and status.pending == 0 and status.rejected == 1
    [refused] = store.rejected()
    assert "plate" in refused.rejected_reason or "车号" in refused.rejected_reason
    worker.client.close()


def test_a_reinstalled_booth_continues_ticket_numbers_instead_of_colliding(
        server: tuple[LiveServer, str], tmp_path: Path) -> None:
    live, token = server
    old, old_worker = booth(tmp_path, "old", live, token)
    tare_and_weighing(old, "晋K00001")
    assert old_worker.run_once().pending == 0

    # A new PC, an empty local database, the same station: numbering goes on.
    new, new_worker = booth(tmp_path, "new", live, token)
    new_worker.run_once()
    tare_and_weighing(new, "晋K00002")
    status = new_worker.run_once()

    day = datetime.now(SITE_TZ).strftime("%Y%m%d")
    [w] = new.recent_weighings()
    assert w.ticket_no == f"1-{day}-0002"
    assert status.pending == 0 and status.rejected == 0
    old_worker.client.close()
    new_worker.client.close()


def test_a_conflicting_record_stays_visible_and_is_not_counted_as_sent(
        server: tuple[LiveServer, str], tmp_path: Path) -> None:
    live, token = server
    old, old_worker = booth(tmp_path, "old", live, token)
    tare_and_weighing(old, "晋K00001")
    old_worker.run_once()

    # A booth that numbered offline before it could ask the server: same number.
    new, new_worker = booth(tmp_path, "new", live, token)
    tare_and_weighing(new, "晋K00002")
    status = new_worker.run_once()

    assert status.rejected == 1 and status.pending == 0
    [refused] = new.rejected()
    assert refused.kind == "weighing" and refused.sent_at is None
    assert "磅单号" in refused.rejected_reason
    old_worker.client.close()
    new_worker.client.close()
