"""The charges a contract's terms give rise to, before they are priced into lines.

Periodic charges recur every month of service; one-off charges fall due on a date. What
is delivered comes from the service content (maintenance in scope, support channels,
functional modules, backup), quantities from the fees clause, rates from the price list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from contractflow.contracts.fee_terms import Fees, TravelBorneBy
from contractflow.contracts.fees.quote import LineKind
from contractflow.contracts.pricing import PriceList
from contractflow.contracts.service import ServiceContent, ServiceItem
from contractflow.contracts.terms import ContractTerms


@dataclass(frozen=True)
class PeriodicCharge:
    code: str
    description: str
    unit: str
    units_per_month: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class OneOffCharge:
    code: str
    description: str
    kind: LineKind  # ONE_OFF (fixed) or ESTIMATE (settled on actuals)
    quantity: Decimal
    unit: str
    unit_price: Decimal
    due_date: date


def periodic_charges(
    content: ServiceContent, fees: Fees, rates: PriceList
) -> tuple[PeriodicCharge, ...]:
    charges: list[PeriodicCharge] = []
    if content.includes_area("maintenance") and fees.system_complexity is not None:
        complexity = fees.system_complexity.value
        factor = rates.rate("complexity_factor", complexity)
        charges.append(
            PeriodicCharge(
                "maintenance.platform",
                f"Base maintenance, platform ({complexity} complexity)",
                "month",
                Decimal(1),
                rates.maintenance_platform_monthly * factor,
            )
        )
        if modules := len(content.functional_modules):
            charges.append(
                PeriodicCharge(
                    "maintenance.modules",
                    f"Base maintenance, {modules} functional modules ({complexity} complexity)",
                    "module-month",
                    Decimal(modules),
                    rates.maintenance_per_module_monthly * factor,
                )
            )
    for channel in content.support_channels:
        charges.append(
            PeriodicCharge(
                f"support.{channel.value}",
                f"Technical support: {channel.value.replace('_', '-')}",
                "month",
                Decimal(1),
                rates.rate("support_monthly", channel.value),
            )
        )
    if ServiceItem.DATA_BACKUP in content.items and fees.backup is not None:
        backup = fees.backup
        charges.append(
            PeriodicCharge(
                "data.backup",
                f"Data backup, {backup.volume_gb} GB {backup.frequency.value}",
                "GB-month",
                backup.volume_gb,
                rates.rate("backup_per_gb_monthly", backup.frequency.value),
            )
        )
    if usage := fees.usage:
        for code, what, unit, units, price in (
            (
                "usage.named_users",
                "Named users",
                "user-month",
                Decimal(usage.named_users),
                rates.named_user_monthly,
            ),
            (
                "usage.concurrent_users",
                "Concurrent users",
                "user-month",
                Decimal(usage.concurrent_users),
                rates.concurrent_user_monthly,
            ),
            (
                "usage.storage",
                "Data storage",
                "GB-month",
                usage.storage_gb,
                rates.storage_gb_monthly,
            ),
        ):
            if units:
                charges.append(PeriodicCharge(code, f"{what}: {units}", unit, units, price))
    if fees.fixed_monthly_fee is not None:
        if fees.fixed_monthly_fee.currency != fees.currency:
            raise ValueError(
                f"fees.fixed_monthly_fee is in {fees.fixed_monthly_fee.currency} "
                f"but fees.currency is {fees.currency}"
            )
        charges.append(
            PeriodicCharge(
                "fixed_monthly_fee",
                "Monthly service package (fixed fee)",
                "month",
                Decimal(1),
                fees.fixed_monthly_fee.amount,
            )
        )
    return tuple(charges)


def setup_charges(
    content: ServiceContent | None, rates: PriceList, start: date
) -> tuple[OneOffCharge, ...]:
    """Installation and debugging in scope: one-off on the start date, platform plus a
    price per functional module (the system's scale)."""
    if content is None:
        return ()
    modules = len(content.functional_modules)
    charges = []
    for item, what, platform, per_module in (
        (
            ServiceItem.SETUP_INSTALLATION,
            "Installation",
            rates.installation_platform,
            rates.installation_per_module,
        ),
        (
            ServiceItem.SETUP_DEBUGGING,
            "Debugging",
            rates.debugging_platform,
            rates.debugging_per_module,
        ),
    ):
        if item in content.items:
            charges.append(
                OneOffCharge(
                    item.value,
                    f"{what}: platform {platform} + {modules} modules x {per_module}",
                    LineKind.ONE_OFF,
                    Decimal(1),
                    "setup",
                    platform + modules * per_module,
                    start,
                )
            )
    return tuple(charges)


def one_off_charges(
    terms: ContractTerms, rates: PriceList, start: date, end: date
) -> tuple[OneOffCharge, ...]:
    fees = terms.fees
    assert fees is not None
    fixed, estimate = LineKind.ONE_OFF, LineKind.ESTIMATE
    charges: list[OneOffCharge] = list(setup_charges(terms.service_content, rates, start))
    if fees.buys_licence and terms.licence and terms.licence.user_count:
        charges.append(
            OneOffCharge(
                "licence",
                f"Software licence, {terms.licence.user_count} users",
                fixed,
                Decimal(terms.licence.user_count),
                "user",
                rates.licence_per_user,
                terms.licence.start_date or start,
            )
        )
    for number, upgrade in enumerate(fees.upgrades, start=1):
        charges.append(
            OneOffCharge(
                f"upgrade.{number}",
                f"Feature upgrade ({upgrade.difficulty.value}): {upgrade.description}",
                fixed,
                Decimal(upgrade.count),
                "upgrade",
                rates.rate("upgrade_price", upgrade.difficulty.value),
                upgrade.due_date or start,
            )
        )
    for number, session in enumerate(fees.training, start=1):
        session_price = rates.rate("training_session_price", session.kind.value)
        charges.append(
            OneOffCharge(
                f"training.{number}",
                f"Training ({session.kind.value}): session {session_price} + "
                f"{session.attendees} attendees x {rates.training_per_attendee}",
                fixed,
                Decimal(1),
                "session",
                session_price + session.attendees * rates.training_per_attendee,
                session.session_date or start,
            )
        )
    for number, work in enumerate(fees.adhoc_work, start=1):
        charges.append(
            OneOffCharge(
                f"adhoc.{number}",
                f"Hourly work ({work.urgency.value}, estimated): {work.description}",
                estimate,
                work.estimated_hours,
                "hour",
                rates.rate("hourly_rate", work.urgency.value),
                work.due_date or end,
            )
        )
    travel = fees.travel
    if travel and travel.visits and travel.borne_by is TravelBorneBy.USER:
        charges.append(
            OneOffCharge(
                "travel",
                f"Travel for on-site visits (estimated): {travel.visits} visits",
                estimate,
                Decimal(travel.visits),
                "visit",
                rates.travel_per_visit,
                travel.due_date or end,
            )
        )
    return tuple(charges)
