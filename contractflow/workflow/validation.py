"""Checks a BPMN or DMN document before anything runs it, element by element.

Every problem names the file, the BPMN element id and the reason; the validator never
raises on a document it cannot understand, it reports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from contractflow.workflow import definition_limits as limits
from contractflow.workflow import problem_codes as codes
from contractflow.workflow.expressions import expressions_of_dmn, expressions_of_spec
from contractflow.workflow.parser import WorkflowParser
from contractflow.workflow.scripts import UnsafeScript, check_script
from contractflow.workflow.timers import (
    TimerValueInvalid,
    check_timer_literal,
    constant_value,
    is_iso_literal,
)

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/", "http://www.omg.org/spec/DMN/")
# Flow elements that are containers or notation, not something the engine must run.
PASSIVE = {
    "sequenceFlow",
    "laneSet",
    "lane",
    "flowNodeRef",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
    "textAnnotation",
    "association",
    "group",
    "extensionElements",
    "documentation",
    "incoming",
    "outgoing",
    "ioSpecification",
    "dataInputAssociation",
    "dataOutputAssociation",
    "property",
    "childLaneSet",
    "category",
    "conditionExpression",
    "multiInstanceLoopCharacteristics",
    "standardLoopCharacteristics",
    "dataInput",
    "dataOutput",
    "inputSet",
    "outputSet",
}


@dataclass(frozen=True)
class Problem:
    file_name: str
    element_id: str
    reason: str
    # What it is for a page in its reader's language (problem_codes), when it is known.
    code: str = ""
    params: dict[str, str] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        where = f"element {self.element_id!r}" if self.element_id else "document"
        return f"{self.file_name}: {where}: {self.reason}"


class DefinitionInvalid(ValueError):
    """One or more documents cannot be deployed; `problems` lists every reason found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("invalid workflow definition:\n  " + "\n  ".join(map(str, self.problems)))


@dataclass
class Document:
    file_name: str
    content: str
    root: Any

    @property
    def is_dmn(self) -> bool:
        return any(str(self.root.tag).startswith("{" + ns) for ns in DMN_NAMESPACES)


def read(file_name: str, content: str) -> tuple[Document | None, list[Problem]]:
    try:
        encoded = content.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from JSON's "\ud800"
        return None, [
            Problem(
                file_name,
                "",
                f"is not valid Unicode text: {exc.object[exc.start : exc.end]!r} at character "
                f"{exc.start} cannot be encoded as UTF-8",
            )
        ]
    try:
        root = etree.fromstring(encoded)
    except etree.XMLSyntaxError as exc:
        return None, [
            Problem(
                file_name,
                "",
                f"not well-formed XML (line {exc.lineno}): {exc.msg}",
                codes.XML_MALFORMED,
                {"line": str(exc.lineno), "detail": str(exc.msg)},
            )
        ]
    size = limits.too_large(root)
    if size:
        return None, [Problem(file_name, "", size)]
    doc = Document(file_name, content, root)
    shape = limits.unsupported_dmn(root) if doc.is_dmn else []
    if shape:  # the DMN parser fails on these without saying where
        return None, [Problem(file_name, element_id, reason) for element_id, reason in shape]
    return doc, []


def add_to_parser(parser: WorkflowParser, doc: Document) -> list[Problem]:
    try:
        if doc.is_dmn:
            parser.add_dmn_xml(doc.root, filename=doc.file_name)
        else:
            parser.add_bpmn_xml(doc.root, filename=doc.file_name)
    except ValidationException as exc:
        return [_from_exception(doc, exc)]
    except Exception as exc:  # the parser is not ours: report, never crash start-up
        return [Problem(doc.file_name, "", f"cannot be read: {limits.explain(exc, doc.root)}")]
    return []


