"""Routes a booth calls with its credential: key registration, push and pull, and
where its ticket numbering stands."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from .. import registry, sync, ticket_numbers
from ..errors import BatchTooLarge
from .deps import BoothToken, DatabaseDep, authenticate

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1")


class KeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_key: str


class PushBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Each record is checked by hand, so that a refusal can name its index.
    records: list[Any]


@router.put("/booth/key")
def register_key(body: KeyBody, token: BoothToken, db: DatabaseDep) -> dict[str, Any]:
    with db.session(write=True) as session:
        station = authenticate(session, token)
        changed = registry.register_key(session, station, body.public_key)
        return {
            "station_id": station.id,
            "public_key": station.public_key,
            "status": "registered" if changed else "unchanged",
        }


@router.post("/sync/push")
def push(body: PushBody, token: BoothToken, db: DatabaseDep) -> dict[str, Any]:
    if len(body.records) > sync.MAX_BATCH:
        raise BatchTooLarge(
            f"一批最多 {sync.MAX_BATCH} 条记录，收到 {len(body.records)} 条"
        )

    with db.session(write=True) as session:
        station = authenticate(session, token)
        batch = sync.validate_batch(station.id, body.records)
        return sync.apply_batch(session, station, batch).as_json()


@router.get("/sync/pull")
def pull(
    token: BoothToken,
    db: DatabaseDep,
    since: Annotated[int, Query(ge=0, lt=2**63)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> dict[str, Any]:
    with db.session() as session:
        authenticate(session, token)
        return sync.pull(session, since, limit).as_json()


@router.get("/booth/ticket-seq")
def ticket_seq(
    token: BoothToken,
    db: DatabaseDep,
    day: Annotated[str, Query(description="YYYYMMDD, the site's local day")],
) -> dict[str, Any]:
    """The highest ticket number the centre holds for the calling station on
    ``day``, so that a reinstalled booth goes on from there instead of 0001."""
    with db.session() as session:
        station = authenticate(session, token)
        day = ticket_numbers.check_day(day)
        last = ticket_numbers.last_seq(session, station.id, day)
    return {"day": day, "last_seq": last}
