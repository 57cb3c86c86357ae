"""Escapes from the script sandbox: each is refused at deployment with the element id, and
again when the environment compiles it, or refused at run time if only the running value
makes it unsafe. The language is an allowlist: what is not listed here is refused too."""

from __future__ import annotations

import datetime as dt

import pytest

from contractflow.workflow.definitions import inspect
from contractflow.workflow.script_guards import AttributeNotAllowed
from contractflow.workflow.scripts import RestrictedEnvironment, UnsafeScript, check_script

ESCAPES = {
    "match class pattern keyword": "match ():\n    case tuple(__class__=c):\n        pass",
    "match class pattern": "match x:\n    case str():\n        y = 1",
    "match mapping": "match x:\n    case {'a': y}:\n        pass",
    "dunder attribute chain": "classes = ().__class__.__base__.__subclasses__()",
    "dunder on an int": "c = (1).__class__",
    "dunder dict": "d = x.__dict__",
    "bound method self": "s = ''.join.__self__",
    "generator frame": "g = (i for i in [1])\nf = g.gi_frame.f_back",
    "generator code": "g = (i for i in [1])\nc = g.gi_code",
    "frame globals": "glob = frame.f_globals",
    "traceback frame": "f = tb.tb_frame",
    "str.format field": "s = '{0.__class__}'.format(1)",
    "str.format without dunder": "s = '{0}'.format(1)",
    "format_map": "s = '{a}'.format_map(d)",
    "dunder text": "name = '__class__'",
    "dunder text in an f-string spec": "s = f'{x:__}'",
    "dunder in % formatting": "s = '%(__class__)s' % d",
    "getattr": "c = getattr(x, 'mro')",
    "type": "t = type(x)",
    "type() three arguments": "T = type('T', (), {})",
    "vars": "v = vars()",
    "globals": "g = globals()",
    "locals": "g = locals()",
    "dir": "d = dir()",
    "id": "i = id(x)",
    "iter/next": "n = next(iter([1]))",
    "format builtin": "s = format(x, 'y')",
    "repr builtin": "s = repr(x)",
    "open": "data = open('/etc/passwd').read()",
    "eval": "y = eval('1')",
    "exec": "exec('y = 1')",
    "compile": "c = compile('1', 'x', 'eval')",
    "breakpoint": "breakpoint()",
    "print": "print(x)",
    "__import__": "os = __import__('os')",
    "import": "import os",
    "from import": "from os import environ",
    "__builtins__": "b = __builtins__",
    "private name": "x = _secret",
    "private assignment": "_getattr_ = 1",
    "lambda": "f = lambda: 1",
    "function": "def f():\n    return 1",
    "decorator": "@decorate\ndef f():\n    pass",
    "generator function": "def g():\n    yield 1",
    "async": "async def f():\n    pass",
    "class": "class X:\n    pass",
    "while": "while True:\n    pass",
    "try": "try:\n    x = 1\nexcept Exception as e:\n    y = e",
    "with": "with x:\n    pass",
    "global": "global x\nx = 1",
    "walrus": "y = (z := 1)",
    "walrus in a comprehension": "y = [z := i for i in [1]]",
    "attribute assignment": "x.y = 1",
    "attribute deletion": "del x.y",
    "star call": "y = max(*items)",
    "double star call": "y = dict(**items)",
    "star literal": "y = [*items]",
    "double star literal": "y = {**items}",
    "bytes": "y = b'x'",
    "ellipsis": "y = ...",
    "complex": "y = 1j",
    "annotation": "y: int = 1",
    "matmul": "y = a @ b",
    "attribute not in any allowlist": "y = str.maketrans",
    "class attribute not allowed": "y = datetime.max.__reduce__",
    "pow builtin": "y = pow(2, 10, 7)",
}


