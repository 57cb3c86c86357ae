"""How the service is run: service levels, the maintenance schedule, security measures."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class SeverityTarget:
    severity: Severity
    response_minutes: int
    resolution_hours: int


@dataclass(frozen=True)
class ServiceStandards:
    severity_targets: tuple[SeverityTarget, ...] = ()
    availability_target_percent: Decimal | None = None
    quality_standards: str | None = None

    def target_for(self, severity: Severity) -> SeverityTarget | None:
        return next((t for t in self.severity_targets if t.severity is severity), None)


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


@dataclass(frozen=True)
class MaintenanceTask:
    item: str
    content: str
    frequency: Frequency


# The seed's table (维护项目 / 服务内容 / 服务频率), used when a draft names no schedule.
DEFAULT_MAINTENANCE_SCHEDULE: tuple[MaintenanceTask, ...] = (
    MaintenanceTask("server check", "hardware state and performance indicators", Frequency.WEEKLY),
    MaintenanceTask("database maintenance", "clean junk data, optimise queries", Frequency.MONTHLY),
    MaintenanceTask(
        "vulnerability scan", "detect security holes in the software", Frequency.QUARTERLY
    ),
)


class SecurityMeasure(StrEnum):
    """The seed's section 5 on security, one code per measure."""

    ENCRYPTION_AT_REST = "encryption_at_rest"
    ENCRYPTION_IN_TRANSIT = "encryption_in_transit"
    ACCESS_CONTROL = "access_control"
    FIREWALL = "firewall"
    INTRUSION_DETECTION = "intrusion_detection"
    PERIODIC_ASSESSMENT = "periodic_assessment"
    INCIDENT_RESPONSE_PLAN = "incident_response_plan"
    SECURITY_TRAINING = "security_training"
    LEGAL_COMPLIANCE = "legal_compliance"


@dataclass(frozen=True)
class SecurityMeasures:
    measures: tuple[SecurityMeasure, ...] = ()
    notes: str | None = None
