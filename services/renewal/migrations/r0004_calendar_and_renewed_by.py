"""Renewal: a calendar index that answers a day in index order, and the link between a
renegotiated contract and the one it renews.

The calendar read every deadline of a day through `ix_renewal_deadline_due_on` and sorted
them (11,000 rows on a busy day of 1M contracts, one heap page each). The new index holds
the calendar's order and the columns its counts need, so a day's counts are an index-only
scan and its first page is read in order, with no sort.

Revision ID: r0004
Revises: r0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None

COLUMNS: list[sa.Column] = [
    # On the old contract: the renegotiated one that closed it as renewed.
    sa.Column("renewed_by_contract_id", sa.String(64), nullable=True),
    # On the new contract: the one it renews (from `contract.signed`'s `renews_contract_id`).
    sa.Column("renews_contract_id", sa.String(64), nullable=True),
]


def upgrade() -> None:
    op.drop_index("ix_renewal_deadline_due_on", table_name="renewal_deadline")
    op.create_index(
        "ix_renewal_deadline_calendar",
        "renewal_deadline",
        ["due_on", "due_at", "id"],
        postgresql_include=["kind", "status"],
        postgresql_where=sa.text("status <> 'cancelled'"),
        sqlite_where=sa.text("status <> 'cancelled'"),
    )
    for column in COLUMNS:
        op.add_column("watched_contract", column)


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("watched_contract", column.name)
    op.drop_index("ix_renewal_deadline_calendar", table_name="renewal_deadline")
    op.create_index("ix_renewal_deadline_due_on", "renewal_deadline", ["due_on"])