@pytest.mark.parametrize("source", ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_is_refused_by_the_check(source):
    with pytest.raises(UnsafeScript):
        check_script(source)


@pytest.mark.parametrize("source", ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_is_refused_when_the_environment_compiles_it(source):
    """Whatever was deployed: the environment compiles nothing the policy refuses."""
    with pytest.raises(UnsafeScript):
        RestrictedEnvironment().execute(source, {"x": 1, "items": [1], "d": {}})


def _process(script: str, condition: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="d" targetNamespace="t">
  <bpmn:process id="hostile" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="hostile_script">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script><![CDATA[{script}]]></bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="hostile_gateway" default="f3">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="hostile_script" />
    <bpmn:sequenceFlow id="f2" sourceRef="hostile_script" targetRef="hostile_gateway" />
    <bpmn:sequenceFlow id="f3" sourceRef="hostile_gateway" targetRef="end" />
    <bpmn:sequenceFlow id="f4" sourceRef="hostile_gateway" targetRef="end">
      <bpmn:conditionExpression><![CDATA[{condition}]]></bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize("source", ESCAPES.values(), ids=ESCAPES.keys())
def test_deployment_names_the_script_task(source):
    problems = inspect("negotiation/hostile.bpmn", _process(source, "True")).problems
    assert [p.element_id for p in problems] == ["hostile_script"], problems


EXPRESSION_ESCAPES = [
    "().__class__.__base__",
    "[c for c in ().__class__.__mro__]",
    "(lambda: 1)()",
    "'{0.__class__}'.format(1)",
    "__import__('os').system('id') == 0",
    "type(1) is int",
    "getattr(1, 'real')",
    "(x := 1)",
    "f'{1:__}'",
]


@pytest.mark.parametrize("condition", EXPRESSION_ESCAPES)
def test_deployment_names_the_gateway_of_a_hostile_condition(condition):
    problems = inspect("negotiation/hostile.bpmn", _process("x = 1", condition)).problems
    assert [p.element_id for p in problems] == ["hostile_gateway"], problems


def test_dmn_cells_are_checked_with_their_rule_id():
    dmn = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
    id="d" name="d" namespace="n">
  <decision id="band" name="band">
    <decisionTable id="t">
      <input id="in_users">
        <inputExpression id="e" typeRef="integer"><text>users</text></inputExpression>
      </input>
      <output id="out_band" name="band" typeRef="string" />
      <rule id="rule_input_escape">
        <inputEntry id="i1"><text>&gt; ().__class__.__base__</text></inputEntry>
        <outputEntry id="o1"><text>"x"</text></outputEntry>
      </rule>
      <rule id="rule_output_escape">
        <inputEntry id="i2"><text>-</text></inputEntry>
        <outputEntry id="o2"><text>'{0.__class__}'.format(1)</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>"""
    problems = inspect("decisions/band.dmn", dmn).problems
    assert sorted(p.element_id for p in problems) == ["rule_input_escape", "rule_output_escape"]


# Refused only when the value is known: the allowlist is per type, not per name.

RUNTIME_REFUSALS = {
    "dict method on an int": ("y = n.items()", {"n": 1}),
    "datetime attribute on a timezone": (
        "y = moment.tzinfo.utcoffset(moment)",
        {"moment": dt.datetime(2027, 1, 1, tzinfo=dt.UTC)},
    ),
    "dunder format spec from the data": ("y = f'{n:{spec}}'", {"n": 1, "spec": "__class__"}),
    "dunder % format from the data": ("y = fmt % {}", {"fmt": "%(__class__)s"}),
    "item assignment into text": ("t[0] = 'x'", {"t": "abc"}),
    "attribute of a guarded builtin": ("y = sorted.copy", {}),
    "attribute of an exception": ("y = ValueError.union", {}),
}


@pytest.mark.parametrize(("source", "data"), RUNTIME_REFUSALS.values(), ids=RUNTIME_REFUSALS.keys())
def test_unsafe_use_of_a_value_is_refused_at_run_time(source, data):
    check_script(source)  # nothing in the text itself is refused
    with pytest.raises((AttributeNotAllowed, UnsafeScript)):
        RestrictedEnvironment().execute(source, dict(data))


def test_task_data_cannot_replace_a_guard_or_the_builtins():
    context = {"_getattr_": "not a guard", "__builtins__": {}, "sorted": [], "name": "ab"}
    RestrictedEnvironment().execute("upper = name.upper()\nfirst = max(name)", context)
    assert (context["upper"], context["first"]) == ("AB", "b")
    assert context["_getattr_"] == "not a guard" and context["sorted"] == []


def test_a_script_cannot_leave_a_generator_or_a_view_in_the_data():
    """They would be kept in the instance state: a live object, not data."""
    for source in ("g = (i for i in items)", "v = d.items()", "m = map(abs, items)"):
        context = {"items": [1], "d": {"a": 1}}
        with pytest.raises(TypeError, match="cannot be kept"):
            RestrictedEnvironment().execute(source, context)
        assert set(context) == {"items", "d"}  # nothing half-written
