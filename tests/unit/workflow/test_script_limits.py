"""What a script may cost: CPU time, steps, memory and the size of what it leaves behind.

Each attack is stopped within a bound by the script's budget (ScriptLimitExceeded) and,
run by the engine, opens an incident on its element while the step that ran it answers
promptly — in a script task, a gateway condition, a DMN input expression or output cell,
and behind a timer."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from contractflow.db import unit_of_work
from contractflow.workflow.script_guards import (
    MAX_SECONDS,
    MAX_UNITS,
    ScriptLimitExceeded,
    StepAllowance,
)
from contractflow.workflow.scripts import RestrictedEnvironment
from tests.unit.workflow.helpers import start, status

PROMPT = MAX_SECONDS + 9.5  # the bound, plus a loaded shared machine; unbounded was hours

EXPRESSIONS = {
    "sum of a huge range": "sum(range(10**18)) > 0",
    "sum of a huge generator": "sum(i for i in range(10**6) for j in range(10**6)) > 0",
    "tower of powers": "10 ** 10 ** 9",
    "text repetition": "'a' * 10 ** 11",
    "list repetition": "[0] * 10 ** 9",
    "shift": "1 << 10 ** 10",
    "membership scan of a range": "1.5 in range(10 ** 12)",
    "membership scan of a reversed range": "-1 in reversed(range(10 ** 6))",
    "map of sums": "sum(map(sum, [range(10 ** 6)] * 10 ** 5))",
    "sorted of a huge range": "sorted(range(10 ** 7))",
    "f-string width": "f'{1:>1000000000}'",
    "nested f-string width": "f'{1:{10**9}}'",
    "percent width": "'%1000000000d' % 1",
    "percent star width": "'%*d' % (10 ** 9, 1)",
    "padding": "'x'.center(10 ** 10)",
    "join": "','.join(['a' * 1000] * 10 ** 4)",
    "replace": "('a' * 10 ** 5).replace('', 'b' * 100)",
    "huge decimal to int": "int(Decimal('1e999999999'))",
    "huge decimal ceiling": "ceil(Decimal('1e999999999'))",
    "huge decimal rounded": "round(Decimal('1e999999999'))",
    "long decimal text": "Decimal('9' * 10 ** 5)",
    "str of a shared structure": "str([[0] * 999] * 999 * 2)",
    "list of a range": "list(range(10 ** 7))",
    "strftime width": "datetime(2027, 1, 1).strftime('%1000000000Y')",
}


@pytest.mark.parametrize("source", EXPRESSIONS.values(), ids=EXPRESSIONS.keys())
def test_expensive_expression_is_stopped_promptly(source):
    began = time.monotonic()
    with pytest.raises(ScriptLimitExceeded):
        RestrictedEnvironment().evaluate(source, {})
    assert time.monotonic() - began < PROMPT


LOOPS = "t = 0\nfor i in range(10 ** 6):\n    for j in range(10 ** 6):\n        "
SCRIPTS = {
    "nested loops": LOOPS + "t = t + 1",
    "in-place counter": LOOPS + "t += 1",
    "comprehension of sums": "r = [sum(range(10 ** 6)) for i in range(10 ** 6)]",
    "doubling text": "s = 'ab'\nfor i in range(64):\n    s = s + s",
    "doubling text in place": "s = 'ab'\nfor i in range(64):\n    s += s",
    "squaring": "x = 2\nfor i in range(64):\n    x = x * x",
    "shared lists by repetition": "a = [0] * 1000\nb = [a] * 1000\nc = [b] * 1000",
    "shared lists by literals": "a = [0] * 1000\n"
    + "".join(
        f"{n} = [{p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}]\n"
        for p, n in zip("abcdef", "bcdefg", strict=True)
    ),
    "appending big values": "l = []\nfor i in range(10 ** 6):\n    l.append('x' * 1000)",
    "extending by itself": "a = [1]\nfor i in range(40):\n    a.extend(a)",
    "extending in place": "a = [1]\nfor i in range(40):\n    a += a",
    "item assignment of shared values": "d = {}\nfor i in range(40):\n    d[i] = [d, d]",
    "dict comprehension of shared values": "a = list(range(1000))\n"
    + "d = {i: a for i in range(10 ** 4)}",
    "set union": "s = set(range(10 ** 5))\nfor i in range(10 ** 4):\n    t = s | s",
    "self-containing list": "x = [1]\nx.append(x)",
    "repeated comparisons of big lists": "a = [0] * 400000\nb = [0] * 400000\n"
    + "n = 0\nfor i in range(10 ** 6):\n    n = n + (a == b)",
}


@pytest.mark.parametrize("source", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_expensive_script_is_stopped_promptly(source):
    began = time.monotonic()
    with pytest.raises(ScriptLimitExceeded):
        RestrictedEnvironment().execute(source, {})
    assert time.monotonic() - began < PROMPT


def test_a_value_left_in_the_data_is_bounded_even_if_built_from_the_data():
    context = {"big": ["x" * 1000] * 600}  # 600k characters, as a form might carry
    with pytest.raises(ScriptLimitExceeded):
        RestrictedEnvironment().execute("twice = [big, big]", context)
    assert "twice" not in context


def test_each_evaluation_has_its_own_budget():
    environment = RestrictedEnvironment()
    for _ in range(3):  # most of the bound each, all of it together
        assert environment.evaluate("len([0] * (MAX // 4))", {"MAX": MAX_UNITS}) > 0


def test_a_step_bounds_the_time_of_all_its_scripts_together(monkeypatch):
    from contractflow.workflow import script_guards

    monkeypatch.setattr(script_guards, "MAX_STEP_SECONDS", 0.2)
    environment = RestrictedEnvironment()
    busy = "t = 0\nfor i in range(30000):\n    t = t + 1"  # well within one evaluation's bound
    with StepAllowance(), pytest.raises(ScriptLimitExceeded, match="this step"):
        for _ in range(1000):
            environment.execute(busy, {})


# Through the engine: an incident on the element, a step that answers promptly.

GATEWAY = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="d" targetNamespace="t">
  <bpmn:process id="costly" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    {wait}
    <bpmn:scriptTask id="costly_script">
      <bpmn:incoming>{into_script}</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script><![CDATA[{script}]]></bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="costly_gateway" default="f3">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="costly_script" targetRef="costly_gateway" />
    <bpmn:sequenceFlow id="f3" sourceRef="costly_gateway" targetRef="end" />
    <bpmn:sequenceFlow id="f4" sourceRef="costly_gateway" targetRef="end">
      <bpmn:conditionExpression><![CDATA[{condition}]]></bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>"""
