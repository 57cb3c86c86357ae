"""What renewal keeps of the ERP's side of a running contract: the payment schedule and
what was paid against it, the purchase orders linked to it, and the providers' master data
(business licence, certifications) with the licence expiries already told to an owner."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contractflow.contracts.vendor_master import VendorMasterColumns
from contractflow.db import Base, UTCDateTime

OPEN, PAID, DROPPED = "open", "paid", "dropped"  # a milestone; dropped: an amendment removed it
CANCELLED = "cancelled"  # due after a termination's effective date: not owed any more


class PaymentMilestone(Base):
    """One milestone of the contract's payment schedule, keyed by its due date (what
    `erp.payment.recorded` names); `paid_amount` adds up partial payments."""

    __tablename__ = "renewal_payment_milestone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(500))
    paid_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    overdue_task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        UniqueConstraint("contract_id", "due_date", name="uq_renewal_payment_milestone"),
    )

    @property
    def outstanding(self) -> Decimal:
        if self.status == CANCELLED:
            return Decimal("0")
        return max(Decimal(self.amount) - Decimal(self.paid_amount), Decimal("0"))


class PaymentReceived(Base):
    """One `erp.payment.recorded`, kept by the ERP's payment id: a repeat adds nothing."""

    __tablename__ = "renewal_payment"

    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    paid_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    po_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    event_id: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_renewal_payment_contract_id", "contract_id"),)


class PurchaseOrderLink(Base):
    """A purchase order the ERP opened for the contract, and whether it matched the total."""

    __tablename__ = "renewal_purchase_order"

    po_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    matches_total: Mapped[bool] = mapped_column(Boolean)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    event_id: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_renewal_purchase_order_contract_id", "contract_id"),)


class VendorMaster(VendorMasterColumns, Base):
    """A provider's master data as the ERP last sent it (`updated_at` orders the updates)."""

    __tablename__ = "renewal_vendor"


class LicenceAlert(Base):
    """An owner told that the provider's business licence ends during the contract: once
    per contract and licence end date, however often the ERP repeats the master data."""

    __tablename__ = "renewal_licence_alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    vendor_id: Mapped[str] = mapped_column(String(64))
    licence_valid_until: Mapped[dt.date] = mapped_column(Date)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("contract_id", "licence_valid_until", name="uq_renewal_licence_alert"),
    )
