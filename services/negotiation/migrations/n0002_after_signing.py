"""Negotiation: what happened to a contract after signing (amendments, termination).

Revision ID: n0002
Revises: n0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "n0002"
down_revision = "n0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contract_draft") as batch:
        batch.add_column(sa.Column("after_signing", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contract_draft") as batch:
        batch.drop_column("after_signing")
