"""The booth's own database: a SQLite file in WAL mode, written first, always.

Every record a booth makes is written together with an outbox row in one
transaction, so a crash either keeps both or neither, and the sync worker pushes
whatever the outbox holds when the server is reachable. Master data (vehicles) and
other stations' open tares arrive by pull and are kept here so that the booth can
weigh with the network down.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, delete, event, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from common.models import (
    Base,
    Counter,
    Outbox,
    SyncState,
    Tare,
    Vehicle,
    Weighing,
    new_id,
    utcnow,
)
from common.wire import from_wire, to_wire

log = logging.getLogger(__name__)
SITE_TZ = ZoneInfo("Asia/Shanghai")
BOOTH_TABLES = [Base.metadata.tables[n] for n in
                ("vehicles", "tares", "weighings", "counters", "outbox", "sync_state")]


class StoreError(RuntimeError):
    """The local database could not be read or written (disk full, file locked)."""


class LocalStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.engine: Engine = create_engine(f"sqlite:///{path}")
        event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine, tables=BOOTH_TABLES)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # One writer at a time; SQLite would serialise us anyway, this keeps the
        # ticket counter read-modify-write simple.
        self._write_lock = threading.Lock()

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Commit on success, roll back on any error, translate database errors."""
        with self._write_lock:
            s = self._sessions()
            try:
                yield s
                s.commit()
            except SQLAlchemyError as err:
                s.rollback()
                raise StoreError(f"本地数据库错误: {err}") from err
            except BaseException:
                s.rollback()
                raise
            finally:
                s.close()

    # -- writing records -----------------------------------------------------

    def _enqueue(self, s: Session, kind: str, record: Tare | Weighing) -> None:
        s.flush()
        payload = json.dumps(to_wire(record), ensure_ascii=False)
        s.add(Outbox(kind=kind, record_id=record.id, payload=payload))

    def add_tare(self, **values: Any) -> Tare:
        values.setdefault("id", new_id())
        values.setdefault("weighed_at", utcnow())
        with self.session() as s:
            tare = Tare(**values)
            s.add(tare)
            self._enqueue(s, "tare", tare)
        log.info("tare saved: %s %s kg at station %s", tare.plate, tare.tare_kg,
                 tare.station_id)
        return tare

    def add_weighing(self, station_id: int,
                     sign: Callable[[Weighing], str] | None = None,
                     **values: Any) -> Weighing:
        """Number the ticket, sign it and save it, in one transaction."""
        values.setdefault("id", new_id())
        values.setdefault("gross_at", utcnow())
        with self.session() as s:
            values["ticket_no"] = self._next_ticket_no(s, station_id, values["gross_at"])
            weighing = Weighing(gross_station=station_id, **values)
            if sign is not None:
                weighing.signature = sign(weighing)
            s.add(weighing)
            self._enqueue(s, "weighing", weighing)
        log.info("weighing saved: %s %s net %s kg", weighing.ticket_no,
                 weighing.plate, weighing.net_kg)
        return weighing

    def _next_ticket_no(self, s: Session, station_id: int, at: datetime) -> str:
        day = at.astimezone(SITE_TZ).strftime("%Y%m%d")
        key = f"ticket:{station_id}:{day}"
        counter = s.get(Counter, key)
        if counter is None:
            counter = Counter(key=key, value=0)
            s.add(counter)
        counter.value += 1
        return f"{station_id}-{day}-{counter.value:04d}"

    def void_weighing(self, weighing_id: str, reason: str) -> Weighing:
        with self.session() as s:
            w = s.get(Weighing, weighing_id)
            if w is None:
                raise StoreError(f"找不到磅单 {weighing_id}")
            w.voided, w.void_reason = True, reason
            self._enqueue(s, "weighing", w)
            return w

    # -- reading -------------------------------------------------------------

    def find_open_tare(self, plate: str) -> Tare | None:
        """The newest tare for ``plate`` that no weighing has consumed yet."""
        with self._sessions() as s:
            used = select(Weighing.tare_id).where(Weighing.tare_id.is_not(None),
                                                  Weighing.voided.is_(False))
            q = (select(Tare).where(Tare.plate == plate, Tare.voided.is_(False),
                                    Tare.id.not_in(used))
                 .order_by(Tare.weighed_at.desc()).limit(1))
            return s.scalars(q).first()

    def vehicle(self, plate: str) -> Vehicle | None:
        with self._sessions() as s:
            return s.scalars(select(Vehicle).where(Vehicle.plate == plate)).first()

    def ref_tares(self, plates: set[str]) -> dict[str, int | None]:
        """Reference tares (参考皮重) of ``plates``, in one query."""
        with self._sessions() as s:
            q = select(Vehicle.plate, Vehicle.ref_tare_kg).where(Vehicle.plate.in_(plates))
            return {plate: ref for plate, ref in s.execute(q)}

    def plates(self) -> list[str]:
        with self._sessions() as s:
            return list(s.scalars(select(Vehicle.plate).where(Vehicle.active)
                                  .order_by(Vehicle.plate)))

    def weighing(self, weighing_id: str) -> Weighing | None:
        with self._sessions() as s:
            return s.get(Weighing, weighing_id)

    def recent_weighings(self, limit: int = 50) -> list[Weighing]:
        with self._sessions() as s:
            q = select(Weighing).order_by(Weighing.gross_at.desc()).limit(limit)
            return list(s.scalars(q))

    def recent_tares(self, station_id: int, limit: int = 50) -> list[Tare]:
        with self._sessions() as s:
            q = (select(Tare).where(Tare.station_id == station_id)
                 .order_by(Tare.weighed_at.desc()).limit(limit))
            return list(s.scalars(q))

    # -- sync ----------------------------------------------------------------

    def pending(self, limit: int = 200) -> list[Outbox]:
        """Rows still to push, oldest first (refused ones are not retried)."""
        with self._sessions() as s:
            q = (select(Outbox).where(Outbox.sent_at.is_(None),
                                      Outbox.rejected_reason == "")
                 .order_by(Outbox.seq).limit(limit))
            return list(s.scalars(q))

    def pending_count(self) -> int:
        with self._sessions() as s:
            q = select(func.count()).select_from(Outbox).where(
                Outbox.sent_at.is_(None), Outbox.rejected_reason == "")
            return int(s.scalar(q) or 0)

    def rejected(self) -> list[Outbox]:
        """Rows the server refused: kept, and shown to the operator as an alarm."""
        with self._sessions() as s:
            q = (select(Outbox).where(Outbox.sent_at.is_(None),
                                      Outbox.rejected_reason != "")
                 .order_by(Outbox.seq))
            return list(s.scalars(q))

    def reject(self, seq: int, reason: str) -> None:
        with self.session() as s:
            s.execute(update(Outbox).where(Outbox.seq == seq)
                      .values(rejected_reason=reason[:300] or "中心拒收"))

    def raise_ticket_counter(self, station_id: int, day: str, last_seq: int) -> None:
        """Continue numbering after ``last_seq`` (what the server already holds for
        this station and day), so a reinstalled booth never reuses a number."""
        key = f"ticket:{station_id}:{day}"
        with self.session() as s:
            counter = s.get(Counter, key)
            if counter is None:
                s.add(Counter(key=key, value=last_seq))
            elif counter.value < last_seq:
                counter.value = last_seq

    def mark_sent(self, seqs: list[int]) -> None:
        with self.session() as s:
            s.execute(update(Outbox).where(Outbox.seq.in_(seqs))
                      .values(sent_at=utcnow()))

    def note_attempt(self, seqs: list[int]) -> None:
        with self.session() as s:
            s.execute(update(Outbox).where(Outbox.seq.in_(seqs))
                      .values(attempts=Outbox.attempts + 1))

    def pending_ids(self) -> set[str]:
        """Ids of records still waiting in the outbox (one query, for lists)."""
        with self._sessions() as s:
            q = select(Outbox.record_id).where(Outbox.sent_at.is_(None))
            return set(s.scalars(q))

    def get_state(self, key: str, default: str = "") -> str:
        with self._sessions() as s:
            row = s.get(SyncState, key)
            return row.value if row else default

    def set_state(self, key: str, value: str) -> None:
        with self.session() as s:
            s.merge(SyncState(key=key, value=value))

    def apply_pulled(self, changes: list[dict[str, Any]], cursor: int,
                     own_station: int) -> int:
        """Upsert vehicles and other stations' open tares; drop closed ones.

        This booth's own tares are its own records: the pull never touches them.
        """
        applied = 0
        with self.session() as s:
            for change in changes:
                kind, data = change["kind"], change["data"]
                if kind == "tare_closed":
                    s.execute(delete(Tare).where(Tare.id == data["id"],
                                                 Tare.station_id != own_station))
                elif kind in ("vehicle", "tare"):
                    values = from_wire(kind, data)
                    if kind == "tare" and values["station_id"] == own_station:
                        continue
                    model = Vehicle if kind == "vehicle" else Tare
                    if kind == "vehicle":
                        # Plates are unique: a re-registered plate replaces the row.
                        old = s.scalars(select(Vehicle).where(
                            Vehicle.plate == values["plate"],
                            Vehicle.id != values["id"])).first()
                        if old is not None:
                            s.delete(old)
                            s.flush()
                    s.merge(model(**values))
                else:
                    continue
                applied += 1
            s.merge(SyncState(key="pull_cursor", value=str(cursor)))
        return applied


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a completed weighing survives a power cut, not just a process crash.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()
