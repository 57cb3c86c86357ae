"""Price a contract's terms: itemised lines, the total over the term, the payment schedule."""

from __future__ import annotations

from decimal import Decimal

from contractflow.contracts.fees.basis import pricing_basis
from contractflow.contracts.fees.calendar import service_months
from contractflow.contracts.fees.lines import (
    discount_line,
    display_quantity,
    one_off_line,
    periodic_lines,
)
from contractflow.contracts.fees.quote import FeeQuote
from contractflow.contracts.fees.schedule import payment_schedule
from contractflow.contracts.money import Money
from contractflow.contracts.pricing import PriceList
from contractflow.contracts.terms import ContractTerms


def calculate_fees(terms: ContractTerms, price_list: PriceList | None = None) -> FeeQuote:
    """Raises `IncompleteTermsError` naming the fields the fees still depend on."""
    basis = pricing_basis(terms, price_list)
    periodic = periodic_lines(basis, basis.start, basis.end)
    discount = discount_line(basis, periodic)
    periodic_with_discount = [*periodic, *([discount] if discount else [])]
    one_offs = [(charge, one_off_line(basis, charge)) for charge in basis.one_offs]
    lines = (*periodic_with_discount, *(line for _, line in one_offs))
    periodic_amount = sum((line.amount.amount for line in periodic_with_discount), Decimal("0.00"))
    total = sum((line.amount.amount for line in lines), Decimal("0.00"))
    return FeeQuote(
        currency=basis.currency,
        term_start=basis.start,
        term_end=basis.end,
        term_months=display_quantity(service_months(basis.start, basis.start, basis.end)),
        lines=lines,
        total=Money(total, basis.currency),
        schedule=payment_schedule(
            basis,
            periodic_amount,
            tuple(line.code for line in periodic_with_discount),
            one_offs,
        ),
    )
