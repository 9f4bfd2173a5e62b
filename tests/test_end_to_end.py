"""One truck through the whole system, on real parts.

A real server process on loopback (SQLite, and PostgreSQL when
WB_TEST_DATABASE_URL names one), two booths each reading a simulated Yaohua
indicator through a real pseudo-terminal and pyserial, a tare at 2号磅, a gross at
1号磅, the ticket PDF rasterised and its QR code read back with OpenCV, and the
URL in it fetched from the server.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from client.booth import Booth
from client.config import load_config
from client.devices.indicator_sim import IndicatorSimulator
from client.devices.scale import ScaleReader, ScaleSettings
from client.workflow import Outcome, Phase
from common.models import Outbox, Tare, Weighing
from server.db import make_engine, sqlite_url
from tests.support.live_server import (
    LiveServer,
    add_station,
    add_vehicle,
    drop_test_schema,
    pg_url_for_test,
    start_live_server,
)
from tests.support.qr import decode_qr, pdf_to_images

PLATE = "晋K58231"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass
class Station:
    booth: Booth
    sim: IndicatorSimulator
    reader: ScaleReader

    def close(self) -> None:
        self.reader.stop()
        self.sim.close()
        self.booth.close()


@dataclass
class Site:
    server: LiveServer
    db_url: str
    tare: Station
    gross: Station


def wait_for(ready: Callable[[], bool], timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "server" / "server.db")
        return
    base = os.environ.get("WB_TEST_DATABASE_URL")
    if not base:
        pytest.skip("WB_TEST_DATABASE_URL is not set")
    url = pg_url_for_test(base, request.node.name)
    yield url
    drop_test_schema(url)


def open_station(tmp: Path, station: int, purpose: str, token: str,
                 server_url: str) -> Station:
    sim = IndicatorSimulator(baud=9600, division_kg=20, seed=station)
    cfg = load_config(None, {
        "station_id": station, "purpose": purpose, "token": token,
        "server_url": server_url, "data_dir": str(tmp / f"booth{station}"),
        "scale_port": sim.port_name, "hold_s": 1.0,
        "operator": f"司磅员{station}"}, environ={})
    booth = Booth(cfg)
    # The reader thread hands every frame to the flow, as the console does.
    reader = ScaleReader(
        ScaleSettings(url=sim.port_name, protocol="yaohua_tf0", baudrate=9600),
        on_reading=lambda t, r: booth.flow.on_reading(t, r))
    reader.start()
    return Station(booth, sim, reader)


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    tokens = {1: add_station(db_url, 1, "gross"), 2: add_station(db_url, 2, "tare")}
    add_vehicle(db_url, PLATE, ref_tare_kg=15_300, product="原煤",
                customer="阳泉电厂")
    server = start_live_server(db_url, tmp_path)
    tare = open_station(tmp_path, 2, "tare", tokens[2], server.url)
    gross = open_station(tmp_path, 1, "gross", tokens[1], server.url)
    try:
        yield Site(server, db_url, tare, gross)
    finally:
        tare.close()
        gross.close()
        server.stop()


def weigh(station: Station, kg: int) -> Outcome:
    station.sim.drive_on(kg, ramp_s=1.0, bounce_s=1.5)
    wait_for(lambda: station.booth.flow.phase is Phase.READY, 15, "a stable weight")
    outcome = station.booth.flow.confirm(PLATE, tickets_dir=station.booth.tickets_dir)
    station.sim.drive_off(ramp_s=0.5)
    wait_for(lambda: station.booth.flow.phase is Phase.IDLE, 10, "drive-off")
    return outcome


def count(db_url: str, model: type) -> int:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        engine.dispose()


def test_one_truck_tare_gross_ticket_qr_and_check_page(site: Site) -> None:
    assert site.tare.booth.sync.run_once().online
    assert site.gross.booth.sync.run_once().online

    tare = weigh(site.tare, 15_280)
    assert tare.record.tare_kg == 15_280
    assert site.tare.booth.sync.run_once().pending == 0
    site.gross.booth.sync.run_once()  # pulls the open tare from the server
    assert site.gross.booth.store.find_open_tare(PLATE) is not None

    gross = weigh(site.gross, 49_300)
    assert gross.record.net_kg == 34_020
    assert site.gross.booth.sync.run_once().pending == 0

    # The ticket: rasterise the PDF, read the QR code as a phone would.
    assert gross.ticket_path is not None
    [page] = pdf_to_images(gross.ticket_path)
    url = decode_qr(page)
    assert url == gross.verify_url and url.startswith(site.server.url + "/v/")

    page_html = httpx.get(url, timeout=10).text
    assert "真实有效" in page_html and PLATE in page_html and "34.02" in page_html
    verdict = httpx.get(url.replace("/v/", "/api/v1/verify/"), timeout=10).json()
    assert verdict["verdict"] == "genuine"
    assert verdict["weighing"]["net_kg"] == 34_020

    # Forgeries: a changed claim (net 44 t) keeping the old signature, and junk.
    payload, sig = url.rsplit("/v/", 1)[1].split(".")
    forged_payload = payload.replace("w", "x", 1) if "w" in payload else payload[::-1]
    # Flip a character in the middle of the signature: its last characters can
    # carry padding bits that decode to the same bytes.
    mid = len(sig) // 2
    flipped = sig[:mid] + ("A" if sig[mid] != "A" else "B") + sig[mid + 1:]
    for bad in (f"{forged_payload}.{sig}", f"{payload}.{flipped}"):
        page = httpx.get(f"{site.server.url}/v/{bad}", timeout=10).text
        assert "无效" in page and "真实有效" not in page
    # A half-scanned code is not called a forgery: the reader is asked to rescan.
    page = httpx.get(f"{site.server.url}/v/abc.def", timeout=10).text
    assert "重新扫描" in page and "真实有效" not in page

    assert count(site.db_url, Weighing) == 1 and count(site.db_url, Tare) == 1


def test_server_down_during_weighing_syncs_once_when_it_returns(site: Site) -> None:
    site.tare.booth.sync.run_once()
    weigh(site.tare, 15_280)
    site.tare.booth.sync.run_once()
    site.gross.booth.sync.run_once()

    site.server.kill()
    gross = weigh(site.gross, 49_300)  # the booth keeps weighing alone
    status = site.gross.booth.sync.run_once()
    assert not status.online and status.pending == 1
    assert "本地模式" in status.message

    site.server.restart()
    assert site.gross.booth.sync.run_once().pending == 0
    assert count(site.db_url, Weighing) == 1

    # The answer to a push can be lost after the server stored the batch: the
    # booth sends it again, and the server must not store it twice.
    with site.gross.booth.store.session() as s:
        s.execute(update(Outbox).values(sent_at=None))
    assert site.gross.booth.sync.run_once().pending == 0
    assert count(site.db_url, Weighing) == 1

    verdict = httpx.get(gross.verify_url.replace("/v/", "/api/v1/verify/"),
                        timeout=10).json()
    assert verdict["verdict"] == "genuine"


def test_sync_worker_thread_uploads_in_the_background(site: Site) -> None:
    statuses = []
    done = threading.Event()

    def seen(status: object) -> None:
        statuses.append(status)
        if getattr(status, "online", False) and getattr(status, "pending", 1) == 0:
            done.set()

    site.tare.booth.sync.on_status = seen
    site.tare.booth.sync.interval_s = 0.2
    site.tare.booth.start_sync()
    weigh(site.tare, 15_280)
    wait_for(lambda: count(site.db_url, Tare) == 1, 10, "the tare on the server")
    assert done.wait(5)
