"""ERP connector: its ledger (vendors, contracts, payment plan, purchase orders, payments).

Revision ID: e0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contractflow.db import UTCDateTime

revision = "e0001"
down_revision = None
branch_labels = ("erp_connector",)
depends_on = "k0001"


def upgrade() -> None:
    op.create_table(
        "erp_vendor",
        sa.Column("vendor_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
    )
    op.create_table(
        "erp_contract",
        sa.Column("contract_id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("total_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("last_event_id", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "erp_milestone",
        sa.Column(
            "contract_id",
            sa.String(64),
            sa.ForeignKey("erp_contract.contract_id"),
            primary_key=True,
        ),
        sa.Column("due_date", sa.Date, primary_key=True),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("paid_amount", sa.Numeric(18, 2), nullable=False),
    )
    op.create_table(
        "erp_purchase_order",
        sa.Column("po_number", sa.String(64), primary_key=True),
        sa.Column(
            "contract_id", sa.String(64), sa.ForeignKey("erp_contract.contract_id"), nullable=False
        ),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "erp_payment",
        sa.Column("payment_id", sa.String(64), primary_key=True),
        sa.Column(
            "contract_id", sa.String(64), sa.ForeignKey("erp_contract.contract_id"), nullable=False
        ),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("paid_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "erp_payment",
        "erp_purchase_order",
        "erp_milestone",
        "erp_contract",
        "erp_vendor",
    ):
        op.drop_table(table)
