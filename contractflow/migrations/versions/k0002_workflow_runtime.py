"""Workflow runtime tables: definitions, instances, human tasks, timers, messages, incidents.

Revision ID: k0002
Revises: k0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contractflow.db import UTCDateTime

revision = "k0002"
down_revision = "k0001"
branch_labels = None
depends_on = None

BIGINT_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "workflow_definition",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("provides", sa.Text, nullable=False),
        sa.Column("requires", sa.Text, nullable=False),
        sa.Column("deployed_by", sa.String(128), nullable=False),
        sa.Column("deployed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_definition"),
        sa.UniqueConstraint(
            "service",
            "file_name",
            "sequence",
            name="uq_workflow_definition_service_file_name_sequence",
        ),
    )
    op.create_index(
        "ix_workflow_definition_latest",
        "workflow_definition",
        ["service", "file_name", "sequence"],
    )
    op.create_table(
        "workflow_instance",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("definition_id", sa.Integer, nullable=False),
        sa.Column("process_id", sa.String(255), nullable=False),
        sa.Column("contract_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state_format", sa.Integer, nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),
        sa.Column("started_by", sa.String(128), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_instance"),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["workflow_definition.id"],
            name="fk_workflow_instance_definition_id_workflow_definition",
        ),
    )
    op.create_index("ix_workflow_instance_contract_id", "workflow_instance", ["contract_id"])
    op.create_index(
        "ix_workflow_instance_status_process", "workflow_instance", ["status", "process_id"]
    )
    op.create_table(
        "human_task",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("instance_id", sa.String(36), nullable=False),
        sa.Column("process_id", sa.String(255), nullable=False),
        sa.Column("element_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("form_key", sa.String(128), nullable=True),
        sa.Column("candidate_role", sa.String(128), nullable=True),
        sa.Column("assignee", sa.String(128), nullable=True),
        sa.Column("contract_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("completed_by", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_human_task"),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["workflow_instance.id"],
            name="fk_human_task_instance_id_workflow_instance",
        ),
    )
    op.create_index("ix_human_task_instance_id", "human_task", ["instance_id"])
    op.create_index("ix_human_task_assignee_status", "human_task", ["assignee", "status"])
    op.create_index(
        "ix_human_task_candidate_role_status", "human_task", ["candidate_role", "status"]
    )
    op.create_index("ix_human_task_contract_id", "human_task", ["contract_id"])
    op.create_index("ix_human_task_status_due_at", "human_task", ["status", "due_at"])
    op.create_table(
        "workflow_timer",
        sa.Column("instance_id", sa.String(36), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("element_id", sa.String(255), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", "task_id", name="pk_workflow_timer"),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["workflow_instance.id"],
            name="fk_workflow_timer_instance_id_workflow_instance",
        ),
    )
    op.create_index("ix_workflow_timer_due_at", "workflow_timer", ["due_at"])
    op.create_table(
        "message_subscription",
        sa.Column("instance_id", sa.String(36), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("message_name", sa.String(255), nullable=False),
        sa.Column("correlation_key", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", "task_id", name="pk_message_subscription"),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["workflow_instance.id"],
            name="fk_message_subscription_instance_id_workflow_instance",
        ),
    )
    op.create_index(
        "ix_message_subscription_name_key",
        "message_subscription",
        ["message_name", "correlation_key"],
    )
    op.create_table(
        "held_message",
        sa.Column("id", BIGINT_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("message_name", sa.String(255), nullable=False),
        sa.Column("correlation_key", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_held_message"),
        sa.UniqueConstraint("event_id", name="uq_held_message_event_id"),
    )
    op.create_index("ix_held_message_expires_at", "held_message", ["expires_at"])
    op.create_index("ix_held_message_name_key", "held_message", ["message_name", "correlation_key"])
    op.create_table(
        "workflow_incident",
        sa.Column("id", BIGINT_ID, primary_key=True, autoincrement=True),
        sa.Column("instance_id", sa.String(36), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("element_id", sa.String(255), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_incident"),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["workflow_instance.id"],
            name="fk_workflow_incident_instance_id_workflow_instance",
        ),
    )
    op.create_index("ix_workflow_incident_status", "workflow_incident", ["status"])
    op.create_index("ix_workflow_incident_instance_id", "workflow_incident", ["instance_id"])
    op.create_table(
        "workflow_history",
        sa.Column("id", BIGINT_ID, primary_key=True, autoincrement=True),
        sa.Column("instance_id", sa.String(36), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("element_id", sa.String(255), nullable=True),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("actor", sa.String(128), nullable=True),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("data", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_history"),
    )
    op.create_index("ix_workflow_history_instance_id", "workflow_history", ["instance_id", "id"])


def downgrade() -> None:
    for table in (
        "workflow_history",
        "workflow_incident",
        "held_message",
        "message_subscription",
        "workflow_timer",
        "human_task",
        "workflow_instance",
        "workflow_definition",
    ):
        op.drop_table(table)
