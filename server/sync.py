"""Booth sync: pushing tares and weighings in, pulling master data and open tares out.

Weighings and tares belong to the booth that made them; the server stores each
once by its id. A repeated push changes nothing; a weighing is never edited, only
voided (作废), so a pushed record that differs from the stored one in any other way
is a conflict, reported and left alone.

A batch with an impossible record (see ``record_rules``), or with a weighing whose
tare the centre has never seen, is refused whole, naming the record. Conflicts are
not refusals: the rest of the batch is stored, and each conflict carries a stable
``code`` for the booth to branch on:

- ``changed``: the record is stored already and differs from what was pushed;
- ``ticket_no_used``: another weighing holds this ticket number;
- ``tare_used``: another weighing that is not void consumes this tare.

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
from .record_rules import TareFacts, record_problem, tare_problem, time_problem

log = logging.getLogger(__name__)

MAX_BATCH = 500
# Refused before it is read: 500 records with weight traces fit easily.
MAX_PUSH_BYTES = 8 * 1024 * 1024
CHANGED, TICKET_NO_USED, TARE_USED = "changed", "ticket_no_used", "tare_used"
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
    if not isinstance(kind, str) or kind not in PUSH_KINDS:
        shown = repr(kind)[:40] if isinstance(kind, str) else type(kind).__name__
        raise InvalidRecord(f"第 {index} 条记录：不能推送 {shown} 类记录", index=index)

    problem = time_problem(kind, raw["data"])
    if problem:
        raise InvalidRecord(f"第 {index} 条记录：{problem}", index=index)
    try:
        values = full_values(PUSH_KINDS[kind], from_wire(kind, raw["data"]))
    except WireError as err:
        raise InvalidRecord(f"第 {index} 条记录无效：{err}", index=index) from err

    problem = record_problem(kind, values)
    if problem:
        raise InvalidRecord(f"第 {index} 条记录：{problem}", index=index)
    return Incoming(index, kind, values)


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
    check_tares(session, batch)
    result = PushResult()
    for item in batch:
        if item.kind == "tare":
            _apply_tare(session, journal, item, result)
        else:
            _apply_weighing(session, journal, item, result)

    result.rev = journal.rev
    for conflict in result.conflicts:
        log.warning(
            "push from station %s: %s not stored (%s): %s",
            station.id,
            conflict["id"],
            conflict["code"],
            conflict["reason"],
        )
    log.info(
        "push from station %s: %d stored, %d unchanged, %d conflicts, rev %d",
        station.id,
        len(result.stored),
        len(result.unchanged),
        len(result.conflicts),
        result.rev,
    )
    return result


def check_tares(session: Session, batch: list[Incoming]) -> None:
    """Refuse the batch if a new weighing names a tare the centre does not hold
    (stored, or earlier in this batch) or disagrees with that tare."""
    pushed: dict[str, TareFacts] = {}
    for item in batch:
        if item.kind == "tare":
            pushed.setdefault(item.id, TareFacts.of_values(item.values))
            continue
        if session.get(Weighing, item.id) is not None:
            continue  # a stored weighing is compared with itself instead

        tare_id = item.values["tare_id"]
        stored = session.get(Tare, tare_id)
        tare = TareFacts.of(stored) if stored is not None else pushed.get(tare_id)
        problem: str | None = (
            f"中心没有它的回皮记录 {tare_id}（回皮记录须先推送）"
            if tare is None
            else tare_problem(item.values, tare)
        )
        if problem:
            raise InvalidRecord(f"第 {item.index} 条记录：{problem}", index=item.index)


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
        result.conflicts.append(_changed(item.id, differing, "皮重记录"))


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
        result.conflicts.append(_changed(item.id, differing, "磅单"))


def _insert_weighing(
    session: Session, journal: Journal, item: Incoming, result: PushResult
) -> None:
    conflict = _ticket_no_conflict(session, item) or _tare_conflict(session, item)
    if conflict is not None:
        result.conflicts.append(conflict)
        return

    session.add(Weighing(**item.values, rev=journal.stamp()))
    journal.record("create", "weighing", item.id, _wire_detail(item))
    if not item.values["voided"]:
        _touch_tare(session, journal, item.values["tare_id"])
    result.stored.append(item.id)


def _ticket_no_conflict(session: Session, item: Incoming) -> dict[str, str] | None:
    ticket_no = item.values["ticket_no"]
    holder = session.scalar(select(Weighing.id).where(Weighing.ticket_no == ticket_no))
    if holder is None:
        return None
    reason = f"磅单号 {ticket_no} 已被另一条磅单（{holder}）使用"
    return {"id": item.id, "code": TICKET_NO_USED, "reason": reason}


def _tare_conflict(session: Session, item: Incoming) -> dict[str, str] | None:
    # One tare, one ticket: a second weighing on it would count the load twice.
    tare_id = item.values["tare_id"]
    if item.values["voided"] or tare_id is None:
        return None
    holder = session.scalar(
        select(Weighing.ticket_no).where(
            Weighing.tare_id == tare_id, Weighing.voided.is_(False)
        )
    )
    if holder is None:
        return None
    reason = (
        f"回皮记录 {tare_id} 已被磅单 {holder} 使用；一次回皮只能开一张磅单，"
        f"须先作废那张磅单"
    )
    return {"id": item.id, "code": TARE_USED, "reason": reason}


def _touch_tare(session: Session, journal: Journal, tare_id: str | None) -> None:
    # The tare's open/closed state changed: a new stamp makes booths pull it again.
    if tare_id is None:
        return
    session.execute(update(Tare).where(Tare.id == tare_id).values(rev=journal.stamp()))


def _differences(existing: Base, values: dict[str, Any]) -> set[str]:
    return {key for key, value in values.items() if getattr(existing, key) != value}


def _changed(record_id: str, differing: set[str], what: str) -> dict[str, str]:
    fields = ", ".join(sorted(differing))
    reason = f"与中心已存的{what}不同（{fields}）；已完成的记录不能修改，只能作废后重开"
    return {"id": record_id, "code": CHANGED, "reason": reason}


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
