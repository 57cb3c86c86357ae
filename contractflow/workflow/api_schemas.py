"""Request and response shapes of the workflow HTTP API (they also feed /openapi.json)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

STATUSES = ("active", "incident", "completed", "cancelled")
TASK_STATUSES = ("open", "claimed", "completed", "cancelled")


class StartInstanceBody(Schema):
    process_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    contract_id = fields.String(load_default=None, validate=validate.Length(max=64))
    variables = fields.Dict(keys=fields.String(), load_default=dict)


class InstanceQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    process_id = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    contract_id = fields.String(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class CancelBody(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class TaskQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    assignee = fields.String(load_default=None)
    candidate_role = fields.String(load_default=None)
    contract_id = fields.String(load_default=None)
    instance_id = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(TASK_STATUSES))
    due_before = fields.AwareDateTime(load_default=None)
    due_after = fields.AwareDateTime(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class CompleteTaskBody(Schema):
    data = fields.Dict(keys=fields.String(), load_default=dict)


class ReassignBody(Schema):
    assignee = fields.String(required=True, allow_none=True, validate=validate.Length(max=128))


class IncidentQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(load_default="open", validate=validate.OneOf(("open", "resolved")))
    instance_id = fields.String(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class HumanTaskOut(Schema):
    id = fields.String()
    instance_id = fields.String()
    process_id = fields.String()
    element_id = fields.String()
    name = fields.String()
    form_key = fields.String(allow_none=True)
    candidate_role = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    contract_id = fields.String(allow_none=True)
    status = fields.String()
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)


class TaskListOut(Schema):
    tasks = fields.List(fields.Nested(HumanTaskOut))


class InstanceOut(Schema):
    id = fields.String()
    process_id = fields.String()
    definition_id = fields.Integer()
    contract_id = fields.String(allow_none=True)
    status = fields.String()
    version = fields.Integer()
    started_by = fields.String()
    started_at = fields.DateTime()
    updated_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    end_reason = fields.String(allow_none=True)


class StartedInstanceOut(InstanceOut):
    # What the caller does next, without a second request to the inbox.
    open_task_ids = fields.List(fields.String())


class InstanceListOut(Schema):
    instances = fields.List(fields.Nested(InstanceOut))


class HistoryEntryOut(Schema):
    at = fields.DateTime()
    kind = fields.String()
    element_id = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    data = fields.Raw(allow_none=True)


class HistoryOut(Schema):
    history = fields.List(fields.Nested(HistoryEntryOut))


class InstanceDetailsOut(InstanceOut):
    variables = fields.Dict()
    open_tasks = fields.List(fields.Nested(HumanTaskOut))
    waiting_for = fields.List(fields.Dict())
    history = fields.List(fields.Nested(HistoryEntryOut))


class IncidentOut(Schema):
    id = fields.Integer()
    instance_id = fields.String()
    task_id = fields.String()
    element_id = fields.String()
    error = fields.String()
    attempts = fields.Integer()
    status = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class IncidentListOut(Schema):
    incidents = fields.List(fields.Nested(IncidentOut))
