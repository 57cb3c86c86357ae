"""The BPMN/DMN parser: SpiffWorkflow's Spiff dialect with clock-aware ISO timers.

Modellers use the `spiffworkflow:` extensions (properties, serviceTaskOperator,
messagePayload/messageVariable); `workflows/README.md` lists the ones the runtime reads.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    StartEvent,
)
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffIntermediateThrowEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from contractflow.workflow.timers import TIMER_CLASSES


class _IsoTimerParsing:
    """Builds our timer definitions; the text is checked later by the validator."""

    node: Any

    def parse_timer_event(self, event: Any) -> Any:
        description = self.get_event_description(event)  # type: ignore[attr-defined]
        name = self.node.get("name", self.node.get("id"))
        for kind, tag in (
            ("date", "timeDate"),
            ("duration", "timeDuration"),
            ("cycle", "timeCycle"),
        ):
            element = first(self.xpath(f".//bpmn:{tag}"))  # type: ignore[attr-defined]
            if element is not None:
                text = (element.text or "").strip()
                if not text:
                    raise ValidationException(
                        f"timer {tag} is empty",
                        node=self.node,
                        file_name=self.filename,  # type: ignore[attr-defined]
                    )
                return TIMER_CLASSES[kind](name, text, description=description)
        raise ValidationException(
            "timer has no timeDate, timeDuration or timeCycle",
            node=self.node,
            file_name=self.filename,  # type: ignore[attr-defined]
        )


class StartEventParser(_IsoTimerParsing, SpiffStartEventParser):
    pass


class IntermediateCatchEventParser(_IsoTimerParsing, SpiffIntermediateCatchEventParser):
    pass


class IntermediateThrowEventParser(_IsoTimerParsing, SpiffIntermediateThrowEventParser):
    pass


class BoundaryEventParser(_IsoTimerParsing, SpiffBoundaryEventParser):
    pass


class WorkflowParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (StartEventParser, StartEvent),
        full_tag("intermediateCatchEvent"): (IntermediateCatchEventParser, IntermediateCatchEvent),
        full_tag("intermediateThrowEvent"): (IntermediateThrowEventParser, IntermediateThrowEvent),
        full_tag("boundaryEvent"): (BoundaryEventParser, BoundaryEvent),
    }

    def __init__(self) -> None:
        super().__init__(validator=VALIDATOR)


def properties(task_spec: Any) -> dict[str, str]:
    """The `spiffworkflow:properties` of a BPMN element (empty for internal specs)."""
    extensions = getattr(task_spec, "extensions", None) or {}
    return extensions.get("properties") or {}
