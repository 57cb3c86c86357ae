"""Renewal: the full contract view, deadlines, KPI reports, maintenance, evaluations.

Revision ID: r0002
Revises: r0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contractflow.db import UTCDateTime

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = "k0002"  # the workflow runtime's tables

# Rows watched before this revision get neutral values; the next contract.signed or
# contract.amended of theirs fills them in.
NEW_CONTRACT_COLUMNS: list[sa.Column] = [
    sa.Column("timezone", sa.String(64), nullable=False, server_default="Asia/Shanghai"),
    sa.Column("renewal_conditions", sa.Text, nullable=True),
    sa.Column("licence_end_date", sa.Date, nullable=True),
    sa.Column("service_standards", sa.JSON, nullable=False, server_default=sa.text("'{}'")),
    sa.Column("maintenance_schedule", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
    sa.Column("owner_id", sa.String(64), nullable=True),
    sa.Column("owner_name", sa.String(200), nullable=True),
    sa.Column("owner_email", sa.String(320), nullable=True),
    sa.Column("owner_language", sa.String(8), nullable=False, server_default="zh"),
    sa.Column("amendments", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
    sa.Column("terminated_on", sa.Date, nullable=True),
    sa.Column("termination_grounds", sa.String(32), nullable=True),
    sa.Column("objected_at", UTCDateTime(), nullable=True),
    sa.Column("objected_by", sa.String(64), nullable=True),
    sa.Column("objection_reason", sa.Text, nullable=True),
    sa.Column(
        "updated_at", UTCDateTime(), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")
    ),
]


def upgrade() -> None:
    for column in NEW_CONTRACT_COLUMNS:
        op.add_column("watched_contract", column)
    # The kernel's mail outbox (contractflow.mail), created per service that sends mail,
    # as approval's a0001 does.
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("text_body", sa.Text, nullable=False),
        sa.Column("html_body", sa.Text, nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_mail_outbox"),
        sa.UniqueConstraint("message_id", name="uq_mail_outbox_message_id"),
    )
    op.create_index(
        "ix_mail_outbox_sent_at_next_attempt_at", "mail_outbox", ["sent_at", "next_attempt_at"]
    )
    op.create_table(
        "renewal_deadline",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item", sa.String(200), nullable=False),
        sa.Column("offset_days", sa.Integer, nullable=False),
        sa.Column("deadline_date", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("fired_at", UTCDateTime(), nullable=True),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_renewal_deadline"),
        sa.UniqueConstraint(
            "contract_id",
            "kind",
            "item",
            "offset_days",
            "deadline_date",
            name="uq_renewal_deadline",
        ),
    )
    op.create_index(
        "ix_renewal_deadline_pending_due_at",
        "renewal_deadline",
        ["due_at"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_renewal_deadline_due_on", "renewal_deadline", ["due_on"])
    op.create_index("ix_renewal_deadline_contract_id", "renewal_deadline", ["contract_id"])
    op.create_table(
        "renewal_kpi_report",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("availability_percent", sa.Numeric(7, 3), nullable=False),
        sa.Column("mean_response_minutes", sa.Numeric(10, 2), nullable=False),
        sa.Column("fault_fix_rate_percent", sa.Numeric(7, 3), nullable=False),
        sa.Column("incidents", sa.Integer, nullable=True),
        sa.Column("reported_by", sa.String(64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_renewal_kpi_report"),
        sa.UniqueConstraint(
            "contract_id",
            "period_start",
            "period_end",
            name="uq_renewal_kpi_report_contract_id_period_start_period_end",
        ),
    )
    op.create_index(
        "ix_renewal_kpi_report_contract_id_period_end",
        "renewal_kpi_report",
        ["contract_id", "period_end"],
    )
    op.create_table(
        "renewal_maintenance",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("item", sa.String(200), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("performed_on", sa.Date, nullable=True),
        sa.Column("evidence_reference", sa.String(500), nullable=True),
        sa.Column("reported_by", sa.String(64), nullable=True),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_renewal_maintenance"),
        sa.UniqueConstraint(
            "contract_id",
            "item",
            "period_start",
            name="uq_renewal_maintenance_contract_id_item_period_start",
        ),
    )
    op.create_index(
        "ix_renewal_maintenance_contract_id_period_end",
        "renewal_maintenance",
        ["contract_id", "period_end"],
    )
    op.create_table(
        "renewal_evaluation",
        sa.Column("evaluation_id", sa.String(64), nullable=False),
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("total_score", sa.Numeric(6, 2), nullable=False),
        sa.Column("rating", sa.String(16), nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("evaluated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("evaluation_id", name="pk_renewal_evaluation"),
    )
    op.create_index("ix_renewal_evaluation_contract_id", "renewal_evaluation", ["contract_id"])


def downgrade() -> None:
    for table in (
        "mail_outbox",
        "renewal_evaluation",
        "renewal_maintenance",
        "renewal_kpi_report",
        "renewal_deadline",
    ):
        op.drop_table(table)
    for column in reversed(NEW_CONTRACT_COLUMNS):
        op.drop_column("watched_contract", column.name)
