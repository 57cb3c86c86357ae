"""The signing checks run against a stored draft: the pure checks of `contractflow.contracts`
plus what only this service knows (its other active contracts, the requirement's budget)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.contracts import (
    CheckResult,
    FeeQuote,
    IncompleteTermsError,
    LicenceGrant,
    Money,
    Problem,
    TermsValidationError,
    calculate_fees,
    check_budget,
    check_clause_completeness,
    check_licence_conflicts,
    load_contract_terms,
)
from contractflow.contracts.checks import grant_from_terms
from contractflow.contracts.money import CurrencyMismatchError
from contractflow.contracts.terms import ContractTerms
from contractflow.db import transaction_memo
from services.negotiation import vendors
from services.negotiation.models import HOLDS_LICENCE, ContractDraft


@dataclass
class SigningChecks:
    """Every check of one draft; `blocking` lists what stops submission for approval."""

    results: list[CheckResult]
    quote: FeeQuote | None = None
    budget: dict[str, Any] | None = None
    fee_problems: list[Problem] = field(default_factory=list)

    @property
    def blocking(self) -> list[Problem]:
        return [p for r in self.results for p in r.blocking] + self.fee_problems

    @property
    def ok(self) -> bool:
        return not self.blocking

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "blocking": [p.to_dict() for p in self.blocking],
            "results": {r.check: r.to_dict() for r in self.results},
            "budget": self.budget,
        }


def stored_terms(draft: ContractDraft) -> ContractTerms:
    return _terms_of(json.dumps(draft.terms, sort_keys=True), draft.timezone)


@functools.lru_cache(maxsize=4096)
def _terms_of(terms_json: str, timezone: str) -> ContractTerms:
    """Loaded terms by their content: one request (and the next one, or the conflict check
    of another contract) loads the same stored terms several times, a schema load is a few
    ms where encoding the key is a few µs, and ContractTerms is immutable, so one instance
    serves them all."""
    return load_contract_terms(json.loads(terms_json), default_timezone=timezone)


class GrantCache:
    """Licence grants of stored drafts by (database, contract id, row version), the least
    recently used dropped first. A draft's version changes with every write of its row
    (the mapper's version_id_col), so an entry never goes stale. The conflict check
    compares a draft with every other contract for the same software; loading each one's
    whole terms on every check was most of a submission's CPU, and grew with the number
    of contracts (issue 13 bench)."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._grants: OrderedDict[tuple[str, str, int], LicenceGrant | None] = OrderedDict()
        self._lock = threading.Lock()

    def grants(self, session: Session, heads: list[tuple[str, int]]) -> list[LicenceGrant | None]:
        """The grant of each (contract id, version), loading only the drafts not known."""
        database = str(session.get_bind().url)
        with self._lock:
            known = {
                head: self._grants[(database, *head)]
                for head in heads
                if (database, *head) in self._grants
            }
        missing = [head for head in heads if head not in known]
        learnt: dict[tuple[str, int], LicenceGrant | None] = {}
        for start in range(0, len(missing), 500):
            chunk = dict(missing[start : start + 500])
            # The columns a grant is made of, not the drafts: every in-flight contract's
            # version moves at each of its steps, so a submission loads the others again,
            # and their whole rows (quote, checks, reviews) were most of that load.
            for contract_id, version, terms, timezone in session.execute(
                select(
                    ContractDraft.contract_id,
                    ContractDraft.version,
                    ContractDraft.terms,
                    ContractDraft.timezone,
                ).where(ContractDraft.contract_id.in_(chunk))
            ):
                grant = _grant_of(contract_id, terms, timezone)
                known[(contract_id, chunk[contract_id])] = grant
                if version == chunk[contract_id]:  # not written since the heads were read
                    learnt[(contract_id, version)] = grant
        with self._lock:
            for head in heads:
                key = (database, *head)
                if head in learnt:
                    self._grants[key] = learnt[head]
                if key in self._grants:
                    self._grants.move_to_end(key)
            while len(self._grants) > self.capacity:
                self._grants.popitem(last=False)
        return [known.get(head) for head in heads]


GRANTS = GrantCache()


def _grant_of(contract_id: str, terms: dict[str, Any], timezone: str) -> LicenceGrant | None:
    try:
        return grant_from_terms(_terms_of(json.dumps(terms, sort_keys=True), timezone), contract_id)
    except TermsValidationError:  # stored by an older schema; it cannot hold a grant
        return None


def active_grants(
    session: Session, software_id: str, exclude_contract_id: str | None
) -> list[LicenceGrant]:
    """Licences of this service's signed and in-progress contracts for the same software."""
    query = select(ContractDraft.contract_id, ContractDraft.version).where(
        ContractDraft.licence_software_id == software_id.strip().casefold(),
        ContractDraft.status.in_(HOLDS_LICENCE),
    )
    if exclude_contract_id is not None:
        query = query.where(ContractDraft.contract_id != exclude_contract_id)
    heads = [(contract_id, version) for contract_id, version in session.execute(query)]
    return [grant for grant in GRANTS.grants(session, heads) if grant is not None]


def licence_conflicts(
    session: Session, terms: ContractTerms, contract_id: str | None
) -> CheckResult:
    software_id = terms.licence.software_id if terms.licence else None
    others = active_grants(session, software_id, contract_id) if software_id else []
    return check_licence_conflicts(terms, others, draft_contract_id=contract_id)


def price(terms: ContractTerms) -> tuple[FeeQuote | None, list[Problem]]:
    quote, problems = _priced_same(_SameTerms(terms))
    return quote, list(problems)


def quote_of(terms: ContractTerms) -> FeeQuote:
    """calculate_fees(terms), raising as it does; priced once per terms (see _priced)."""
    quote, _ = _priced_same(_SameTerms(terms))
    return quote if quote is not None else calculate_fees(terms)  # raises what failed


class _SameTerms:
    """Terms as a cache key by identity. Stored terms are one shared instance per content
    (_terms_of), priced several times per step, and _ExactTerms' key, the repr of the
    whole terms, cost more than the lookup it keys (~2 % of negotiation web's CPU per
    lifecycle, py-spy). The cache entry holds the terms, so their id is not reused while
    it lives."""

    __slots__ = ("terms",)

    def __init__(self, terms: ContractTerms) -> None:
        self.terms = terms

    def __hash__(self) -> int:
        return id(self.terms)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SameTerms) and other.terms is self.terms


