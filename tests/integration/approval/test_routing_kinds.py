"""The routing table has rules of its own for each kind of request: a new contract, a
change (routed by its fee difference), a termination (legal always, by compensation
beyond that) and a renewal or extension (by its cost). One request of each kind,
decided by mail level by level."""

from __future__ import annotations

import pytest

from tests.integration.approval.support import ApprovalWorld

pytestmark = pytest.mark.kafka


@pytest.mark.parametrize(
    ("kind", "amount", "risk", "approvers"),
    [
        # 60 000: below the contract's finance threshold, above the change's.
        ("contract", "60000.00", "low", ["li.si"]),
        ("change", "60000.00", "low", ["li.si", "fd"]),
        ("change", "1000.00", "high", ["li.si", "legal"]),
        # A termination without compensation still goes to legal.
        ("termination", "0.00", "low", ["li.si", "legal"]),
        ("termination", "120000.00", "low", ["li.si", "fd", "legal"]),
        # A renewal or extension by its cost: the new term's fees.
        ("renewal", "60000.00", "low", ["li.si"]),
        ("renewal", "174000.00", "low", ["li.si", "fd"]),
    ],
)
def test_each_kind_is_routed_by_its_own_rules(
    world: ApprovalWorld, kind: str, amount: str, risk: str, approvers: list[str]
) -> None:
    request_id = world.request_approval(amount, risk, kind=kind)
    for person in approvers:
        world.approve_by_mail(person)
    decided = world.decided(request_id)
    assert decided["outcome"] == "approved"
    assert [d["approver"] for d in decided["decisions"]] == approvers
