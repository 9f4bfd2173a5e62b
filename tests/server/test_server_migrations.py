"""Alembic migrations bring an empty database to the models' schema."""

from __future__ import annotations

from pathlib import Path

import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from common.models import Base, Counter
from server.db import Database, alembic_config, make_engine, search_path_schema, upgrade
from tests.support.live_server import start_live_server

SERVER_TABLES = {"stations", "vehicles", "tares", "weighings", "counters", "audit_log"}
BOOTH_TABLES = {"outbox", "sync_state"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_every_server_table_and_no_booth_table(
    fresh_db_url: str,
) -> None:
    upgrade(fresh_db_url)

    tables = _tables(fresh_db_url)
    assert SERVER_TABLES <= tables
    assert not BOOTH_TABLES & tables
    assert "alembic_version" in tables


def test_upgraded_database_is_at_the_newest_revision(fresh_db_url: str) -> None:
    upgrade(fresh_db_url)

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = make_engine(fresh_db_url)
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
    finally:
        engine.dispose()
    assert head == "0001_initial"


def test_migrated_schema_matches_the_models_except_booth_tables(
    fresh_db_url: str,
) -> None:
    upgrade(fresh_db_url)

    engine = make_engine(fresh_db_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    missing_booth_tables = {
        d[1].name for d in diffs if isinstance(d, tuple) and d[0] == "add_table"
    }
    others = [d for d in diffs if not (isinstance(d, tuple) and d[0] == "add_table")]
    assert missing_booth_tables == BOOTH_TABLES
    assert others == []


def test_upgrading_twice_keeps_the_data_and_the_change_counter(
    fresh_db_url: str,
) -> None:
    upgrade(fresh_db_url)
    db = Database(fresh_db_url)
    try:
        with db.session(write=True) as session:
            session.get_one(Counter, "rev").value = 7

        upgrade(fresh_db_url)

        with db.session() as session:
            counters = session.scalars(select(Counter)).all()
            assert [(c.key, c.value) for c in counters] == [("rev", 7)]
    finally:
        db.dispose()


def test_change_counter_starts_at_zero(fresh_db_url: str) -> None:
    upgrade(fresh_db_url)
    db = Database(fresh_db_url)
    try:
        with db.session() as session:
            assert session.get_one(Counter, "rev").value == 0
    finally:
        db.dispose()


def test_postgres_search_path_in_the_url_keeps_tables_in_that_schema(
    fresh_db_url: str,
) -> None:
    schema = search_path_schema(fresh_db_url)
    if schema is None:
        return  # SQLite has no schemas

    upgrade(fresh_db_url)

    engine = make_engine(fresh_db_url)
    try:
        with engine.connect() as conn:
            found = set(inspect(conn).get_table_names(schema=schema))
            current = conn.execute(text("select current_schema()")).scalar()
    finally:
        engine.dispose()
    assert SERVER_TABLES <= found
    assert current == schema


def test_the_server_upgrades_an_empty_database_when_it_starts(
    fresh_db_url: str, tmp_path: Path
) -> None:
    server = start_live_server(fresh_db_url, tmp_path)
    try:
        with httpx.Client(base_url=server.url, trust_env=False) as client:
            assert client.get("/api/v1/heartbeat").json()["status"] == "ok"
    finally:
        server.stop()

    assert SERVER_TABLES <= _tables(fresh_db_url)
