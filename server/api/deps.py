"""What API routes share: the database, and who the calling booth is."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from common.models import Station

from ..db import Database
from ..errors import InvalidCredentials, MissingCredentials
from ..registry import station_for_token


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def bearer_token(request: Request) -> str:
    """The token of ``Authorization: Bearer <token>``, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingCredentials("需要磅房凭据：Authorization: Bearer <token>")
    return token.strip()


def authenticate(session: Session, token: str) -> Station:
    station = station_for_token(session, token)
    if station is None:
        raise InvalidCredentials("磅房凭据无效")
    return station


DatabaseDep = Annotated[Database, Depends(database)]
BoothToken = Annotated[str, Depends(bearer_token)]
