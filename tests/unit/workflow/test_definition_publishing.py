"""Deploying through `workflow.definition.published`: only a signed event changes a
definition; a forged, unsigned or tampered one and a document that does not validate are
dead-lettered once with their reason, and the deploy parses without the write lock."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import text

from contractflow.events.catalogue import Catalogue
from contractflow.events.consumer import EventProcessor, Outcome, RetryPolicy
from contractflow.events.envelope import CloudEvent
from contractflow.events.rejection import EventRejected
from contractflow.events.schemas import workflow as workflow_events
from contractflow.events.transport import Record
from contractflow.workflow import deployment
from contractflow.workflow.definition_events import (
    CONTENT_MISMATCH,
    EVENT_TYPE,
    NOT_AUTHORISED,
    REFUSED,
    DefinitionPublications,
    published_event,
    signature,
)
from contractflow.workflow.definitions import content_hash, latest_rows

from . import hostile_documents as docs
from .conftest import fixture_text

SECRET = "deploy-secret-for-tests-0123456789-0123456789"
CATALOGUE = Catalogue(workflow_events.EVENT_TYPES)
V2 = fixture_text("trivial_v2.bpmn")


def _event(content: str = V2, secret: str = SECRET, **overrides) -> CloudEvent:
    event = published_event(
        secret,
        service="negotiation",
        file_name="trivial.bpmn",
        content=content,
        published_by="ada",
        source="/test",
    )
    event.data.update(overrides)
    return event


def _latest(sessions):
    with sessions() as session:
        row = latest_rows(session, "negotiation")["trivial.bpmn"]
        return row.sequence, row.deployed_by


def _handle(handler, sessions, event):
    data = CATALOGUE.load(event)  # what the consumer hands the handler
    with sessions() as session:
        handler(session, event, data)
        session.commit()


def test_a_signed_event_deploys_a_new_version(make_runtime, sessions):
    runtime = make_runtime("trivial.bpmn")
    handler = DefinitionPublications(runtime, SECRET)
    _handle(handler, sessions, _event())
    assert _latest(sessions) == (2, "ada")
    _handle(handler, sessions, _event())  # the same content again: nothing new
    assert _latest(sessions) == (2, "ada")


def _forgeries():
    honest = _event()

    def resigned(event, secret):
        event.data["signature"] = signature(secret, event.id, event.type, event.data)
        return event

    def without_signature():
        event = _event()
        del event.data["signature"]
        return event

    def tampered(**changes):
        event = _event()
        event.data.update(changes)
        return event

    def content_swapped():
        hostile = docs.script_task("x = 1").replace('id="hostile"', 'id="trivial"')
        event = _event()
        event.data.update(content=hostile, content_hash=content_hash(hostile))
        return event

    return {
        "other secret": resigned(_event(), "not-the-deploy-secret-0123456789-0123"),
        "unsigned": without_signature(),
        "empty signature": tampered(signature=""),
        "another event's signature": dataclasses.replace(honest, id="a-new-id"),
        "signed as another type": tampered(
            signature=signature(SECRET, honest.id, "other.type.v1", honest.data)
        ),
        "published_by changed": tampered(published_by="mallory"),
        "file_name changed": tampered(file_name="other.bpmn"),
        "process_id changed": tampered(process_id="other"),
        "content and hash swapped": content_swapped(),
        "hex case changed": tampered(signature=honest.data["signature"].upper()),
        "not hmac": tampered(signature="sha1:" + "0" * 40),
    }


@pytest.mark.parametrize("forgery", sorted(_forgeries()))
def test_a_forged_or_unsigned_event_changes_nothing(make_runtime, sessions, forgery):
    runtime = make_runtime("trivial.bpmn")
    handler = DefinitionPublications(runtime, SECRET)
    event = _forgeries()[forgery]
    with pytest.raises(EventRejected) as rejected:
        _handle(handler, sessions, event)
    assert rejected.value.reason == NOT_AUTHORISED
    assert event.id in rejected.value.detail
    unsigned = not event.data.get("signature")
    assert ("carries no signature" if unsigned else "does not match DEPLOY_SECRET") in (
        rejected.value.detail
    )
    assert _latest(sessions)[0] == 1


def test_content_that_does_not_match_its_signed_hash_is_rejected(make_runtime, sessions):
    handler = DefinitionPublications(make_runtime("trivial.bpmn"), SECRET)
    event = _event()
    event.data["content"] = V2.replace("Confirm", "Confirmed")
    with pytest.raises(EventRejected) as rejected:
        _handle(handler, sessions, event)
    assert rejected.value.reason == CONTENT_MISMATCH
    assert _latest(sessions)[0] == 1


def test_an_unsigned_announcement_of_the_current_version_is_let_pass(make_runtime, sessions):
    handler = DefinitionPublications(make_runtime("trivial.bpmn"), SECRET)
    current = fixture_text("trivial.bpmn")
    event = _event(current)
    del event.data["signature"]
    _handle(handler, sessions, event)  # e.g. the service's own HTTP deploy, announced
    assert _latest(sessions)[0] == 1


@pytest.mark.parametrize(
    ("content", "element", "expected"),
    [
        (docs.catch_timer("duration", "P99999999Y"), "wait", "longer than the maximum"),
        (docs.catch_timer("cycle", "R-3/P1D"), "wait", "is not a cycle"),
        (docs.script_task("x = 1", "xslt"), "compute", "scriptFormat='xslt'"),
        (docs.long_sequence(700), "", "too deeply"),
        ("<bpmn:definitions", "", "not well-formed XML"),
    ],
)
def test_a_signed_document_that_does_not_validate_is_refused_with_its_problems(
    make_runtime, sessions, content, element, expected
):
    handler = DefinitionPublications(make_runtime("trivial.bpmn"), SECRET)
    event = published_event(
        SECRET,
        service="negotiation",
        file_name="negotiation/hostile.bpmn",
        content=content,
        published_by="ada",
        source="/test",
        process_id="hostile",
    )
    with pytest.raises(EventRejected) as rejected:
        _handle(handler, sessions, event)
    assert rejected.value.reason == REFUSED
    assert expected in rejected.value.detail
    if element:
        assert f"negotiation/hostile.bpmn: element {element!r}" in rejected.value.detail
    with sessions() as session:
        assert "negotiation/hostile.bpmn" not in latest_rows(session, "negotiation")


def test_an_event_for_another_process_than_the_document_provides_is_refused(make_runtime, sessions):
    handler = DefinitionPublications(make_runtime("trivial.bpmn"), SECRET)
    event = published_event(
        SECRET,
        service="negotiation",
        file_name="trivial.bpmn",
        content=V2,
        published_by="ada",
        source="/test",
        process_id="pre_signing",
    )
    with pytest.raises(EventRejected, match="published for process 'pre_signing'"):
        _handle(handler, sessions, event)


class _Letters:
    def __init__(self) -> None:
        self.published: list[tuple[Record, object]] = []

    def publish(self, record, letter, now) -> None:
        self.published.append((record, letter))


def _record(value: bytes, offset: int = 0) -> Record:
    return Record("test.workflow", 0, offset, b"trivial", value)


def _processor(runtime, sessions, letters):
    return EventProcessor(
        "test-definitions",
        sessions,
        CATALOGUE,
        {EVENT_TYPE: DefinitionPublications(runtime, SECRET)},
        letters,
        retry=RetryPolicy(max_attempts=5, backoff_ms=0),
        sleep=lambda _s: None,
    )


def _with_lone_surrogate() -> bytes:
    content = docs.script_task("x = 1").replace('id="hostile"', 'id="trivial"')
    event = _event(content)
    raw = json.loads(event.to_json())
    # A JSON escape decodes to a lone surrogate: valid JSON, not encodable text.
    raw_text = json.dumps(raw).replace("x = 1", "x = '\\ud800'")
    return raw_text.encode()


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        ("forged", NOT_AUTHORISED),
        ("unsigned", "invalid-data"),
        ("hostile timer", REFUSED),
        ("lone surrogate", REFUSED),
    ],
)
def test_the_consumer_dead_letters_a_rejected_deploy_once_with_its_reason(
    make_runtime, sessions, variant, reason
):
    runtime = make_runtime("trivial.bpmn")
    letters = _Letters()
    if variant == "forged":
        value = _event(secret="forger-0123456789-0123456789-0123456789").to_json()
    elif variant == "unsigned":
        event = _event()
        event.data["signature"] = 12  # not even a string
        value = event.to_json()
    elif variant == "hostile timer":
        value = _event(
            docs.catch_timer("duration", "P99999999Y").replace('id="hostile"', 'id="trivial"')
        ).to_json()
    else:
        value = _with_lone_surrogate()
    outcome = _processor(runtime, sessions, letters).process(_record(value))
    assert outcome == Outcome.DEAD_LETTERED
    [(_record_out, letter)] = letters.published
    assert letter.reason == reason
    assert letter.attempts <= 1, "a verdict is not retried"
    assert _latest(sessions)[0] == 1


def test_a_signed_content_with_a_lone_surrogate_is_refused_as_not_text(make_runtime, sessions):
    handler = DefinitionPublications(make_runtime("trivial.bpmn"), SECRET)
    event = _event()
    event.data["content"] = V2.replace("Confirm", "Confirm\ud800")
    with pytest.raises(EventRejected) as rejected:
        _handle(handler, sessions, event)
    assert rejected.value.reason == REFUSED and "not valid Unicode text" in rejected.value.detail


def test_the_document_is_parsed_while_other_writers_go_on(make_runtime, sessions, monkeypatch):
    """SQLite's write lock is taken when a transaction begins: if the deploy judged the
    document inside the consumer's transaction, this write would wait for it."""
    runtime = make_runtime("trivial.bpmn")
    handler = DefinitionPublications(runtime, SECRET)
    judged = deployment.inspect
    writes: list[str] = []

    def judge_while_someone_writes(*args, **kwargs):
        with sessions() as other:
            if other.get_bind().dialect.name == "sqlite":
                other.execute(text("PRAGMA busy_timeout=300"))
            other.execute(
                text("UPDATE workflow_definition SET deployed_by = deployed_by WHERE id < 0")
            )
            other.commit()
            writes.append("committed")
        return judged(*args, **kwargs)

    monkeypatch.setattr(deployment, "inspect", judge_while_someone_writes)
    event = _event()
    data = CATALOGUE.load(event)
    with sessions() as session:
        session.execute(text("SELECT 1 FROM workflow_definition LIMIT 1"))  # the inbox read
        handler(session, event, data)
        session.commit()
    assert writes == ["committed"]
    assert _latest(sessions) == (2, "ada")


