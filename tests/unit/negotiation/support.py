"""A wired negotiation service for tests: migrated database, fake clock, Flask test client,
tokens per role, and the approval service's part played by the test.

The workflow runtime's live-instance cache is off and every saved state is checked to
restore to the same state, so each step of each test is a save/restore round trip.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from contractflow.contracts import dump_contract_terms
from contractflow.contracts.samples import sample_terms
from contractflow.db import make_engine, unit_of_work
from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import OutboxMessage
from contractflow.migrate import upgrade
from contractflow.service import ServiceKernel
from contractflow.web import create_service_app
from contractflow.workflow import WorkflowRuntime
from services.negotiation.bootstrap import bootstrap
from tests.conftest import service_settings
from tests.new_process import act_as_new_process_per_transaction

T0 = dt.datetime(2024, 11, 1, 9, 0, tzinfo=dt.UTC)  # before the sample's 2025 term starts
ROLES = {
    "manager": ["contract-manager"],
    "legal": ["legal"],
    "technical": ["technical"],
    "finance": ["finance"],
    "viewer": ["contract-viewer"],
}


class FakeClock:
    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def check_round_trips(runtime: WorkflowRuntime) -> None:
    engine = runtime.engine
    dump = engine.dump

    def dump_and_check(workflow: Any) -> bytes:
        blob = dump(workflow)
        restored = engine.load(blob, 2, workflow.spec, workflow.subprocess_specs)
        assert dump(restored) == blob, "state does not survive a save/restore round trip"
        return blob

    engine.dump = dump_and_check  # type: ignore[method-assign]


def terms_json(**clauses: Any) -> dict[str, Any]:
    return dump_contract_terms(sample_terms(**clauses))


def signing_data(at: str = "2024-12-20T10:00:00+08:00") -> dict[str, Any]:
    document = b"signed contract PDF bytes"
    return {
        "user_signatory": {"name": "王建国", "title": "法定代表人", "signed_at": at},
        "provider_signatory": {"name": "陈思远", "title": "法定代表人", "signed_at": at},
        "document_reference": "dms://contracts/2024/OA-001.pdf",
        "document_sha256": hashlib.sha256(document).hexdigest(),
    }


class Negotiation:
    """The service under test, driven like its users drive it: over HTTP."""

    def __init__(self, database_url: str, topic_prefix: str = "test.", **settings_: Any) -> None:
        settings = service_settings("negotiation", database_url, topic_prefix, **settings_)
        engine = make_engine(database_url)
        upgrade(engine, "negotiation")
        engine.dispose()
        self.clock = FakeClock()
        self.kernel: ServiceKernel = bootstrap(
            settings, clock=self.clock, runtime_options={"instance_cache_size": 0}
        )
        self.runtime: WorkflowRuntime = self.kernel.extensions["contractflow.workflow"]  # type: ignore[assignment]
        check_round_trips(self.runtime)
        act_as_new_process_per_transaction(self.kernel.sessions, self.runtime)
        self.client: FlaskClient = create_service_app(self.kernel.web()).test_client()

    def close(self) -> None:
        self.kernel.close()

    # -- HTTP ---------------------------------------------------------------------------
    def headers(self, who: str) -> dict[str, str]:
        token = self.kernel.tokens.mint(who, ROLES[who], dt.timedelta(hours=1))
        return {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, who: str = "manager", **kwargs: Any) -> Any:
        return self.client.open(path, method=method, headers=self.headers(who), **kwargs)

    def contract(self, contract_id: str) -> dict[str, Any]:
        response = self.call("GET", f"/contracts/{contract_id}", "viewer")
        assert response.status_code == 200, response.json
        return response.json

    def create(self, terms: dict[str, Any] | None = None) -> str:
        response = self.call("POST", "/contracts", json={"terms": terms or terms_json()})
        assert response.status_code == 201, response.json
        return response.json["contract_id"]

    def task(self, contract_id: str, element_id: str) -> dict[str, Any]:
        tasks = self.call("GET", f"/contracts/{contract_id}/tasks", "viewer").json["tasks"]
        found = [t for t in tasks if t["element_id"] == element_id]
        assert found, f"no open task {element_id}; open: {[t['element_id'] for t in tasks]}"
        return found[0]

    def complete(self, contract_id: str, element_id: str, who: str, data: dict) -> Any:
        task = self.task(contract_id, element_id)
        return self.call("POST", f"/workflow/tasks/{task['id']}/complete", who, json={"data": data})

    def complete_ok(self, contract_id: str, element_id: str, who: str, data: dict) -> None:
        response = self.complete(contract_id, element_id, who, data)
        assert response.status_code == 200, response.json

    # -- the pre-signing steps ----------------------------------------------------------
    def prepare(
        self, contract_id: str, budget: str = "200000.00", provider: str = "杭州云维"
    ) -> None:
        """Requirement, provider research (choosing the terms' provider): up to drafting."""
        self.complete_ok(
            contract_id,
            "define_requirement",
            "manager",
            {"need": "OA 系统运维", "budget": {"amount": budget, "currency": "CNY"}},
        )
        self.complete_ok(contract_id, "research_provider", "manager", {"chosen_provider": provider})

    def submit(self, contract_id: str) -> Any:
        return self.call("POST", f"/contracts/{contract_id}/submit", json={"note": "ready"})

    def review_all(self, contract_id: str, **decisions: dict[str, Any]) -> None:
        """Each reviewer decides in turn; a send-back ends the round for the others."""
        for role in ("legal", "technical", "finance"):
            data = decisions.get(role, {"decision": "accept"})
            self.complete_ok(contract_id, f"{role}_review", role, data)
            if data["decision"] == "send_back":
                return

    def to_approval(self, contract_id: str) -> dict[str, Any]:
        self.prepare(contract_id)
        assert self.submit(contract_id).status_code == 200
        self.review_all(contract_id)
        return self.contract(contract_id)

    # -- the events ---------------------------------------------------------------------
    def outbox(self, event_type: str) -> list[CloudEvent]:
        with unit_of_work(self.kernel.sessions) as session:
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.event_type == event_type)
                .order_by(OutboxMessage.position)
            ).all()
            return [CloudEvent.from_json(r.payload) for r in rows]

    def decide(self, request: CloudEvent, outcome: str, comment: str = "") -> CloudEvent:
        """The approval service's answer, handled as the consumer would handle it."""
        decided = decision_event(request, outcome, comment)
        with unit_of_work(self.kernel.sessions) as session:
            data = self.kernel.catalogue.load(decided)
            self.kernel.handlers["approval.decided.v1"](session, decided, data)
        return decided


def decision_event(request: CloudEvent, outcome: str, comment: str = "") -> CloudEvent:
    at = "2024-12-10T10:00:00+08:00"
    decision = "approved" if outcome == "approved" else "rejected"
    return request.caused(
        "approval.decided.v1",
        "/approval",
        {
            "request_id": request.data["request_id"],
            "contract_id": request.data["contract_id"],
            "outcome": outcome,
            "decisions": [
                {
                    "level": 1,
                    "approver": "director",
                    "decision": decision,
                    "comment": comment,
                    "decided_at": at,
                },
            ],
            "decided_at": at,
        },
    )


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(dataclasses.asdict(value), default=str))
