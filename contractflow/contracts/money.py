"""Money as an exact Decimal amount with its ISO 4217 currency; never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

DEFAULT_CURRENCY = "CNY"
CENT = Decimal("0.01")
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


class CurrencyMismatchError(ValueError):
    """Two amounts in different currencies were combined; there is no implicit exchange rate."""


def round_to_cents(value: Decimal | Fraction | int) -> Decimal:
    """Round to 0.01 with ROUND_HALF_UP (half away from zero), the way invoices are rounded.

    Fractions are rounded exactly, without a detour through a limited-precision Decimal
    division, so a pro-rata share such as 1500 x 47/31 never rounds twice.
    """
    if isinstance(value, Fraction):
        cents = value * 100
        whole, remainder = divmod(abs(cents.numerator), cents.denominator)
        if 2 * remainder >= cents.denominator:
            whole += 1
        sign = -1 if cents < 0 else 1
        return (Decimal(sign * whole) / 100).quantize(CENT)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def is_currency_code(code: str) -> bool:
    return bool(_CURRENCY_CODE.match(code))


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        # A float here means precision was already lost upstream; refuse it loudly.
        if isinstance(self.amount, float | bool) or not isinstance(self.amount, Decimal | int):
            raise TypeError(f"Money.amount must be a Decimal, got {type(self.amount).__name__}")
        if isinstance(self.amount, int):
            object.__setattr__(self, "amount", Decimal(self.amount))
        if not self.amount.is_finite():
            raise ValueError(f"Money.amount must be finite, got {self.amount}")
        if not is_currency_code(self.currency):
            raise ValueError(f"Money.currency must be an ISO 4217 code, got {self.currency!r}")

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Money:
        return cls(Decimal("0.00"), currency)

    def _same_currency(self, other: Money, operation: str) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"cannot {operation} {other.currency} and {self.currency} amounts"
            )

    def __add__(self, other: Money) -> Money:
        self._same_currency(other, "add")
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other, "subtract")
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def rounded(self) -> Money:
        return Money(round_to_cents(self.amount), self.currency)

    def to_dict(self) -> dict[str, str]:
        """The JSON shape used on the wire: the amount as a decimal string, never a number."""
        return {"amount": str(self.amount), "currency": self.currency}

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def total(amounts: list[Money] | tuple[Money, ...], currency: str = DEFAULT_CURRENCY) -> Money:
    """Sum amounts of one currency; an empty list is zero in `currency`."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