@functools.lru_cache(maxsize=1024)
def _priced_same(same: _SameTerms) -> tuple[FeeQuote | None, tuple[Problem, ...]]:
    """_priced of these very terms; equal terms that are another instance meet in _priced."""
    return _priced(_ExactTerms(same.terms))


class _ExactTerms:
    """Terms as a cache key by their exact value: the repr of the frozen dataclasses, which
    tells Decimal("1.0") from Decimal("1.00") and 1 from True, where == does not."""

    __slots__ = ("key", "terms")

    def __init__(self, terms: ContractTerms) -> None:
        self.terms, self.key = terms, repr(terms)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ExactTerms) and other.key == self.key


@functools.lru_cache(maxsize=1024)
def _priced(exact: _ExactTerms) -> tuple[FeeQuote | None, tuple[Problem, ...]]:
    """The quote of these terms: one lifecycle prices the same stored terms at creation,
    each check, the finance review and signing, a few ms each (most of a step's service-task
    CPU, issue 13 bench) where the key costs a tenth of a ms. ContractTerms and FeeQuote are
    frozen, and pricing reads nothing but the terms and the constant default price list."""
    try:
        return calculate_fees(exact.terms), ()
    except IncompleteTermsError as incomplete:
        return None, tuple(
            Problem("fees", path, "needed_for_pricing", f"fees: {path} is needed to price")
            for path in incomplete.missing
        )
    except (ValueError, KeyError) as error:
        return None, (Problem("fees", "fees", "invalid", f"fees: {error}"),)


def assess_budget(
    quote: FeeQuote | None, budget: Money | None, finance_accepted: bool = False
) -> dict[str, Any]:
    """The budget check's answer; "not_priced" or "no_budget" when it cannot be made yet."""
    if quote is None:
        return {"check": "budget", "ok": True, "status": "not_priced", "problems": []}
    if budget is None:
        return {"check": "budget", "ok": True, "status": "no_budget", "problems": []}
    try:
        return check_budget(quote.total, budget, finance_accepted=finance_accepted).to_dict()
    except CurrencyMismatchError as error:
        problem = Problem("budget", "fees", "currency_mismatch", f"budget: {error}")
        return {
            "check": "budget",
            "ok": False,
            "status": "invalid",
            "problems": [problem.to_dict()],
        }


