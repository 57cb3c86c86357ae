"""Approval: the signed-contract read model keeps the contract's terms.

Revision ID: a0002
Revises: a0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a0002"
down_revision = "a0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: contracts signed before `contract.signed` carried the terms have none.
    with op.batch_alter_table("signed_contract") as batch:
        batch.add_column(sa.Column("terms", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signed_contract") as batch:
        batch.drop_column("terms")
