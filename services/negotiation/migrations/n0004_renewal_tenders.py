"""Negotiation: a draft opened for a tender (`tender.requested`), and for a renegotiation
the contract it renews, which its `contract.signed` names.

Revision ID: n0004
Revises: n0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "n0004"
down_revision = "n0003"
branch_labels = None
depends_on = None

COLUMNS: list[sa.Column] = [
    sa.Column("tender_id", sa.String(64), nullable=True),
    sa.Column("renews_contract_id", sa.String(64), nullable=True),
]


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("contract_draft", column)
    # One draft per tender: a tender delivered twice opens nothing more.
    op.create_index("uq_contract_draft_tender_id", "contract_draft", ["tender_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_contract_draft_tender_id", table_name="contract_draft")
    for column in reversed(COLUMNS):
        op.drop_column("contract_draft", column.name)
