"""The people and the contract of the end-to-end lifecycle: what a client would send.

The contract is the sample OA management contract moved to start today (Asia/Shanghai),
for three years, high complexity and 300 named users: 547,160.00 CNY, above 500,000, so the
routing table asks three levels (department manager, finance director, general manager);
low risk (a non-exclusive licence, within budget), so legal is not asked for it. A notice period of
0 days lets a termination noticed today take effect today, without waiting in real time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any
from zoneinfo import ZoneInfo

from contractflow.contracts import dump_contract_terms
from contractflow.contracts.samples import SAMPLE_START, sample_terms

# The people and the contract helpers are the demo's (make demo): one directory, one way to
# move the sample's dates.
from contractflow.demo.people import DIRECTORY, REQUESTER, address, person_body  # noqa: F401
from contractflow.demo.terms import shifted_dates, with_module  # noqa: F401

ZONE = ZoneInfo("Asia/Shanghai")
TOTAL = "547160.00"
BUDGET = "600000.00"


def today() -> dt.date:
    return dt.datetime.now(ZONE).date()


def contract_terms() -> dict[str, Any]:
    """Every date of the sample moved by the same offset, so they stay consistent."""
    start = today()
    terms = shifted_dates(dump_contract_terms(sample_terms()), start - SAMPLE_START)
    end = (start.replace(year=start.year + 3) - dt.timedelta(days=1)).isoformat()
    terms["service_term"].update(end_date=end, notice_period_days=0)
    terms["licence"].update(end_date=end, user_count=300)
    terms["fees"]["system_complexity"] = "high"
    terms["fees"]["usage"]["named_users"] = 300
    return terms


def signing_form() -> dict[str, Any]:
    at = dt.datetime.now(ZONE).replace(microsecond=0).isoformat()
    return {
        "user_signatory": {"name": "王建国", "title": "法定代表人", "signed_at": at},
        "provider_signatory": {"name": "陈思远", "title": "法定代表人", "signed_at": at},
        "document_reference": "dms://contracts/e2e/OA-3Y.pdf",
        "document_sha256": hashlib.sha256(b"the signed contract").hexdigest(),
    }
