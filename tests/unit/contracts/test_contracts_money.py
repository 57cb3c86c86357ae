from decimal import Decimal
from fractions import Fraction

import pytest

from contractflow.contracts.money import CurrencyMismatchError, Money, round_to_cents, total


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2.675"), "2.68"),
        (Decimal("2.665"), "2.67"),  # banker's rounding would give 2.66
        (Decimal("-2.665"), "-2.67"),  # half away from zero
        (Fraction(1, 200), "0.01"),  # 0.005 exactly
        (Fraction(-1, 200), "-0.01"),
        (Fraction(1, 3), "0.33"),
        (Fraction(349500, 31), "11274.19"),  # 11274.1935...
        (7, "7.00"),
    ],
)
def test_round_to_cents_is_half_up(value: Decimal | Fraction | int, expected: str) -> None:
    assert str(round_to_cents(value)) == expected


def test_money_refuses_floats_and_booleans() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        Money(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        Money(Decimal("NaN"))
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(Decimal(1), "yuan")


def test_money_arithmetic_keeps_one_currency() -> None:
    assert Money(Decimal("1.10")) + Money(Decimal("2.20")) == Money(Decimal("3.30"), "CNY")
    assert total([Money(Decimal("1.00")), Money(Decimal("2.50"))]).amount == Decimal("3.50")
    with pytest.raises(CurrencyMismatchError, match="USD and CNY"):
        Money(Decimal(1)) + Money(Decimal(1), "USD")
    assert Money(Decimal("12.5")).to_dict() == {"amount": "12.5", "currency": "CNY"}
