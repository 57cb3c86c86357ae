"""Negotiation: providers' master data from the ERP (`erp.vendor.updated`), which the
provider qualification check uses.

Revision ID: n0005
Revises: n0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contractflow.db import UTCDateTime

revision = "n0005"
down_revision = "n0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "negotiation_vendor",
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("licence_number", sa.String(64), nullable=True),
        sa.Column("licence_valid_until", sa.Date, nullable=True),
        sa.Column("certifications", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("vendor_id"),
    )


def downgrade() -> None:
    op.drop_table("negotiation_vendor")
