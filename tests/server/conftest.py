"""Fixtures for the server suite: every test runs on SQLite and on PostgreSQL.

PostgreSQL is used when ``WB_TEST_DATABASE_URL`` names one (each test module or
test gets a schema of its own, dropped afterwards); otherwise those runs skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.db import sqlite_url
from tests.server.server_site import (
    GROSS,
    KEYLESS,
    TARE,
    Booth,
    Site,
    booth_client,
    new_signer,
)
from tests.support.live_server import (
    add_station,
    add_vehicle,
    drop_test_schema,
    pg_url_for_test,
    start_live_server,
)

PG_ENV = "WB_TEST_DATABASE_URL"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _database_url(backend: str, tmp: Path, name: str) -> str:
    if backend == "sqlite":
        return sqlite_url(tmp / "server.db")
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    return pg_url_for_test(base, name)


def _drop(url: str) -> None:
    if url.startswith("postgresql"):
        drop_test_schema(url)


@pytest.fixture(params=BACKENDS)
def fresh_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, not yet upgraded, for one test."""
    url = _database_url(request.param, tmp_path, request.node.name)
    yield url
    _drop(url)


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """A live server with stations 1 (gross), 2 (tare), 3 (no key) and a vehicle.

    Shared by the tests of one module: tests make their own records (fresh ids,
    own plates and dates) and read pulls from a cursor taken when they begin.
    """
    tmp = tmp_path_factory.mktemp("site")
    url = _database_url(request.param, tmp, request.module.__name__)
    try:
        yield from _build_site(url, tmp)
    finally:
        _drop(url)


def _build_site(url: str, tmp: Path) -> Iterator[Site]:
    tokens = {
        GROSS: add_station(url, GROSS, "gross"),
        TARE: add_station(url, TARE, "tare"),
        KEYLESS: add_station(url, KEYLESS, "both", token="keyless-booth-token"),
    }
    add_vehicle(
        url,
        "晋A12345",
        owner="大阳运输",
        driver="张三",
        phone="13800000000",
        axles=6,
        rated_load_kg=49000,
        ref_tare_kg=15200,
        product="混煤",
        customer="大阳电厂",
    )

    server = start_live_server(url, tmp)
    booths = {
        sid: Booth(sid, token, new_signer(), booth_client(server.url, token))
        for sid, token in tokens.items()
    }
    site = Site(
        server=server,
        db_url=url,
        gross=booths[GROSS],
        tare=booths[TARE],
        keyless=booths[KEYLESS],
        anonymous=booth_client(server.url, None),
    )
    try:
        for booth in (site.gross, site.tare):
            body = {"public_key": booth.signer.public_key_hex}
            booth.client.put("/api/v1/booth/key", json=body).raise_for_status()
        yield site
    finally:
        site.close()
        server.stop()
