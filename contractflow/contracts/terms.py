"""A contract draft: every clause the seed says such a contract must state.

Every clause is optional while the draft is negotiated; `checks.completeness` says what is
still missing before it can go to approval. Calendar dates (service term, licence term,
due dates) are plain dates read in the contract's `timezone`; instants derived from them
(`ServiceTerm.starts_at`) and "today" in the checks are computed in that zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from contractflow.contracts.fee_terms import Fees
from contractflow.contracts.legal import (
    BreachLiability,
    Confidentiality,
    DisputeResolution,
    IPOwnership,
    RightsAndObligations,
)
from contractflow.contracts.licence import Licence
from contractflow.contracts.operations import (
    DEFAULT_MAINTENANCE_SCHEDULE,
    MaintenanceTask,
    SecurityMeasures,
    ServiceStandards,
)
from contractflow.contracts.parties import Parties
from contractflow.contracts.service import ServiceContent, ServiceTerm

DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class ContractTerms:
    title: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    parties: Parties | None = None
    service_content: ServiceContent | None = None
    service_term: ServiceTerm | None = None
    fees: Fees | None = None
    rights_and_obligations: RightsAndObligations | None = None
    breach_liability: BreachLiability | None = None
    confidentiality: Confidentiality | None = None
    service_standards: ServiceStandards | None = None
    maintenance_schedule: tuple[MaintenanceTask, ...] = DEFAULT_MAINTENANCE_SCHEDULE
    security_measures: SecurityMeasures | None = None
    licence: Licence | None = None
    ip_ownership: IPOwnership | None = None
    dispute_resolution: DisputeResolution | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