def test_the_published_event_fits_its_schema_and_names_its_process():
    event = _event()
    data = CATALOGUE.load(event)
    assert event.subject == data["process_id"] == "trivial"
    assert data["signature"].startswith("hmac-sha256:")
    assert event.time <= dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    "file_name", ["../../etc/passwd.bpmn", "negotiation/trivial.xml", "a/b/c.bpmn", " x.bpmn"]
)
def test_a_file_name_that_is_no_definition_name_is_refused(make_runtime, sessions, file_name):
    handler = DefinitionPublications(make_runtime("trivial.bpmn"), SECRET)
    event = published_event(
        SECRET,
        service="negotiation",
        file_name=file_name,
        content=V2,
        published_by="ada",
        source="/test",
    )
    with pytest.raises(EventRejected) as rejected:
        _handle(handler, sessions, event)
    assert rejected.value.reason == REFUSED and repr(file_name) in rejected.value.detail


class _CapturingProducer:
    sent: list = []

    def __init__(self, *_args, **_kwargs) -> None:
        pass

    def publish(self, messages) -> None:
        _CapturingProducer.sent.extend(messages)

    def close(self) -> None:
        pass


def test_the_cli_publishes_a_signed_event_the_service_deploys(
    make_runtime, sessions, monkeypatch, tmp_path, capsys
):
    from contractflow import cli
    from contractflow.events import kafka_bus

    monkeypatch.setenv("DEPLOY_SECRET", SECRET)
    monkeypatch.setenv("TOPIC_PREFIX", "t.")
    monkeypatch.setattr(kafka_bus, "KafkaEventProducer", _CapturingProducer)
    _CapturingProducer.sent = []
    path = tmp_path / "trivial.bpmn"
    path.write_text(V2)
    args = ["definitions", "publish", "negotiation", str(path), "--by", "ada"]
    assert cli.main(args) == 0
    assert CloudEvent.from_json(_CapturingProducer.sent[0][2]).data["file_name"] == (
        f"{tmp_path.name}/trivial.bpmn"  # <folder>/<file> by default
    )
    _CapturingProducer.sent = []
    assert cli.main([*args, "--file-name", "trivial.bpmn"]) == 0  # as the fixture stores it
    [(topic, key, value, _headers)] = _CapturingProducer.sent
    assert topic == "t.workflow" and key == b"trivial"
    event = CloudEvent.from_json(value)
    _handle(DefinitionPublications(make_runtime("trivial.bpmn"), SECRET), sessions, event)
    assert _latest(sessions) == (2, "ada")


