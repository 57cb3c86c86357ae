"""The demo's contracts: the sample OA management contract moved to a start date on the
business clock, for a short term, so reminders, an evaluation and the end of the term come
within the demo's minutes. Every date of the sample moves by the same offset, so they stay
consistent; dated items that would fall after the short term are left out."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
from typing import Any

from contractflow.contracts import dump_contract_terms
from contractflow.contracts.samples import SAMPLE_START, sample_terms

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BUDGET = "600000.00"


def shifted_dates(value: Any, delta: dt.timedelta) -> Any:
    """`value` with every ISO date in it moved by `delta`."""
    if isinstance(value, dict):
        return {k: shifted_dates(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [shifted_dates(v, delta) for v in value]
    if isinstance(value, str) and ISO_DATE.match(value):
        return (dt.date.fromisoformat(value) + delta).isoformat()
    return value


def contract_terms(start: dt.date, term_days: int, *, auto_renew: bool, title: str) -> dict:
    terms = shifted_dates(dump_contract_terms(sample_terms()), start - SAMPLE_START)
    end = (start + dt.timedelta(days=term_days - 1)).isoformat()
    terms["title"] = title
    terms["service_term"].update(end_date=end, auto_renew=auto_renew, notice_period_days=30)
    if not auto_renew:
        terms["service_term"]["renewal_conditions"] = "期满不自动续期 / no automatic renewal"
    terms["licence"]["end_date"] = end
    fees = terms["fees"]
    fees["billing_cycle"] = "monthly"
    fees["upgrades"] = [u for u in fees["upgrades"] if u["due_date"] <= end]
    fees["training"] = [t for t in fees["training"] if t["session_date"] <= end]
    return terms


def with_module(terms: dict[str, Any], module: str) -> dict[str, Any]:
    changed = copy.deepcopy(terms)
    changed["service_content"]["functional_modules"].append(module)
    return changed


def signing_form(now: dt.datetime, contract_id: str) -> dict[str, Any]:
    at = now.replace(microsecond=0).isoformat()
    return {
        "user_signatory": {"name": "王建国", "title": "法定代表人", "signed_at": at},
        "provider_signatory": {"name": "陈思远", "title": "法定代表人", "signed_at": at},
        "document_reference": f"dms://contracts/demo/{contract_id}.pdf",
        "document_sha256": hashlib.sha256(contract_id.encode()).hexdigest(),
    }
