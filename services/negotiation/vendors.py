"""Providers' master data as the ERP last sent it (`erp.vendor.updated`), and the provider
qualification check run with it: the ERP's business licence (number, valid until) and
certifications replace what the draft's terms say, since the ERP holds the latest copy.

Updates are ordered by the ERP's `updated_at`: an older one arriving late, or the same one
again, changes nothing. A provider is matched by its credit code (the vendor id)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from contractflow.contracts import CheckResult, check_provider_qualification
from contractflow.contracts.parties import Certification, ProviderQualification
from contractflow.contracts.terms import ContractTerms
from contractflow.contracts.vendor_master import VendorMasterColumns, keep_if_newer
from contractflow.db import Base


class VendorMasterData(VendorMasterColumns, Base):
    __tablename__ = "negotiation_vendor"


def remember_vendor(session: Session, data: dict[str, Any]) -> str:
    """Answers updated or stale (not newer than what is kept)."""
    return "stale" if keep_if_newer(session, VendorMasterData, data) is None else "updated"


def with_master_data(session: Session, terms: ContractTerms) -> ContractTerms:
    """The terms with the provider's licence and certifications as the ERP knows them; the
    terms as they are when the ERP has not sent this provider. A licence without an end
    date in the ERP is a long-term one (长期)."""
    provider = terms.parties.provider if terms.parties else None
    if terms.parties is None or provider is None or not provider.credit_code:
        return terms
    # Without autoflush: the caller's draft changes cannot alter vendor rows, and flushing
    # them here wrote the draft twice in one step (research, an edit of checked terms),
    # its version moving by two.
    with session.no_autoflush:
        vendor = session.get(VendorMasterData, provider.credit_code)
    if vendor is None:
        return terms
    stated = terms.parties.provider_qualification or ProviderQualification()
    qualification = replace(
        stated,
        business_licence_number=vendor.licence_number,
        business_licence_valid_until=vendor.licence_valid_until,
        business_licence_long_term=vendor.licence_valid_until is None,
        certifications=tuple(
            Certification(
                c["name"],
                c.get("number"),
                dt.date.fromisoformat(c["valid_until"]) if c.get("valid_until") else None,
            )
            for c in vendor.certifications
        )
        or stated.certifications,
    )
    return replace(terms, parties=replace(terms.parties, provider_qualification=qualification))


def check_qualification(session: Session, terms: ContractTerms, *, now: dt.datetime) -> CheckResult:
    """The provider qualification check (DOMAIN.md §1) on the ERP's latest master data."""
    return check_provider_qualification(with_master_data(session, terms), now=now)
