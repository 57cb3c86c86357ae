"""A wired approval service for tests: real SMTP (aiosmtpd), real Kafka, a fake clock.

`ApprovalWorld.pump()` does one round of what the worker process does: relay the outbox,
consume events, route opened tasks and send mail; tests repeat it until a condition holds.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from sqlalchemy import select

from contractflow.contracts import ContractTerms, dump_contract_terms
from contractflow.contracts.samples import sample_terms
from contractflow.contracts.service import ServiceTerm
from contractflow.db import unit_of_work
from contractflow.events.consumer import ConsumerLoop, EventProcessor, RetryPolicy
from contractflow.events.deadletter import DeadLetterPublisher
from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import OutboxMessage
from contractflow.events.relay import OutboxRelay
from contractflow.mail import MailSettings
from contractflow.service import ServiceKernel
from contractflow.web import create_service_app
from contractflow.workflow import Scheduler, WorkflowRuntime
from services.approval import directory
from services.approval.bootstrap import bootstrap
from services.approval.settings import ApprovalSettings
from tests.conftest import service_settings
from tests.integration.harness import KafkaBus, migrated_service

START = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
MANAGER = ("cm", "contract-manager")  # files change and termination requests
LINK = re.compile(r"(http://approval\.test/approval/links/[^/\s?]+\?token=\S+)")

# person, manager, roles, language
PEOPLE = [
    ("zhang.san", "li.si", [], "zh"),  # requester
    ("li.si", "wang.wu", [], "zh"),  # department manager
    ("wang.wu", "gm", [], "en"),  # li.si's manager (escalation target)
    ("fd", "gm", ["finance_director"], "en"),
    ("gm", None, ["general_manager"], "zh"),
    ("legal", "gm", ["legal"], "en"),
    ("deputy", "gm", [], "zh"),  # a delegate
    ("cm", "li.si", ["contract-manager"], "zh"),  # files change and termination requests
]


class MailBox:
    """aiosmtpd handler keeping every received message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def link_in(message: EmailMessage) -> str:
    match = LINK.search(text_of(message))
    assert match, f"no approval link in {message['Subject']!r}"
    return match.group(1)


