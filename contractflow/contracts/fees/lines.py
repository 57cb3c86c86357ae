"""Price charges into itemised fee lines, rounding each amount once to 0.01 HALF_UP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from contractflow.contracts.fees.basis import PricingBasis
from contractflow.contracts.fees.calendar import service_months
from contractflow.contracts.fees.charges import OneOffCharge
from contractflow.contracts.fees.quote import FeeLine, LineKind
from contractflow.contracts.money import CENT, Money, round_to_cents

QUANTITY_PLACES = Decimal("0.0001")


def display_quantity(value: Fraction | Decimal) -> Decimal:
    """Exact when it has a finite decimal form (12, 1.5), else 4 places: display only."""
    fraction = Fraction(value)
    exact = Decimal(fraction.numerator) / Decimal(fraction.denominator)
    if Fraction(exact) != fraction:
        return exact.quantize(QUANTITY_PLACES)
    if exact == exact.to_integral_value():
        return exact.quantize(Decimal(1))
    return exact.normalize()


def display_price(value: Decimal) -> Decimal:
    """At least two places (2400.00), more only when the rate has them (0.005)."""
    return value.quantize(CENT) if value == value.quantize(CENT) else value.normalize()


def periodic_lines(basis: PricingBasis, first: date, last: date) -> list[FeeLine]:
    """The periodic charges over the days `first`..`last`, pro rata by service month."""
    months = service_months(basis.start, first, last)
    lines = []
    for charge in basis.periodic:
        quantity = Fraction(charge.units_per_month) * months
        lines.append(
            FeeLine(
                code=charge.code,
                description=charge.description,
                kind=LineKind.PERIODIC,
                quantity=display_quantity(quantity),
                unit=charge.unit,
                unit_price=Money(display_price(charge.unit_price), basis.currency),
                amount=Money(
                    round_to_cents(Fraction(charge.unit_price) * quantity), basis.currency
                ),
            )
        )
    return lines


def discount_line(basis: PricingBasis, periodic: list[FeeLine]) -> FeeLine | None:
    """The yearly-payment discount, taken once off the periodic subtotal."""
    if not basis.discount_percent or not periodic:
        return None
    subtotal = sum((line.amount.amount for line in periodic), Decimal(0))
    discount = -round_to_cents(subtotal * basis.discount_percent / 100)
    return FeeLine(
        code="discount.yearly",
        description=f"Yearly payment discount, {basis.discount_percent}% of periodic fees "
        f"{subtotal}",
        kind=LineKind.DISCOUNT,
        quantity=Decimal(1),
        unit="discount",
        unit_price=Money(discount, basis.currency),
        amount=Money(discount, basis.currency),
    )


def periodic_net(basis: PricingBasis, first: date, last: date) -> Decimal:
    """Periodic fees less the yearly discount over a window; zero for an empty window."""
    lines = periodic_lines(basis, first, last)
    discount = discount_line(basis, lines)
    return sum(
        (line.amount.amount for line in [*lines, *([discount] if discount else [])]),
        Decimal("0.00"),
    )


def one_off_line(basis: PricingBasis, charge: OneOffCharge) -> FeeLine:
    return FeeLine(
        code=charge.code,
        description=charge.description,
        kind=charge.kind,
        quantity=display_quantity(charge.quantity),
        unit=charge.unit,
        unit_price=Money(display_price(charge.unit_price), basis.currency),
        amount=Money(round_to_cents(charge.quantity * charge.unit_price), basis.currency),
    )
