"""Approval's BPMN service-task operators, registered in one place as in the other services.

Each capability module keeps its own operators next to the rules they call (routing.py for
the approval levels, task_guards.py, change_requests.py, termination_requests.py); this
module only says which belong to this service's runtime.
"""

from __future__ import annotations

from contractflow.workflow import WorkflowRuntime
from services.approval import change_requests, routing, task_guards, termination_requests
from services.approval.mails import ApprovalMails


def register_operations(runtime: WorkflowRuntime, mails: ApprovalMails) -> None:
    routing.register(runtime, mails)
    task_guards.register(runtime)
    change_requests.register(runtime)
    termination_requests.register(runtime)
