import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from contractflow.contracts.money import Money
from contractflow.contracts.operations import DEFAULT_MAINTENANCE_SCHEDULE, Frequency
from contractflow.contracts.pricing import DEFAULT_PRICE_LIST
from contractflow.contracts.samples import sample_terms
from contractflow.contracts.schemas import (
    TermsValidationError,
    dump_contract_terms,
    load_contract_terms,
)
from contractflow.contracts.terms import ContractTerms


def errors_of(payload: dict[str, Any], **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(TermsValidationError) as raised:
        load_contract_terms(payload, **kwargs)
    return raised.value.errors


def test_sample_round_trips_through_json() -> None:
    terms = sample_terms()
    wire = json.loads(json.dumps(dump_contract_terms(terms)))
    assert wire["fees"]["backup"]["volume_gb"] == "200"  # decimals travel as strings
    assert load_contract_terms(wire) == terms


def test_an_empty_draft_loads_with_defaults() -> None:
    terms = load_contract_terms({})
    assert terms == ContractTerms()
    assert terms.timezone == "Asia/Shanghai"
    assert terms.maintenance_schedule == DEFAULT_MAINTENANCE_SCHEDULE
    assert [t.frequency for t in terms.maintenance_schedule] == [
        Frequency.WEEKLY,
        Frequency.MONTHLY,
        Frequency.QUARTERLY,
    ]


def test_default_timezone_is_a_parameter_and_the_payload_wins() -> None:
    assert load_contract_terms({}, default_timezone="Europe/Berlin").timezone == "Europe/Berlin"
    explicit = load_contract_terms({"timezone": "UTC"}, default_timezone="Europe/Berlin")
    assert explicit.timezone == "UTC"
    assert "timezone" in errors_of({"timezone": "Mars/Olympus"})
    with pytest.raises(Exception, match="unknown IANA time zone"):
        load_contract_terms({}, default_timezone="Nowhere/Atall")


def test_money_accepts_decimal_strings_and_integers() -> None:
    fees = {"fixed_monthly_fee": {"amount": "1234.50"}, "currency": "CNY"}
    assert load_contract_terms({"fees": fees}).fees.fixed_monthly_fee == Money(  # type: ignore[union-attr]
        Decimal("1234.50")
    )
    as_int = load_contract_terms({"fees": {"fixed_monthly_fee": {"amount": 5000}}})
    assert as_int.fees.fixed_monthly_fee.amount == Decimal(5000)  # type: ignore[union-attr]


def test_json_parsed_with_decimal_floats_is_accepted() -> None:
    body = json.loads('{"fees": {"fixed_monthly_fee": {"amount": 1234.5}}}', parse_float=Decimal)
    assert load_contract_terms(body).fees.fixed_monthly_fee.amount == Decimal("1234.5")  # type: ignore[union-attr]


def test_a_json_number_is_taken_exactly_and_one_that_loses_precision_is_refused() -> None:
    as_float = load_contract_terms({"fees": {"fixed_monthly_fee": {"amount": 1234.5}}})
    assert as_float.fees.fixed_monthly_fee.amount == Decimal("1234.5")  # type: ignore[union-attr]
    errors = errors_of({"fees": {"fixed_monthly_fee": {"amount": 0.1 + 0.2}}})
    assert "more than 2 decimal places" in errors["fees.fixed_monthly_fee.amount"][0]
    errors = errors_of({"fees": {"fixed_monthly_fee": {"amount": 12345678901234567.0}}})
    assert "send it as a decimal string" in errors["fees.fixed_monthly_fee.amount"][0]


def test_money_has_at_most_two_decimal_places() -> None:
    errors = errors_of({"fees": {"fixed_monthly_fee": {"amount": "1.005"}}})
    assert list(errors) == ["fees.fixed_monthly_fee.amount"]
    assert "at most 2 decimal places" in errors["fees.fixed_monthly_fee.amount"][0]


def test_errors_are_keyed_by_dotted_path_into_lists() -> None:
    payload = {
        "fees": {"upgrades": [{"description": "SSO", "difficulty": "simple", "count": 0}]},
        "service_term": {"start_date": "2025-02-01", "end_date": "2025-01-31"},
        "confidentiality": {"handling_at_end": "burn"},
    }
    errors = errors_of(payload)
    assert set(errors) == {
        "fees.upgrades.0.count",
        "service_term.end_date",
        "confidentiality.handling_at_end",
    }
    assert "before start_date 2025-02-01" in errors["service_term.end_date"][0]


def test_unknown_fields_are_refused_not_dropped() -> None:
    assert "fees.discount" in errors_of({"fees": {"discount": "5"}})


def test_booleans_are_not_integers() -> None:
    assert "service_term.notice_period_days" in errors_of(
        {"service_term": {"notice_period_days": True}}
    )


def test_duplicates_and_bad_codes_are_refused() -> None:
    errors = errors_of(
        {
            "service_content": {"items": ["support.phone", "support.phone"]},
            "licence": {"territory": ["China"]},
            "parties": {"user": {"credit_code": "123"}},
        }
    )
    assert "listed twice" in errors["service_content.items"][0]
    assert "licence.territory.0" in errors
    assert "parties.user.credit_code" in errors


def test_resolution_time_is_not_shorter_than_response_time() -> None:
    target = {"severity": "critical", "response_minutes": 600, "resolution_hours": 4}
    errors = errors_of({"service_standards": {"severity_targets": [target]}})
    assert errors == {
        "service_standards.severity_targets.0.resolution_hours": [
            "must not be shorter than the response time"
        ]
    }


def test_one_target_per_severity() -> None:
    target = {"severity": "critical", "response_minutes": 15, "resolution_hours": 4}
    errors = errors_of({"service_standards": {"severity_targets": [target, target]}})
    assert errors == {"service_standards.severity_targets": ["'critical' is listed twice"]}


def test_milestones_must_share_out_one_hundred_percent() -> None:
    milestones = [
        {"name": "signing", "due_date": "2025-01-01", "percent": "30"},
        {"name": "acceptance", "due_date": "2025-03-31", "percent": "60"},
    ]
    errors = errors_of({"fees": {"milestones": milestones}})
    assert errors["fees.milestones"] == ["percentages must add up to 100, not 90"]


def test_agreed_rates_fill_gaps_from_the_default_price_list() -> None:
    terms = load_contract_terms({"fees": {"agreed_rates": {"named_user_monthly": "9.50"}}})
    rates = terms.fees.agreed_rates  # type: ignore[union-attr]
    assert rates is not None
    assert rates.named_user_monthly == Decimal("9.50")
    assert rates.support_monthly == DEFAULT_PRICE_LIST.support_monthly
    incomplete = {"agreed_rates": {"support_monthly": {"phone": "500"}}}
    assert "fees.agreed_rates.support_monthly" in errors_of({"fees": incomplete})
    in_dollars = {"currency": "USD", "agreed_rates": {"named_user_monthly": "1"}}
    assert "fees.agreed_rates" in errors_of({"fees": in_dollars})


def test_the_error_message_names_each_path() -> None:
    with pytest.raises(TermsValidationError, match=r"service_term\.start_date: Not a valid date"):
        load_contract_terms({"service_term": {"start_date": "31/12/2025"}})
    assert errors_of([]) == {"_schema": ["the contract terms must be a JSON object"]}  # type: ignore[arg-type]


def test_service_term_instants_are_in_the_contract_zone() -> None:
    terms = sample_terms()
    term = terms.service_term
    assert term is not None
    assert term.starts_at(terms.zone).isoformat() == "2025-01-01T00:00:00+08:00"
    assert term.ends_at(terms.zone).isoformat() == "2026-01-01T00:00:00+08:00"
    assert term.notice_deadline() == date(2025, 12, 1)
