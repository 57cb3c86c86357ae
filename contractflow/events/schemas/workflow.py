"""Workflow definition events, on the `workflow` topic keyed by process id."""

from __future__ import annotations

from marshmallow import fields, validate

from contractflow.events.catalogue import EventType
from contractflow.events.schemas.common import StrictSchema


class DefinitionPublishedV1(StrictSchema):
    """Signed by the publisher (see contractflow/workflow/definition_events.py): an event
    without a valid `signature` under DEPLOY_SECRET changes nothing; unless its content is
    the version already deployed, it is dead-lettered as `deploy-not-authorised`."""

    service = fields.String(required=True, validate=validate.Length(min=1, max=64))
    process_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    # `<folder>/<name>.bpmn|.dmn`, checked by the handler (definition_events.FILE_NAME)
    file_name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    content_hash = fields.String(required=True, validate=validate.Length(equal=64))
    content = fields.String(required=True)
    published_by = fields.String(required=True, validate=validate.Length(min=1, max=128))
    signature = fields.String(validate=validate.Length(max=200))


EVENT_TYPES = [
    EventType(
        "workflow.definition.published",
        1,
        "workflow",
        DefinitionPublishedV1,
        "An authorised publisher (the admin editor, `contractflow definitions publish`) "
        "deployed a new version of a BPMN/DMN definition, signed with DEPLOY_SECRET; new "
        "instances use it.",
    ),
]
