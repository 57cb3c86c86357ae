"""Renewal: what the decision workflow needs on the contract view.

Revision ID: r0003
Revises: r0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None

COLUMNS: list[sa.Column] = [
    sa.Column("terms", sa.JSON, nullable=True),
    sa.Column("decision_instance_id", sa.String(36), nullable=True),
    sa.Column("end_decision", sa.String(32), nullable=True),
]


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("watched_contract", column)


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("watched_contract", column.name)
