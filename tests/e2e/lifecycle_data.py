"""The people and the contract of the end-to-end lifecycle: what a client would send.

The contract is the sample OA management contract moved to start today (Asia/Shanghai),
for three years, high complexity and 300 named users: 547,160.00 CNY, above 500,000, so the
routing table asks three levels (department manager, finance director, general manager);
low risk (a non-exclusive licence, within budget), so legal is not asked for it. A notice period of
0 days lets a termination noticed today take effect today, without waiting in real time.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
from typing import Any
from zoneinfo import ZoneInfo

from contractflow.contracts import dump_contract_terms
from contractflow.contracts.samples import SAMPLE_START, sample_terms

ZONE = ZoneInfo("Asia/Shanghai")
TOTAL = "547160.00"
BUDGET = "600000.00"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# person id: (name, language, manager, directory roles)
DIRECTORY = {
    "cm.wang": ("王敏 Wang Min", "zh", "li.si", ["contract-manager"]),  # requester
    "li.si": ("李四 Li Si", "zh", "wang.wu", []),  # her department manager: level 1
    "wang.wu": ("王五 Wang Wu", "zh", "gm.liu", []),
    "fd.zhao": ("Zhao Finance", "en", "gm.liu", ["finance_director"]),  # level 2
    "gm.liu": ("刘总 Liu Zong", "zh", None, ["general_manager"]),  # level 3
    "legal.qian": ("钱律师 Qian", "en", "gm.liu", ["legal"]),  # asked for terminations
}
REQUESTER = "cm.wang"


def address(person: str) -> str:
    return f"{person}@corp.test"


def person_body(person: str) -> dict[str, Any]:
    name, language, manager, roles = DIRECTORY[person]
    return {
        "name": name,
        "email": address(person),
        "language": language,
        "manager_id": manager,
        "roles": roles,
    }


def today() -> dt.date:
    return dt.datetime.now(ZONE).date()


def _shifted(value: Any, delta: dt.timedelta) -> Any:
    if isinstance(value, dict):
        return {k: _shifted(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [_shifted(v, delta) for v in value]
    if isinstance(value, str) and ISO_DATE.match(value):
        return (dt.date.fromisoformat(value) + delta).isoformat()
    return value


def contract_terms() -> dict[str, Any]:
    """Every date of the sample moved by the same offset, so they stay consistent."""
    start = today()
    terms = _shifted(dump_contract_terms(sample_terms()), start - SAMPLE_START)
    end = (start.replace(year=start.year + 3) - dt.timedelta(days=1)).isoformat()
    terms["service_term"].update(end_date=end, notice_period_days=0)
    terms["licence"].update(end_date=end, user_count=300)
    terms["fees"]["system_complexity"] = "high"
    terms["fees"]["usage"]["named_users"] = 300
    return terms


def with_module(terms: dict[str, Any], module: str) -> dict[str, Any]:
    changed = copy.deepcopy(terms)
    changed["service_content"]["functional_modules"].append(module)
    return changed


def signing_form() -> dict[str, Any]:
    at = dt.datetime.now(ZONE).replace(microsecond=0).isoformat()
    return {
        "user_signatory": {"name": "王建国", "title": "法定代表人", "signed_at": at},
        "provider_signatory": {"name": "陈思远", "title": "法定代表人", "signed_at": at},
        "document_reference": "dms://contracts/e2e/OA-3Y.pdf",
        "document_sha256": hashlib.sha256(b"the signed contract").hexdigest(),
    }
