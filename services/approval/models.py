"""Approval's own tables: the approver directory, approval requests and their tasks,
the decision audit, the signed-contract read model, amendments and dispute stages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contractflow.db import Base, UTCDateTime


class Approver(Base):
    """A person in the approver directory (kept by API and `erp.employee.updated`)."""

    __tablename__ = "approver"

    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    language: Mapped[str] = mapped_column(String(8))
    department: Mapped[str | None] = mapped_column(String(200), nullable=True)
    manager_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean)
    delegate_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    delegate_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    delegate_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ApprovalRequest(Base):
    __tablename__ = "approval_request"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    risk: Mapped[str] = mapped_column(String(8))
    requester: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    subject_url: Mapped[str] = mapped_column(String(2000))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)  # provider, reason, changes
    instance_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # pending / approved / rejected / withdrawn
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_approval_request_contract_id", "contract_id"),)


class ApprovalTask(Base):
    """One approver's task at one level: the email link is bound to it."""

    __tablename__ = "approval_task"

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the human task id
    request_id: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[str] = mapped_column(String(36))
    level: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[str] = mapped_column(String(64))  # who decides (after delegation)
    on_behalf_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    escalated_from: Mapped[str | None] = mapped_column(String(64), nullable=True)
    link_nonce: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # open / decided / superseded / withdrawn
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_via: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reminders_sent: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_approval_task_request_id_level", "request_id", "level"),)


class DecisionAudit(Base):
    """Every use of an email link or decision: what happened, through which channel, from where."""

    __tablename__ = "approval_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    person_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(32))  # viewed / decided / refused
    detail: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(8))
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(500), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_approval_audit_task_id", "task_id"),)


class SignedContract(Base):
    """Read model of `contract.signed`, kept current by this service's amendments and
    terminations: what change and termination requests start from."""

    __tablename__ = "signed_contract"

    contract_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    user_name: Mapped[str] = mapped_column(String(500))
    provider_name: Mapped[str] = mapped_column(String(500))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    notice_period_days: Mapped[int] = mapped_column(Integer)
    total_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))  # active / terminated
    signed_event_id: Mapped[str] = mapped_column(String(64))
    # `dump_contract_terms` JSON: as signed, then as last amended. None when the signed
    # event did not carry them (events from before they travelled).
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Amendment(Base):
    """The written amendment of a change request, signed by both sides."""

    __tablename__ = "amendment"

    number: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    effective_date: Mapped[dt.date] = mapped_column(Date)
    signed_on: Mapped[dt.date] = mapped_column(Date)
    signed_for_user: Mapped[str] = mapped_column(String(200))
    signed_for_provider: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DisputeStage(Base):
    """A stage of a provider's dispute of a termination, with its outcome."""

    __tablename__ = "dispute_stage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))  # negotiation / arbitration / litigation
    outcome: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_dispute_stage_request_id", "request_id"),)
