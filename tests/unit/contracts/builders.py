"""Small, explicit drafts for hand-checked fee tests (the sample is for realistic cases)."""

from __future__ import annotations

from datetime import date
from typing import Any

from contractflow.contracts.fee_terms import Fees
from contractflow.contracts.licence import Licence
from contractflow.contracts.service import ServiceContent, ServiceItem, ServiceTerm
from contractflow.contracts.terms import ContractTerms

YEAR_START = date(2025, 1, 1)
YEAR_END = date(2025, 12, 31)


def priced_terms(
    *,
    items: tuple[ServiceItem, ...] = (),
    modules: tuple[str, ...] = (),
    start: date = YEAR_START,
    end: date = YEAR_END,
    licence: Licence | None = None,
    **fees: Any,
) -> ContractTerms:
    """Only what the fee calculator reads: service content, term, fees (and licence)."""
    return ContractTerms(
        service_content=ServiceContent(items=items, functional_modules=modules),
        service_term=ServiceTerm(start, end, False, 30),
        fees=Fees(**fees),
        licence=licence,
    )


def amounts(quote_lines: Any) -> dict[str, str]:
    return {line.code: str(line.amount.amount) for line in quote_lines}
