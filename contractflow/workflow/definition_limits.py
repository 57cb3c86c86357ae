"""What the engine cannot run or its parser cannot take, found before they are tried, and
a parser's failures put as sentences a modeller can act on.

The parser is SpiffWorkflow's: it recurses along sequence flows (a few hundred elements
in one chain exhaust Python's stack), does not know DMN decision requirement graphs (it
fails with "'list' object has no attribute 'tag'"), and names XML nodes by their repr.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# More elements than this in one document is no business process a person maintains,
# and parsing and checking it would hold a worker for seconds.
MAX_ELEMENTS = 20_000
# How a document may name the language of a script or condition: the engine runs Python.
PYTHON_LANGUAGES = {"python", "python3", "text/python", "text/x-python", "application/x-python"}
TOO_DEEP = (
    "the process is chained or nested too deeply for the parser (several hundred "
    "elements one after another, or sub-processes nested hundreds deep); split it into "
    "call activities or sub-processes"
)
_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-fA-F]+>")
_DATA_ASSOCIATION = re.compile(r"^Cannot resolve (data(?:Input|Output)Association)\b")


def too_large(root: Any) -> str | None:
    count = sum(1 for _ in root.iter())
    if count > MAX_ELEMENTS:
        return f"has {count:,} XML elements; a definition may have at most {MAX_ELEMENTS:,}"
    return None


def foreign_languages(root: Any) -> list[tuple[str, str]]:
    """(element id, reason) for scripts and conditions in a language the engine cannot
    run (`scriptFormat="xslt"`, `language="javascript"`): refused, not run as Python."""
    found = []
    for element in root.iter(f"{{{BPMN_NS}}}*"):
        for attribute in ("scriptFormat", "language"):
            language = element.get(attribute)
            if language is None or language.strip().lower() in PYTHON_LANGUAGES:
                continue
            owner = element if element.get("id") else element.getparent()
            found.append(
                (
                    str(owner.get("id", "")) if owner is not None else "",
                    f"bpmn:{etree.QName(element).localname} has {attribute}={language!r}; "
                    "the engine runs Python only (write python, or leave it out)",
                )
            )
    return found


def unsupported_dmn(root: Any) -> list[tuple[str, str]]:
    """(element id, reason) for DMN the decision engine cannot evaluate: each decision
    must be one decision table, with no requirements on other decisions."""
    found = []
    for decision in root:
        if not isinstance(decision.tag, str) or etree.QName(decision).localname != "decision":
            continue
        ident = str(decision.get("id", ""))
        children = {etree.QName(c).localname for c in decision if isinstance(c.tag, str)}
        required = children & {
            "informationRequirement",
            "knowledgeRequirement",
            "authorityRequirement",
        }
        if required:
            found.append(
                (
                    ident,
                    f"decision requirement graphs ({', '.join(sorted(required))}) are not "
                    "supported: evaluate the decisions one after another with business rule "
                    "tasks in the BPMN",
                )
            )
        tables = [c for c in decision if isinstance(c.tag, str) and c.tag.endswith("decisionTable")]
        if len(tables) != 1:
            others = sorted(children - {"decisionTable", "description", "extensionElements"})
            found.append(
                (
                    ident,
                    "a decision must be exactly one decision table"
                    + (f" (found {', '.join(others)})" if others and not tables else ""),
                )
            )
    return found


def explain(exc: BaseException, root: Any = None, element_id: str = "") -> str:
    """A failure of the parser as a sentence about the document."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    if any(isinstance(e, RecursionError) for e in chain) or "recursion depth" in str(exc):
        return TOO_DEEP
    if any(isinstance(e, MemoryError) for e in chain):
        return "the document is too large for the parser"
    text = str(exc.args[0]) if exc.args else ""
    association = _DATA_ASSOCIATION.match(text)
    if association and root is not None and element_id:
        return _unresolved_data(root, element_id, association.group(1))
    text = _ELEMENT_REPR.sub(lambda m: f"bpmn:{m.group(1)}", text)
    if isinstance(exc, AttributeError | TypeError | KeyError | IndexError | ValueError):
        # An internal error of the parser: what it tripped on is the best hint there is.
        return f"the parser cannot read this element ({type(exc).__name__}: {text})"
    return text or type(exc).__name__


def _unresolved_data(root: Any, element_id: str, association: str) -> str:
    ref_tag = "sourceRef" if association == "dataInputAssociation" else "targetRef"
    refs = [
        (ref.text or "").strip()
        for element in root.iter()
        if element.get("id") == element_id
        for ref in element.iter(f"{{{BPMN_NS}}}{ref_tag}")
    ]
    names = ", ".join(repr(r) for r in refs if r) or "nothing"
    return (
        f"its {association} ({ref_tag}) refers to {names}, which is no data object, data "
        "object reference or data store of this process"
    )
