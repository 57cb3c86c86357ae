"""Negotiation: whose contract a draft is (`owner_id`), apart from who opened it. A draft
opened for a tender is opened by the renewal manager who decided, but it continues the
contract it follows, whose owner's department approves it.

Revision ID: n0006
Revises: n0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "n0006"
down_revision = "n0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null on the drafts before this column: their owner is their creator.
    op.add_column("contract_draft", sa.Column("owner_id", sa.String(128), nullable=True))


def downgrade() -> None:
    op.drop_column("contract_draft", "owner_id")
