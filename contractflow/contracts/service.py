"""What the provider delivers (the seed's service catalogue) and for how long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class ServiceItem(StrEnum):
    """The seed's catalogue (FAQ 1 and clause 2), as `<area>.<item>` codes."""

    SETUP_INSTALLATION = "setup.installation"
    SETUP_DEBUGGING = "setup.debugging"
    MAINTENANCE_INSPECTION = "maintenance.inspection"
    MAINTENANCE_FAULT_REPAIR = "maintenance.fault_repair"
    MAINTENANCE_VULNERABILITY_FIX = "maintenance.vulnerability_fix"
    UPDATES_FEATURES = "updates.features"
    UPDATES_VERSIONS = "updates.versions"
    UPDATES_COMPATIBILITY = "updates.compatibility"
    SUPPORT_PHONE = "support.phone"
    SUPPORT_ONLINE = "support.online"
    SUPPORT_ON_SITE = "support.on_site"
    DATA_BACKUP = "data.backup"
    DATA_RECOVERY = "data.recovery"
    DATA_SECURITY = "data.security"
    TRAINING_NEW_USERS = "training.new_users"
    TRAINING_NEW_FEATURES = "training.new_features"
    TRAINING_ADVANCED = "training.advanced"

    @property
    def area(self) -> str:
        return self.value.split(".", 1)[0]


class SupportChannel(StrEnum):
    """Ordered from cheapest to dearest, as the seed prices them (phone < online < on-site)."""

    PHONE = "phone"
    ONLINE = "online"
    ON_SITE = "on_site"


SUPPORT_ITEM_CHANNELS = {
    ServiceItem.SUPPORT_PHONE: SupportChannel.PHONE,
    ServiceItem.SUPPORT_ONLINE: SupportChannel.ONLINE,
    ServiceItem.SUPPORT_ON_SITE: SupportChannel.ON_SITE,
}


@dataclass(frozen=True)
class ServiceContent:
    items: tuple[ServiceItem, ...] = ()
    # The software's functional modules in scope; their count is the system's scale.
    functional_modules: tuple[str, ...] = ()
    notes: str | None = None

    def includes_area(self, area: str) -> bool:
        return any(item.area == area for item in self.items)

    @property
    def support_channels(self) -> tuple[SupportChannel, ...]:
        return tuple(
            channel for item, channel in SUPPORT_ITEM_CHANNELS.items() if item in self.items
        )


@dataclass(frozen=True)
class ServiceTerm:
    """Calendar dates, both inclusive ("2025-01-01 至 2025-12-31")."""

    start_date: date | None = None
    end_date: date | None = None
    auto_renew: bool | None = None
    notice_period_days: int | None = None
    renewal_conditions: str | None = None

    def starts_at(self, zone: ZoneInfo) -> datetime:
        """The instant the service begins: midnight of the start date in the contract's zone."""
        if self.start_date is None:
            raise ValueError("service_term.start_date is not set")
        return datetime.combine(self.start_date, time(), tzinfo=zone)

    def ends_at(self, zone: ZoneInfo) -> datetime:
        """The instant the service ends: midnight after the (inclusive) end date."""
        if self.end_date is None:
            raise ValueError("service_term.end_date is not set")
        return datetime.combine(self.end_date + timedelta(days=1), time(), tzinfo=zone)

    def notice_deadline(self) -> date:
        """Last day on which either side can still object to renewal or give notice."""
        if self.end_date is None or self.notice_period_days is None:
            raise ValueError("service_term.end_date and notice_period_days must be set")
        return self.end_date - timedelta(days=self.notice_period_days)
