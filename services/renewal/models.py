"""Renewal's own tables: its view of every signed contract, the deadlines derived from it,
and the supervision record (KPI reports, maintenance evidence, evaluations)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contractflow.db import Base, UTCDateTime, utcnow

ACTIVE, TERMINATED, EXPIRED = "active", "terminated", "expired"
RENEWED = "renewed"  # closed by the renegotiated contract that renews it
# Still running until its end date: active (an extended one too, to its new end date), or
# closed as renewed by a renegotiation, which only decided what follows the end. Paid,
# maintained, evaluated and its provider's licence watched until then; the one list of it.
RUNNING = (ACTIVE, RENEWED)
PENDING, FIRED, CANCELLED = "pending", "fired", "cancelled"


class WatchedContract(Base):
    """Renewal's view of a signed contract: created from `contract.signed`, moved on by
    `contract.amended` and `contract.terminated`."""

    __tablename__ = "watched_contract"

    contract_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    provider_id: Mapped[str] = mapped_column(String(64))
    provider_name: Mapped[str] = mapped_column(String(500))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    auto_renew: Mapped[bool] = mapped_column(Boolean)
    notice_period_days: Mapped[int] = mapped_column(Integer)
    total_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(32), default=ACTIVE)
    signed_event_id: Mapped[str] = mapped_column(String(64))
    watched_since: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    renewal_conditions: Mapped[str | None] = mapped_column(Text, nullable=True)
    licence_end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # {"availability_percent", "response_minutes", "fault_fix_rate_percent"} targets.
    service_standards: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # [{"item", "content", "frequency"}], the seed's default when the terms name none.
    maintenance_schedule: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    owner_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    owner_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    owner_language: Mapped[str] = mapped_column(String(8), default="zh")
    amendments: Mapped[list[str]] = mapped_column(JSON, default=list)  # numbers applied
    terminated_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    termination_grounds: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # From `contract.terminated`: {"request_id", "notice_given_on", "settlement",
    # "compensation"} (compensation since #13; older rows lack it), which the approval
    # service's termination workflow settled and the handover does not ask again.
    termination: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    objected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    objected_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    objection_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The current terms (`dump_contract_terms` JSON) a renegotiation starts from; None when
    # the signed event carried none.
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    decision_instance_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # What the owner decided for the end of the current term (renewal.bpmn's choices).
    end_decision: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # A renegotiation: the new contract that closed this one as renewed, and on the new
    # one the contract it renews (`contract.signed`'s `renews_contract_id`).
    renewed_by_contract_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    renews_contract_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (Index("ix_watched_contract_status_end_date", "status", "end_date"),)


class Deadline(Base):
    """One reminder of one contract, due at `due_at`; the expiry watch fires pending rows.

    Only pending rows are indexed by due time, so a tick reads what is due and nothing
    else however many contracts there are."""

    __tablename__ = "renewal_deadline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    # expiry / objection: reminders; maintenance: check one item's period for evidence;
    # evaluation: score the provider over the period ending on deadline_date.
    kind: Mapped[str] = mapped_column(String(16))
    item: Mapped[str] = mapped_column(String(200), default="")  # the maintenance item
    offset_days: Mapped[int] = mapped_column(Integer)  # days before deadline_date (-1: after)
    deadline_date: Mapped[dt.date] = mapped_column(Date)  # end date, last day to object...
    due_on: Mapped[dt.date] = mapped_column(Date)  # the business day it is due
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    fired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        UniqueConstraint(
            "contract_id",
            "kind",
            "item",
            "offset_days",
            "deadline_date",
            name="uq_renewal_deadline",
        ),
        Index(
            "ix_renewal_deadline_pending_due_at",
            "due_at",
            postgresql_where="status = 'pending'",
            sqlite_where="status = 'pending'",
        ),
        # The calendar: a day's rows in its order, its counts from the index alone.
        Index(
            "ix_renewal_deadline_calendar",
            "due_on",
            "due_at",
            "id",
            postgresql_include=["kind", "status"],
            postgresql_where="status <> 'cancelled'",
            sqlite_where="status <> 'cancelled'",
        ),
        Index("ix_renewal_deadline_contract_id", "contract_id"),
    )


class KpiReport(Base):
    """Measured service levels of one contract over one period (from event or HTTP)."""

    __tablename__ = "renewal_kpi_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    availability_percent: Mapped[Decimal] = mapped_column(Numeric(7, 3))
    mean_response_minutes: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    fault_fix_rate_percent: Mapped[Decimal] = mapped_column(Numeric(7, 3))
    incidents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reported_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("contract_id", "period_start", "period_end"),
        Index("ix_renewal_kpi_report_contract_id_period_end", "contract_id", "period_end"),
    )


class MaintenanceRecord(Base):
    """One maintenance item in one period: evidenced, or missed when its period ended bare."""

    __tablename__ = "renewal_maintenance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # evidenced / missed
    performed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    evidence_reference: Mapped[str | None] = mapped_column(String(500), nullable=True)
    reported_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("contract_id", "item", "period_start"),
        Index("ix_renewal_maintenance_contract_id_period_end", "contract_id", "period_end"),
    )


class Evaluation(Base):
    """A scored evaluation of the provider, as published in `contract.evaluated`."""

    __tablename__ = "renewal_evaluation"

    evaluation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    # None with rating not_measured: nothing measured in the period (r0007).
    total_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    rating: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)  # scores, explanations, missed items
    evaluated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_renewal_evaluation_contract_id", "contract_id"),)
