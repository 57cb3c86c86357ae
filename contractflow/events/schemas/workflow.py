"""Workflow definition events, on the `workflow` topic keyed by process id."""

from __future__ import annotations

from marshmallow import fields, validate

from contractflow.events.catalogue import EventType
from contractflow.events.schemas.common import StrictSchema


class DefinitionPublishedV1(StrictSchema):
    service = fields.String(required=True)
    process_id = fields.String(required=True)
    file_name = fields.String(required=True)
    content_hash = fields.String(required=True, validate=validate.Length(equal=64))
    content = fields.String(required=True)
    published_by = fields.String(required=True)


EVENT_TYPES = [
    EventType(
        "workflow.definition.published",
        1,
        "workflow",
        DefinitionPublishedV1,
        "An admin deployed a new version of a BPMN/DMN definition; new instances use it.",
    ),
]
