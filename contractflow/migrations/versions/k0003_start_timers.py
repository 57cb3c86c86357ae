"""Timer start events' schedule: when the scheduler starts the next instance of a process.

Revision ID: k0003
Revises: k0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contractflow.db import UTCDateTime

revision = "k0003"
down_revision = "k0002"
branch_labels = None
depends_on = None

BIGINT_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "workflow_start_timer",
        sa.Column("id", BIGINT_ID, primary_key=True, autoincrement=True),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("process_id", sa.String(255), nullable=False),
        sa.Column("element_id", sa.String(255), nullable=False),
        sa.Column("definition_id", sa.Integer, nullable=False),
        sa.Column("timer", sa.String(255), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("cycles_left", sa.Integer, nullable=True),
        sa.Column("period_s", sa.Float, nullable=True),
        sa.Column("fired", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_start_timer"),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["workflow_definition.id"],
            name="fk_workflow_start_timer_definition_id_workflow_definition",
        ),
        sa.UniqueConstraint(
            "service",
            "process_id",
            "element_id",
            name="uq_workflow_start_timer_service_process_id_element_id",
        ),
    )
    op.create_index("ix_workflow_start_timer_due_at", "workflow_start_timer", ["due_at"])


def downgrade() -> None:
    op.drop_table("workflow_start_timer")