class ApprovalWorld:
    def __init__(self, make_database: Callable[[str], str], prefix: str, bootstrap_servers: str):
        self.now = START
        self.mailbox = MailBox()
        self.smtp = Controller(self.mailbox, hostname="127.0.0.1", port=free_port())
        self.smtp.start()
        self.config = ApprovalSettings(
            public_base_url="http://approval.test",
            link_secret="test-link-secret",
            reminder_after="P1D",
            escalate_after="P3D",
            mail=MailSettings(host="127.0.0.1", port=self.smtp.port, sender="flow@corp.test"),
        )
        settings = service_settings("approval", make_database("approval"), prefix)
        self.kernel: ServiceKernel = migrated_service(
            lambda s: bootstrap(s, approval_settings=self.config, clock=lambda: self.now),
            settings,
        )
        self.bus = KafkaBus(bootstrap_servers)
        self.bus.create_topics(self.kernel.all_topics())
        self.producer = self.bus.producer()
        self.relay = OutboxRelay(self.kernel.sessions, self.producer)
        processor = EventProcessor(
            self.kernel.consumer_group,
            self.kernel.sessions,
            self.kernel.catalogue,
            self.kernel.handlers,
            DeadLetterPublisher(self.producer, self.kernel.dead_letter_topic, "approval"),
            retry=RetryPolicy(max_attempts=2, backoff_ms=1),
        )
        consumer = self.bus.consumer(self.kernel.consumer_group, self.kernel.subscribed_topics())
        self.consumer = ConsumerLoop(consumer, processor)
        self.runtime: WorkflowRuntime = self.kernel.extensions["contractflow.workflow"]  # type: ignore[assignment]
        self.scheduler = Scheduler(self.runtime, self.kernel.sessions)
        self.router = self.kernel.extensions["approval.router"]
        self.sender = self.kernel.extensions["approval.mail_sender"]
        # The link pages and the API are answered by a kernel of their own, as the web
        # process is another process than the worker: it parses the definitions itself.
        self.web_kernel: ServiceKernel = bootstrap(
            settings, approval_settings=self.config, clock=lambda: self.now
        )
        self.client: FlaskClient = create_service_app(self.web_kernel.web()).test_client()
        self.seed_directory()

    # -- setup ------------------------------------------------------------------------
    def seed_directory(self) -> None:
        with unit_of_work(self.kernel.sessions) as session:
            for person_id, manager, roles, language in PEOPLE:
                directory.upsert(
                    session,
                    person_id,
                    {
                        "name": person_id.replace(".", " ").title(),
                        "email": f"{person_id}@corp.test",
                        "language": language,
                        "manager_id": manager,
                        "roles": roles,
                    },
                    self.now,
                )

    def token(self, user: str, *roles: str) -> dict[str, str]:
        jwt = self.kernel.tokens.mint(user, roles, dt.timedelta(hours=1))
        return {"Authorization": f"Bearer {jwt}"}

    # -- events -----------------------------------------------------------------------
    def send(self, event_type: str, data: dict[str, Any], key: str) -> CloudEvent:
        """Publish as another service would (through an outbox, here approval's own)."""
        event = CloudEvent(type=event_type, source="/tests", subject=key, data=data)
        with unit_of_work(self.kernel.sessions) as session:
            self.kernel.outbox.record(session, event)
        return event

    def request_approval(self, amount: str, risk: str = "low", **extra: Any) -> str:
        request_id = f"AR-{uuid.uuid4().hex[:8]}"
        contract_id = extra.pop("contract_id", f"C-{uuid.uuid4().hex[:8]}")
        data = {
            "request_id": request_id,
            "contract_id": contract_id,
            "kind": "contract",
            "amount": amount,
            "currency": "CNY",
            "risk": risk,
            "requester": "zhang.san",
            "summary": "OA 系统运维服务合同签订 / OA operations contract",
            "subject_url": f"http://negotiation.test/contracts/{contract_id}",
            "provider": "云杉软件服务有限公司",
            **extra,
        }
        self.send("approval.requested.v1", data, contract_id)
        return request_id

    def events(self, event_type: str) -> list[dict[str, Any]]:
        topic = self.kernel.outbox.topic_for(event_type)
        found = []
        for record in self.bus.records(topic):
            event = CloudEvent.from_json(record.value)
            if event.type == event_type:
                found.append(event.data)
        return found

    # -- the worker's work ------------------------------------------------------------
    def pump(self) -> None:
        self.relay.relay_once()
        self.consumer.run_once(timeout_ms=200)
        with unit_of_work(self.kernel.sessions) as session:
            self.router.route(session)
        self.sender.send_pending()

    def pump_until(self, condition: Callable[[], Any], deadline_s: float = 60) -> Any:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            self.pump()
            result = condition()
            if result:
                return result
        raise AssertionError("condition not met before the deadline")

    def mails_to(self, person: str, count: int = 1) -> list[EmailMessage]:
        address = f"{person}@corp.test"
        return self.pump_until(
            lambda: len(self.mailbox.to(address)) >= count and self.mailbox.to(address)
        )

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta
        self.scheduler.tick(self.now)
        self.pump()

    # -- the approver's browser -------------------------------------------------------
    def open_link(self, link: str, method: str = "GET", **kw: Any) -> Any:
        path = link.removeprefix("http://approval.test")
        return self.client.open(path, method=method, **kw)

    def decide(self, link: str, decision: str, comment: str = "") -> Any:
        page = self.open_link(link)
        assert page.status_code == 200, page.get_data(as_text=True)
        value = re.search(r'name="page_value" value="([^"]+)"', page.get_data(as_text=True))
        assert value, "the confirmation page has no anti-forgery value"
        return self.open_link(
            link,
            "POST",
            data={"page_value": value.group(1), "decision": decision, "comment": comment},
            headers={"User-Agent": "Mozilla/5.0 test-browser"},
            environ_base={"REMOTE_ADDR": "10.1.2.3"},
        )

    def approve_by_mail(self, person: str, nth: int = 1, decision: str = "approved") -> Any:
        message = self.mails_to(person, nth)[nth - 1]
        response = self.decide(link_in(message), decision, f"{decision} by {person}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    def outbox_events(self, event_type: str) -> list[dict[str, Any]]:
        with self.kernel.sessions() as session:
            rows = session.scalars(
                select(OutboxMessage).where(OutboxMessage.event_type == event_type)
            ).all()
            return [CloudEvent.from_json(r.payload).data for r in rows]

    def published(self, event_type: str, **match: Any) -> dict[str, Any]:
        """Wait until the event is in the outbox, then find it on the Kafka topic."""

        def matching(events: list[dict[str, Any]]) -> dict[str, Any] | None:
            return next((e for e in events if all(e.get(k) == v for k, v in match.items())), None)

        self.pump_until(lambda: matching(self.outbox_events(event_type)))
        return self.pump_until(lambda: matching(self.events(event_type)))

    def decided(self, request_id: str) -> dict[str, Any]:
        return self.published("approval.decided.v1", request_id=request_id)

    def close(self) -> None:
        self.smtp.stop()
        self.bus.close()
        self.web_kernel.close()
        self.kernel.close()


# -- change and termination requests ---------------------------------------------------
def terms_2027(**clauses: Any) -> ContractTerms:
    term = ServiceTerm(dt.date(2027, 1, 1), dt.date(2027, 12, 31), False, 30, "不自动续期")
    return sample_terms(service_term=term, **clauses)


def with_module(terms: ContractTerms, module: str) -> ContractTerms:
    content = terms.service_content
    modules = (*content.functional_modules, module)
    return replace(terms, service_content=replace(content, functional_modules=modules))


def request_crm_module(world: ApprovalWorld, contract_id: str, reason: str) -> dict[str, Any]:
    """File a change request adding the CRM module to a 2027 contract (+5,400.00 CNY, one
    level) as its manager; answers the created request (request_id, instance_id)."""
    old = terms_2027()
    response = world.client.post(
        "/approval/change-requests",
        json={
            "contract_id": contract_id,
            "reason": reason,
            "effective_date": "2027-04-01",
            "changes": {"modules_added": ["CRM"]},
            "current_terms": dump_contract_terms(old),
            "new_terms": dump_contract_terms(with_module(old, "CRM")),
            "risk": "low",
        },
        headers=world.token(*MANAGER),
    )
    assert response.status_code == 201, response.get_json()
    created: dict[str, Any] = response.get_json()
    return created


def request_termination_for_breach(
    world: ApprovalWorld, contract_id: str, reason: str
) -> dict[str, Any]:
    """File a termination for the provider's breach (notice given 2027-03-01, 200,000.00
    claimed) of a 2027 contract as its manager; answers the created request."""
    response = world.client.post(
        "/approval/termination-requests",
        json={
            "contract_id": contract_id,
            "grounds": "provider_breach",
            "reason": reason,
            "notice_given_on": "2027-03-01",
            "claimed_damages": "200000.00",
            "current_terms": dump_contract_terms(terms_2027()),
        },
        headers=world.token(*MANAGER),
    )
    assert response.status_code == 201, response.get_json()
    created: dict[str, Any] = response.get_json()
    return created


def open_tasks(world: ApprovalWorld, instance_id: str) -> list[dict[str, Any]]:
    response = world.client.get(
        f"/workflow/tasks?instance_id={instance_id}", headers=world.token(*MANAGER)
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return body["tasks"] if isinstance(body, dict) else body


def complete(world: ApprovalWorld, instance_id: str, element: str, data: dict) -> Any:
    task = next(t for t in open_tasks(world, instance_id) if t["element_id"] == element)
    return world.client.post(
        f"/workflow/tasks/{task['id']}/complete", json={"data": data}, headers=world.token(*MANAGER)
    )


def wait_for_task(world: ApprovalWorld, instance_id: str, element: str) -> None:
    world.pump_until(
        lambda: any(t["element_id"] == element for t in open_tasks(world, instance_id))
    )
