"""Renewal: the ERP's side of a running contract (payment schedule and payments, purchase
orders, providers' master data and the licence expiries told to owners).

Revision ID: r0006
Revises: r0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contractflow.db import UTCDateTime

revision = "r0006"
down_revision = "r0005"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 2)


def upgrade() -> None:
    op.create_table(
        "renewal_payment_milestone",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("paid_amount", MONEY, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("overdue_task_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contract_id", "due_date", name="uq_renewal_payment_milestone"),
    )
    op.create_table(
        "renewal_payment",
        sa.Column("payment_id", sa.String(64), nullable=False),
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("paid_at", UTCDateTime(), nullable=False),
        sa.Column("po_number", sa.String(64), nullable=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("payment_id"),
    )
    op.create_index("ix_renewal_payment_contract_id", "renewal_payment", ["contract_id"])
    op.create_table(
        "renewal_purchase_order",
        sa.Column("po_number", sa.String(64), nullable=False),
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("matches_total", sa.Boolean, nullable=False),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("po_number"),
    )
    op.create_index(
        "ix_renewal_purchase_order_contract_id", "renewal_purchase_order", ["contract_id"]
    )
    op.create_table(
        "renewal_vendor",
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("licence_number", sa.String(64), nullable=True),
        sa.Column("licence_valid_until", sa.Date, nullable=True),
        sa.Column("certifications", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("vendor_id"),
    )
    op.create_table(
        "renewal_licence_alert",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("licence_valid_until", sa.Date, nullable=False),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contract_id", "licence_valid_until", name="uq_renewal_licence_alert"),
    )


def downgrade() -> None:
    op.drop_table("renewal_licence_alert")
    op.drop_table("renewal_vendor")
    op.drop_index("ix_renewal_purchase_order_contract_id", "renewal_purchase_order")
    op.drop_table("renewal_purchase_order")
    op.drop_index("ix_renewal_payment_contract_id", "renewal_payment")
    op.drop_table("renewal_payment")
    op.drop_table("renewal_payment_milestone")
