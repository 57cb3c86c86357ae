"""Recalculate fees for a change request (e.g. modules added from an effective date).

Pro-rata rule: the contract as it stands applies before the effective date and the new
terms from it, each priced by service month (see `calendar.py`). The difference is

    periodic: new terms from the effective date to the new end
              - old terms from the effective date to the old end
    one-off:  new one-off total - one-off fees in the current schedule

Instalments of the current schedule due before the effective date stand (they have been
invoiced). The new schedule replaces every instalment due on or after it:

- the billing period in progress was paid in advance at the old rate, so it gets a
  pro-rata adjustment due on the effective date: new minus old, from the effective date to
  the period's end (negative = a credit);
- each later billing period is billed at the new rate;
- one-off fees: the new terms' one-offs due on or after the effective date, plus one
  adjustment on the effective date for those already due before it that have changed.

The last periodic instalment absorbs rounding, so the total after the change is exactly
the total before plus the difference. For a contract amended before, pass its current
schedule (the instalments still standing plus the last change's schedule); otherwise the
old terms' own schedule is assumed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from contractflow.contracts.fees.basis import PricingBasis, pricing_basis
from contractflow.contracts.fees.calculator import calculate_fees
from contractflow.contracts.fees.calendar import billing_periods
from contractflow.contracts.fees.lines import periodic_net
from contractflow.contracts.fees.quote import (
    FeeChange,
    FeeLine,
    Instalment,
    InstalmentKind,
    LineKind,
)
from contractflow.contracts.fees.schedule import due_before, periodic_instalments, sort_schedule
from contractflow.contracts.money import Money
from contractflow.contracts.pricing import PriceList
from contractflow.contracts.terms import ContractTerms

PERIODIC_KINDS = {InstalmentKind.PERIODIC, InstalmentKind.PERIODIC_ADJUSTMENT}
ONE_OFF_KINDS = {
    InstalmentKind.ONE_OFF,
    InstalmentKind.MILESTONE,
    InstalmentKind.ONE_OFF_ADJUSTMENT,
}


def recalculate_for_change(
    old_terms: ContractTerms,
    new_terms: ContractTerms,
    effective_date: date,
    price_list: PriceList | None = None,
    *,
    current_schedule: tuple[Instalment, ...] | None = None,
) -> FeeChange:
    old, new = pricing_basis(old_terms, price_list), pricing_basis(new_terms, price_list)
    _check_change_is_priceable(old, new, effective_date)
    if current_schedule is None:
        current_schedule = calculate_fees(old_terms, price_list).schedule
    if any(i.amount.currency != old.currency for i in current_schedule):
        raise ValueError(f"current_schedule must be in the fees currency {old.currency}")
    new_quote = calculate_fees(new_terms, price_list)
    currency, day = old.currency, effective_date

    periodic_difference = periodic_net(new, day, new.end) - periodic_net(old, day, old.end)
    new_one_offs = _one_off_total(new_quote.lines)
    current_one_offs = _scheduled(current_schedule, ONE_OFF_KINDS)
    difference = periodic_difference + (new_one_offs - current_one_offs)
    total_before = _scheduled(current_schedule, PERIODIC_KINDS | ONE_OFF_KINDS)

    periodic_still_due = (
        _scheduled(current_schedule, PERIODIC_KINDS, due_from=day) + periodic_difference
    )
    schedule = _periodic_schedule(old, new, day, periodic_still_due)
    later_one_offs = [
        i for i in new_quote.schedule if i.kind in ONE_OFF_KINDS and i.due_date >= day
    ]
    one_off_adjustment = (
        new_one_offs
        - due_before(current_schedule, day, ONE_OFF_KINDS)
        - sum((i.amount.amount for i in later_one_offs), Decimal(0))
    )
    if one_off_adjustment:
        schedule.append(
            Instalment(
                due_date=day,
                amount=Money(one_off_adjustment, currency),
                description=f"One-off fees changed by the amendment effective {day}",
                kind=InstalmentKind.ONE_OFF_ADJUSTMENT,
                covers=tuple(line.code for line in new_quote.lines if _is_one_off(line)),
            )
        )
    return FeeChange(
        effective_date=day,
        currency=currency,
        old_remaining=Money(periodic_net(old, day, old.end) + current_one_offs, currency),
        new_remaining=Money(periodic_net(new, day, new.end) + new_one_offs, currency),
        difference=Money(difference, currency),
        total_before_change=Money(total_before, currency),
        total_after_change=Money(total_before + difference, currency),
        scheduled_before_effective_date=Money(
            due_before(current_schedule, day, PERIODIC_KINDS | ONE_OFF_KINDS), currency
        ),
        schedule=sort_schedule([*schedule, *later_one_offs]),
    )


def _check_change_is_priceable(old: PricingBasis, new: PricingBasis, effective: date) -> None:
    if not old.start <= effective <= old.end:
        raise ValueError(f"effective_date {effective} is outside the term {old.start}..{old.end}")
    if effective > new.end:
        raise ValueError(f"effective_date {effective} is after the new end_date {new.end}")
    for what, before, after in (
        ("service_term.start_date", old.start, new.start),
        ("fees.currency", old.currency, new.currency),
        ("fees.billing_cycle", old.billing_cycle, new.billing_cycle),
    ):
        if before != after:
            raise ValueError(f"a change request cannot change {what} ({before} -> {after})")


def _periodic_schedule(
    old: PricingBasis, new: PricingBasis, effective: date, still_due: Decimal
) -> list[Instalment]:
    if old.billing_cycle is None:  # neither side has periodic fees
        return []
    months_per_period = old.billing_cycle.months
    in_progress = next(
        (
            period
            for period in billing_periods(old.start, old.end, months_per_period)
            if period.start < effective <= period.end
        ),
        None,
    )
    later = [
        period
        for period in billing_periods(new.start, new.end, months_per_period)
        if period.start >= effective
    ]
    codes = tuple(charge.code for charge in new.periodic)
    schedule: list[Instalment] = []
    if in_progress is not None:
        # With no later period the adjustment is the last instalment and absorbs rounding.
        adjustment = still_due
        if later:
            adjustment = periodic_net(new, effective, min(in_progress.end, new.end)) - (
                periodic_net(old, effective, in_progress.end)
            )
        schedule.append(_adjustment(old.currency, effective, in_progress.end, adjustment))
        still_due -= adjustment
    if later:
        schedule += periodic_instalments(new, still_due, later, codes)
    elif still_due:
        schedule.append(_adjustment(old.currency, effective, new.end, still_due))
    return [instalment for instalment in schedule if instalment.amount.amount]


def _adjustment(currency: str, start: date, end: date, amount: Decimal) -> Instalment:
    return Instalment(
        due_date=start,
        amount=Money(amount, currency),
        description=f"Pro-rata adjustment of periodic fees for {start} to {end}",
        kind=InstalmentKind.PERIODIC_ADJUSTMENT,
        covers=("periodic",),
        period_start=start,
        period_end=end,
    )


def _is_one_off(line: FeeLine) -> bool:
    return line.kind in {LineKind.ONE_OFF, LineKind.ESTIMATE}


def _one_off_total(lines: tuple[FeeLine, ...]) -> Decimal:
    return sum((line.amount.amount for line in lines if _is_one_off(line)), Decimal("0.00"))


def _scheduled(
    schedule: tuple[Instalment, ...], kinds: set[InstalmentKind], due_from: date | None = None
) -> Decimal:
    return sum(
        (
            i.amount.amount
            for i in schedule
            if i.kind in kinds and (due_from is None or i.due_date >= due_from)
        ),
        Decimal("0.00"),
    )
