"""The legal clauses: obligations, breach, confidentiality, IP and disputes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contractflow.contracts.money import Money


@dataclass(frozen=True)
class RightsAndObligations:
    user_rights: tuple[str, ...] = ()
    user_obligations: tuple[str, ...] = ()
    provider_rights: tuple[str, ...] = ()
    provider_obligations: tuple[str, ...] = ()


@dataclass(frozen=True)
class BreachLiability:
    user_liabilities: tuple[str, ...] = ()
    provider_liabilities: tuple[str, ...] = ()
    # Who pays whom when a change or termination is caused by one side (seed section 6).
    termination_compensation: str | None = None
    liability_cap: Money | None = None


class ConfidentialScope(StrEnum):
    TRADE_SECRETS = "trade_secrets"
    TECHNICAL_INFORMATION = "technical_information"
    STORED_DATA = "stored_data"


class ConfidentialityDuty(StrEnum):
    RESTRICTED_ACCESS = "restricted_access"
    SECURITY_MEASURES = "security_measures"
    STAFF_TRAINING = "staff_training"
    NO_DISCLOSURE_OR_MISUSE = "no_disclosure_or_misuse"


class EndOfTermHandling(StrEnum):
    DESTROY = "destroy"
    RETURN = "return"


@dataclass(frozen=True)
class Confidentiality:
    scope: tuple[ConfidentialScope, ...] = ()
    duties: tuple[ConfidentialityDuty, ...] = ()
    # The duty runs from signing through the service term and this many years after it.
    years_after_end: int | None = None
    handling_at_end: EndOfTermHandling | None = None
    liabilities: tuple[str, ...] = ()


class Owner(StrEnum):
    USER = "user"
    PROVIDER = "provider"
    JOINT = "joint"


@dataclass(frozen=True)
class IPOwnership:
    software: Owner | None = None
    # Work product made for the user under this contract (custom modules, scripts, reports).
    customisations: Owner | None = None
    user_data: Owner | None = None
    notes: str | None = None


class CostBearer(StrEnum):
    LOSING_PARTY = "losing_party"
    EACH_OWN = "each_own"
    SHARED_EQUALLY = "shared_equally"
    USER = "user"
    PROVIDER = "provider"


@dataclass(frozen=True)
class DisputeResolution:
    """Negotiation first, then the named arbitration institution, then the court."""

    negotiation_days: int | None = None
    arbitration_institution: str | None = None
    arbitration_rules: str | None = None
    court: str | None = None
    governing_law: str | None = None
    cost_bearer: CostBearer | None = None
