"""Renewal: what an approved termination already settled (its notice and fee settlement),
so the one handover workflow does not ask for them a second time.

Revision ID: r0005
Revises: r0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0005"
down_revision = "r0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("watched_contract", sa.Column("termination", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("watched_contract", "termination")
