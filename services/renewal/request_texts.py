"""The summary and change lines of renewal's own approval requests, written for each reader
language (`texts` of `approval.requested`): the approval service mails and shows them in
the approver's language, so a line names the kind of renewal, the new term and the new
total in words, never the decision's code (`renew_same_terms`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from services.renewal.decisions import RENEW, TEMPORARY, next_term
from services.renewal.models import WatchedContract

LANGUAGES = ("zh", "en")
KIND_NAMES = {
    "zh": {RENEW: "按原条件续签", TEMPORARY: "临时延期"},
    "en": {RENEW: "renewal on the same terms", TEMPORARY: "temporary extension"},
}
_TO = {"zh": "至", "en": "to"}


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _period(start: dt.date, end: dt.date, lang: str) -> str:
    return f"{start.isoformat()} {_TO[lang]} {end.isoformat()}"


def decision_texts(
    contract: WatchedContract, choice: str, decision: dict[str, Any], cost: Decimal
) -> dict[str, dict[str, Any]]:
    """`choice` renews or extends the contract (the only decisions that are approved) for
    `cost`; the term it gives is the one `decisions.apply` will set."""
    if choice == RENEW:
        start, end = next_term(contract)
    elif choice == TEMPORARY:
        start = contract.end_date + dt.timedelta(days=1)
        end = dt.date.fromisoformat(decision["until"])
    else:
        raise ValueError(f"{choice!r} neither renews nor extends: nothing to approve")
    index = Decimal(decision.get("index_percent") or "0")
    current = _money(Decimal(contract.total_amount), contract.currency)
    new = _money(cost, contract.currency)
    texts = {}
    for lang in LANGUAGES:
        kind, period = KIND_NAMES[lang][choice], _period(start, end, lang)
        if lang == "zh":
            summary = (
                f"{kind}，新期限 {period}" if choice == RENEW else f"{kind}至 {end.isoformat()}"
            )
            lines = [f"续约方式：{kind}"]
            if choice == RENEW:
                lines += [f"新服务期限：{period}", f"新合同总额：{new}（现为 {current}）"]
                if index:
                    lines.append(f"价格指数调整：{index:+}%")
            else:
                lines += [f"延期期间：{period}", f"延期费用：{new}"]
        else:
            summary = (
                f"{kind}, new term {period}"
                if choice == RENEW
                else f"{kind} until {end.isoformat()}"
            )
            lines = [f"kind: {kind}"]
            if choice == RENEW:
                lines += [f"new term: {period}", f"new total: {new} (now {current})"]
                if index:
                    lines.append(f"price index: {index:+}%")
            else:
                lines += [f"extension period: {period}", f"extension fee: {new}"]
        texts[lang] = {"summary": summary, "changes": lines}
    return texts
