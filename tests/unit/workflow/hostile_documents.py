"""Small BPMN documents built around one element under test, for the hostile-definition
tests: a timer of any kind and place, a script task, a long sequence."""

from __future__ import annotations

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
    ' id="defs" targetNamespace="http://contractflow.example/bpmn">\n'
)


def process(body: str, process_id: str = "hostile") -> str:
    opening = f'<bpmn:process id="{process_id}" isExecutable="true">'
    return f"{HEAD}{opening}\n{body}\n</bpmn:process>\n</bpmn:definitions>\n"


def _timer(kind: str, value: str) -> str:
    tag = {"date": "timeDate", "duration": "timeDuration", "cycle": "timeCycle"}[kind]
    return (
        f"<bpmn:timerEventDefinition><bpmn:{tag}>{value}</bpmn:{tag}></bpmn:timerEventDefinition>"
    )


def catch_timer(kind: str, value: str) -> str:
    """start → intermediate timer `wait` → end."""
    return process(
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming>'
        f"<bpmn:outgoing>f2</bpmn:outgoing>{_timer(kind, value)}</bpmn:intermediateCatchEvent>"
        '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>'
    )


def start_timer(kind: str, value: str) -> str:
    """A process started by its timer start event `tick`."""
    return process(
        f'<bpmn:startEvent id="tick"><bpmn:outgoing>f1</bpmn:outgoing>{_timer(kind, value)}'
        "</bpmn:startEvent>"
        '<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="tick" targetRef="end"/>'
    )


def boundary_timer(kind: str, value: str) -> str:
    """A user task `review` with a non-interrupting boundary timer `remind`."""
    return process(
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        '<bpmn:userTask id="review"><bpmn:incoming>f1</bpmn:incoming>'
        "<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>"
        '<bpmn:boundaryEvent id="remind" attachedToRef="review" cancelActivity="false">'
        f"<bpmn:outgoing>f3</bpmn:outgoing>{_timer(kind, value)}</bpmn:boundaryEvent>"
        '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:endEvent id="reminded"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="remind" targetRef="reminded"/>'
    )


def due_in(value: str) -> str:
    """A user task `review` whose dueIn property is `value`."""
    return process(
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        '<bpmn:userTask id="review"><bpmn:extensionElements><spiffworkflow:properties>'
        f'<spiffworkflow:property name="dueIn" value="{value}"/>'
        "</spiffworkflow:properties></bpmn:extensionElements>"
        "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>"
        '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>'
    )


def script_task(script: str, script_format: str | None = "python") -> str:
    fmt = f' scriptFormat="{script_format}"' if script_format is not None else ""
    return process(
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        f'<bpmn:scriptTask id="compute"{fmt}><bpmn:incoming>f1</bpmn:incoming>'
        f"<bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>"
        '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="end"/>'
    )


def long_sequence(tasks: int) -> str:
    """start → `tasks` script tasks in a row → end."""
    parts = ['<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>']
    for i in range(tasks):
        parts.append(
            f'<bpmn:scriptTask id="t{i}"><bpmn:incoming>f{i}</bpmn:incoming>'
            f"<bpmn:outgoing>f{i + 1}</bpmn:outgoing><bpmn:script>x = {i}</bpmn:script>"
            "</bpmn:scriptTask>"
        )
        src = "start" if i == 0 else f"t{i - 1}"
        parts.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{src}" targetRef="t{i}"/>')
    last = f"t{tasks - 1}" if tasks else "start"
    parts.append(f'<bpmn:endEvent id="end"><bpmn:incoming>f{tasks}</bpmn:incoming></bpmn:endEvent>')
    parts.append(f'<bpmn:sequenceFlow id="f{tasks}" sourceRef="{last}" targetRef="end"/>')
    return process("".join(parts))