def test_the_cli_refuses_a_file_that_is_not_text(monkeypatch, tmp_path, capsys):
    from contractflow import cli
    from contractflow.events import kafka_bus

    monkeypatch.setattr(kafka_bus, "KafkaEventProducer", _CapturingProducer)
    _CapturingProducer.sent = []
    path = tmp_path / "latin.bpmn"
    path.write_bytes(V2.replace("Confirm", "Bestätigen").encode("latin-1"))
    assert cli.main(["definitions", "publish", "negotiation", str(path), "--by", "ada"]) == 2
    assert "cannot publish" in capsys.readouterr().err
    assert _CapturingProducer.sent == []


def test_a_service_as_bootstrapped_deploys_signed_events_and_dead_letters_forged_ones(tmp_path):
    from contractflow.db import make_engine
    from contractflow.migrate import upgrade
    from services.negotiation.bootstrap import bootstrap
    from tests.conftest import service_settings

    url = f"sqlite:///{tmp_path / 'negotiation.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine, "negotiation")
    engine.dispose()
    kernel = bootstrap(service_settings("negotiation", url, "t.", deploy_secret=SECRET))
    try:
        letters = _Letters()
        processor = EventProcessor(
            "negotiation",
            kernel.sessions,
            kernel.catalogue,
            kernel.handlers,
            letters,
            retry=RetryPolicy(max_attempts=5, backoff_ms=0),
            sleep=lambda _s: None,
        )
        extra = fixture_text("trivial.bpmn").replace('id="trivial"', 'id="extra_check"')
        extra = extra.replace('value="confirm"', 'value="no_form_needed"').replace(
            '<spiffworkflow:property name="formKey" value="no_form_needed" />', ""
        )

        def publish(secret, offset):
            event = published_event(
                secret,
                service="negotiation",
                file_name="negotiation/extra_check.bpmn",
                content=extra,
                published_by="ada",
                source="/test",
            )
            return processor.process(_record(event.to_json(), offset))

        assert publish("forger-0123456789-0123456789-0123456789", 0) == Outcome.DEAD_LETTERED
        assert [letter.reason for _, letter in letters.published] == [NOT_AUTHORISED]
        assert publish(SECRET, 1) == Outcome.HANDLED
        with kernel.sessions() as session:
            row = latest_rows(session, "negotiation")["negotiation/extra_check.bpmn"]
        assert (row.provides, row.deployed_by) == ("extra_check", "ada")
        assert len(letters.published) == 1
    finally:
        kernel.close()
