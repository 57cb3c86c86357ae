"""Prints each step as it happens: wall seconds since the demo began, the business date on
the services' clock, which contract (with its trace id: every event of its story carries
it), and what happened — a person's step, or an event seen on Kafka."""

from __future__ import annotations

import threading
from typing import Any

from contractflow.demo.events import DeadLetter
from contractflow.demo.stack import Stack
from contractflow.events.envelope import CloudEvent, contract_traceparent, trace_id_of

# What to show of an event's data, by event name (the type without its version).
SHOWN = {
    "approval.requested": ("kind", "amount"),
    "approval.decided": ("outcome",),
    "contract.signed": ("start_date", "end_date", "total"),
    "contract.amended": ("amendment_number", "total_after"),
    "contract.expiring": ("deadline_kind", "deadline_date", "days_left"),
    "contract.evaluated": ("period_start", "period_end", "total_score", "rating"),
    "contract.extended": ("kind", "previous_end_date", "until"),
    "contract.renewed": ("start_date", "end_date"),
    "tender.requested": ("kind", "needed_from"),
    "contract.handover.completed": ("reason", "tender_id"),
    "contract.expired": ("end_date", "reason"),
    "service.kpi.reported": ("period_start", "period_end", "availability_percent"),
    "erp.purchase_order.created": ("po_number", "amount"),
    "erp.payment.recorded": ("due_date", "amount", "po_number"),
    "payment.due": ("due_date", "amount"),
    "payment.overdue": ("due_date", "amount"),
}


def trace_of(contract_id: str) -> str:
    return trace_id_of(contract_traceparent(contract_id)) or "?"


def _shown(value: Any) -> str:
    if isinstance(value, dict) and "amount" in value:
        return f"{value['amount']} {value.get('currency', '')}".strip()
    return str(value)


class Narrator:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.labels: dict[str, str] = {}
        self._lock = threading.Lock()

    def follow(self, contract_id: str, label: str) -> None:
        self.labels[contract_id] = label

    def say(self, label: str, text: str, contract_id: str | None = None) -> None:
        trace = f" trace {trace_of(contract_id)}" if contract_id else ""
        who = f"{label} {contract_id}" if contract_id else label
        line = f"[{self.stack.elapsed():6.1f}s {self.stack.today()}] {who}{trace}: {text}"
        with self._lock:
            print(line, flush=True)

    def on_dead_letter(self, letter: DeadLetter) -> None:
        label = self.labels.get(letter.event.subject or "", "demo")
        self.say(
            label,
            f"  DEAD LETTER on {letter.topic}: {letter.event.type} {letter.event.id}: "
            f"{letter.reason}",
            letter.event.subject if label != "demo" else None,
        )

    def on_event(self, event: CloudEvent) -> None:
        """Called by the Kafka follower for every event; tells those of the demo's contracts."""
        label = self.labels.get(event.subject or "")
        if label is None:
            return
        name = event.type.rsplit(".v", 1)[0]
        fields = ", ".join(
            f"{k}={_shown(event.data[k])}" for k in SHOWN.get(name, ()) if k in event.data
        )
        trace = "" if event.trace_id == trace_of(event.subject or "") else " (ANOTHER TRACE)"
        self.say(label, f"  event {event.type} from {event.source}{trace} {fields}", event.subject)
