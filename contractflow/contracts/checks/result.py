"""The shape every signing check returns: problems an API renders and a workflow branches on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ProblemSeverity(StrEnum):
    BLOCKING = "blocking"  # the draft cannot go to approval until this is fixed
    WARNING = "warning"  # reviewers should see it; it does not stop the workflow


@dataclass(frozen=True)
class Problem:
    clause: str  # e.g. "confidentiality", "provider_qualification", "licence", "budget"
    field: str | None  # dotted path into the terms, e.g. "confidentiality.handling_at_end"
    code: str  # stable, machine-readable: "field_missing", "business_licence_expired", ...
    message: str
    severity: ProblemSeverity = ProblemSeverity.BLOCKING

    def to_dict(self) -> dict[str, Any]:
        return {
            "clause": self.clause,
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "severity": self.severity.value,
        }


@dataclass(frozen=True)
class CheckResult:
    check: str
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing blocks; warnings alone do not."""
        return not self.blocking

    @property
    def blocking(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is ProblemSeverity.BLOCKING)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is ProblemSeverity.WARNING)

    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "ok": self.ok,
            "problems": [problem.to_dict() for problem in self.problems],
        }
