"""A real SMTP server (aiosmtpd, in a thread) that keeps every message, and an approver's
browser that follows the approval link of a mail: GET the page, find its form, POST it.

Pages and mails are read by structure (the form, its inputs and buttons; links under
`/approval/links/`), not by their wording, which may change.
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import requests
from aiosmtpd.controller import Controller
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tests.e2e.deployed import free_port, wait_for

APPROVAL_LINK = re.compile(r"https?://[^\s\"'<>]+/approval/links/[^\s\"'<>]+")
DECISION_PATH = re.compile(r"^https?://[^/]+/approval/links/([^/?#]+)/?(?:[?#]|$)")


class MailServer:
    """An SMTP server on a free port of 127.0.0.1 that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in str(m["To"])]

    def summary(self) -> list[str]:
        with self._lock:
            return [f"{m['To']}: {m['Subject']}" for m in self.messages]


def approval_links(message: EmailMessage) -> list[str]:
    """The decision links of a mail, `/approval/links/<task id>?token=...` (plain text
    first, then the HTML part's hrefs); other pages under a task's link, such as its
    details, are not where one decides."""
    found: list[str] = []
    for kind in ("plain", "html"):
        part = message.get_body((kind,))
        if part is not None:
            text = part.get_content().replace("&amp;", "&")  # type: ignore[attr-defined]
            found += [
                u for u in APPROVAL_LINK.findall(text) if u not in found and DECISION_PATH.match(u)
            ]
    return found


def task_of(link: str) -> str:
    match = DECISION_PATH.match(link)
    assert match, f"not a decision link: {link}"
    return match.group(1)


def link_for_task(server: MailServer, address: str, task_id: str, deadline_s: float = 90) -> str:
    """The decision link of `task_id` in a mail to `address`, once that mail arrived."""

    def arrived() -> str | None:
        for message in server.to(address):
            for link in approval_links(message):
                if task_of(link) == task_id:
                    return link
        return None

    try:
        return wait_for(f"a mail to {address} with the link of task {task_id}", arrived, deadline_s)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; mails so far: {server.summary()}") from None


class _Forms(HTMLParser):
    """Collects each form: action, method, named fields, and its submit buttons."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {"action": a.get("action", ""), "method": a.get("method", "get"), "fields": {}}
            )
            self.forms[-1]["buttons"] = []
            return
        if not self.forms or "name" not in a:
            return
        form = self.forms[-1]
        kind = a.get("type", "submit" if tag == "button" else "text").lower()
        if tag == "button" or (tag == "input" and kind == "submit"):
            form["buttons"].append((a["name"], a.get("value", "")))
        elif tag == "textarea" or (tag == "input" and kind not in ("checkbox", "radio")):
            form["fields"][a["name"]] = a.get("value", "")


def browser_like_session() -> requests.Session:
    """A keep-alive session that, like a browser, sends a GET again once when the server
    closed the idle connection just as the request went out (gunicorn drops keep-alive
    connections idle for 2 s: a reuse at that moment reads "Remote end closed connection
    without response"). Nothing else is retried, and never a POST."""
    session = requests.Session()
    once = Retry(total=1, connect=1, read=1, status=0, allowed_methods={"GET", "HEAD"})
    for scheme in ("http://", "https://"):
        session.mount(scheme, HTTPAdapter(max_retries=once))
    return session


class ApproverBrowser:
    """What an approver does with the link in a mail, with a cookie jar like a browser's."""

    def __init__(self) -> None:
        self.session = browser_like_session()
        self.session.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) e2e-browser"

    def decide(self, link: str, decision: str, comment: str) -> requests.Response:
        page = self.session.get(link, timeout=30)
        assert page.status_code == 200, f"GET {link} answered {page.status_code}: {page.text}"
        parser = _Forms()
        parser.feed(page.text)
        forms = [f for f in parser.forms if f["method"].lower() == "post"]
        assert len(forms) == 1, f"expected one POST form on the link page, found: {parser.forms}"
        form = forms[0]
        button = [b for b in form["buttons"] if b[1] == decision]
        assert button, f"no button for {decision!r} on the link page; buttons: {form['buttons']}"
        data = dict(form["fields"])
        for name in data:
            if name == "comment" or (not data[name] and "comment" in name):
                data[name] = comment
        data[button[0][0]] = button[0][1]
        target = urljoin(page.url, form["action"]) if form["action"] else page.url
        done = self.session.post(target, data=data, timeout=30)
        assert done.status_code == 200, f"POST {target} answered {done.status_code}: {done.text}"
        return done
