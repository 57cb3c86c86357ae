"""One unit of work per request, with the domain's and the runtime's errors as problems."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from contractflow.contracts import TermsValidationError
from contractflow.db import unit_of_work
from contractflow.web import ProblemError
from contractflow.workflow.api import workflow_problems
from services.negotiation.drafts import DraftProblem


def terms_problem(error: TermsValidationError, prefix: str = "terms") -> ProblemError:
    return ProblemError(
        422,
        "Invalid contract terms",
        "some clauses are invalid; see 'errors' (by dotted field path)",
        errors={f"{prefix}.{path}": messages for path, messages in error.errors.items()},
    )


@contextmanager
def work(sessions: sessionmaker[Session]) -> Iterator[Session]:
    try:
        with workflow_problems(), unit_of_work(sessions) as session:
            yield session
    except TermsValidationError as error:
        raise terms_problem(error) from None
    except DraftProblem as problem:
        raise ProblemError(problem.status, problem.title, problem.detail, **problem.extra) from None
    except StaleDataError:
        raise ProblemError(
            409, "Contract changed meanwhile", "another change was saved first; reload and retry"
        ) from None
