"""The software licence granted to the user: its type, scope, term and limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class LicenceType(StrEnum):
    EXCLUSIVE = "exclusive"  # 独占: only the licensee; the provider may not use or re-license
    SOLE = "sole"  # 排他: licensee and provider, no third party
    NON_EXCLUSIVE = "non_exclusive"  # 普通: the provider may license anyone

    @property
    def bars_third_parties(self) -> bool:
        return self is not LicenceType.NON_EXCLUSIVE


class DeviceType(StrEnum):
    DESKTOP = "desktop"
    SERVER = "server"
    MOBILE = "mobile"
    TABLET = "tablet"


class LicenceRestriction(StrEnum):
    NO_SECONDARY_DEVELOPMENT = "no_secondary_development"
    NO_TRANSFER = "no_transfer"
    NO_SUBLICENSING = "no_sublicensing"
    NO_REVERSE_ENGINEERING = "no_reverse_engineering"


class LicenceTerminationEvent(StrEnum):
    EXPIRY = "expiry"
    BREACH = "breach"
    CONTRACT_TERMINATION = "contract_termination"


class DataHandling(StrEnum):
    """What the user does with the software's data and materials when the licence ends."""

    RETURN = "return"
    DESTROY = "destroy"
    EXPORT_THEN_DESTROY = "export_then_destroy"


# A territory is "WORLD", an ISO 3166-1 country ("CN") or an ISO 3166-2 subdivision
# ("CN-SH"). A country covers its subdivisions, WORLD covers everything.
WORLD = "WORLD"


@dataclass(frozen=True)
class Licence:
    software_id: str | None = None
    software_name: str | None = None
    type: LicenceType | None = None
    territory: tuple[str, ...] = ()
    user_count: int | None = None
    device_types: tuple[DeviceType, ...] = ()
    start_date: date | None = None
    end_date: date | None = None
    extension_procedure: str | None = None
    restrictions: tuple[LicenceRestriction, ...] = ()
    termination_events: tuple[LicenceTerminationEvent, ...] = ()
    data_handling_on_termination: DataHandling | None = None


def territories_overlap(first: str, second: str) -> bool:
    """True when two territory codes share any ground (equal, or one contains the other)."""
    if WORLD in (first, second):
        return True
    return first == second or first.startswith(second + "-") or second.startswith(first + "-")
