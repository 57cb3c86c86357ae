"""Approval: directory, requests, tasks, audit, signed contracts, amendments, disputes, mail.

Revision ID: a0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contractflow.db import UTCDateTime

revision = "a0001"
down_revision = None
branch_labels = ("approval",)
depends_on = "k0002"


def upgrade() -> None:
    op.create_table(
        "approver",
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("department", sa.String(200), nullable=True),
        sa.Column("manager_id", sa.String(64), nullable=True),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("delegate_id", sa.String(64), nullable=True),
        sa.Column("delegate_from", sa.Date, nullable=True),
        sa.Column("delegate_until", sa.Date, nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name="pk_approver"),
    )
    op.create_table(
        "approval_request",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("risk", sa.String(8), nullable=False),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("subject_url", sa.String(2000), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("instance_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name="pk_approval_request"),
    )
    op.create_index("ix_approval_request_contract_id", "approval_request", ["contract_id"])
    op.create_table(
        "approval_task",
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("instance_id", sa.String(36), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("on_behalf_of", sa.String(64), nullable=True),
        sa.Column("escalated_from", sa.String(64), nullable=True),
        sa.Column("link_nonce", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_via", sa.String(32), nullable=True),
        sa.Column("reminders_sent", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name="pk_approval_task"),
    )
    op.create_index("ix_approval_task_request_id_level", "approval_task", ["request_id", "level"])
    op.create_table(
        "approval_audit",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("person_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(500), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_approval_audit"),
    )
    op.create_index("ix_approval_audit_task_id", "approval_audit", ["task_id"])
    op.create_table(
        "signed_contract",
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("user_name", sa.String(500), nullable=False),
        sa.Column("provider_name", sa.String(500), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("notice_period_days", sa.Integer, nullable=False),
        sa.Column("total_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("signed_event_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", name="pk_signed_contract"),
    )
    op.create_table(
        "amendment",
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("signed_on", sa.Date, nullable=False),
        sa.Column("signed_for_user", sa.String(200), nullable=False),
        sa.Column("signed_for_provider", sa.String(200), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_amendment"),
        sa.UniqueConstraint("request_id", name="uq_amendment_request_id"),
    )
    op.create_table(
        "dispute_stage",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dispute_stage"),
    )
    op.create_index("ix_dispute_stage_request_id", "dispute_stage", ["request_id"])
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


def downgrade() -> None:
    for index, table in [
        ("ix_mail_outbox_sent_at_next_attempt_at", "mail_outbox"),
        ("ix_dispute_stage_request_id", "dispute_stage"),
        ("ix_approval_audit_task_id", "approval_audit"),
        ("ix_approval_task_request_id_level", "approval_task"),
        ("ix_approval_request_contract_id", "approval_request"),
    ]:
        op.drop_index(index, table_name=table)
    for table in [
        "mail_outbox",
        "dispute_stage",
        "amendment",
        "signed_contract",
        "approval_audit",
        "approval_task",
        "approval_request",
        "approver",
    ]:
        op.drop_table(table)
