"""The central database: engine, the one session scope, and schema upgrades.

SQLite is the embedded default (one file, WAL, foreign keys on); PostgreSQL via
psycopg 3 in production. A PostgreSQL URL may carry its own ``search_path``
(``?options=-csearch_path%3Dsome_schema``); the schema is created on upgrade, which
lets every test run in a schema of its own.

Times are stored as UTC; the column type (``common.models.UTCDateTime``) gives
them back timezone-aware on both databases.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker


from .errors import StorageConflict, StorageError, StorageUnavailable

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_WRITE_OPTION = "weighbridge_write"
_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([^\s,]+)")


def sqlite_url(path: Path) -> str:
    """The URL of the SQLite file at ``path`` (its folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return URL.create("sqlite+pysqlite", database=str(path)).render_as_string()


def make_engine(url: str) -> Engine:
    """An engine for ``url``, tuned for SQLite or PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    return create_engine(parsed)


def _sqlite_engine(url: URL) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transactions out of the driver's hands so that BEGIN is ours.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes the write lock up front: upgrading a read transaction
        # to a write one later can fail at once with "database is locked".
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Database:
    """Owns the engine; all database work of the server goes through ``session``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error.

        ``write=True`` starts the transaction as a writer (SQLite: BEGIN
        IMMEDIATE). SQLAlchemy errors leave as ``StorageError`` subclasses.
        """
        session = self._sessions()
        try:
            session.connection(execution_options={_WRITE_OPTION: write})
            yield session
            session.commit()
        except SQLAlchemyError as err:
            session.rollback()
            raise translate_error(err) from err
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def translate_error(err: SQLAlchemyError) -> StorageError:
    """The server's view of a database error."""
    if isinstance(err, IntegrityError):
        log.warning("database refused a write: %s", err.orig)
        return StorageConflict("数据库拒绝了这次写入（数据冲突），请重试")
    if isinstance(err, OperationalError | InterfaceError) or (
        isinstance(err, DBAPIError) and err.connection_invalidated
    ):
        log.warning("database unavailable: %s", err)
        return StorageUnavailable("数据库暂时不可用，请稍后重试")
    log.error("database error", exc_info=err)
    return StorageError("数据库错误")


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (Alembic ``head``)."""
    engine = make_engine(url)
    try:
        _create_search_path_schema(engine)
        with engine.begin() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except SQLAlchemyError as err:
        raise translate_error(err) from err
    finally:
        engine.dispose()
    log.info("database schema is current: %s", engine.url.render_as_string())


def alembic_config() -> Config:
    """Alembic settings without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def search_path_schema(url: str) -> str | None:
    """The first schema named by ``-csearch_path=...`` in a PostgreSQL URL."""
    options = make_url(url).query.get("options")
    if isinstance(options, tuple):
        options = " ".join(options)
    match = _SEARCH_PATH.search(options or "")
    if match is None:
        return None
    return match.group(1).split(",")[0].strip('"')


def _create_search_path_schema(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        return
    schema = search_path_schema(engine.url.render_as_string(hide_password=False))
    if schema is None:
        return
    quoted = engine.dialect.identifier_preparer.quote_identifier(schema)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
