"""Routes anyone may call: the heartbeat and the ticket check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from common.models import utcnow

from ..errors import MalformedToken
from ..journal import utc_iso
from ..ticket_check import check_ticket
from .deps import DatabaseDep

router = APIRouter(prefix="/api/v1")


@router.get("/heartbeat")
def heartbeat() -> dict[str, str]:
    return {"status": "ok", "server_time": utc_iso(utcnow())}


@router.get("/verify/{token}")
def verify(token: str, request: Request, db: DatabaseDep) -> dict[str, Any]:
    with db.session() as session:
        check = check_ticket(session, token)
        if check.malformed:
            raise MalformedToken(check.reason, verdict=check.verdict.value)
        page = f"{request.app.state.public_url}/v/{token}"
        return {**check.as_json(), "page": page}
