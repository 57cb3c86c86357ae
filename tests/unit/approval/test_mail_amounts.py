"""Amounts in approval mails: grouped as the reader's locale writes them, with the
currency's own number of decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.approval.mails import amount_text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_yuan_have_two_decimals_and_thousands_grouped(lang):
    assert amount_text(Decimal("1234567.5"), "CNY", lang) == "1,234,567.50"
    assert amount_text(Decimal("0"), "CNY", lang) == "0.00"


def test_yen_have_no_decimals():
    assert amount_text(Decimal("540000"), "JPY", "en") == "540,000"
