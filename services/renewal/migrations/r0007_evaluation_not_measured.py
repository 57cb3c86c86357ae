"""Renewal: an evaluation of a period with nothing measured has no total score (rating
not_measured) instead of a 0.00 that read as "poor".

Revision ID: r0007
Revises: r0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0007"
down_revision = "r0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("renewal_evaluation") as batch:
        batch.alter_column("total_score", existing_type=sa.Numeric(6, 2), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE renewal_evaluation SET total_score = 0 WHERE total_score IS NULL")
    with op.batch_alter_table("renewal_evaluation") as batch:
        batch.alter_column("total_score", existing_type=sa.Numeric(6, 2), nullable=False)
