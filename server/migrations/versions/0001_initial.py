"""The server's first tables: stations, vehicles, tares, weighings, counters, audit.

Written out by hand rather than from the models, so that later changes to
``common.models`` need a revision of their own. ``outbox`` and ``sync_state`` are
the booth's and have no place here.

Revision ID: 0001_initial
Revises:
Create Date: 2024-05-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_stations()
    _create_vehicles()
    _create_tares()
    _create_weighings()
    _create_counters()
    _create_audit_log()


def downgrade() -> None:
    for table in (
        "audit_log",
        "counters",
        "weighings",
        "tares",
        "vehicles",
        "stations",
    ):
        op.drop_table(table)


def _create_stations() -> None:
    op.create_table(
        "stations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("purpose", sa.String(10), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("rev", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_stations_rev", "stations", ["rev"])


def _create_vehicles() -> None:
    op.create_table(
        "vehicles",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(60), nullable=False),
        sa.Column("driver", sa.String(40), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("axles", sa.Integer(), nullable=False),
        sa.Column("rated_load_kg", sa.Integer(), nullable=False),
        sa.Column("ref_tare_kg", sa.Integer(), nullable=True),
        sa.Column("tare_tolerance_kg", sa.Integer(), nullable=False),
        sa.Column("default_product", sa.String(40), nullable=False),
        sa.Column("default_customer", sa.String(60), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("rev", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_vehicles_plate", "vehicles", ["plate"], unique=True)
    op.create_index("ix_vehicles_rev", "vehicles", ["rev"])


def _create_tares() -> None:
    op.create_table(
        "tares",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("tare_kg", sa.Integer(), nullable=False),
        sa.Column("weighed_at", _TZ, nullable=False),
        sa.Column("operator", sa.String(40), nullable=False),
        sa.Column("product", sa.String(40), nullable=False),
        sa.Column("customer", sa.String(60), nullable=False),
        sa.Column("trace_json", sa.Text(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("rev", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_tares_plate", "tares", ["plate"])
    op.create_index("ix_tares_rev", "tares", ["rev"])


def _create_weighings() -> None:
    op.create_table(
        "weighings",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("ticket_no", sa.String(24), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("product", sa.String(40), nullable=False),
        sa.Column("customer", sa.String(60), nullable=False),
        sa.Column("tare_id", sa.String(36), nullable=True),
        sa.Column("tare_kg", sa.Integer(), nullable=False),
        sa.Column("gross_kg", sa.Integer(), nullable=False),
        sa.Column("net_kg", sa.Integer(), nullable=False),
        sa.Column("tare_station", sa.Integer(), nullable=False),
        sa.Column("gross_station", sa.Integer(), nullable=False),
        sa.Column("tare_at", _TZ, nullable=False),
        sa.Column("gross_at", _TZ, nullable=False),
        sa.Column("tare_operator", sa.String(40), nullable=False),
        sa.Column("gross_operator", sa.String(40), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("trace_json", sa.Text(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.String(200), nullable=False),
        sa.Column("rev", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_weighings_ticket_no", "weighings", ["ticket_no"], unique=True)
    op.create_index("ix_weighings_plate", "weighings", ["plate"])
    op.create_index("ix_weighings_tare_id", "weighings", ["tare_id"])
    op.create_index("ix_weighings_rev", "weighings", ["rev"])


def _create_counters() -> None:
    counters = op.create_table(
        "counters",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    # The server's change stamp starts here; every change takes the next value.
    op.bulk_insert(counters, [{"key": "rev", "value": 0}])


def _create_audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("record_kind", sa.String(20), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
