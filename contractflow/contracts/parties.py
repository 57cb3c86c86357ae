"""The two parties of a contract and the qualification data the provider must show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Party:
    """A legal person signing the contract (the user company or the provider)."""

    name: str | None = None
    # 统一社会信用代码: the 18-character code on a Chinese business licence.
    credit_code: str | None = None
    address: str | None = None
    legal_representative: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None


@dataclass(frozen=True)
class Certification:
    """An industry certification such as ISO/IEC 27001 or CMMI level 3."""

    name: str
    number: str | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class ClientReference:
    """A past client the user can ask about the provider's track record."""

    client: str
    project: str
    year: int | None = None
    contact: str | None = None


@dataclass(frozen=True)
class TechnicalTeam:
    size: int | None = None
    skills: tuple[str, ...] = ()
    # Staff stability: how long the team's members have stayed, on average.
    average_tenure_years: int | None = None


@dataclass(frozen=True)
class ProviderQualification:
    business_licence_number: str | None = None
    business_licence_valid_until: date | None = None
    # Many Chinese business licences are issued "长期" (without an end date).
    business_licence_long_term: bool = False
    certifications: tuple[Certification, ...] = ()
    references: tuple[ClientReference, ...] = ()
    technical_team: TechnicalTeam | None = None


@dataclass(frozen=True)
class Parties:
    user: Party | None = None
    provider: Party | None = None
    provider_qualification: ProviderQualification | None = None
