"""What can go wrong in the runtime, as exceptions the API maps to HTTP statuses."""

from __future__ import annotations

from typing import Any


class WorkflowError(Exception):
    status = 500
    title = "Workflow error"


class NotFound(WorkflowError, LookupError):
    status = 404
    title = "Not found"


class InstanceConflict(WorkflowError):
    """Someone else advanced the instance first; reload and retry (HTTP 409)."""

    status = 409
    title = "Conflict"


class TaskNotOpen(WorkflowError):
    status = 409
    title = "Task is not open"


class NotAllowed(WorkflowError):
    status = 403
    title = "Forbidden"


class InstanceNotActive(WorkflowError):
    status = 409
    title = "Instance is not active"


class FormInvalid(WorkflowError, ValueError):
    """Task data does not match the task's form; `errors` maps each field to its messages."""

    status = 422
    title = "Invalid task data"

    def __init__(self, task_id: str, form_key: str | None, errors: dict[str, Any]) -> None:
        names = ", ".join(sorted(map(str, errors)))
        super().__init__(f"task {task_id} (form {form_key!r}): invalid fields: {names}")
        self.errors = errors
        self.form_key = form_key


class UnmappedMessage(WorkflowError):
    """A workflow threw a message or signal no event type is mapped to."""
