"""The workflow runtime's tables: definitions, instances and what instances wait for.

Everything an API or the scheduler queries (human tasks, timers, message subscriptions)
is a row of its own with an index, so nobody has to open an instance's state to find it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from contractflow.db import Base, UTCDateTime

BIGINT_ID = BigInteger().with_variant(Integer, "sqlite")


class DefinitionRow(Base):
    """One deployed version of a BPMN or DMN file; rows are never updated, only added."""

    __tablename__ = "workflow_definition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    sequence: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    # Space-separated executable process ids (BPMN) or decision ids (DMN) in this file.
    provides: Mapped[str] = mapped_column(Text)
    # Space-separated ids of the definition rows this one was validated with (called
    # processes, decision tables): a version keeps its dependencies' versions too.
    requires: Mapped[str] = mapped_column(Text)
    deployed_by: Mapped[str] = mapped_column(String(128))
    deployed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("service", "file_name", "sequence"),
        Index("ix_workflow_definition_latest", "service", "file_name", "sequence"),
    )


class InstanceRow(Base):
    __tablename__ = "workflow_instance"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("workflow_definition.id"))
    process_id: Mapped[str] = mapped_column(String(255))
    contract_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    # Optimistic concurrency: every write is UPDATE ... WHERE version = :read_version.
    version: Mapped[int] = mapped_column(Integer)
    state_format: Mapped[int] = mapped_column(Integer)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    started_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_workflow_instance_contract_id", "contract_id"),
        Index("ix_workflow_instance_status_process", "status", "process_id"),
    )


class HumanTaskRow(Base):
    __tablename__ = "human_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("workflow_instance.id"))
    process_id: Mapped[str] = mapped_column(String(255))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    form_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    candidate_role: Mapped[str | None] = mapped_column(String(128), nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(128), nullable=True)
    contract_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)

    __table_args__ = (
        Index("ix_human_task_instance_id", "instance_id"),
        Index("ix_human_task_assignee_status", "assignee", "status"),
        Index("ix_human_task_candidate_role_status", "candidate_role", "status"),
        Index("ix_human_task_contract_id", "contract_id"),
        Index("ix_human_task_status_due_at", "status", "due_at"),
    )


class TimerRow(Base):
    __tablename__ = "workflow_timer"

    instance_id: Mapped[str] = mapped_column(ForeignKey("workflow_instance.id"), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(255))
    # The scheduler's only query is "due_at <= now", so its cost follows what is due.
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class StartTimerRow(Base):
    """When the scheduler starts the next instance of a process with a timer start event.

    One row per start event of the latest version: deploying a new version replaces it.
    `cycles_left` is None for a one-off (date, duration), -1 for an endless cycle."""

    __tablename__ = "workflow_start_timer"
    __table_args__ = (UniqueConstraint("service", "process_id", "element_id"),)

    id: Mapped[int] = mapped_column(BIGINT_ID, primary_key=True, autoincrement=True)
    service: Mapped[str] = mapped_column(String(64))  # as on the definition rows
    process_id: Mapped[str] = mapped_column(String(255))
    element_id: Mapped[str] = mapped_column(String(255))
    definition_id: Mapped[int] = mapped_column(ForeignKey("workflow_definition.id"))
    timer: Mapped[str] = mapped_column(String(255))  # the ISO value as modelled
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    cycles_left: Mapped[int | None] = mapped_column(Integer)
    period_s: Mapped[float | None] = mapped_column(Float)
    fired: Mapped[int] = mapped_column(Integer, default=0)  # instances started so far


class SubscriptionRow(Base):
    """An instance waiting at a message catch event, findable by message name and key."""

    __tablename__ = "message_subscription"

    instance_id: Mapped[str] = mapped_column(ForeignKey("workflow_instance.id"), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_name: Mapped[str] = mapped_column(String(255))
    correlation_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_message_subscription_name_key", "message_name", "correlation_key"),)


class HeldMessageRow(Base):
    """A message that arrived before anyone waited for it, kept until its TTL runs out."""

    __tablename__ = "held_message"

    id: Mapped[int] = mapped_column(BIGINT_ID, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    message_name: Mapped[str] = mapped_column(String(255))
    correlation_key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    # The record that carried it, so its dead letter can send it back (None: not consumed
    # from Kafka, or held before k0006).
    origin_topic: Mapped[str | None] = mapped_column(String(249), nullable=True)
    origin_partition: Mapped[int | None] = mapped_column(Integer, nullable=True)
    origin_offset: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    origin_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    origin_value: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    __table_args__ = (Index("ix_held_message_name_key", "message_name", "correlation_key"),)


class IncidentRow(Base):
    __tablename__ = "workflow_incident"

    id: Mapped[int] = mapped_column(BIGINT_ID, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("workflow_instance.id"))
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(255))
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_workflow_incident_status", "status"),
        Index("ix_workflow_incident_instance_id", "instance_id"),
    )


class HistoryRow(Base):
    """The audit log: one row per step of an instance, who did it and with what data."""

    __tablename__ = "workflow_history"

    id: Mapped[int] = mapped_column(BIGINT_ID, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    element_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    actor: Mapped[str | None] = mapped_column(String(128), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    data: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_workflow_history_instance_id", "instance_id", "id"),)
