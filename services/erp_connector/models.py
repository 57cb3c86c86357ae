"""The connector's own ledger, as an ERP would keep it: vendors, contracts with their payment
plan, purchase orders and payments. Nothing here belongs to a contractflow service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from contractflow.db import Base, UTCDateTime


class LedgerVendor(Base):
    __tablename__ = "erp_vendor"

    vendor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))


class LedgerContract(Base):
    __tablename__ = "erp_contract"

    contract_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    vendor_id: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    total_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(32))  # active, terminated
    last_event_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LedgerMilestone(Base):
    """One payment of the contract's schedule; `paid_amount` adds up partial payments."""

    __tablename__ = "erp_milestone"

    contract_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("erp_contract.contract_id"), primary_key=True
    )
    due_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    description: Mapped[str] = mapped_column(String(500))
    paid_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))


class LedgerPurchaseOrder(Base):
    __tablename__ = "erp_purchase_order"

    po_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(64), ForeignKey("erp_contract.contract_id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LedgerPayment(Base):
    __tablename__ = "erp_payment"

    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(64), ForeignKey("erp_contract.contract_id"))
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    paid_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
