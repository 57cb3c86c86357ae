"""The engine one service holds: parser, instance serializer and restricted script engine.

State is stored without the spec: an instance row references its definition version and
the spec comes from the cache, because restoring the spec costs about a third of
SpiffWorkflow's load time even for a tiny process.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_STATE_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task

from contractflow.workflow.engine_rounds import attach
from contractflow.workflow.instance_converter import InstanceConverter
from contractflow.workflow.scripts import RestrictedEnvironment
from contractflow.workflow.service_tasks import ServiceTaskRegistry
from contractflow.workflow.timers import CycleTimer, DateTimer, DurationTimer

# 1: SpiffWorkflow's own full serialization (spec included), as a naive store writes it.
# 2: the instance part only, in an envelope naming SpiffWorkflow's state version.
STATE_FORMAT = 2


class WorkflowScriptEngine(PythonScriptEngine):
    """Restricted scripts; service tasks dispatched to the service's registry."""

    def __init__(self, operations: ServiceTaskRegistry) -> None:
        super().__init__(environment=RestrictedEnvironment())
        self.operations = operations

    def call_service(self, task: Any, **kwargs: Any) -> str:
        params = {name: p["value"] for name, p in kwargs["operation_params"].items()}
        try:
            result = self.operations.call(
                kwargs["operation_name"], task.task_spec.bpmn_id, params, task.data
            )
        except Exception as exc:
            raise WorkflowTaskException(
                f"service operation {kwargs['operation_name']!r} failed: {exc}",
                task=task,
                exception=exc,
            ) from exc
        # SpiffWorkflow json-decodes whatever the service returns.
        return json.dumps(result, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _registry() -> tuple[Any, InstanceConverter]:
    config = dict(SPIFF_CONFIG)
    for timer in (DateTimer, DurationTimer, CycleTimer):
        config[timer] = TimerConditionalEventDefinitionConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(
        decimal.Decimal, lambda v: {"value": str(v)}, lambda v: decimal.Decimal(v["value"])
    )
    registry.register(
        dt.date, lambda v: {"value": v.isoformat()}, lambda v: dt.date.fromisoformat(v["value"])
    )
    # Encoder mode: nested values are converted by the JSON encoder's `default` while
    # dumping instead of by a second full walk of the data first (what serialize_json does).
    registry._encoder_mode = True
    # InstanceConverter._task_dict relies on plain dicts having no converter of their own.
    if dict in registry.typenames:
        raise RuntimeError("a converter is registered for dict: the task encoder needs updating")
    # InstanceConverter converts Tasks itself, as TaskConverter does: make sure it is that.
    task_from_dict = registry.convert_from_dict[registry.typenames[Task]]
    task_converter: Any = getattr(task_from_dict.args[0], "__self__", None)
    if type(task_converter) is not TaskConverter or task_converter.target_class is not Task:
        raise RuntimeError(
            "Task is not converted by TaskConverter: the task encoder needs updating"
        )
    # InstanceConverter converts running subprocesses itself, as BpmnSubWorkflowConverter
    # does: make sure it is that.
    sub_to_dict = registry.convert_to_dict[registry.typenames[BpmnSubWorkflow]]
    sub_converter: Any = getattr(sub_to_dict.args[1], "__self__", None)
    if (
        type(sub_converter) is not BpmnSubWorkflowConverter
        or sub_converter.target_class is not BpmnSubWorkflow
    ):
        raise RuntimeError(
            "BpmnSubWorkflow is not converted by BpmnSubWorkflowConverter: "
            "the subprocess encoder needs updating"
        )
    return registry, InstanceConverter(BpmnWorkflow, registry)


class UnknownStateFormat(ValueError):
    pass


class WorkflowEngine:
    def __init__(self, operations: ServiceTaskRegistry | None = None) -> None:
        self.operations = operations or ServiceTaskRegistry()
        self.script_engine = WorkflowScriptEngine(self.operations)
        self.registry, self._instances = _registry()
        self._encoder = create_encoder(self.registry)

    def create(self, spec: Any, subprocess_specs: dict, variables: dict[str, Any]) -> BpmnWorkflow:
        workflow = attach(BpmnWorkflow(spec, subprocess_specs, script_engine=self.script_engine))
        # The root task's data is what every first task inherits.
        workflow.task_tree.data.update(variables)
        return workflow

    def dump(self, workflow: BpmnWorkflow, *, reuse: bool = True) -> bytes:
        """The instance's state; `reuse=False` converts every task afresh (what a save
        reusing finished tasks' converted form must equal, byte for byte)."""
        state = {
            "spiff": SPIFF_STATE_VERSION,
            "workflow": self._instances.to_dict(workflow, reuse=reuse),
        }
        return json.dumps(state, separators=(",", ":"), cls=self._encoder).encode()

    def load(
        self, blob: bytes, state_format: int, spec: Any, subprocess_specs: dict
    ) -> BpmnWorkflow:
        state = json.loads(blob)
        if state_format == 1:
            state = _upgrade_full_serialization(state)
        elif state_format != STATE_FORMAT:
            raise UnknownStateFormat(f"workflow state format {state_format} is not known")
        if state.get("spiff") != SPIFF_STATE_VERSION:
            raise UnknownStateFormat(
                f"state written by SpiffWorkflow serializer {state.get('spiff')!r}; "
                f"this runtime reads {SPIFF_STATE_VERSION!r}: add a migration"
            )
        workflow = self._instances.restore(state["workflow"], spec, subprocess_specs)
        workflow.script_engine = self.script_engine
        return attach(workflow)


def _upgrade_full_serialization(state: dict[str, Any]) -> dict[str, Any]:
    """Format 1 → 2: run SpiffWorkflow's own migrations, then drop the embedded specs."""
    version = state.pop(BpmnWorkflowSerializer.VERSION_KEY, None)
    if version in MIGRATIONS:
        MIGRATIONS[version](state)
    state.pop("spec", None)
    state.pop("subprocess_specs", None)
    return {"spiff": SPIFF_STATE_VERSION, "workflow": state}
