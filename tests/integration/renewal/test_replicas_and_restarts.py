"""Deadlines with several workers and restarts: each fires once, none is lost; every step
of a reminder's workflow may be taken by another process (a fresh runtime)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

from sqlalchemy import func, select

from contractflow.events.outbox import OutboxMessage
from contractflow.workflow.models import InstanceRow
from services.renewal.models import Deadline
from tests.conftest import both_databases
from tests.integration.harness import MemoryBus
from tests.integration.renewal.support import RenewalWorld, signed_data
from tests.integration.renewal.test_expiry_watch import at


def sign_many(world: RenewalWorld, count: int) -> list[str]:
    ids = [f"C-REP-{n:03}" for n in range(count)]
    for contract_id in ids:
        world.send("contract.signed.v1", signed_data(contract_id, maintenance=False), contract_id)
    world.pump_until(
        lambda: (
            len(
                world.client.get("/contracts?limit=1000", headers=world.token()).get_json()["items"]
            )
            == count
        )
    )
    return ids


def expiring_in_outbox(world: RenewalWorld, event_type: str = "contract.expiring.v1") -> Counter:
    with world.kernel.sessions() as session:
        rows = session.scalars(
            select(OutboxMessage.message_key).where(OutboxMessage.event_type == event_type)
        ).all()
    return Counter(rows)


@both_databases
def test_two_workers_ticking_at_once_fire_each_deadline_once(world, database_factory, topic_prefix):
    ids = sign_many(world, 40)
    other = RenewalWorld(
        database_factory, topic_prefix, MemoryBus(), database_url=world.database_url
    )
    try:
        when = at("2027-10-02")
        start = threading.Barrier(2)
        fired: list[int] = []

        def tick(watch) -> None:
            start.wait()
            fired.append(watch.tick(when))

        threads = [threading.Thread(target=tick, args=(w.watch,)) for w in (world, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        # Each contract's 90-day reminder and its first half-year evaluation (due 07-01).
        assert sum(fired) == 80
        once_each = Counter({contract_id: 1 for contract_id in ids})
        assert expiring_in_outbox(world) == once_each
        assert expiring_in_outbox(world, "contract.evaluated.v1") == once_each
        with world.kernel.sessions() as session:
            instances = session.scalar(
                select(func.count())
                .select_from(InstanceRow)
                .where(InstanceRow.process_id == "expiry_reminder")
            )
        assert instances == 40
    finally:
        other.close()


@both_databases
def test_a_worker_killed_between_two_deadlines_misses_neither(
    world, database_factory, topic_prefix
):
    world.sign("C-RESTART", maintenance=False)
    world.advance_to(at("2027-10-02"))
    assert expiring_in_outbox(world) == Counter({"C-RESTART": 1})
    world.close()  # the worker dies; the 60-day reminder passes while none runs
    restarted = RenewalWorld(
        database_factory, topic_prefix, MemoryBus(), database_url=world.database_url
    )
    try:
        restarted.now = at("2027-11-03")
        restarted.pump()
        assert expiring_in_outbox(restarted) == Counter({"C-RESTART": 2})
        with restarted.kernel.sessions() as session:
            late = session.scalar(
                select(Deadline).where(
                    Deadline.contract_id == "C-RESTART", Deadline.offset_days == 60
                )
            )
        assert late.status == "fired" and late.due_on == dt.date(2027, 11, 1)
    finally:
        restarted.close()


@both_databases
def test_the_reminder_task_is_completed_by_another_process(world, database_factory, topic_prefix):
    world.sign("C-FRESH", maintenance=False)
    world.advance_to(at("2027-11-17"))
    with world.kernel.sessions() as session:
        objection = session.scalar(
            select(Deadline).where(
                Deadline.contract_id == "C-FRESH",
                Deadline.kind == "objection",
                Deadline.offset_days == 14,
            )
        )
    # A fresh process: its own runtime, definitions parsed again, nothing cached.
    other = RenewalWorld(
        database_factory, topic_prefix, MemoryBus(), database_url=world.database_url
    )
    try:
        other.now = world.now
        done = other.client.post(
            f"/workflow/tasks/{objection.task_id}/complete",
            json={"data": {"outcome": "object_to_renewal", "note": "re-tender"}},
            headers=other.token("li.min", "renewal-manager"),
        )
        assert done.status_code == 200, done.get_json()
        assert other.contract("C-FRESH")["objected_by"] == "li.min"
        state = world.client.get(
            f"/workflow/instances/{done.get_json()['instance_id']}",
            headers=world.token("admin", "workflow-admin"),
        ).get_json()
        assert state["status"] == "completed"
    finally:
        other.close()