DIRECT = '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="costly_script" />'
TIMER = """<bpmn:intermediateCatchEvent id="wait">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f1b</bpmn:outgoing>
      <bpmn:timerEventDefinition>
        <bpmn:timeDuration>PT1H</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f1b" sourceRef="wait" targetRef="costly_script" />"""


def _costly(script: str = "x = 1", condition: str = "False", *, behind_timer: bool = False):
    return GATEWAY.format(
        wait=TIMER if behind_timer else DIRECT,
        into_script="f1b" if behind_timer else "f1",
        script=script,
        condition=condition,
    )


def _incident(runtime, sessions, instance_id):
    with unit_of_work(sessions) as session:
        [incident] = runtime.incidents(session, instance_id=instance_id)
    return incident


@pytest.mark.parametrize(
    ("script", "condition", "element"),
    [
        ("x = 1", "sum(range(10**18)) > 0", "costly_gateway"),
        ("x = 1", "sum(i for i in range(10**6) for j in range(10**6)) > 0", "costly_gateway"),
        ("x = 10 ** 10 ** 9", "False", "costly_script"),
        ("x = 'a' * 10 ** 11", "False", "costly_script"),
        (
            "t = 0\nfor i in range(10**6):\n    for j in range(10**6):\n        t += 1",
            "False",
            "costly_script",
        ),
    ],
    ids=["gateway range", "gateway cpu", "script power", "script text", "script loops"],
)
def test_a_costly_expression_opens_an_incident_on_its_element(
    make_runtime, sessions, script, condition, element
):
    runtime = make_runtime()
    with unit_of_work(sessions) as session:
        runtime.deploy(session, "negotiation/costly.bpmn", _costly(script, condition), "test")
    began = time.monotonic()
    iid = start(runtime, sessions, "costly")
    assert time.monotonic() - began < PROMPT
    assert status(sessions, iid)[0] == "incident"
    incident = _incident(runtime, sessions, iid)
    assert incident.element_id == element
    assert "script limit exceeded" in incident.error


