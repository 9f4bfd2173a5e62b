"""Alembic environment: runs on the connection ``server.db.upgrade`` hands over.

Run without that connection (the ``alembic`` command with ``-x url=...``), it makes
its own engine the same way the server does.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from common.models import Base
from server.db import make_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return

    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database with: alembic -x url=<database url>")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported")
_run_online()