def unsupported_elements(doc: Document, parser: WorkflowParser) -> list[Problem]:
    """Elements of each process the engine has no implementation for, and why."""
    problems = [
        Problem(doc.file_name, element_id, reason)
        for element_id, reason in limits.foreign_languages(doc.root)
    ]
    for process in doc.root.iter(full_tag("process")):
        pid = process.get("id", "")
        if process.get("isExecutable", "true") != "true":
            problems.append(
                Problem(
                    doc.file_name,
                    pid,
                    "process is not executable "
                    "(isExecutable is not true): it is documentation only",
                    codes.PROCESS_NOT_EXECUTABLE,
                    {"process": pid},
                )
            )
        for element in process.iter():
            if not isinstance(element.tag, str) or not element.tag.startswith("{" + BPMN_NS):
                continue
            local = etree.QName(element).localname
            if element is process or local in PASSIVE or element.getparent() is None:
                continue
            if etree.QName(element.getparent()).localname not in (
                "process",
                "subProcess",
                "transaction",
                "adHocSubProcess",
            ):
                continue
            parser_class, _ = parser._get_parser_class(element.tag)
            if parser_class is None:
                problems.append(
                    Problem(
                        doc.file_name,
                        element.get("id", ""),
                        f"bpmn:{local} is not supported by the engine",
                        codes.ELEMENT_UNSUPPORTED,
                        {"element": f"bpmn:{local}"},
                    )
                )
    return problems


def check_expressions(file_name: str, specs: Iterable[Any]) -> list[Problem]:
    problems = []
    for spec in specs:
        for element_id, what, kind, source in expressions_of_spec(spec):
            problem = _check_one(kind, source)
            if problem:
                problems.append(_expression_problem(file_name, element_id, what, problem))
    return problems


def _expression_problem(file_name: str, element_id: str, what: str, problem: str) -> Problem:
    params = {"what": what, "detail": problem}
    return Problem(file_name, element_id, f"{what}: {problem}", codes.EXPRESSION_REFUSED, params)


def check_dmn(doc: Document, parser: WorkflowParser) -> list[Problem]:
    problems = []
    for dmn_parser in list(parser.dmn_parsers.values()):
        if dmn_parser.filename != doc.file_name:
            continue
        try:
            dmn_parser.parse()
        except Exception as exc:
            detail = limits.explain(exc, doc.root)
            problems.append(
                Problem(
                    doc.file_name,
                    dmn_parser.bpmn_id,
                    f"cannot be parsed: {detail}",
                    codes.DMN_UNPARSEABLE,
                    {"detail": detail},
                )
            )
            continue
        for element_id, what, kind, source in expressions_of_dmn(dmn_parser.decision):
            problem = _check_one(kind, source)
            if problem:
                problems.append(_expression_problem(doc.file_name, element_id, what, problem))
    return problems


def _check_one(kind: str, source: str) -> str | None:
    try:
        if kind.startswith(("timer:", "iso:")):
            return _check_timer(kind, source)
        elif kind == "dmn-cell":
            try:
                check_script(f"dmninputexpr {source}", mode="eval")
            except UnsafeScript as exc:
                if not exc.reason.startswith("syntax error"):
                    raise
                check_script(source, mode="eval")
        else:
            check_script(source, mode=kind)
    except UnsafeScript as exc:
        return f"{exc} in {source!r}"
    except ValueError as exc:
        return f"{exc} ({source!r})"
    return None


def _check_timer(kind: str, source: str) -> str | None:
    """A timer value: an ISO literal (`iso:` kinds must be one) checked against the bounds
    in `timers`, or an expression; an expression that is a constant string is checked as
    the literal it evaluates to, the others when the timer is reached."""
    timer_kind = kind.split(":")[1]
    try:
        if kind.startswith("iso:") or is_iso_literal(source):
            check_timer_literal(timer_kind, source)
            return None
        check_script(source, mode="eval")
        constant = constant_value(source)
        if constant is not None:
            check_timer_literal(timer_kind, constant)
    except TimerValueInvalid as exc:
        return str(exc)
    except UnsafeScript as exc:
        return f"{exc} in {source!r}"
    return None


def _from_exception(doc: Document, exc: ValidationException) -> Problem:
    element_id = getattr(exc, "id", "") or ""
    line = getattr(exc, "line_number", "") or ""
    if not element_id and line:
        element_id = _element_at_line(doc.root, int(line))
    reason = limits.explain(exc, doc.root, element_id)
    if line:
        reason = f"{reason} (line {line})"
    return Problem(doc.file_name, element_id, reason, codes.ENGINE_REFUSED, {"detail": reason})


def _element_at_line(root: Any, line: int) -> str:
    best = ""
    for element in root.iter():
        if getattr(element, "sourceline", None) == line and element.get("id"):
            return str(element.get("id"))
        if (getattr(element, "sourceline", 0) or 0) <= line and element.get("id"):
            best = str(element.get("id"))
    return best
