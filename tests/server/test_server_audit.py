"""The audit log's hash chain shows any later change to the log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select, update

from common.models import AuditEntry
from server import registry
from server.db import Database, upgrade
from server.journal import AuditChainBroken, verify_chain


@pytest.fixture
def db(fresh_db_url: str) -> Iterator[Database]:
    upgrade(fresh_db_url)
    database = Database(fresh_db_url)
    with database.session(write=True) as session:
        registry.add_station(session, 1, "1号磅", "gross", "token-for-station-1")
        for plate in ("晋A00001", "晋A00002", "晋A00003"):
            registry.add_vehicle(session, plate, ref_tare_kg=15000)
    yield database
    database.dispose()


def _seqs(db: Database) -> list[int]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))


def test_an_untouched_log_verifies(db: Database) -> None:
    with db.session() as session:
        assert verify_chain(session) == 4


def test_an_edited_entry_breaks_the_chain_at_that_entry(db: Database) -> None:
    third = _seqs(db)[2]
    with db.session(write=True) as session:
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == third)
            .values(detail='{"ref_tare_kg":12000}')
        )

    with db.session() as session, pytest.raises(AuditChainBroken) as broken:
        verify_chain(session)
    assert broken.value.seq == third


def test_a_deleted_entry_breaks_the_chain_at_the_next_one(db: Database) -> None:
    seqs = _seqs(db)
    with db.session(write=True) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == seqs[1]))

    with db.session() as session, pytest.raises(AuditChainBroken) as broken:
        verify_chain(session)
    assert broken.value.seq == seqs[2]