def test_a_costly_script_behind_a_timer_opens_an_incident_and_the_worker_goes_on(
    make_runtime, sessions, clock
):
    runtime = make_runtime()
    costly = _costly("x = sum(range(10**18))", behind_timer=True)
    with unit_of_work(sessions) as session:
        runtime.deploy(session, "negotiation/costly.bpmn", costly, "test")
    iid = start(runtime, sessions, "costly")
    other = start(runtime, sessions, "costly", contract_id="C-2")
    later = clock.advance(hours=2)
    began = time.monotonic()
    with unit_of_work(sessions) as session:
        due = runtime.due_instances(session, later, 10)
    for instance_id in due:
        with unit_of_work(sessions) as session:
            runtime.fire_timers(session, instance_id, later)
    assert time.monotonic() - began < 2 * PROMPT
    assert sorted(due) == sorted([iid, other])
    for instance_id in (iid, other):
        assert status(sessions, instance_id)[0] == "incident"
        assert _incident(runtime, sessions, instance_id).element_id == "costly_script"
    with unit_of_work(sessions) as session:  # nothing due again: the timer does not refire
        assert runtime.due_instances(session, later + dt.timedelta(days=1), 10) == []


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
    id="dd" name="d" namespace="n">
  <decision id="fee_band" name="band">
    <decisionTable id="t">
      <input id="in_users">
        <inputExpression id="e" typeRef="integer"><text>{input}</text></inputExpression>
      </input>
      <output id="out_band" name="band" typeRef="string" />
      <rule id="rule_costly">
        <inputEntry id="i1"><text>{entry}</text></inputEntry>
        <outputEntry id="o1"><text>{output}</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>"""


@pytest.mark.parametrize(
    ("cell_input", "entry", "output"),
    [
        ("users", "-", "'a' * 10 ** 11"),
        ("users", "-", "10 ** 10 ** 9"),
        ("sum(range(10 ** 18))", "&gt; 0", '"x"'),
        ("users", "&gt; sum(i for i in range(10**6) for j in range(10**6))", '"x"'),
    ],
    ids=["output text", "output power", "input expression", "input entry"],
)
def test_a_costly_dmn_cell_opens_an_incident_on_the_business_rule_task(
    make_runtime, sessions, tmp_path, cell_input, entry, output
):
    from tests.unit.workflow.conftest import FIXTURES

    runtime = make_runtime()
    folder, decisions = tmp_path / "negotiation", tmp_path / "decisions"
    folder.mkdir()
    decisions.mkdir()
    (folder / "banded.bpmn").write_text((FIXTURES / "banded.bpmn").read_text())
    (decisions / "fee_band.dmn").write_text(
        DMN.format(input=cell_input, entry=entry, output=output)
    )
    with unit_of_work(sessions) as session:
        runtime.load_definitions(session, folder, decisions)
    began = time.monotonic()
    iid = start(runtime, sessions, "banded", users=3)
    assert time.monotonic() - began < PROMPT
    incident = _incident(runtime, sessions, iid)
    assert incident.element_id == "choose_band"
    assert "script limit exceeded" in incident.error


def test_a_step_of_many_scripts_within_their_own_bounds_opens_an_incident(
    make_runtime, sessions, monkeypatch
):
    """Twelve scripts, each well within its own bound, in one step: together they pass the
    step's allowance (made small here), and the step ends in an incident, not a long run."""
    from contractflow.db import unit_of_work
    from contractflow.workflow import script_guards
    from tests.unit.workflow.helpers import start, status

    monkeypatch.setattr(script_guards, "MAX_STEP_SECONDS", 0.05)
    runtime = make_runtime("busy_scripts.bpmn")
    instance_id = start(runtime, sessions, "busy_scripts")
    assert status(sessions, instance_id)[0] == "incident"
    with unit_of_work(sessions) as session:
        [incident] = runtime.incidents(session)
    assert "this step" in incident.error and incident.element_id.startswith("busy_")
