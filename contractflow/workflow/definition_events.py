"""Deploying at run time through `workflow.definition.published`, signed by the publisher.

Whoever can write to the workflow topic could otherwise deploy code: the content hash
proves the content arrived intact, not who sent it. The publisher (the admin editor, or
`contractflow definitions publish`) signs each event with HMAC-SHA256 under
`DEPLOY_SECRET`; every service checks the signature before it looks at the content.

The signature covers the event's id and type and every field of its data but the content
itself, which `content_hash` covers and the service re-computes. A replayed event keeps
its id and is a duplicate in the inbox; one with a new id needs a new signature.

An event without a valid signature whose content is the version already deployed
changes nothing and is let pass (a service's own HTTP deploy may announce itself so).
Every other verdict that no retry can change — unsigned or forged, a content that does not
match its hash or is not text, a document that does not validate — is an
`EventRejected`: the consumer dead-letters it at once with that reason, and the service
goes on with the versions it has.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from lxml import etree
from sqlalchemy.orm import Session

from contractflow.events.envelope import CloudEvent
from contractflow.events.rejection import EventRejected
from contractflow.workflow.definitions import content_hash, latest_rows
from contractflow.workflow.deployment import deploy_unlocked
from contractflow.workflow.validation import DefinitionInvalid

if TYPE_CHECKING:
    from contractflow.workflow.runtime import WorkflowRuntime

log = logging.getLogger(__name__)

EVENT_TYPE = "workflow.definition.published.v1"
SCHEME = "hmac-sha256"
# The dead letters' `dlq.reason` for each verdict.
NOT_AUTHORISED = "deploy-not-authorised"
CONTENT_MISMATCH = "definition-content-mismatch"
REFUSED = "definition-refused"
# As stored: the folder is optional (a service's own HTTP deploys name the file alone).
FILE_NAME = re.compile(r"([a-z0-9_-]{1,64}/)?[A-Za-z0-9_.-]{1,180}\.(bpmn|dmn)")
_SIGNED_FIELDS = ("service", "process_id", "file_name", "content_hash", "published_by")


def signature(secret: str, event_id: str, event_type: str, data: dict[str, Any]) -> str:
    """`hmac-sha256:<hex>` over the event id, type and the data's fields but content."""
    message = json.dumps(
        [SCHEME, event_id, event_type, *(str(data[f]) for f in _SIGNED_FIELDS)],
        ensure_ascii=True,
        separators=(",", ":"),
    ).encode("ascii")
    return f"{SCHEME}:{hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()}"


def published_event(
    secret: str,
    *,
    service: str,
    file_name: str,
    content: str,
    published_by: str,
    source: str,
    process_id: str | None = None,
) -> CloudEvent:
    """A signed `workflow.definition.published.v1` for `content` (text), keyed by process."""
    process_id = process_id or first_provided(content)
    data: dict[str, Any] = {
        "service": service,
        "process_id": process_id,
        "file_name": file_name,
        "content_hash": content_hash(content),
        "content": content,
        "published_by": published_by,
    }
    event = CloudEvent(EVENT_TYPE, source, process_id, data)
    data["signature"] = signature(secret, event.id, event.type, data)
    return event


def first_provided(content: str) -> str:
    """The first executable process id (BPMN) or decision id (DMN) of a document."""
    try:
        root = etree.fromstring(content.encode("utf-8"))
    except (etree.XMLSyntaxError, UnicodeEncodeError) as exc:
        raise ValueError(f"not a readable BPMN/DMN document: {exc}") from None
    for element in root.iter("{*}process", "{*}decision"):
        if element.get("isExecutable", "true") == "true" and element.get("id"):
            return str(element.get("id"))
    raise ValueError("the document has no executable bpmn:process and no DMN decision")


def verify(secret: str, event: CloudEvent, data: dict[str, Any]) -> None:
    """Raise EventRejected unless the event carries this secret's signature."""
    expected = signature(secret, event.id, event.type, data)
    given = str(data.get("signature") or "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        what = "the signature does not match DEPLOY_SECRET" if given else "it carries no signature"
        raise EventRejected(
            NOT_AUTHORISED,
            f"event {event.id}: {what}; only an authorised publisher may deploy "
            f"{data['file_name']!r} to {data['service']!r}",
        )


class DefinitionPublications:
    """The handler of `workflow.definition.published.v1`: verify, then deploy."""

    def __init__(self, runtime: WorkflowRuntime, secret: str) -> None:
        self.runtime = runtime
        self.secret = secret

    def __call__(self, session: Session, event: CloudEvent, data: dict[str, Any]) -> None:
        if data["service"] != self.runtime.service:
            return
        try:
            verify(self.secret, event, data)
        except EventRejected:
            if self._is_current(session, data):
                # Changes nothing (e.g. the service's own HTTP deploy announced unsigned).
                log.info("unsigned announcement of the current %s ignored", data["file_name"])
                return
            raise
        content, file_name = data["content"], data["file_name"]
        if not FILE_NAME.fullmatch(file_name):
            raise EventRejected(
                REFUSED,
                f"event {event.id}: file_name {file_name!r} must be <folder>/<name>.bpmn or "
                ".dmn, e.g. approval/approval.bpmn",
            )
        try:
            digest = content_hash(content)
        except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from "\ud800" in JSON
            raise EventRejected(
                REFUSED,
                f"event {event.id}: {file_name}: the content is not valid Unicode text "
                f"(character {exc.start} cannot be encoded as UTF-8)",
            ) from None
        if digest != data["content_hash"]:
            raise EventRejected(
                CONTENT_MISMATCH, f"event {event.id}: content does not match its content_hash"
            )
        # The consumer's transaction has only read the inbox so far: ending it lets the
        # document be parsed without SQLite's write lock (see deployment).
        try:
            row = deploy_unlocked(
                session,
                self.runtime,
                file_name,
                content,
                data["published_by"],
                expected_process=data["process_id"],
            )
        except DefinitionInvalid as exc:
            log.error("deploy refused, event %s: %s", event.id, exc)
            raise EventRejected(REFUSED, f"event {event.id}: {exc}") from None
        log.info("deployed %s v%d (%s) for %s", row.file_name, row.sequence, row.provides, event.id)

    def _is_current(self, session: Session, data: dict[str, Any]) -> bool:
        current = latest_rows(session, self.runtime.service).get(data["file_name"])
        return current is not None and current.content_hash == data["content_hash"]
