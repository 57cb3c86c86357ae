"""Routing a level to a role reads the people who hold it, not the whole directory: the
directory is the company's, fed by the ERP with every employee."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from contractflow.db import make_engine, make_session_factory, unit_of_work
from contractflow.migrate import upgrade
from services.approval import directory
from services.approval.models import Approver
from tests.conftest import both_databases

pytestmark = both_databases

ROLES = {
    "cfo.a": ["finance_approver"],
    "cfo.b": ["general_manager", "finance_approver"],
    "near.1": ["finance_approver_deputy"],  # a longer name that contains the role's
    "near.2": ["financeXapprover"],  # what `_` would match in a LIKE pattern
    "han.1": ["财务审批"],  # stored as JSON's \\u escapes
    "gone.1": ["finance_approver"],  # not active
}


@pytest.fixture
def sessions(database_factory):
    engine = make_engine(database_factory("approval"))
    upgrade(engine, "approval")
    sessions = make_session_factory(engine)
    with unit_of_work(sessions) as session:
        for n in range(300):
            session.add(person(f"staff.{n:03d}", ["employee"]))
        for person_id, roles in ROLES.items():
            session.add(person(person_id, roles, active=person_id != "gone.1"))
    yield sessions
    engine.dispose()


def person(person_id: str, roles: list[str], active: bool = True) -> Approver:
    return Approver(
        person_id=person_id,
        name=person_id,
        email=f"{person_id}@corp.test",
        language="zh-CN",
        roles=roles,
        active=active,
        updated_at=dt.datetime(2027, 3, 1, tzinfo=dt.UTC),
    )


def test_a_role_is_routed_to_its_holders_reading_only_them(sessions) -> None:
    loaded: list[str] = []

    def count(target: Approver, _context: object) -> None:
        loaded.append(target.person_id)

    event.listen(Approver, "load", count)
    try:
        with unit_of_work(sessions) as session:
            found = directory.holders_of(session, "finance_approver")
    finally:
        event.remove(Approver, "load", count)
    assert [p.person_id for p in found] == ["cfo.a", "cfo.b"]
    assert len(loaded) <= 3, f"{len(loaded)} people read to find two: {sorted(loaded)[:5]}…"


def test_roles_with_characters_json_escapes_or_like_treats_specially_are_found(sessions) -> None:
    with unit_of_work(sessions) as session:
        assert [p.person_id for p in directory.holders_of(session, "财务审批")] == ["han.1"]
        with pytest.raises(directory.RoutingProblem, match="finance%"):
            directory.holders_of(session, "finance%")
