"""The fee calculator: the seed's three fee models and any mix, and the payment schedule.

- by service content: base maintenance (platform + functional modules, by complexity),
  feature upgrades (by count and difficulty), backup (by volume and frequency), support
  (by channel: phone < online < on-site);
- by time: billed monthly or quarterly, yearly with a discount, hourly for ad-hoc work;
- by usage scale: named users, concurrent users, storage;
- other: licence, training, travel.
"""

from contractflow.contracts.fees.basis import IncompleteTermsError
from contractflow.contracts.fees.calculator import calculate_fees
from contractflow.contracts.fees.calendar import add_months, billing_periods, service_months
from contractflow.contracts.fees.change import recalculate_for_change
from contractflow.contracts.fees.quote import (
    FeeChange,
    FeeLine,
    FeeQuote,
    Instalment,
    InstalmentKind,
    LineKind,
)

__all__ = [
    "FeeChange",
    "FeeLine",
    "FeeQuote",
    "IncompleteTermsError",
    "Instalment",
    "InstalmentKind",
    "LineKind",
    "add_months",
    "billing_periods",
    "calculate_fees",
    "recalculate_for_change",
    "service_months",
]
