"""Negotiation: the contract drafts prepared before signing.

Revision ID: n0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contractflow.db import UTCDateTime

revision = "n0001"
down_revision = None
branch_labels = ("negotiation",)
depends_on = "k0002"


def upgrade() -> None:
    op.create_table(
        "contract_draft",
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("title", sa.String(500), nullable=True),
        sa.Column("provider_id", sa.String(64), nullable=True),
        sa.Column("provider_name", sa.String(500), nullable=True),
        sa.Column("start_date", sa.Date, nullable=True),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("total_amount", sa.Numeric(18, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("licence_software_id", sa.String(200), nullable=True),
        sa.Column("terms", sa.JSON, nullable=False),
        sa.Column("requirement", sa.JSON, nullable=True),
        sa.Column("budget_amount", sa.Numeric(18, 2), nullable=True),
        sa.Column("budget_currency", sa.String(3), nullable=True),
        sa.Column("fee_quote", sa.JSON, nullable=True),
        sa.Column("checks", sa.JSON, nullable=True),
        sa.Column("feedback", sa.JSON, nullable=True),
        sa.Column("review_round", sa.Integer, nullable=False),
        sa.Column("reviews", sa.JSON, nullable=False),
        sa.Column("approval_request_id", sa.String(64), nullable=True),
        sa.Column("approvals", sa.JSON, nullable=False),
        sa.Column("signing", sa.JSON, nullable=True),
        sa.Column("signed_at", UTCDateTime(), nullable=True),
        sa.Column("cancel_reason", sa.Text, nullable=True),
        sa.Column("workflow_instance_id", sa.String(36), nullable=True),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", name="pk_contract_draft"),
    )
    op.create_index("ix_contract_draft_status_end_date", "contract_draft", ["status", "end_date"])
    op.create_index("ix_contract_draft_provider_id", "contract_draft", ["provider_id"])
    op.create_index(
        "ix_contract_draft_licence_software_id", "contract_draft", ["licence_software_id"]
    )
    op.create_index(
        "ix_contract_draft_approval_request_id", "contract_draft", ["approval_request_id"]
    )


def downgrade() -> None:
    for index in (
        "ix_contract_draft_approval_request_id",
        "ix_contract_draft_licence_software_id",
        "ix_contract_draft_provider_id",
        "ix_contract_draft_status_end_date",
    ):
        op.drop_index(index, table_name="contract_draft")
    op.drop_table("contract_draft")
