"""The payment schedule: when each part of the total falls due and what it pays for.

Periodic fees are paid in advance on the first day of each billing period, in shares
proportional to the period's service months; one-off fees on their own due dates, or split
across the payment milestones when the contract names some. Every share is rounded to 0.01
ROUND_HALF_UP and the last instalment of each split takes the rounding remainder, so the
schedule always sums exactly to the quote's total.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from contractflow.contracts.fees.basis import IncompleteTermsError, PricingBasis
from contractflow.contracts.fees.calendar import BillingPeriod, billing_periods
from contractflow.contracts.fees.charges import OneOffCharge
from contractflow.contracts.fees.quote import FeeLine, Instalment, InstalmentKind, LineKind
from contractflow.contracts.money import Money, round_to_cents


def split_with_remainder_last(amount: Decimal, weights: list[Fraction]) -> list[Decimal]:
    """Shares of `amount` by weight, each rounded; the last absorbs what rounding left over."""
    if not weights:
        return []
    whole = sum(weights, Fraction(0))
    if whole == 0:
        raise ValueError("cannot split an amount over weights that add up to zero")
    shares = [round_to_cents(Fraction(amount) * weight / whole) for weight in weights[:-1]]
    return [*shares, amount - sum(shares, Decimal(0))]


def periodic_instalments(
    basis: PricingBasis, amount: Decimal, periods: list[BillingPeriod], covers: tuple[str, ...]
) -> list[Instalment]:
    shares = split_with_remainder_last(amount, [period.months for period in periods])
    return [
        Instalment(
            due_date=period.start,
            amount=Money(share, basis.currency),
            description=f"Periodic service fees for {period.start} to {period.end}",
            kind=InstalmentKind.PERIODIC,
            covers=covers,
            period_start=period.start,
            period_end=period.end,
        )
        for period, share in zip(periods, shares, strict=True)
    ]


def one_off_instalments(
    basis: PricingBasis, charges: list[tuple[OneOffCharge, FeeLine]]
) -> list[Instalment]:
    fixed = [(c, line) for c, line in charges if line.kind is LineKind.ONE_OFF]
    if basis.milestones and fixed:
        instalments = _milestone_instalments(basis, [line for _, line in fixed])
        per_item = [(c, line) for c, line in charges if line.kind is not LineKind.ONE_OFF]
    else:
        instalments, per_item = [], charges
    for charge, line in per_item:
        instalments.append(
            Instalment(
                due_date=charge.due_date,
                amount=line.amount,
                description=line.description,
                kind=InstalmentKind.ONE_OFF,
                covers=(line.code,),
            )
        )
    return instalments


def _milestone_instalments(basis: PricingBasis, fixed: list[FeeLine]) -> list[Instalment]:
    milestones = sorted(basis.milestones, key=lambda m: m.due_date)
    amount = sum((line.amount.amount for line in fixed), Decimal("0.00"))
    shares = split_with_remainder_last(amount, [Fraction(m.percent) for m in milestones])
    covers = tuple(line.code for line in fixed)
    return [
        Instalment(
            due_date=milestone.due_date,
            amount=Money(share, basis.currency),
            description=f"Milestone '{milestone.name}': {milestone.percent}% of one-off fees",
            kind=InstalmentKind.MILESTONE,
            covers=covers,
        )
        for milestone, share in zip(milestones, shares, strict=True)
    ]


def payment_schedule(
    basis: PricingBasis,
    periodic_amount: Decimal,
    periodic_codes: tuple[str, ...],
    one_offs: list[tuple[OneOffCharge, FeeLine]],
) -> tuple[Instalment, ...]:
    instalments = one_off_instalments(basis, one_offs)
    if periodic_codes:
        if basis.billing_cycle is None:
            raise IncompleteTermsError(["fees.billing_cycle"])
        periods = billing_periods(basis.start, basis.end, basis.billing_cycle.months)
        instalments += periodic_instalments(basis, periodic_amount, periods, periodic_codes)
    return sort_schedule(instalments)


def sort_schedule(instalments: list[Instalment]) -> tuple[Instalment, ...]:
    order = {kind: rank for rank, kind in enumerate(InstalmentKind)}
    return tuple(sorted(instalments, key=lambda i: (i.due_date, order[i.kind])))


def due_before(schedule: tuple[Instalment, ...], day: date, kinds: set[InstalmentKind]) -> Decimal:
    return sum(
        (i.amount.amount for i in schedule if i.due_date < day and i.kind in kinds),
        Decimal("0.00"),
    )
