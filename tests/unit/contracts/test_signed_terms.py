"""The terms of a `contract.signed` event, read as approval and renewal both read them."""

from __future__ import annotations

import pytest

from contractflow.contracts import dump_contract_terms
from contractflow.contracts.samples import sample_terms
from contractflow.contracts.signed_terms import SignedTermsInvalid, signed_terms


def test_the_terms_load_and_an_event_without_terms_has_none():
    terms = sample_terms()
    assert signed_terms("ev-1", dump_contract_terms(terms)) == terms
    assert signed_terms("ev-1", None) is None


def test_a_zone_the_terms_do_not_name_is_the_readers_default():
    raw = {k: v for k, v in dump_contract_terms(sample_terms()).items() if k != "timezone"}
    assert signed_terms("ev-1", raw, default_timezone="Europe/Berlin").timezone == "Europe/Berlin"


def test_invalid_terms_name_the_event_and_each_wrong_clause():
    raw = dump_contract_terms(sample_terms())
    raw["service_term"] = {**raw["service_term"], "start_date": "soon"}
    with pytest.raises(SignedTermsInvalid) as invalid:
        signed_terms("ev-7", raw)
    assert str(invalid.value).startswith("contract.signed event ev-7: terms.service_term.")
    assert list(invalid.value.errors) == ["terms.service_term.start_date"]


def test_an_amendments_terms_are_read_the_same_and_named_so():
    raw = dump_contract_terms(sample_terms())
    raw["service_term"] = {**raw["service_term"], "end_date": "later"}
    with pytest.raises(SignedTermsInvalid, match=r"^contract.amended event ev-8: terms\."):
        signed_terms("ev-8", raw, event_type="contract.amended")
