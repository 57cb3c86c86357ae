"""The handover workflow's task forms (marshmallow); workflow variables are plain JSON."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from marshmallow import fields, post_load, validate

from contractflow.contracts.schemas.decimals import StrictDecimal
from contractflow.events.schemas.common import CURRENCY, StrictSchema

MUST_BE_DONE = validate.Equal(True, error="must be done before the handover can go on")


class _WorkflowForm(StrictSchema):
    @post_load
    def as_workflow_variables(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, decimal.Decimal):
                return str(value)
            if isinstance(value, dt.date):
                return value.isoformat()
            raise TypeError(f"{type(value).__name__} is not JSON serialisable")

        return json.loads(json.dumps(data, default=plain))


class HandoverNoticeForm(_WorkflowForm):
    notice_sent_on = fields.Date(required=True)
    notice_reference = fields.String(required=True, validate=validate.Length(min=1))


class DataExportForm(_WorkflowForm):
    """The user confirms the export is complete: the record count and checksum it checked."""

    record_count = fields.Integer(required=True, validate=validate.Range(min=0))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    export_confirmed = fields.Boolean(required=True, validate=MUST_BE_DONE)


class HandoverChecklistForm(_WorkflowForm):
    documents_returned = fields.Boolean(required=True, validate=MUST_BE_DONE)
    credentials_revoked = fields.Boolean(required=True, validate=MUST_BE_DONE)
    software_deactivated = fields.Boolean(required=True, validate=MUST_BE_DONE)
    # As the confidentiality clause says: returned or destroyed.
    confidential_material = fields.String(
        required=True, validate=validate.OneOf(("returned", "destroyed"))
    )


class Money(StrictSchema):
    amount = StrictDecimal(required=True, max_places=2, validate=validate.Range(min=0))
    currency = fields.String(load_default="CNY", validate=CURRENCY)


class FeeSettlementForm(_WorkflowForm):
    payer = fields.String(required=True, validate=validate.OneOf(("user", "provider", "none")))
    settlement_amount = fields.Nested(Money, required=True)
    settlement_note = fields.String(load_default="")
    retender_new_provider = fields.Boolean(required=True)


class RetenderChoiceForm(_WorkflowForm):
    """After a termination: the fees were settled there, only the re-tender is asked."""

    retender_new_provider = fields.Boolean(required=True)


HANDOVER_FORMS = {
    "handover_notice": HandoverNoticeForm,
    "data_export": DataExportForm,
    "handover_checklist": HandoverChecklistForm,
    "fee_settlement": FeeSettlementForm,
    "retender_choice": RetenderChoiceForm,
}
