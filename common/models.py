"""Records shared by the booth's local store and the central server.

Weights are integer kilograms. Times are timezone-aware UTC. Ids of records a booth
can create offline are UUID strings made on the booth.

A tare (回皮) and a completed weighing (磅单) are separate records because they are
usually made by different booths: station 2 writes the tare, station 1 writes the
weighing that consumes it. Each booth only ever creates its own records, so booths
never edit each other's data; a weighing is never edited, it is voided (作废).

``rev`` is the server's change stamp (increasing), used by booths to pull master
data and open tares "since" a stamp.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite keeps no offset and hands back naive values; PostgreSQL keeps it. Either
    way the code sees aware UTC, and a naive time is refused on the way in, since
    it could be local time by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type:
        return datetime

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store times as aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


class Station(Base):
    """A weighbridge (地磅) and its booth. ``purpose``: tare, gross or both."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(10), default="both")
    # Ed25519 public key, raw 32 bytes as hex: verifies the booth's ticket signatures.
    public_key: Mapped[str | None] = mapped_column(String(64))
    # SHA-256 of the booth's API credential (a random token, so no slow hash needed).
    token_hash: Mapped[str | None] = mapped_column(String(64))
    rev: Mapped[int] = mapped_column(BigInteger, default=0, index=True)


class Vehicle(Base):
    """Fixed vehicle data entered once (车辆登记, R3) and its reference tare (R5)."""

    __tablename__ = "vehicles"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    plate: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    owner: Mapped[str] = mapped_column(String(60), default="")
    driver: Mapped[str] = mapped_column(String(40), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    axles: Mapped[int] = mapped_column(Integer, default=6)
    rated_load_kg: Mapped[int] = mapped_column(Integer, default=0)
    ref_tare_kg: Mapped[int | None] = mapped_column(Integer)
    tare_tolerance_kg: Mapped[int] = mapped_column(Integer, default=300)
    default_product: Mapped[str] = mapped_column(String(40), default="")
    default_customer: Mapped[str] = mapped_column(String(60), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    rev: Mapped[int] = mapped_column(BigInteger, default=0, index=True)


class Tare(Base):
    """A tare weighing (回皮): the empty truck on the tare station."""

    __tablename__ = "tares"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    station_id: Mapped[int] = mapped_column(Integer)
    plate: Mapped[str] = mapped_column(String(16), index=True)
    tare_kg: Mapped[int] = mapped_column(Integer)
    weighed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    operator: Mapped[str] = mapped_column(String(40), default="")
    product: Mapped[str] = mapped_column(String(40), default="")
    customer: Mapped[str] = mapped_column(String(60), default="")
    trace_json: Mapped[str] = mapped_column(Text, default="")
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    rev: Mapped[int] = mapped_column(BigInteger, default=0, index=True)


class Weighing(Base):
    """A completed weighing: one ticket (磅单), net = gross − tare."""

    __tablename__ = "weighings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_no: Mapped[str] = mapped_column(String(24), unique=True, index=True)
    plate: Mapped[str] = mapped_column(String(16), index=True)
    product: Mapped[str] = mapped_column(String(40), default="")
    customer: Mapped[str] = mapped_column(String(60), default="")
    tare_id: Mapped[str | None] = mapped_column(String(36), index=True)
    tare_kg: Mapped[int] = mapped_column(Integer)
    gross_kg: Mapped[int] = mapped_column(Integer)
    net_kg: Mapped[int] = mapped_column(Integer)
    tare_station: Mapped[int] = mapped_column(Integer)
    gross_station: Mapped[int] = mapped_column(Integer)
    tare_at: Mapped[datetime] = mapped_column(UTCDateTime)
    gross_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tare_operator: Mapped[str] = mapped_column(String(40), default="")
    gross_operator: Mapped[str] = mapped_column(String(40), default="")
    signature: Mapped[str] = mapped_column(String(128), default="")
    trace_json: Mapped[str] = mapped_column(Text, default="")
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    void_reason: Mapped[str] = mapped_column(String(200), default="")
    rev: Mapped[int] = mapped_column(BigInteger, default=0, index=True)


class Counter(Base):
    """Per-station, per-day ticket sequence (ticket numbers never collide offline)."""

    __tablename__ = "counters"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Outbox(Base):
    """Booth only: records waiting to be pushed, written in the same transaction."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[str] = mapped_column(String(36))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the server refused the record: it stays here, visible and counted,
    # instead of blocking the rows behind it or vanishing as if sent.
    rejected_reason: Mapped[str] = mapped_column(String(300), default="")


class SyncState(Base):
    """Booth only: small key/value facts about sync (pull cursor, last success)."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class AuditEntry(Base):
    """Append-only change log; each entry's hash covers the previous one's."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))
    record_kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(36))
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# Which columns travel in sync messages, per record kind.
WIRE_KINDS: dict[str, type[Base]] = {
    "tare": Tare,
    "weighing": Weighing,
    "vehicle": Vehicle,
}
LOCAL_ONLY = {"rev"}
