"""Every decimal the services publish (/openapi.json of each service, docs/asyncapi.yaml) is
documented as what really travels: a decimal string, or a StrictDecimal's string-or-number
`anyOf`; never a bare `number`, which the servers neither answer nor send."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from marshmallow import fields

from contractflow.contracts.schemas.decimals import StrictDecimal, answered_as_text
from contractflow.db import make_engine
from contractflow.migrate import upgrade
from tests.conftest import service_settings

SERVICES = ("negotiation", "approval", "renewal")
ASYNCAPI = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.yaml"


def openapi_of(name: str, tmp_path: Path) -> dict[str, Any]:
    settings = service_settings(name, f"sqlite:///{tmp_path / 'db.sqlite3'}", "k-test.")
    upgrade(make_engine(settings.database_url), name)
    app = importlib.import_module(f"services.{name}.app").create_app(settings)
    document: dict[str, Any] = app.test_client().get("/openapi.json").get_json()
    return document


def bare_numbers(node: Any, where: str = "") -> Iterator[str]:
    """Paths of `type: number` schemas that are not a branch of an anyOf offering a string."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from bare_numbers(item, f"{where}[{i}]")
        return
    if not isinstance(node, dict):
        return
    types = node.get("type")
    if types == "number" or (isinstance(types, list) and "number" in types):
        yield where
    for key, value in node.items():
        if key == "anyOf" and isinstance(value, list):
            has_string = any(isinstance(b, dict) and b.get("type") == "string" for b in value)
            for i, branch in enumerate(value):
                if has_string and isinstance(branch, dict) and branch.get("type") == "number":
                    continue
                yield from bare_numbers(branch, f"{where}.anyOf[{i}]")
        else:
            yield from bare_numbers(value, f"{where}.{key}")


@pytest.mark.parametrize("name", SERVICES)
def test_no_service_publishes_a_decimal_as_a_bare_number(name: str, tmp_path: Path) -> None:
    document = openapi_of(name, tmp_path)
    assert list(bare_numbers(document["components"])) == []
    assert list(bare_numbers(document["paths"])) == []


def test_no_event_publishes_a_decimal_as_a_bare_number() -> None:
    document = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    assert list(bare_numbers(document["components"]["schemas"])) == []


def test_the_renewal_amounts_are_published_as_a_string_or_number(tmp_path: Path) -> None:
    schemas = openapi_of("renewal", tmp_path)["components"]["schemas"]
    kpi = schemas["KpiReportBody"]["properties"]
    assert [b["type"] for b in kpi["mean_response_minutes"]["anyOf"]] == ["string", "number"]


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        ("-50", True),
        ("-50.00", True),
        ("-50.01", False),
        ("100", True),
        ("100.01", False),
        ("-0.5", True),
        ("12.345", False),
        ("99.99", True),
        ("101", False),
        ("-51", False),
    ],
)
def test_an_index_percent_from_minus_fifty_to_a_hundred_as_a_string(text: str, taken: bool) -> None:
    from services.renewal.schemas import RenewalDecisionForm

    field = RenewalDecisionForm().fields["index_percent"]
    pattern = field.json_schema()["anyOf"][0]["pattern"]
    assert bool(re.fullmatch(pattern, text)) is taken
    errors = RenewalDecisionForm().validate({"choice": "renew_same_terms", "index_percent": text})
    assert ("index_percent" not in errors) is taken


def test_an_answered_decimal_string_matches_its_published_pattern() -> None:
    field = fields.Decimal(as_string=True, places=2)
    published = answered_as_text(field)
    assert published is not None and published["type"] == "string"
    for value in (Decimal("0"), Decimal("-12.5"), Decimal("1234567890123456.99")):
        assert re.fullmatch(published["pattern"], field.serialize("v", {"v": value}))
    assert answered_as_text(StrictDecimal()) is None  # it describes itself
