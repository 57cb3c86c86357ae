"""Gather what pricing a contract needs: its term, its charges and the rates that apply.

The rates are the contract's agreed rates when it has them, else the price list passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from contractflow.contracts.fee_terms import BillingCycle, Fees, PaymentMilestone
from contractflow.contracts.fees.charges import (
    OneOffCharge,
    PeriodicCharge,
    one_off_charges,
    periodic_charges,
)
from contractflow.contracts.pricing import DEFAULT_PRICE_LIST, PriceList
from contractflow.contracts.service import ServiceContent, ServiceItem
from contractflow.contracts.terms import ContractTerms


class IncompleteTermsError(ValueError):
    """The draft lacks something the fees depend on; `missing` lists dotted field paths."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__("cannot price the contract, missing: " + ", ".join(missing))


@dataclass(frozen=True)
class PricingBasis:
    currency: str
    start: date
    end: date
    billing_cycle: BillingCycle | None
    discount_percent: Decimal
    periodic: tuple[PeriodicCharge, ...]
    one_offs: tuple[OneOffCharge, ...]
    milestones: tuple[PaymentMilestone, ...]


def resolve_price_list(fees: Fees, price_list: PriceList | None) -> PriceList:
    """The contract's agreed rates win: they are what both sides signed."""
    rates = fees.agreed_rates or price_list or DEFAULT_PRICE_LIST
    if rates.currency != fees.currency:
        raise ValueError(f"price list is in {rates.currency} but fees.currency is {fees.currency}")
    return rates


def pricing_basis(terms: ContractTerms, price_list: PriceList | None = None) -> PricingBasis:
    missing = missing_for_pricing(terms)
    if missing:
        raise IncompleteTermsError(missing)
    assert terms.fees and terms.service_content and terms.service_term  # for the type checker
    start, end = terms.service_term.start_date, terms.service_term.end_date
    assert start is not None and end is not None
    fees, rates = terms.fees, resolve_price_list(terms.fees, price_list)
    periodic = periodic_charges(terms.service_content, fees, rates)
    discount = (
        rates.yearly_discount_percent if fees.billing_cycle is BillingCycle.YEARLY else Decimal(0)
    )
    return PricingBasis(
        currency=fees.currency,
        start=start,
        end=end,
        billing_cycle=fees.billing_cycle,
        discount_percent=discount,
        periodic=periodic,
        one_offs=one_off_charges(terms, rates, start, end),
        milestones=fees.milestones,
    )


def missing_for_pricing(terms: ContractTerms) -> list[str]:
    """Dotted paths of what the fees depend on and the draft does not yet state."""
    missing = [
        path
        for path, value in (
            ("service_term", terms.service_term),
            ("service_content", terms.service_content),
            ("fees", terms.fees),
        )
        if value is None
    ]
    term, content, fees = terms.service_term, terms.service_content, terms.fees
    if term is not None:
        missing += [
            f"service_term.{name}"
            for name in ("start_date", "end_date")
            if getattr(term, name) is None
        ]
    if content is None or fees is None:
        return missing
    if content.includes_area("maintenance") and fees.system_complexity is None:
        missing.append("fees.system_complexity")
    if ServiceItem.DATA_BACKUP in content.items and fees.backup is None:
        missing.append("fees.backup")
    if fees.buys_licence and (terms.licence is None or terms.licence.user_count is None):
        missing.append("licence.user_count")
    if fees.billing_cycle is None and _has_periodic_fees(content, fees):
        missing.append("fees.billing_cycle")
    return missing


def _has_periodic_fees(content: ServiceContent, fees: Fees) -> bool:
    return bool(
        content.includes_area("maintenance")
        or content.support_channels
        or (ServiceItem.DATA_BACKUP in content.items)
        or fees.usage
        or fees.fixed_monthly_fee
    )
