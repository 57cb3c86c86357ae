"""Negotiation's own table: one row per contract being prepared, from requirement to signed.

The terms are stored as the JSON `dump_contract_terms` writes; the columns beside them are
copies for searching (status, provider, term, total) and are refreshed whenever the terms
change. `version` is the optimistic lock: a stale edit or workflow step fails, never wins.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contractflow.db import Base, UTCDateTime, utcnow

# Where a contract stands; the pre-signing workflow moves it along.
REQUIREMENT = "requirement"
RESEARCH = "research"
DRAFTING = "drafting"
IN_REVIEW = "in_review"
AWAITING_APPROVAL = "awaiting_approval"
SIGNING = "signing"
SIGNED = "signed"
CANCELLED = "cancelled"
TERMINATED = "terminated"  # ended early by a termination request (approval service)
STATUSES = (
    REQUIREMENT,
    RESEARCH,
    DRAFTING,
    IN_REVIEW,
    AWAITING_APPROVAL,
    SIGNING,
    SIGNED,
    CANCELLED,
    TERMINATED,
)
EDITABLE = (REQUIREMENT, RESEARCH, DRAFTING)
# Contracts whose licence another draft must not overlap (the check's "active" set).
HOLDS_LICENCE = tuple(s for s in STATUSES if s not in (CANCELLED, TERMINATED))


class ContractDraft(Base):
    __tablename__ = "contract_draft"

    contract_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(500), nullable=True)
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    start_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    total_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    # casefolded, so the licence-conflict check reads only drafts for the same software
    licence_software_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    requirement: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    budget_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    budget_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    fee_quote: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    checks: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # What reviewers or approvers last asked the drafter to change.
    feedback: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    review_round: Mapped[int] = mapped_column(Integer, default=0)
    reviews: Mapped[list[Any]] = mapped_column(JSON, default=list)
    approval_request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approvals: Mapped[list[Any]] = mapped_column(JSON, default=list)
    signing: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # After signing, as the approval service reported it: each amendment (its number,
    # effective date, difference, total after) and the termination, oldest first.
    after_signing: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    workflow_instance_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # Opened for a tender (`tender.requested`); a renegotiation's draft renews the contract
    # named here, and says so in its `contract.signed` (`renewal_tenders.py`).
    tender_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    renews_contract_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[str] = mapped_column(String(128))
    # Whose contract this is (`owner`): the creator, unless the draft continues another
    # contract (a tender's), which keeps that contract's owner. Null on drafts older than
    # the column, whose owner is their creator.
    owner_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def owner(self) -> str:
        return self.owner_id or self.created_by

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_contract_draft_status_end_date", "status", "end_date"),
        Index("ix_contract_draft_provider_id", "provider_id"),
        Index("ix_contract_draft_licence_software_id", "licence_software_id"),
        Index("ix_contract_draft_approval_request_id", "approval_request_id"),
        Index("uq_contract_draft_tender_id", "tender_id", unique=True),
    )


class Person(Base):
    """Someone who may work on negotiation's tasks, as the ERP reports them
    (`erp.employee.updated`): whom a task notice goes to, by id or by role."""

    __tablename__ = "person"

    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    language: Mapped[str] = mapped_column(String(8))
    roles: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
