"""A small mine for server tests: a live server, its booths and their records.

Station 1 takes gross (过重), station 2 tare (回皮); both have registered their
signing keys. Station 3 has a token but no key yet. Records are built as wire
dicts, the way a booth would push them.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.signing import TicketClaims, TicketSigner
from server.db import Database
from tests.support.live_server import LiveServer

GROSS, TARE, KEYLESS = 1, 2, 3
_ticket_seq = itertools.count(1)


@dataclass
class Booth:
    """One booth's credential and signing key, and an HTTP client using them."""

    station_id: int
    token: str
    signer: TicketSigner
    client: httpx.Client

    def push(self, *records: dict[str, Any]) -> httpx.Response:
        return self.client.post("/api/v1/sync/push", json={"records": list(records)})

    def pull(self, since: int = 0, limit: int | None = None) -> httpx.Response:
        params = {"since": since} | ({"limit": limit} if limit else {})
        return self.client.get("/api/v1/sync/pull", params=params)

    def sign(self, weighing: dict[str, Any]) -> str:
        return self.signer.sign(claims_for(weighing))


@dataclass
class Site:
    server: LiveServer
    db_url: str
    gross: Booth
    tare: Booth
    keyless: Booth
    anonymous: httpx.Client
    _db: Database | None = field(default=None, repr=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session on the server's database, straight from the test."""
        if self._db is None:
            self._db = Database(self.db_url)
        with self._db.session() as session:
            yield session

    def count(self, model: type[Any], **where: Any) -> int:
        with self.session() as session:
            query = select(func.count()).select_from(model).filter_by(**where)
            return int(session.scalar(query) or 0)

    def close(self) -> None:
        for client in (
            self.gross.client,
            self.tare.client,
            self.keyless.client,
            self.anonymous,
        ):
            client.close()
        if self._db is not None:
            self._db.dispose()


def new_signer() -> TicketSigner:
    return TicketSigner(Ed25519PrivateKey.generate())


def booth_client(base_url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(
        base_url=base_url, headers=headers, timeout=10.0, trust_env=False
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def tare_record(
    plate: str = "晋A12345",
    tare_kg: int = 15200,
    weighed_at: datetime | None = None,
    station_id: int = TARE,
    **overrides: Any,
) -> dict[str, Any]:
    """A tare (回皮) as station 2 would push it."""
    record = {
        "id": str(uuid.uuid4()),
        "station_id": station_id,
        "plate": plate,
        "tare_kg": tare_kg,
        "weighed_at": iso(weighed_at or _recently()),
        "operator": "李四",
        "product": "混煤",
        "customer": "大阳电厂",
        "trace_json": "",
        "voided": False,
    }
    record.update(overrides)
    return record


def weighing_record(
    tare: dict[str, Any],
    gross_kg: int = 49320,
    gross_at: datetime | None = None,
    gross_station: int = GROSS,
    **overrides: Any,
) -> dict[str, Any]:
    """The weighing (磅单) that consumes ``tare``, as station 1 would push it."""
    at = gross_at or datetime.fromisoformat(tare["weighed_at"]) + timedelta(minutes=40)
    record = {
        "id": str(uuid.uuid4()),
        "ticket_no": f"{gross_station}-{at:%Y%m%d}-{next(_ticket_seq):04d}",
        "plate": tare["plate"],
        "product": tare["product"],
        "customer": tare["customer"],
        "tare_id": tare["id"],
        "tare_kg": tare["tare_kg"],
        "gross_kg": gross_kg,
        "net_kg": gross_kg - tare["tare_kg"],
        "tare_station": tare["station_id"],
        "gross_station": gross_station,
        "tare_at": tare["weighed_at"],
        "gross_at": iso(at),
        "tare_operator": tare["operator"],
        "gross_operator": "王五",
        "signature": "",
        "trace_json": "",
        "voided": False,
        "void_reason": "",
    }
    record.update(overrides)
    return record


def claims_for(weighing: dict[str, Any]) -> TicketClaims:
    gross_at = datetime.fromisoformat(weighing["gross_at"])
    return TicketClaims(
        weighing_id=weighing["id"],
        ticket_no=weighing["ticket_no"],
        plate=weighing["plate"],
        tare_kg=weighing["tare_kg"],
        gross_kg=weighing["gross_kg"],
        net_kg=weighing["net_kg"],
        station=weighing["gross_station"],
        gross_at=int(gross_at.timestamp()),
    )


def wire(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "data": data}


def _recently() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
