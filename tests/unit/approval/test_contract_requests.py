"""The rules a change or termination request must pass before its workflow starts, called
as the view calls them: one open request per contract, no amendment effective in the past,
terms that are contract terms, and the workflow variables the request starts with."""

from __future__ import annotations

import datetime as dt

import pytest

from contractflow.contracts import dump_contract_terms
from contractflow.db import unit_of_work
from contractflow.events.schemas.contract import ContractSignedV1
from contractflow.mail import MailSettings
from services.approval import contract_requests, signed_contracts
from services.approval.bootstrap import bootstrap
from services.approval.settings import ApprovalSettings
from tests.conftest import service_settings
from tests.integration.approval.support import terms_2027
from tests.integration.harness import migrated_service, signed_event

NOW = dt.datetime(2027, 2, 28, 20, tzinfo=dt.UTC)  # 04:00 on 1 March in Shanghai
BASE = "http://approval.test"


@pytest.fixture
def kernel(database_factory, topic_prefix):
    config = ApprovalSettings(mail=MailSettings())
    kernel = migrated_service(
        lambda s: bootstrap(s, approval_settings=config, clock=lambda: NOW),
        service_settings("approval", database_factory("approval"), topic_prefix),
    )
    yield kernel
    kernel.close()


def signed(kernel) -> str:
    event = signed_event(terms=dump_contract_terms(terms_2027()))
    with unit_of_work(kernel.sessions) as session:
        signed_contracts.remember_signed(session, event.id, ContractSignedV1().load(event.data))
    return event.subject


def change_body(contract_id: str, **changes) -> dict:
    return {
        "contract_id": contract_id,
        "effective_date": dt.date(2027, 6, 1),
        "current_terms": None,
        "new_terms": dump_contract_terms(terms_2027()),
        "changes": {"fees": "lower support fee"},
        "reason": "fewer users",
        "risk": "low",
        **changes,
    }


def start_change(kernel, body: dict) -> contract_requests.StartedRequest:
    runtime = kernel.extensions["contractflow.workflow"]
    with unit_of_work(kernel.sessions) as session:
        return contract_requests.start_change_request(
            session, runtime, body, requested_by="cm1", base_url=BASE
        )


def test_a_change_starts_from_the_signed_terms_with_its_request_page(kernel):
    contract_id = signed(kernel)
    started = start_change(kernel, change_body(contract_id))
    assert started.request_id.startswith("CR-")
    runtime = kernel.extensions["contractflow.workflow"]
    with kernel.sessions() as session:
        variables = runtime.instance(session, started.instance_id).variables
    assert variables["requested_by"] == "cm1"
    assert variables["effective_date"] == "2027-06-01"  # JSON, as the workflow keeps it
    assert variables["subject_url"] == f"{BASE}/approval/requests/{started.request_id}"
    assert variables["current_terms"] == dump_contract_terms(terms_2027())


def test_a_second_open_change_of_the_same_contract_is_refused_naming_the_first(kernel):
    contract_id = signed(kernel)
    first = start_change(kernel, change_body(contract_id))
    with pytest.raises(contract_requests.RequestRefused) as refused:
        start_change(kernel, change_body(contract_id))
    assert refused.value.status == 409
    assert refused.value.extra == {"open_instance_id": first.instance_id}
    assert first.instance_id in refused.value.detail


def test_an_amendment_cannot_take_effect_before_today_in_the_business_zone(kernel):
    contract_id = signed(kernel)
    yesterday = dt.date(2027, 2, 28)
    with pytest.raises(contract_requests.RequestRefused) as refused:
        start_change(kernel, change_body(contract_id, effective_date=yesterday))
    assert refused.value.status == 422
    assert set(refused.value.errors) == {"effective_date"}
    # Today (in Shanghai) is allowed.
    start_change(kernel, change_body(contract_id, effective_date=dt.date(2027, 3, 1)))


def test_new_terms_that_are_not_contract_terms_are_refused_by_field(kernel):
    contract_id = signed(kernel)
    terms = dump_contract_terms(terms_2027())
    bad = {**terms, "service_term": {**terms["service_term"], "start_date": "soon"}}
    with pytest.raises(contract_requests.RequestRefused) as refused:
        start_change(kernel, change_body(contract_id, new_terms=bad))
    assert refused.value.status == 422
    assert refused.value.errors and all(k.startswith("new_terms.") for k in refused.value.errors)


def test_a_contract_never_signed_here_and_no_terms_sent_is_unknown(kernel):
    with pytest.raises(contract_requests.RequestRefused) as refused:
        start_change(kernel, change_body("C-never-signed"))
    assert refused.value.status == 422
    assert set(refused.value.errors) == {"current_terms"}
