"""Booth sync: pushing tares and weighings in, pulling master data and open tares out.

Weighings and tares belong to the booth that made them; the server stores each
once by its id. A repeated push changes nothing; a weighing is never edited, only
voided (作废), so a pushed record that differs from the stored one in any other way
is a conflict, reported and left alone.

Pull is by change stamp (``rev``): everything a booth needs with a stamp above its
cursor, oldest first. A tare stops being open once a weighing that is not void
consumes it (or it is voided itself); booths then get a ``tare_closed`` change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, inspect, select, update
from sqlalchemy.orm import Session

from common.models import Base, Station, Tare, Vehicle, Weighing
from common.wire import WireError, from_wire, to_wire

from .errors import ForeignRecord, InvalidRecord
from .journal import Journal

log = logging.getLogger(__name__)

MAX_BATCH = 500
PUSH_KINDS: dict[str, type[Tare] | type[Weighing]] = {
    "tare": Tare,
    "weighing": Weighing,
}
_VOID_FIELDS = {"voided", "void_reason"}


@dataclass(frozen=True)
class Incoming:
    """One pushed record, validated: its kind and all its column values."""

    index: int
    kind: str
    values: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.values["id"])


@dataclass
class PushResult:
    stored: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[dict[str, str]] = field(default_factory=list)
    rev: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "unchanged": self.unchanged,
            "conflicts": self.conflicts,
            "rev": self.rev,
        }


def validate_batch(station_id: int, records: list[Any]) -> list[Incoming]:
    """Check every record before anything is written; the first bad one refuses all."""
    batch = [_validate_one(index, raw) for index, raw in enumerate(records)]
    for item in batch:
        owner = _owner(item)
        if owner != station_id:
            raise ForeignRecord(
                f"第 {item.index} 条记录属于 {owner} 号磅，不是本磅（{station_id} 号）"
                f"的记录",
                index=item.index,
            )
    return batch


def _validate_one(index: int, raw: Any) -> Incoming:
    if not isinstance(raw, dict) or set(raw) != {"kind", "data"}:
        raise InvalidRecord(f"第 {index} 条记录应为 {{kind, data}} 对象", index=index)
    kind = raw["kind"]
    if kind not in PUSH_KINDS:
        raise InvalidRecord(f"第 {index} 条记录：不能推送 {kind!r} 类记录", index=index)
    try:
        values = full_values(PUSH_KINDS[kind], from_wire(kind, raw["data"]))
    except WireError as err:
        raise InvalidRecord(f"第 {index} 条记录无效：{err}", index=index) from err

    if kind == "weighing" and not _net_adds_up(values):
        raise InvalidRecord(f"第 {index} 条记录：净重不等于毛重减皮重", index=index)
    return Incoming(index, kind, values)


def _net_adds_up(values: dict[str, Any]) -> bool:
    return bool(values["net_kg"] == values["gross_kg"] - values["tare_kg"])


def _owner(item: Incoming) -> int:
    key = "station_id" if item.kind == "tare" else "gross_station"
    return int(item.values[key])


def full_values(model: type[Base], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with every absent column filled by its scalar default."""
    out = dict(values)
    for col in inspect(model).columns:
        if col.key == "rev" or col.key in out:
            continue
        default = col.default
        scalar = default is not None and default.is_scalar
        out[col.key] = getattr(default, "arg", None) if scalar else None
    return out


def apply_batch(
    session: Session, station: Station, batch: list[Incoming]
) -> PushResult:
    """Store a validated batch; the caller's transaction makes it all or nothing."""
    journal = Journal(session, actor=f"station:{station.id}")
    result = PushResult()
    for item in batch:
        if item.kind == "tare":
            _apply_tare(session, journal, item, result)
        else:
            _apply_weighing(session, journal, item, result)

    result.rev = journal.rev
    log.info(
        "push from station %s: %d stored, %d unchanged, %d conflicts, rev %d",
        station.id,
        len(result.stored),
        len(result.unchanged),
        len(result.conflicts),
        result.rev,
    )
    return result


def _apply_tare(
    session: Session, journal: Journal, item: Incoming, result: PushResult
) -> None:
    existing = session.get(Tare, item.id)
    if existing is None:
        session.add(Tare(**item.values, rev=journal.stamp()))
        journal.record("create", "tare", item.id, _wire_detail(item))
        result.stored.append(item.id)
        return

    differing = _differences(existing, item.values)
    if not differing:
        result.unchanged.append(item.id)
    elif differing == {"voided"} and item.values["voided"]:
        existing.voided = True
        existing.rev = journal.stamp()
        journal.record("void", "tare", item.id, {})
        result.stored.append(item.id)
    else:
        result.conflicts.append(_conflict(item.id, differing, "皮重记录"))


