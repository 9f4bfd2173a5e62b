"""Change stamps and the audit log: every change the server makes passes here.

A ``Journal`` opens by locking the ``rev`` counter row, so writers queue up behind
each other and commit in the order of their stamps. That matters to booths: a pull
"since N" must never miss a change that committed late with a stamp below N.

Audit entries are chained: ``hash = sha256(prev_hash + canonical JSON)``, the JSON
being the entry's ``action, actor, at, detail, record_id, record_kind`` with sorted
keys, no spaces, UTF-8 and ``at`` as ISO 8601 UTC with microseconds. The first
entry's ``prev_hash`` is 64 zeros. Changing, dropping or reordering any entry
breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.models import AuditEntry, Counter, utcnow

log = logging.getLogger(__name__)

REV_KEY = "rev"
GENESIS_HASH = "0" * 64


class AuditChainBroken(Exception):
    """The audit log was altered after it was written."""

    def __init__(self, seq: int, why: str) -> None:
        super().__init__(f"audit entry {seq}: {why}")
        self.seq = seq


class Journal:
    """Hands out change stamps and writes audit entries inside one transaction."""

    def __init__(self, session: Session, actor: str) -> None:
        self._session = session
        self.actor = actor
        self.rev = _lock_rev(session)
        self._last_hash: str | None = None

    def stamp(self) -> int:
        """The next change stamp, already saved in the counter."""
        self.rev += 1
        self._session.execute(
            update(Counter).where(Counter.key == REV_KEY).values(value=self.rev)
        )
        return self.rev

    def record(self, action: str, kind: str, record_id: str, detail: Any) -> None:
        """Append one audit entry; ``detail`` is stored as canonical JSON."""
        prev = self._previous_hash()
        entry = AuditEntry(
            at=utcnow(),
            actor=self.actor,
            action=action,
            record_kind=kind,
            record_id=record_id,
            detail=canonical_json(detail),
            prev_hash=prev,
        )
        entry.hash = entry_hash(prev, entry)
        self._session.add(entry)
        self._last_hash = entry.hash

    def _previous_hash(self) -> str:
        if self._last_hash is None:
            newest = self._session.scalars(
                select(AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
            ).first()
            self._last_hash = newest or GENESIS_HASH
        return self._last_hash


def _lock_rev(session: Session) -> int:
    query = select(Counter).where(Counter.key == REV_KEY).with_for_update()
    counter = session.scalars(query).first()
    if counter is None:
        # Only a database made outside our migrations lacks the row.
        counter = Counter(key=REV_KEY, value=0)
        session.add(counter)
        session.flush()
    return counter.value


def current_rev(session: Session) -> int:
    """The newest change stamp, without locking."""
    value = session.scalar(select(Counter.value).where(Counter.key == REV_KEY))
    return value or 0


def canonical_json(value: Any) -> str:
    return json.dumps(
        value,
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=_json_default,
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_iso(value)
    raise TypeError(f"cannot put {type(value).__name__} in the audit log")


def utc_iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    body = canonical_json(
        {
            "action": entry.action,
            "actor": entry.actor,
            "at": utc_iso(entry.at),
            "detail": entry.detail,
            "record_id": entry.record_id,
            "record_kind": entry.record_kind,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def verify_chain(session: Session) -> int:
    """Check every audit entry's hash; the number of entries, or AuditChainBroken."""
    prev = GENESIS_HASH
    count = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        if entry.prev_hash != prev:
            raise AuditChainBroken(entry.seq, "does not follow the entry before it")
        if entry.hash != entry_hash(prev, entry):
            raise AuditChainBroken(entry.seq, "content does not match its hash")
        prev = entry.hash
        count += 1
    return count
