"""The fees clause: the pricing basis both sides agreed and how the fees are paid.

The clause holds quantities (complexity, volumes, counts, hours); the rates that turn them
into money live in a `PriceList` (see `pricing.py`). What is delivered - which support
channels, which functional modules - is read from the service content, so that a change
request that adds a module changes the fees without a second edit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from contractflow.contracts.money import DEFAULT_CURRENCY, Money
from contractflow.contracts.pricing import PriceList


class BillingCycle(StrEnum):
    """How periodic fees are paid, in advance on the first day of each period."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"  # earns the price list's yearly discount

    @property
    def months(self) -> int:
        return {"monthly": 1, "quarterly": 3, "yearly": 12}[self.value]


class Complexity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class UpgradeDifficulty(StrEnum):
    SIMPLE = "simple"
    MODERATE = "moderate"
    COMPLEX = "complex"


class BackupFrequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class WorkUrgency(StrEnum):
    NORMAL = "normal"
    EMERGENCY = "emergency"


class TrainingKind(StrEnum):
    NEW_USERS = "new_users"
    NEW_FEATURES = "new_features"
    ADVANCED = "advanced"


class TravelBorneBy(StrEnum):
    USER = "user"  # charged on top, at the price list's rate per visit
    PROVIDER = "provider"  # included in the service fees, not charged


@dataclass(frozen=True)
class UpgradeOrder:
    """Feature upgrades ordered with the contract, priced per upgrade by difficulty."""

    description: str
    difficulty: UpgradeDifficulty
    count: int = 1
    due_date: date | None = None  # defaults to the service start date


@dataclass(frozen=True)
class BackupPlan:
    volume_gb: Decimal
    frequency: BackupFrequency


@dataclass(frozen=True)
class UsageScale:
    named_users: int = 0
    concurrent_users: int = 0
    storage_gb: Decimal = Decimal(0)


@dataclass(frozen=True)
class AdhocWork:
    """Estimated hours of ad-hoc or emergency work, settled on actual hours."""

    description: str
    estimated_hours: Decimal
    urgency: WorkUrgency = WorkUrgency.NORMAL
    due_date: date | None = None  # defaults to the service end date (settled then)


@dataclass(frozen=True)
class TrainingSession:
    kind: TrainingKind
    attendees: int
    session_date: date | None = None  # also when it is paid; defaults to the start date


@dataclass(frozen=True)
class TravelEstimate:
    visits: int
    borne_by: TravelBorneBy = TravelBorneBy.USER
    due_date: date | None = None  # defaults to the service end date (settled then)


@dataclass(frozen=True)
class PaymentMilestone:
    """A share of the fixed one-off fees (licence, upgrades, training), e.g. 30% on signing."""

    name: str
    due_date: date
    percent: Decimal


@dataclass(frozen=True)
class Fees:
    currency: str = DEFAULT_CURRENCY
    billing_cycle: BillingCycle | None = None
    payment_method: str | None = None
    system_complexity: Complexity | None = None
    fixed_monthly_fee: Money | None = None  # 包月: a flat fee on top of itemised services
    upgrades: tuple[UpgradeOrder, ...] = ()
    backup: BackupPlan | None = None
    usage: UsageScale | None = None
    adhoc_work: tuple[AdhocWork, ...] = ()
    training: tuple[TrainingSession, ...] = ()
    travel: TravelEstimate | None = None
    buys_licence: bool = False  # charge the licence's user count at the per-user licence fee
    milestones: tuple[PaymentMilestone, ...] = ()
    # The rates both sides agreed. When absent, the calculator's price list applies.
    agreed_rates: PriceList | None = None