def _apply_weighing(
    session: Session, journal: Journal, item: Incoming, result: PushResult
) -> None:
    existing = session.get(Weighing, item.id)
    if existing is None:
        _insert_weighing(session, journal, item, result)
        return

    differing = _differences(existing, item.values)
    if not differing:
        result.unchanged.append(item.id)
    elif differing <= _VOID_FIELDS and item.values["voided"] and not existing.voided:
        existing.voided = True
        existing.void_reason = item.values["void_reason"]
        existing.rev = journal.stamp()
        journal.record(
            "void", "weighing", item.id, {"void_reason": existing.void_reason}
        )
        _touch_tare(session, journal, existing.tare_id)
        result.stored.append(item.id)
    else:
        result.conflicts.append(_conflict(item.id, differing, "磅单"))


def _insert_weighing(
    session: Session, journal: Journal, item: Incoming, result: PushResult
) -> None:
    ticket_no = item.values["ticket_no"]
    holder = session.scalar(select(Weighing.id).where(Weighing.ticket_no == ticket_no))
    if holder is not None:
        result.conflicts.append(
            {
                "id": item.id,
                "reason": f"磅单号 {ticket_no} 已被另一条磅单（{holder}）使用",
            }
        )
        return

    session.add(Weighing(**item.values, rev=journal.stamp()))
    journal.record("create", "weighing", item.id, _wire_detail(item))
    if not item.values["voided"]:
        _touch_tare(session, journal, item.values["tare_id"])
    result.stored.append(item.id)


def _touch_tare(session: Session, journal: Journal, tare_id: str | None) -> None:
    # The tare's open/closed state changed: a new stamp makes booths pull it again.
    if tare_id is None:
        return
    session.execute(update(Tare).where(Tare.id == tare_id).values(rev=journal.stamp()))


def _differences(existing: Base, values: dict[str, Any]) -> set[str]:
    return {key for key, value in values.items() if getattr(existing, key) != value}


def _conflict(record_id: str, differing: set[str], what: str) -> dict[str, str]:
    fields = ", ".join(sorted(differing))
    reason = f"与中心已存的{what}不同（{fields}）；已完成的记录不能修改，只能作废后重开"
    return {"id": record_id, "reason": reason}


def _wire_detail(item: Incoming) -> dict[str, Any]:
    return {key: value for key, value in item.values.items() if key != "trace_json"}


@dataclass
class PullPage:
    changes: list[dict[str, Any]]
    cursor: int
    more: bool

    def as_json(self) -> dict[str, Any]:
        return {"changes": self.changes, "cursor": self.cursor, "more": self.more}


def pull(session: Session, since: int, limit: int) -> PullPage:
    """Vehicles and tares changed after ``since``, oldest change first."""
    vehicles = session.scalars(
        select(Vehicle)
        .where(Vehicle.rev > since)
        .order_by(Vehicle.rev)
        .limit(limit + 1)
    ).all()
    tares = session.execute(
        select(Tare, _closed_expression())
        .where(Tare.rev > since)
        .order_by(Tare.rev)
        .limit(limit + 1)
    ).all()

    rows: list[tuple[int, dict[str, Any]]] = [
        (v.rev, {"kind": "vehicle", "data": to_wire(v), "rev": v.rev}) for v in vehicles
    ]
    rows += [(t.rev, _tare_change(t, closed)) for t, closed in tares]
    rows.sort(key=lambda row: row[0])

    page = [change for _rev, change in rows[:limit]]
    cursor = page[-1]["rev"] if page else since
    return PullPage(page, cursor, more=len(rows) > limit)


def _closed_expression() -> Any:
    consumed = exists().where(
        and_(Weighing.tare_id == Tare.id, Weighing.voided.is_(False))
    )
    return (Tare.voided | consumed).label("closed")


def _tare_change(tare: Tare, closed: bool) -> dict[str, Any]:
    if closed:
        return {"kind": "tare_closed", "data": {"id": tare.id}, "rev": tare.rev}
    return {"kind": "tare", "data": to_wire(tare), "rev": tare.rev}
