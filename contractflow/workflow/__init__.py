"""The workflow runtime every service drives its BPMN with (SpiffWorkflow underneath).

Build one `WorkflowRuntime` per service in its composition root, register service
operations, forms and message → event mappings, then `load_definitions` at start-up.
"""

from contractflow.workflow.errors import (
    FormInvalid,
    InstanceConflict,
    InstanceNotActive,
    NotAllowed,
    NotFound,
    TaskNotOpen,
    WorkflowError,
)
from contractflow.workflow.human_tasks import HumanTask, TaskFilter
from contractflow.workflow.messages import HeldMessage, ThrownMessage
from contractflow.workflow.runtime import WorkflowRuntime
from contractflow.workflow.scheduler import Scheduler
from contractflow.workflow.service_tasks import ServiceCall
from contractflow.workflow.validation import DefinitionInvalid, Problem

__all__ = [
    "DefinitionInvalid",
    "FormInvalid",
    "HeldMessage",
    "HumanTask",
    "InstanceConflict",
    "InstanceNotActive",
    "NotAllowed",
    "NotFound",
    "Problem",
    "Scheduler",
    "ServiceCall",
    "TaskFilter",
    "TaskNotOpen",
    "ThrownMessage",
    "WorkflowError",
    "WorkflowRuntime",
]
