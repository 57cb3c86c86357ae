"""Fee calculator cases. Every expected number is worked by hand in the comment beside it,
using the default price list (contractflow/contracts/pricing.py)."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from contractflow.contracts.fee_terms import (
    AdhocWork,
    BackupFrequency,
    BackupPlan,
    BillingCycle,
    Complexity,
    PaymentMilestone,
    TrainingKind,
    TrainingSession,
    TravelBorneBy,
    TravelEstimate,
    UpgradeDifficulty,
    UpgradeOrder,
    UsageScale,
    WorkUrgency,
)
from contractflow.contracts.fees import (
    FeeQuote,
    IncompleteTermsError,
    InstalmentKind,
    calculate_fees,
)
from contractflow.contracts.licence import Licence
from contractflow.contracts.money import Money
from contractflow.contracts.pricing import DEFAULT_PRICE_LIST, PriceList
from contractflow.contracts.samples import SAMPLE_TOTAL, sample_terms
from contractflow.contracts.service import ServiceItem as Item

from .builders import YEAR_END, YEAR_START, amounts, priced_terms


def schedule_of(quote: FeeQuote) -> list[tuple[str, str]]:
    return [(i.due_date.isoformat(), str(i.amount.amount)) for i in quote.schedule]


def assert_schedule_sums_to_total(quote: FeeQuote) -> None:
    assert sum(i.amount.amount for i in quote.schedule) == quote.total.amount


def test_default_support_prices_follow_the_seed_order() -> None:
    support = DEFAULT_PRICE_LIST.support_monthly
    assert support["phone"] < support["online"] < support["on_site"]


def test_by_service_content() -> None:
    terms = priced_terms(
        items=(
            Item.MAINTENANCE_INSPECTION,
            Item.SUPPORT_PHONE,
            Item.SUPPORT_ON_SITE,
            Item.DATA_BACKUP,
        ),
        modules=("workflow", "documents", "attendance"),
        billing_cycle=BillingCycle.MONTHLY,
        system_complexity=Complexity.HIGH,
        backup=BackupPlan(Decimal("500"), BackupFrequency.DAILY),
        upgrades=(
            UpgradeOrder("SSO login", UpgradeDifficulty.SIMPLE, 2),
            UpgradeOrder("ERP integration", UpgradeDifficulty.COMPLEX, 1, date(2025, 6, 1)),
        ),
    )
    quote = calculate_fees(terms)
    assert amounts(quote.lines) == {
        "maintenance.platform": "36000.00",  # 2000.00 x 1.50 (high) = 3000.00/month x 12
        "maintenance.modules": "27000.00",  # 500.00 x 1.50 = 750.00 x (3 modules x 12 = 36)
        "support.phone": "7200.00",  # 600.00 x 12
        "support.on_site": "30000.00",  # 2500.00 x 12
        "data.backup": "4800.00",  # 0.80 (daily) x (500 GB x 12 = 6000 GB-months)
        "upgrade.1": "6000.00",  # 2 simple x 3000.00
        "upgrade.2": "20000.00",  # 1 complex x 20000.00
    }
    # 36000 + 27000 + 7200 + 30000 + 4800 + 6000 + 20000 = 131000.00
    assert quote.total == Money(Decimal("131000.00"))
    modules = next(line for line in quote.lines if line.code == "maintenance.modules")
    assert (modules.quantity, modules.unit, modules.unit_price.amount) == (
        Decimal(36),
        "module-month",
        Decimal("750.00"),
    )
    # Periodic 36000 + 27000 + 7200 + 30000 + 4800 = 105000.00 / 12 = 8750.00 a month.
    periodic = [i for i in quote.schedule if i.kind is InstalmentKind.PERIODIC]
    assert len(periodic) == 12
    assert {i.amount.amount for i in periodic} == {Decimal("8750.00")}
    assert [i.due_date.day for i in periodic] == [1] * 12
    one_offs = [
        (i.due_date, i.amount.amount) for i in quote.schedule if i.kind is InstalmentKind.ONE_OFF
    ]
    assert one_offs == [(YEAR_START, Decimal("6000.00")), (date(2025, 6, 1), Decimal("20000.00"))]
    assert_schedule_sums_to_total(quote)


def test_by_time_monthly_fixed_fee() -> None:
    terms = priced_terms(
        billing_cycle=BillingCycle.MONTHLY, fixed_monthly_fee=Money(Decimal("5000.00"))
    )
    quote = calculate_fees(terms)
    assert quote.total.amount == Decimal("60000.00")  # 5000.00 x 12
    assert schedule_of(quote)[:2] == [("2025-01-01", "5000.00"), ("2025-02-01", "5000.00")]


def test_by_time_yearly_earns_the_discount() -> None:
    yearly = priced_terms(
        items=(Item.MAINTENANCE_INSPECTION,),
        end=date(2026, 12, 31),
        billing_cycle=BillingCycle.YEARLY,
        system_complexity=Complexity.LOW,
    )
    quote = calculate_fees(yearly)
    assert amounts(quote.lines) == {
        "maintenance.platform": "48000.00",  # 2000.00 x 1.00 (low) x 24 months
        "discount.yearly": "-3840.00",  # 8% of 48000.00
    }
    assert quote.total.amount == Decimal("44160.00")  # 48000.00 - 3840.00
    # Two years paid in advance: 44160.00 / 2 = 22080.00 each.
    assert schedule_of(quote) == [("2025-01-01", "22080.00"), ("2026-01-01", "22080.00")]
    monthly = calculate_fees(
        priced_terms(
            items=(Item.MAINTENANCE_INSPECTION,),
            end=date(2026, 12, 31),
            billing_cycle=BillingCycle.MONTHLY,
            system_complexity=Complexity.LOW,
        )
    )
    assert monthly.total.amount == Decimal("48000.00")  # no discount when paid monthly


def test_by_time_hourly_ad_hoc_work() -> None:
    terms = priced_terms(
        adhoc_work=(
            AdhocWork("weekend outage", Decimal("10"), WorkUrgency.EMERGENCY),
            AdhocWork("report tuning", Decimal("5.5"), WorkUrgency.NORMAL, date(2025, 3, 31)),
        )
    )
    quote = calculate_fees(terms)  # no periodic fees, so no billing cycle is needed
    assert amounts(quote.lines) == {
        "adhoc.1": "6000.00",  # 10 h x 600.00 (emergency)
        "adhoc.2": "1650.00",  # 5.5 h x 300.00 (normal)
    }
    assert quote.total.amount == Decimal("7650.00")
    # Estimates are settled at the end of the term unless a date is given.
    assert schedule_of(quote) == [("2025-03-31", "1650.00"), ("2025-12-31", "6000.00")]


def test_by_usage_scale() -> None:
    terms = priced_terms(
        billing_cycle=BillingCycle.QUARTERLY,
        usage=UsageScale(named_users=150, concurrent_users=60, storage_gb=Decimal("250.5")),
    )
    quote = calculate_fees(terms)
    assert amounts(quote.lines) == {
        "usage.named_users": "14400.00",  # 150 x 12 = 1800 user-months x 8.00
        "usage.concurrent_users": "14400.00",  # 60 x 12 = 720 user-months x 20.00
        "usage.storage": "1503.00",  # 250.5 x 12 = 3006 GB-months x 0.50
    }
    # 14400 + 14400 + 1503 = 30303.00, quarterly 30303.00 / 4 = 7575.75
    assert quote.total.amount == Decimal("30303.00")
    assert [amount for _, amount in schedule_of(quote)] == ["7575.75"] * 4


def test_licence_training_and_travel() -> None:
    terms = priced_terms(
        licence=Licence(user_count=150),
        buys_licence=True,
        training=(TrainingSession(TrainingKind.ADVANCED, 12, date(2025, 2, 10)),),
        travel=TravelEstimate(visits=3),
    )
    quote = calculate_fees(terms)
    assert amounts(quote.lines) == {
        "licence": "22500.00",  # 150 users x 150.00
        "training.1": "3600.00",  # session 3000.00 + 12 attendees x 50.00
        "travel": "3600.00",  # 3 visits x 1200.00
    }
    assert quote.total.amount == Decimal("29700.00")  # 22500 + 3600 + 3600
    assert schedule_of(quote) == [
        ("2025-01-01", "22500.00"),
        ("2025-02-10", "3600.00"),
        ("2025-12-31", "3600.00"),
    ]
    included = priced_terms(travel=TravelEstimate(visits=3, borne_by=TravelBorneBy.PROVIDER))
    assert calculate_fees(included).lines == ()  # included in the service fees


def test_a_mix_of_all_three_models_the_sample() -> None:
    quote = calculate_fees(sample_terms())
    assert amounts(quote.lines) == {
        "maintenance.platform": "28800.00",  # 2000.00 x 1.20 (medium) = 2400.00 x 12
        "maintenance.modules": "36000.00",  # 500.00 x 1.20 = 600.00 x (5 modules x 12 = 60)
        "support.phone": "7200.00",  # 600.00 x 12
        "support.online": "10800.00",  # 900.00 x 12
        "support.on_site": "30000.00",  # 2500.00 x 12
        "data.backup": "720.00",  # 0.30 (weekly) x (200 GB x 12 = 2400 GB-months)
        "usage.named_users": "14400.00",  # 150 x 12 x 8.00
        "usage.concurrent_users": "14400.00",  # 60 x 12 x 20.00
        "upgrade.1": "8000.00",  # 1 moderate
        "training.1": "3500.00",  # 2000.00 + 30 x 50.00
        "training.2": "2500.00",  # 1500.00 + 20 x 50.00
        "adhoc.1": "9600.00",  # 16 h x 600.00 (emergency)
        "travel": "4800.00",  # 4 visits x 1200.00
    }
    # periodic 28800 + 36000 + 7200 + 10800 + 30000 + 720 + 14400 + 14400 = 142320.00
    # one-off 8000 + 3500 + 2500 + 9600 + 4800 = 28400.00; total 170720.00
    assert quote.total == SAMPLE_TOTAL == Money(Decimal("170720.00"))
    assert schedule_of(quote) == [
        ("2025-01-01", "35580.00"),  # 142320.00 / 4 quarters
        ("2025-01-15", "3500.00"),
        ("2025-04-01", "35580.00"),
        ("2025-06-01", "8000.00"),
        ("2025-07-01", "35580.00"),
        ("2025-07-15", "2500.00"),
        ("2025-10-01", "35580.00"),
        ("2025-12-31", "9600.00"),
        ("2025-12-31", "4800.00"),
    ]
    assert_schedule_sums_to_total(quote)
    signed = quote.schedule[0].to_signed_event_payment()
    assert signed == {
        "due_date": "2025-01-01",
        "amount": {"amount": "35580.00", "currency": "CNY"},
        "description": "Periodic service fees for 2025-01-01 to 2025-03-31",
    }


def test_rounding_remainder_goes_on_the_last_instalment() -> None:
    terms = priced_terms(
        end=date(2027, 12, 31),
        billing_cycle=BillingCycle.YEARLY,
        fixed_monthly_fee=Money(Decimal("1234.56")),
    )
    quote = calculate_fees(terms)
    # 1234.56 x 36 = 44444.16; discount 8% = 3555.5328 -> 3555.53; net 40888.63
    assert quote.total.amount == Decimal("40888.63")
    # 40888.63 / 3 = 13629.5433.. -> 13629.54, 13629.54, and 40888.63 - 27259.08 = 13629.55
    assert [amount for _, amount in schedule_of(quote)] == ["13629.54", "13629.54", "13629.55"]
    assert_schedule_sums_to_total(quote)


def test_a_short_last_period_pays_pro_rata() -> None:
    terms = priced_terms(
        end=date(2025, 4, 15),
        billing_cycle=BillingCycle.QUARTERLY,
        fixed_monthly_fee=Money(Decimal("1000.00")),
    )
    quote = calculate_fees(terms)
    # 3 months + Apr 1-15 (15 of 30 days) = 3.5 months x 1000.00 = 3500.00
    assert quote.term_months == Decimal("3.5")
    assert schedule_of(quote) == [("2025-01-01", "3000.00"), ("2025-04-01", "500.00")]


def test_partial_service_month_prices_by_days() -> None:
    terms = priced_terms(
        start=date(2025, 1, 15),
        end=date(2025, 3, 20),
        billing_cycle=BillingCycle.MONTHLY,
        fixed_monthly_fee=Money(Decimal("1000.00")),
    )
    quote = calculate_fees(terms)
    # 2 whole service months + Mar 15-20 (6 of 31 days): 68/31 = 2.1935.. months
    # 1000.00 x 68/31 = 2193.548.. -> 2193.55
    (line,) = quote.lines
    assert (line.quantity, line.amount.amount) == (Decimal("2.1935"), Decimal("2193.55"))
    # 2193.55 x 31/68 = 1000.0003.. -> 1000.00 twice; last 2193.55 - 2000.00 = 193.55
    assert schedule_of(quote) == [
        ("2025-01-15", "1000.00"),
        ("2025-02-15", "1000.00"),
        ("2025-03-15", "193.55"),
    ]


def test_milestones_split_the_fixed_one_off_fees() -> None:
    terms = priced_terms(
        licence=Licence(user_count=150),
        buys_licence=True,
        training=(TrainingSession(TrainingKind.ADVANCED, 12),),
        travel=TravelEstimate(visits=1),
        milestones=(
            PaymentMilestone("acceptance", date(2025, 3, 31), Decimal("70")),
            PaymentMilestone("signing", date(2024, 12, 20), Decimal("30")),
        ),
    )
    quote = calculate_fees(terms)
    # fixed one-offs: licence 22500.00 + training 3600.00 = 26100.00
    # 30% = 7830.00 on signing, 70% = 18270.00 on acceptance; travel stays an estimate.
    assert schedule_of(quote) == [
        ("2024-12-20", "7830.00"),
        ("2025-03-31", "18270.00"),
        ("2025-12-31", "1200.00"),
    ]
    assert {i.kind for i in quote.schedule[:2]} == {InstalmentKind.MILESTONE}
    assert quote.schedule[0].covers == ("licence", "training.1")


def test_agreed_rates_win_over_the_price_list_passed_in() -> None:
    usage = UsageScale(named_users=150)
    cheaper = PriceList(named_user_monthly=Decimal("5.00"))
    agreed = PriceList(named_user_monthly=Decimal("10.00"))
    terms = priced_terms(billing_cycle=BillingCycle.YEARLY, usage=usage)
    # 150 x 12 = 1800 user-months x 5.00 = 9000.00, less 8% = 8280.00
    assert calculate_fees(terms, cheaper).total.amount == Decimal("8280.00")
    terms = priced_terms(billing_cycle=BillingCycle.YEARLY, usage=usage, agreed_rates=agreed)
    # 1800 x 10.00 = 18000.00, less 8% (1440.00) = 16560.00
    assert calculate_fees(terms, cheaper).total.amount == Decimal("16560.00")


def test_price_list_currency_must_match() -> None:
    with pytest.raises(ValueError, match=r"price list is in USD but fees\.currency is CNY"):
        calculate_fees(priced_terms(), PriceList(currency="USD"))


def test_incomplete_terms_name_what_pricing_needs() -> None:
    terms = priced_terms(items=(Item.MAINTENANCE_INSPECTION, Item.DATA_BACKUP), buys_licence=True)
    with pytest.raises(IncompleteTermsError) as raised:
        calculate_fees(terms)
    assert raised.value.missing == [
        "fees.system_complexity",
        "fees.backup",
        "licence.user_count",
        "fees.billing_cycle",
    ]
    with pytest.raises(IncompleteTermsError, match="service_term, service_content, fees"):
        calculate_fees(sample_terms(service_term=None, service_content=None, fees=None))


@pytest.mark.parametrize("cycle", list(BillingCycle))
@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2025, 1, 31), date(2026, 2, 27)),
        (date(2024, 2, 29), date(2025, 8, 3)),
        (date(2025, 3, 7), date(2025, 3, 7)),
        (YEAR_START, YEAR_END),
    ],
)
def test_schedule_always_sums_exactly_to_the_total(
    cycle: BillingCycle, start: date, end: date
) -> None:
    terms = sample_terms()
    assert terms.fees and terms.service_term
    terms = replace(
        terms,
        service_term=replace(terms.service_term, start_date=start, end_date=end),
        fees=replace(terms.fees, billing_cycle=cycle, fixed_monthly_fee=Money(Decimal("333.33"))),
    )
    quote = calculate_fees(terms)
    assert_schedule_sums_to_total(quote)
    assert all(i.amount.amount == i.amount.amount.quantize(Decimal("0.01")) for i in quote.schedule)
