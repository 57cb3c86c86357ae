"""Documents the parser cannot take or the engine cannot run: each refused with a sentence
that names the file and the element, never a crash, a repr or a Python error name; and at
start-up such a file is refused while the service deploys the others."""

from __future__ import annotations

import logging

import pytest

from contractflow.workflow import DefinitionInvalid, WorkflowRuntime
from contractflow.workflow.definition_limits import MAX_ELEMENTS, TOO_DEEP
from contractflow.workflow.definitions import inspect, latest_rows
from contractflow.workflow.deployment import deploy_folders

from . import hostile_documents as docs
from .conftest import FIXTURES, fixture_text

PYTHON_ERROR_NAMES = ("Error(", "Exception(", " at 0x", "Traceback", "object has no attribute")


def _reasons(found):
    reasons = [str(p) for p in found.problems]
    for reason in reasons:
        assert not any(name in reason for name in PYTHON_ERROR_NAMES), reason
    return reasons


@pytest.mark.parametrize("script_format", ["xslt", "javascript", "groovy", "", "text/x-python2"])
def test_a_script_in_a_language_the_engine_cannot_run_is_refused(script_format):
    found = inspect("negotiation/s.bpmn", docs.script_task("x = 1", script_format))
    [problem] = found.problems
    assert problem.element_id == "compute"
    assert f"scriptFormat={script_format!r}" in problem.reason and "Python only" in problem.reason


@pytest.mark.parametrize("script_format", [None, "python", "Python3", "text/x-python"])
def test_a_python_script_deploys(script_format):
    assert inspect("negotiation/s.bpmn", docs.script_task("x = 1", script_format)).problems == []


@pytest.mark.parametrize("language", ["javascript", "http://www.w3.org/1999/XPath"])
def test_a_condition_in_another_language_is_refused_at_its_flow(language):
    content = docs.process(
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        '<bpmn:exclusiveGateway id="choose" default="f3"><bpmn:incoming>f1</bpmn:incoming>'
        "<bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>"
        '<bpmn:endEvent id="big"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:endEvent id="small"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="choose"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="choose" targetRef="big">'
        '<bpmn:conditionExpression xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        f' xsi:type="bpmn:tFormalExpression" language="{language}">users &gt; 10'
        "</bpmn:conditionExpression>"
        "</bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f3" sourceRef="choose" targetRef="small"/>'
    )
    found = inspect("negotiation/choose.bpmn", content)
    reasons = _reasons(found)
    assert [(p.element_id, f"language={language!r}" in p.reason) for p in found.problems] == [
        ("f2", True)
    ], reasons
    assert inspect("negotiation/choose.bpmn", content.replace(language, "python")).problems == []


@pytest.mark.parametrize("tasks", [600, 1000, 3000, 30_000])
def test_a_very_long_sequence_is_refused_with_a_sentence(tasks):
    found = inspect("negotiation/long.bpmn", docs.long_sequence(tasks))
    reasons = _reasons(found)
    assert reasons, "a chain this long cannot be parsed"
    assert any(TOO_DEEP in r or f"at most {MAX_ELEMENTS:,}" in r for r in reasons), reasons


def test_a_sequence_of_a_few_hundred_tasks_deploys():
    assert inspect("negotiation/long.bpmn", docs.long_sequence(150)).problems == []


DMN = (FIXTURES / "decisions" / "fee_band.dmn").read_text()
OTHER_DECISION = (
    '<decision id="other" name="Other"><decisionTable id="t2">'
    '<input id="i2"><inputExpression id="ie2"><text>users</text></inputExpression></input>'
    '<output id="o2" name="o"/><rule id="r2"><inputEntry id="e2"><text>-</text></inputEntry>'
    '<outputEntry id="oe2"><text>1</text></outputEntry></rule></decisionTable></decision>'
)
TABLE = DMN[DMN.index("<decisionTable") : DMN.index("</decisionTable>") + len("</decisionTable>")]


@pytest.mark.parametrize(
    ("variant", "content", "expected"),
    [
        (
            "information requirement",
            DMN.replace(
                '<decision id="fee_band" name="Fee band">',
                '<decision id="fee_band" name="Fee band"><informationRequirement>'
                '<requiredDecision href="#other"/></informationRequirement>',
            ).replace("</definitions>", OTHER_DECISION + "</definitions>"),
            "decision requirement graphs (informationRequirement) are not supported",
        ),
        (
            "knowledge requirement",
            DMN.replace(
                '<decision id="fee_band" name="Fee band">',
                '<decision id="fee_band" name="Fee band"><knowledgeRequirement>'
                '<requiredKnowledge href="#bkm"/></knowledgeRequirement>',
            ),
            "knowledgeRequirement",
        ),
        (
            "literal expression",
            DMN.replace(TABLE, "<literalExpression><text>1</text></literalExpression>"),
            "exactly one decision table (found literalExpression)",
        ),
        ("no table", DMN.replace(TABLE, ""), "exactly one decision table"),
    ],
)
def test_dmn_the_decision_engine_cannot_evaluate_is_refused_at_the_decision(
    variant, content, expected
):
    found = inspect("decisions/graph.dmn", content)
    reasons = _reasons(found)
    assert any(p.element_id == "fee_band" and expected in p.reason for p in found.problems), (
        variant,
        reasons,
    )


