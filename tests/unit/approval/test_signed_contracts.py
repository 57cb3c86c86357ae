"""The signed-contract read model on SQLite and PostgreSQL: it keeps the signed terms, follows
amendments and terminations, and says which terms a request starts from."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from contractflow.contracts import dump_contract_terms, load_contract_terms
from contractflow.contracts.samples import sample_terms
from contractflow.contracts.service import ServiceTerm
from contractflow.db import make_engine, make_session_factory, unit_of_work
from contractflow.events.schemas.contract import ContractSignedV1
from contractflow.migrate import upgrade
from services.approval import signed_contracts
from services.approval.models import Amendment, SignedContract
from tests.conftest import both_databases
from tests.integration.harness import signed_event

pytestmark = both_databases
NOW = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)


def terms_2027():
    term = ServiceTerm(dt.date(2027, 1, 1), dt.date(2027, 12, 31), False, 30, "不自动续期")
    return sample_terms(service_term=term)


@pytest.fixture
def sessions(database_factory):
    engine = make_engine(database_factory("approval"))
    upgrade(engine, "approval")
    yield make_session_factory(engine)
    engine.dispose()


def remember(sessions, **changes) -> str:
    event = signed_event(**changes)
    data = ContractSignedV1().load(event.data)  # as the consumer hands it over
    with unit_of_work(sessions) as session:
        signed_contracts.remember_signed(session, event.id, data)
    return event.subject


def test_signed_terms_are_kept_and_requests_start_from_them(sessions):
    terms = dump_contract_terms(terms_2027())
    contract_id = remember(sessions, terms=terms)
    with sessions() as session:
        assert session.get(SignedContract, contract_id).terms == terms
        assert signed_contracts.terms_to_start_from(session, contract_id, None) == terms
        sent = {"title": "sent by the requester"}
        assert signed_contracts.terms_to_start_from(session, contract_id, sent) is sent


def test_without_terms_in_the_event_or_the_request_the_terms_are_unknown(sessions):
    contract_id = remember(sessions)  # an event from before the terms travelled
    with sessions() as session:
        assert session.get(SignedContract, contract_id).terms is None
        with pytest.raises(signed_contracts.TermsUnknown, match="signed without its terms"):
            signed_contracts.terms_to_start_from(session, contract_id, None)
        with pytest.raises(signed_contracts.TermsUnknown, match=r"no contract\.signed"):
            signed_contracts.terms_to_start_from(session, "C-never-signed", None)


def test_invalid_signed_terms_fail_the_event_naming_the_field(sessions):
    terms = dump_contract_terms(terms_2027())
    terms["service_term"]["start_date"] = "not a date"
    with pytest.raises(ValueError, match=r"terms\.service_term\.start_date"):
        remember(sessions, terms=terms)


def test_an_amendment_moves_the_read_model_on_and_a_redelivered_signing_does_not_undo_it(
    sessions,
):
    old = terms_2027()
    contract_id = remember(sessions, terms=dump_contract_terms(old))
    term = replace(old.service_term, end_date=dt.date(2028, 6, 30), notice_period_days=60)
    new = dump_contract_terms(replace(old, service_term=term))
    with unit_of_work(sessions) as session:
        total = {"amount": "150000.00", "currency": "CNY"}
        signed_contracts.follow_amendment(session, contract_id, new, total)
        session.add(amendment(contract_id))
    with sessions() as session:
        row = session.get(SignedContract, contract_id)
        assert row.terms == new and load_contract_terms(row.terms).service_term == term
        assert row.total_amount == Decimal("150000.00")
        assert (row.end_date, row.notice_period_days) == (dt.date(2028, 6, 30), 60)

    remember(sessions, contract_id=contract_id, terms=dump_contract_terms(old))  # sent again
    with sessions() as session:
        row = session.get(SignedContract, contract_id)
        assert row.terms == new and row.total_amount == Decimal("150000.00")
        assert (row.end_date, row.notice_period_days) == (dt.date(2028, 6, 30), 60)


def test_a_terminated_contract_takes_no_more_requests(sessions):
    contract_id = remember(sessions, terms=dump_contract_terms(terms_2027()))
    with unit_of_work(sessions) as session:
        signed_contracts.mark_terminated(session, contract_id)
    remember(sessions, contract_id=contract_id)  # a signing delivered again stays terminated
    with sessions() as session, pytest.raises(signed_contracts.ContractTerminated):
        signed_contracts.terms_to_start_from(session, contract_id, {"title": "x"})


def amendment(contract_id: str) -> Amendment:
    return Amendment(
        number=f"A-{contract_id}",
        request_id=f"CR-{contract_id}",
        contract_id=contract_id,
        description="longer term",
        changes={"term": "to 2028-06-30"},
        effective_date=dt.date(2027, 4, 1),
        signed_on=dt.date(2027, 3, 20),
        signed_for_user="user",
        signed_for_provider="provider",
        recorded_at=NOW,
    )
