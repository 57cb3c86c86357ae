"""The summary and change lines of approval's own change and termination requests, written
for each reader language (`texts` of `approval.requested`): the approvers' mails and pages
are in the approver's language, so a line is not one string with both languages and the
request's codes (grounds, who pays) run into it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

LANGUAGES = ("zh", "en")
CHANGE_LABELS = {
    "zh": {
        "modules_added": "增加模块",
        "modules_removed": "减少模块",
        "fees": "费用",
        "term": "服务期限",
        "service_standards": "服务标准",
        "licence_scope": "许可范围",
    },
    "en": {
        "modules_added": "modules added",
        "modules_removed": "modules removed",
        "fees": "fees",
        "term": "term",
        "service_standards": "service standards",
        "licence_scope": "licence scope",
    },
}
GROUNDS_NAMES = {
    "zh": {
        "expiry": "到期",
        "provider_breach": "服务方违约",
        "user_convenience": "使用方自身原因",
        "mutual": "双方协商一致",
    },
    "en": {
        "expiry": "expiry",
        "provider_breach": "provider breach",
        "user_convenience": "the user's convenience",
        "mutual": "mutual agreement",
    },
}
PARTY_NAMES = {
    "zh": {"provider": "服务方", "user": "使用方", "none": "无"},
    "en": {"provider": "the provider", "user": "the user", "none": "nobody"},
}
_LIST_SEPARATOR = {"zh": "、", "en": ", "}
_COLON = {"zh": "：", "en": ": "}


def change_lines(changes: dict[str, Any], lang: str) -> list[str]:
    """One line per changed clause, in `lang`."""
    lines = []
    for key, label in CHANGE_LABELS[lang].items():
        value = changes.get(key)
        if value:
            text = _LIST_SEPARATOR[lang].join(value) if isinstance(value, list) else str(value)
            lines.append(f"{label}{_COLON[lang]}{text}")
    return lines


def change_texts(
    changes: dict[str, Any], effective_date: str, difference: Decimal, currency: str
) -> dict[str, dict[str, Any]]:
    fee = f"{difference:+,.2f} {currency}"
    summaries = {
        "zh": f"合同变更，自 {effective_date} 起生效；费用变化 {fee}",
        "en": f"change effective {effective_date}, fee difference {fee}",
    }
    return {
        lang: {"summary": summaries[lang], "changes": change_lines(changes, lang)}
        for lang in LANGUAGES
    }


def termination_texts(grounds: str, assessment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    compensation = assessment["compensation"]
    money = compensation["amount"]
    amount = f"{money['amount']} {money['currency']}"
    days, effective = assessment["notice_period_days"], assessment["effective_date"]
    texts = {}
    for lang in LANGUAGES:
        why = GROUNDS_NAMES[lang].get(grounds, grounds)
        payer = PARTY_NAMES[lang].get(compensation["payer"], compensation["payer"])
        payee = PARTY_NAMES[lang].get(compensation["payee"], compensation["payee"])
        if lang == "zh":
            summary = f"解除合同（{why}），{effective} 生效"
            lines = [f"通知期：{days} 天", f"赔偿：{payer} → {payee} {amount}"]
        else:
            summary = f"termination on the grounds of {why}, effective {effective}"
            lines = [f"notice period: {days} days", f"compensation: {payer} → {payee} {amount}"]
        texts[lang] = {"summary": summary, "changes": lines}
    return texts