def test_an_unresolved_data_association_names_the_task_and_the_reference():
    content = docs.script_task("x = 1").replace(
        "<bpmn:script>",
        '<bpmn:dataInputAssociation id="dia"><bpmn:sourceRef>nowhere</bpmn:sourceRef>'
        "<bpmn:targetRef>compute</bpmn:targetRef></bpmn:dataInputAssociation><bpmn:script>",
    )
    found = inspect("negotiation/data.bpmn", content)
    reasons = _reasons(found)
    [problem] = found.problems
    assert problem.element_id == "compute", reasons
    assert "dataInputAssociation" in problem.reason and "'nowhere'" in problem.reason


@pytest.mark.parametrize("surrogate", ["\ud800", "\udfff", "a\udc80b"])
def test_content_with_a_lone_surrogate_is_a_problem_not_a_crash(surrogate):
    content = docs.script_task("x = 1").replace("x = 1", f"x = '{surrogate}'")
    [problem] = inspect("negotiation/s.bpmn", content).problems
    assert "not valid Unicode text" in problem.reason


def test_a_document_with_too_many_elements_is_refused_before_parsing():
    found = inspect("negotiation/wide.bpmn", docs.long_sequence(MAX_ELEMENTS // 5 + 10))
    assert [f"at most {MAX_ELEMENTS:,}" in p.reason for p in found.problems] == [True]


def _folder(tmp_path, files: dict[str, bytes]):
    folder = tmp_path / "negotiation"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder


@pytest.mark.parametrize(
    "raw",
    [
        fixture_text("trivial.bpmn").replace("Trivial", "Trivi\u00e4l").encode("latin-1"),
        b"\xff\xfe" + fixture_text("trivial.bpmn").encode("utf-16-le"),
        b"\x80\x81\x82 not text at all",
    ],
    ids=["latin-1", "utf-16", "binary"],
)
def test_start_up_refuses_a_file_that_is_not_utf8_and_deploys_the_others(
    make_runtime, sessions, tmp_path, caplog, raw
):
    hostile = docs.catch_timer("duration", "P99999999Y")
    folder = _folder(
        tmp_path,
        {
            "encoded.bpmn": raw,
            "fees.bpmn": fixture_text("fees.bpmn").encode(),
            "hostile.bpmn": hostile.encode(),
        },
    )
    runtime = make_runtime()
    with caplog.at_level(logging.ERROR, logger="contractflow.workflow.deployment"):
        result = deploy_folders(runtime, sessions, folder)
    assert [r.file_name for r in result.deployed] == ["negotiation/fees.bpmn"]
    refused = {p.file_name for p in result.refused}
    assert refused == {"negotiation/encoded.bpmn", "negotiation/hostile.bpmn"}
    [encoding] = [p for p in result.refused if p.file_name == "negotiation/encoded.bpmn"]
    assert "is not UTF-8 text" in encoding.reason
    logged = caplog.text
    assert "negotiation/encoded.bpmn: document: is not UTF-8 text" in logged
    assert "negotiation/hostile.bpmn: element 'wait'" in logged
    with sessions() as session:
        assert set(latest_rows(session, "negotiation")) == {"negotiation/fees.bpmn"}


def test_start_up_keeps_the_last_good_version_of_a_file_that_turned_invalid(
    make_runtime, sessions, tmp_path
):
    folder = _folder(tmp_path, {"trivial.bpmn": fixture_text("trivial.bpmn").encode()})
    runtime = make_runtime()
    [first] = deploy_folders(runtime, sessions, folder).deployed
    (folder / "trivial.bpmn").write_text(
        fixture_text("trivial.bpmn")
        .replace("<bpmn:userTask", '<bpmn:scriptTask scriptFormat="xslt"')
        .replace("</bpmn:userTask>", "</bpmn:scriptTask>")
    )
    again = deploy_folders(runtime, sessions, folder)
    assert again.deployed == [] and "scriptFormat='xslt'" in str(again.refused)
    with sessions() as session:
        assert latest_rows(session, "negotiation")["negotiation/trivial.bpmn"].id == first.id


def test_start_up_still_stops_when_the_code_lost_a_registration(make_runtime, sessions, tmp_path):
    folder = _folder(tmp_path, {"fees.bpmn": fixture_text("fees.bpmn").encode()})
    deploy_folders(make_runtime(), sessions, folder)
    with pytest.raises(DefinitionInvalid, match=r"'fees\.compute' is not registered"):
        deploy_folders(WorkflowRuntime("negotiation"), sessions, folder)


def test_the_strict_loader_names_a_file_that_is_not_utf8(make_runtime, sessions, tmp_path):
    folder = _folder(tmp_path, {"latin.bpmn": "Bestätigen".encode("latin-1")})
    with pytest.raises(DefinitionInvalid) as refused, sessions() as session:
        make_runtime().load_definitions(session, folder)
    assert "negotiation/latin.bpmn: document: is not UTF-8 text (byte 0xe4" in str(refused.value)
