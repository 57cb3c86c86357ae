"""Installation and debugging in the service content are priced by the fee quote."""

from dataclasses import replace
from decimal import Decimal

from contractflow.contracts import calculate_fees, dump_contract_terms, load_contract_terms
from contractflow.contracts.fee_terms import BillingCycle, Complexity
from contractflow.contracts.pricing import PriceList
from contractflow.contracts.service import ServiceItem as Item

from .builders import YEAR_START, amounts, priced_terms

SETUP = (Item.SETUP_INSTALLATION, Item.SETUP_DEBUGGING, Item.MAINTENANCE_INSPECTION)


def test_installation_and_debugging_are_one_off_lines_on_the_start_date() -> None:
    terms = priced_terms(
        items=SETUP,
        modules=("OA", "HR", "CRM"),
        billing_cycle=BillingCycle.MONTHLY,
        system_complexity=Complexity.LOW,
    )
    quote = calculate_fees(terms)
    lines = amounts(quote.lines)
    assert lines["setup.installation"] == "3900.00"  # 3000 + 3 modules x 300
    assert lines["setup.debugging"] == "2600.00"  # 2000 + 3 modules x 200
    first = [i for i in quote.schedule if i.due_date == YEAR_START]
    assert sum(i.amount.amount for i in first) >= Decimal("6500.00")


def test_without_setup_in_scope_nothing_is_charged_and_agreed_rates_can_include_it() -> None:
    plain = priced_terms(
        items=(Item.MAINTENANCE_INSPECTION,),
        modules=("OA",),
        billing_cycle=BillingCycle.MONTHLY,
        system_complexity=Complexity.LOW,
    )
    assert not [c for c in amounts(calculate_fees(plain).lines) if c.startswith("setup.")]
    included = replace(
        plain,
        service_content=replace(plain.service_content, items=SETUP),
        fees=replace(
            plain.fees,
            agreed_rates=PriceList(
                installation_platform=Decimal("0.00"),
                installation_per_module=Decimal("0.00"),
            ),
        ),
    )
    lines = amounts(calculate_fees(included).lines)
    assert lines["setup.installation"] == "0.00" and lines["setup.debugging"] == "2200.00"
    # The agreed rates travel through the terms JSON.
    again = load_contract_terms(dump_contract_terms(included))
    assert amounts(calculate_fees(again).lines) == lines
