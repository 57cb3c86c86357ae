"""Admin editor: the deploy audit.

Revision ID: ad0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contractflow.db import UTCDateTime

revision = "ad0001"
down_revision = None
branch_labels = ("admin",)
depends_on = "k0001"


def upgrade() -> None:
    op.create_table(
        "admin_deploy_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("definition_id", sa.Integer, nullable=True),
        sa.Column("sequence", sa.Integer, nullable=True),
        sa.Column("rollback_to", sa.Integer, nullable=True),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_admin_deploy_audit_file", "admin_deploy_audit", ["service", "file_name", "at"]
    )


def downgrade() -> None:
    op.drop_table("admin_deploy_audit")
