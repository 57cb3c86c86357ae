"""Renewal: the watched contracts table.

Revision ID: r0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contractflow.db import UTCDateTime

revision = "r0001"
down_revision = None
branch_labels = ("renewal",)
depends_on = "k0001"


def upgrade() -> None:
    op.create_table(
        "watched_contract",
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("provider_name", sa.String(500), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("auto_renew", sa.Boolean, nullable=False),
        sa.Column("notice_period_days", sa.Integer, nullable=False),
        sa.Column("total_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("signed_event_id", sa.String(64), nullable=False),
        sa.Column("watched_since", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", name="pk_watched_contract"),
    )
    op.create_index(
        "ix_watched_contract_status_end_date", "watched_contract", ["status", "end_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_watched_contract_status_end_date", table_name="watched_contract")
    op.drop_table("watched_contract")
