"""Every piece of Python a parsed definition will run, with the element it belongs to.

The validator checks each one; listing them in one place keeps a new kind of expression
from slipping past the check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition

from contractflow.workflow.parser import properties
from contractflow.workflow.timers import CycleTimer, DateTimer, DurationTimer

Found = tuple[str, str, str, str]  # element id, what it is, check kind, source


def expressions_of_spec(spec: Any) -> Iterator[Found]:
    for task_spec in spec.task_specs.values():
        element = getattr(task_spec, "bpmn_id", None) or task_spec.name
        yield from _of_task_spec(element, task_spec)


def _of_task_spec(element: str, ts: Any) -> Iterator[Found]:
    if getattr(ts, "script", None):
        yield element, "script", "exec", ts.script
    for attribute in ("prescript", "postscript"):
        if getattr(ts, attribute, None):
            yield element, attribute, "exec", getattr(ts, attribute)
    for condition, target in getattr(ts, "cond_task_specs", None) or ():
        source = getattr(condition, "args", [None])[0]
        if isinstance(source, str):
            yield element, f"condition of the flow to {target!r}", "eval", source
    for attribute in ("condition", "cardinality"):
        value = getattr(ts, attribute, None)
        if isinstance(value, str) and value:
            yield element, attribute, "eval", value
    for name, param in (getattr(ts, "operation_params", None) or {}).items():
        yield element, f"service parameter {name!r}", "eval", str(param.get("value", ""))
    if getattr(ts, "event_definition", None) is not None:
        yield from _of_event(element, ts.event_definition)
    props = properties(ts)
    if props.get("correlationKey"):
        yield element, "correlationKey property", "eval", props["correlationKey"]
    if props.get("dueIn"):
        # Read as a literal when the task opens (no expression), so it must be one.
        yield element, "dueIn property", "iso:duration", props["dueIn"]
    engine = getattr(ts, "dmnEngine", None)
    if engine is not None:
        yield from _of_table(engine.decision_table)


def _of_event(element: str, definition: Any) -> Iterator[Found]:
    if isinstance(definition, MultipleEventDefinition):
        for inner in definition.event_definitions:
            yield from _of_event(element, inner)
        return
    kinds = {DateTimer: "timer:date", DurationTimer: "timer:duration", CycleTimer: "timer:cycle"}
    kind = kinds.get(type(definition))
    if kind:
        yield element, "timer", kind, definition.expression
    elif isinstance(definition, ConditionalEventDefinition):
        yield element, "condition", "eval", definition.expression
    elif getattr(definition, "expression", None):
        yield element, f"payload of {definition.name!r}", "eval", definition.expression
    for prop in getattr(definition, "correlation_properties", None) or ():
        if prop.retrieval_expression:
            yield element, f"correlation {prop.name!r}", "eval", prop.retrieval_expression


def expressions_of_dmn(decision: Any) -> Iterator[Found]:
    for table in decision.decisionTables:
        yield from _of_table(table)


def _of_table(table: Any) -> Iterator[Found]:
    for column in table.inputs:
        if column.expression:
            yield column.id, "input expression", "eval", column.expression
    for rule in table.rules:
        for entry in rule.inputEntries:
            for lhs in entry.lhs:
                if lhs and lhs.strip() not in ("-", ""):
                    yield rule.id, f"input entry {entry.id!r}", "dmn-cell", lhs
        for entry in rule.outputEntries:
            if entry.text and entry.text.strip():
                yield rule.id, f"output entry {entry.id!r}", "eval", entry.text
