"""`make demo` as a test: scripts/demo.sh starts the real processes (negotiation, approval,
renewal: gunicorn web + worker each; the ERP connector's worker; the mail catcher), on
SQLite, against the test's Kafka and topic prefix, with the accelerated business clock,
and its driver (`python -m contractflow.demo`) lives two contracts through: A from the
requirement to its automatic extension (with a change request on the way), B to its
handover with a re-tender. The test holds the demo to what it prints, then checks on Kafka
itself what the services published, and that nothing the demo started is left running.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from contractflow.events.envelope import CloudEvent
from contractflow.events.schemas import default_catalogue

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
DEMO_SH = REPO / "scripts" / "demo.sh"
# Offsets from DEMO_PORT_BASE of every port scripts/demo.sh opens.
PORT_OFFSETS = (1, 2, 3, 5, 25, 26, 1001, 1002, 1003, 1005)
DEAD_LETTER_SERVICES = ("negotiation", "approval", "renewal", "erp_connector")
STEP = re.compile(r"^\[\s*[\d.]+s (\d{4}-\d{2}-\d{2})\] ([AB]) (C-\w+) trace ([0-9a-f]{32}): (.*)$")
STEPS = {
    "A": [
        "requirement filed",
        "legal review: accepted",
        "technical review: accepted",
        "finance review: accepted",
        "the contract: level 1 approved by li.si via the mail link",
        "signed by both parties",
        "ERP booked the schedule",
        "payment.due",  # the next milestone, paid by the ERP
        "KPI report",
        "change request",
        "the change request: level 1 approved",
        "amendment A-",
        "renewal reminder received (expiry)",
        "evaluated:",
        "FINAL: extended automatically",
    ],
    "B": [
        "requirement filed",
        "finance review: accepted",
        "the contract: level 1 approved by li.si via the mail link",
        "signed by both parties",
        "ERP booked the schedule",
        "payment.due",
        "KPI report",
        "renewal reminder received: the owner must decide",
        "owner decided: let it end",
        "handover step done: data_export",
        "handover step done: fee_settlement",
        "FINAL: handed over, re-tender",
    ],
}


def _free(port: int) -> bool:
    """Free to listen on, as a server binds (connections of a stopped run in TIME_WAIT
    do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port_base() -> int:
    """A base whose ports are all free, below the ephemeral range (32768 and up), where a
    port free now may be any client's next outgoing connection."""
    for base in range(20000 + os.getpid() % 50 * 97, 31000, 97):
        if all(_free(base + offset) for offset in PORT_OFFSETS):
            return base
    raise AssertionError("no free port range for the demo")


def test_make_demo_lives_two_contracts_to_their_end_and_leaves_nothing_running(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    # Not under pytest's tmp_path: concurrent pytest runs prune old numbered temp folders,
    # and this one holds the running services' SQLite databases.
    run_dir = Path(tempfile.mkdtemp(prefix="contractflow-demo-test-"))
    base = free_port_base()
    env = {
        **{k: v for k, v in os.environ.items() if "DATABASE_URL" not in k},
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TOPIC_PREFIX": topic_prefix,
        "DEMO_RUN_DIR": str(run_dir),
        "DEMO_PORT_BASE": str(base),
    }
    try:
        rc, stdout, took = run_demo(env)
        check_demo(rc, stdout, took, base, run_dir, kafka_bootstrap, topic_prefix)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def run_demo(env: dict[str, str], deadline_s: float = 240) -> tuple[int, str, float]:
    """scripts/demo.sh in a process group of its own; past the deadline it gets SIGTERM
    (its trap stops what it started), so a hung demo leaves nothing behind either."""
    began = time.monotonic()
    demo = subprocess.Popen(
        [str(DEMO_SH)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, _ = demo.communicate(timeout=deadline_s)
    except subprocess.TimeoutExpired:
        os.killpg(demo.pid, signal.SIGTERM)
        stdout, _ = demo.communicate(timeout=90)
        raise AssertionError(f"make demo still running after {deadline_s}s:\n{stdout}") from None
    print(stdout)
    return demo.returncode, stdout, time.monotonic() - began


def check_demo(
    rc: int, stdout: str, took: float, base: int, run_dir: Path, bootstrap: str, prefix: str
) -> None:
    assert rc == 0, f"make demo failed ({rc}):\n{stdout[-6000:]}"
    # The lifecycle itself runs on the accelerated clock: two contracts' terms in well under
    # two minutes. Starting the processes takes what the machine gives (printed, and
    # bounded by run_demo's deadline).
    [lived] = re.findall(r"^\[\s*([\d.]+)s [^]]*\] demo: done", stdout, re.M)
    print(f"[e2e] demo: {took:.0f}s in all, the two lifecycles {lived}s")
    assert float(lived) < 90, f"the lifecycles took {lived}s"

    # -- what it printed: each contract's steps in order, each with the contract's trace ---
    steps: dict[str, list[str]] = defaultdict(list)
    contracts: dict[str, tuple[str, str]] = {}
    dates: dict[str, list[str]] = defaultdict(list)
    for line in stdout.splitlines():
        match = STEP.match(line)
        if match:
            date, label, contract_id, trace, text = match.groups()
            assert contracts.setdefault(label, (contract_id, trace)) == (contract_id, trace), line
            steps[label].append(text)
            dates[label].append(date)
    for label, expected in STEPS.items():
        told = steps[label]
        at = 0
        for step in expected:
            found = next((i for i in range(at, len(told)) if told[i].startswith(step)), None)
            assert found is not None, f"contract {label}: {step!r} not told after {told[:at]}"
            at = found + 1
        assert dates[label] == sorted(dates[label]), f"{label}: business dates go backwards"
        assert dates[label][-1] > dates[label][0], f"{label}: the business clock did not move"
    counts = dict(re.findall(r"^  ([a-z_.]+)\s+(\d+)$", stdout, re.M))
    assert {"contract", "approval", "erp", "service"} <= set(counts), counts
    assert int(counts["total"]) == sum(int(n) for t, n in counts.items() if t != "total")
    assert "done: both contracts reached their final state" in stdout

    # -- what the services published, read from Kafka by the test itself ------------------
    seen, letters = published(bootstrap, prefix)
    a, b = contracts["A"][0], contracts["B"][0]
    [extended] = [e for e in seen[a] if e.type == "contract.extended.v1"]
    assert extended.data["kind"] == "automatic"
    assert {"contract.amended.v1", "contract.evaluated.v1", "contract.expiring.v1"} <= types(
        seen[a]
    )
    for contract_id in (a, b):
        due = {e.data["due_date"] for e in seen[contract_id] if e.type == "payment.due.v1"}
        paid = {
            e.data["due_date"] for e in seen[contract_id] if e.type == "erp.payment.recorded.v1"
        }
        assert len(paid) >= 2 and paid <= due, (paid, due)  # the ERP pays what falls due
        assert {
            "approval.decided.v1",
            "contract.signed.v1",
            "erp.purchase_order.created.v1",
            "erp.payment.recorded.v1",
            "service.kpi.reported.v1",
        } <= types(seen[contract_id])
        traces = {e.trace_id for e in seen[contract_id]}
        assert traces == {contracts["A" if contract_id == a else "B"][1]}, traces
    [handed_over] = [e for e in seen[b] if e.type == "contract.handover.completed.v1"]
    [tender] = [e for e in seen[b] if e.type == "tender.requested.v1"]
    assert tender.data["kind"] == "new_provider"
    assert handed_over.data["tender_id"] == tender.data["tender_id"]
    assert [e.data["reason"] for e in seen[b] if e.type == "contract.expired.v1"] == ["expiry"]
    assert "contract.extended.v1" not in types(seen[b])
    assert letters == [], letters

    # -- nothing left running ---------------------------------------------------------------
    listening = [base + o for o in PORT_OFFSETS if _listening(base + o)]
    assert listening == [], f"ports still taken after the demo: {listening}"
    alive = [p.name for p in (run_dir / "pids").glob("*.pid") if _alive(p)]
    assert alive == [], f"processes left running: {alive}"


def published(bootstrap: str, prefix: str) -> tuple[dict[str, list[CloudEvent]], list[str]]:
    """Every event on the stack's topics by contract id (its subject), and the reason of
    each dead letter, read with one consumer up to the end offsets."""
    topics = [prefix + t for t in sorted(default_catalogue().topics())]
    topics += [f"{prefix}deadletter.{s}" for s in DEAD_LETTER_SERVICES]
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = {tp: n for tp, n in consumer.end_offsets(partitions).items() if n > 0}
        by_contract: dict[str, list[CloudEvent]] = defaultdict(list)
        letters: list[str] = []
        deadline = time.monotonic() + 60
        while ends and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=500).items():
                for record in records:
                    if tp.topic.startswith(f"{prefix}deadletter."):
                        reason = dict(record.headers or []).get("dlq.reason", b"?")
                        letters.append(f"{tp.topic}: {reason.decode()}")
                    else:
                        event = CloudEvent.from_json(record.value)
                        by_contract[event.subject or ""].append(event)
                    if record.offset + 1 >= ends.get(tp, 0):
                        ends.pop(tp, None)
        assert not ends, f"could not read to the end of {sorted(ends)}"
        return by_contract, letters
    finally:
        consumer.close()


def types(events: list[CloudEvent]) -> set[str]:
    return {e.type for e in events}


def _alive(pidfile: Path) -> bool:
    text = pidfile.read_text().strip()
    if not text.isdigit():
        return False
    try:
        status = Path(f"/proc/{text}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status