def draft_budget(draft: ContractDraft) -> Money | None:
    if draft.budget_amount is None or draft.budget_currency is None:
        return None
    return Money(draft.budget_amount, draft.budget_currency)


def chosen_provider(draft: ContractDraft) -> str | None:
    research = (draft.requirement or {}).get("provider_research") or {}
    return research.get("chosen_provider")


def check_provider_choice(terms: ContractTerms, chosen: str | None) -> CheckResult:
    """The provider the research chose is the one the terms name (a short name such as
    "杭州云维" for "杭州云维信息技术有限公司" counts; spaces and case do not)."""
    provider = terms.parties.provider if terms.parties else None
    if not chosen or provider is None or not provider.name:
        return CheckResult("provider_choice")  # nothing to compare yet
    a, b = ("".join(x.split()).casefold() for x in (chosen, provider.name))
    if a in b or b in a:
        return CheckResult("provider_choice")
    return CheckResult(
        "provider_choice",
        (
            Problem(
                "parties",
                "parties.provider.name",
                "chosen_provider_differs",
                f"the provider research chose {chosen!r} but the terms name {provider.name!r}; "
                "correct the terms or the research",
            ),
        ),
    )


def refresh_checks(
    session: Session, draft: ContractDraft, terms: ContractTerms, now: dt.datetime
) -> dict[str, Any] | None:
    """The checks the draft shows, run again on edited terms (same shape as stored)."""
    stored = draft.checks
    if not stored:
        return stored
    if "results" in stored:  # the full signing checks have run: run them all again
        return run_signing_checks(session, draft, terms, now).to_dict()
    refreshed = dict(stored)
    if "provider_qualification" in stored:
        refreshed["provider_qualification"] = vendors.check_qualification(
            session, terms, now=now
        ).to_dict()
    if "provider_choice" in stored:
        refreshed["provider_choice"] = check_provider_choice(
            terms, chosen_provider(draft)
        ).to_dict()
    if "budget" in stored:
        quote, _ = price(terms)
        refreshed["budget"] = assess_budget(quote, draft_budget(draft))
    return refreshed


def run_signing_checks(
    session: Session, draft: ContractDraft, terms: ContractTerms, now: dt.datetime
) -> SigningChecks:
    """Everything the seed says to watch before signing; over budget does not block here
    (the finance review decides), an incomplete fee clause does."""
    quote, fee_problems = price(terms)
    completeness = check_clause_completeness(terms)
    reported = {p.field for p in completeness.problems}
    return SigningChecks(
        results=[
            completeness,
            vendors.check_qualification(session, terms, now=now),
            licence_conflicts(session, terms, draft.contract_id),
            check_provider_choice(terms, chosen_provider(draft)),
        ],
        quote=quote,
        budget=assess_budget(quote, draft_budget(draft)),
        # the completeness check already names most of what pricing lacks
        fee_problems=[p for p in fee_problems if p.field not in reported],
    )


_CHECKED = "negotiation.signing_checks"  # transaction_memo: {contract id: (version, checks)}


def stored_draft_checks(session: Session, draft: ContractDraft, now: dt.datetime) -> SigningChecks:
    """run_signing_checks on the draft's stored terms, once per row version in a
    transaction. Submitting runs them to refuse with a 422, then the drafting task it
    completes runs them again as the workflow's gate (check_draft) on the same row in the
    same transaction: the second run read the same vendor and licence rows again for the
    same answer (~4 % of negotiation web's CPU per lifecycle). The row's version changes
    with every write of it, so a draft changed in between is checked again."""
    checked: dict[str, tuple[int, SigningChecks]] = transaction_memo(session, _CHECKED, dict)
    known = checked.get(draft.contract_id)
    if known is not None and known[0] == draft.version:
        return known[1]
    checks = run_signing_checks(session, draft, stored_terms(draft), now)
    checked[draft.contract_id] = (draft.version, checks)
    return checks
