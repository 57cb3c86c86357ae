"""The people of the demo and what they do by mail: the approver directory the approval
service routes to, and an approver following the decision link of a mail caught by the
local mail catcher (GET the page, fill its one POST form, press the button), with a
cookie jar like a browser's."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import lxml.html
import requests

from contractflow.mail.catcher import Store

# person id: (name, language, manager, directory roles)
DIRECTORY: dict[str, tuple[str, str, str | None, list[str]]] = {
    "cm.wang": ("王敏 Wang Min", "zh", "li.si", ["contract-manager"]),  # the requester
    "li.si": ("李四 Li Si", "zh", "wang.wu", []),  # her department manager
    "wang.wu": ("王五 Wang Wu", "zh", "gm.liu", []),
    "fd.zhao": ("Zhao Finance", "en", "gm.liu", ["finance_director"]),
    "gm.liu": ("刘总 Liu Zong", "zh", None, ["general_manager"]),
    "legal.qian": ("钱律师 Qian", "en", "gm.liu", ["legal"]),
}
REQUESTER = "cm.wang"
DECISION_LINK = re.compile(r"https?://[^\s\"'<>]+/approval/links/([^/?#\s\"'<>]+)\?[^\s\"'<>]+")


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


class Mailbox:
    """The mail the catcher kept (one .eml file per message, in its folder)."""

    def __init__(self, folder: Path) -> None:
        self.store = Store(folder)

    def to(self, person: str) -> list[EmailMessage]:
        return [m for _, m in self.store.messages() if address(person) in str(m["To"])]

    def decision_link(self, person: str, task_id: str) -> str | None:
        """The link of `task_id` in a mail to `person`, once it has come (plain text part;
        the HTML part carries the same link)."""
        for message in self.to(person):
            body = message.get_body(("plain",))
            text = body.get_content() if body is not None else ""
            for match in DECISION_LINK.finditer(text):
                if match.group(1) == task_id:
                    return match.group(0)
        return None

    def count(self) -> int:
        return len(self.store.messages())


class Approver:
    """An approver's browser: follows a decision link as a person would."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) contractflow-demo"

    def decide(self, link: str, decision: str, comment: str) -> None:
        page = self.session.get(link, timeout=30)
        if page.status_code != 200:
            raise DemoFailed(f"GET {link} answered {page.status_code}: {page.text[:500]}")
        document = lxml.html.fromstring(page.text, base_url=page.url)
        forms = [f for f in document.forms if (f.method or "GET").upper() == "POST"]
        if len(forms) != 1:
            raise DemoFailed(f"expected one POST form on {page.url}, found {len(forms)}")
        form = forms[0]
        buttons = form.xpath(".//button[@name] | .//input[@type='submit'][@name]")
        chosen = [b for b in buttons if b.get("value") == decision]
        if not chosen:
            found = [b.get("value") for b in buttons]
            raise DemoFailed(f"no {decision!r} button on {page.url}; buttons: {found}")
        fields = dict(form.form_values())
        if "comment" in fields:
            fields["comment"] = comment
        fields[chosen[0].get("name")] = decision
        done = self.session.post(form.action or page.url, data=fields, timeout=30)
        if done.status_code != 200:
            raise DemoFailed(f"POST {form.action} answered {done.status_code}: {done.text[:500]}")


class DemoFailed(AssertionError):
    """A step did not happen as it should; the message says which and what was seen."""
