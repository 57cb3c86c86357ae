"""The published event catalogue (docs/asyncapi.yaml) is what the code generates, is a valid
AsyncAPI 3.0 document, names who really publishes and consumes each event, and no event
type's schema changes incompatibly without a new version."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from contractflow.events import compatibility
from contractflow.events.asyncapi import DOCUMENT, build_asyncapi, render_yaml
from contractflow.events.parties import PARTIES, SERVICES
from contractflow.events.schemas import default_catalogue
from tests.conftest import service_settings

ROOT = Path(__file__).resolve().parents[3]
SPECS = ROOT / "tools" / "asyncapi" / "node_modules" / "@asyncapi" / "specs" / "schemas"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_asyncapi(default_catalogue())


def test_the_committed_document_is_what_the_catalogue_generates(document: dict) -> None:
    committed = (ROOT / DOCUMENT).read_text(encoding="utf-8")
    assert committed == render_yaml(document), (
        "docs/asyncapi.yaml is out of date: run `make asyncapi` and commit it"
    )


def asyncapi_3_schema() -> dict[str, Any]:
    path = SPECS / "3.0.0-without-$id.json"
    if not path.exists():
        message = f"{path} is missing: `make test` installs it (npm ci in tools/asyncapi)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_document_is_valid_asyncapi_3(document: dict) -> None:
    validator = jsonschema.Draft7Validator(asyncapi_3_schema())
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


def test_the_validator_refuses_a_broken_document(document: dict) -> None:
    broken = copy.deepcopy(document)
    operation = next(iter(broken["operations"].values()))
    operation["action"] = "publish"  # AsyncAPI 2's word; 3.0 knows send and receive
    del broken["channels"]["contract"]["address"]
    broken["channels"]["contract"]["adress"] = "contractflow.contract"
    validator = jsonschema.Draft7Validator(asyncapi_3_schema())
    assert len(list(validator.iter_errors(broken))) >= 2


def test_every_service_serves_the_document(document: dict, tmp_path: Path) -> None:
    from contractflow.web import create_service_app

    kernel = _bootstrapped("approval", tmp_path)
    response = create_service_app(kernel.web()).test_client().get("/asyncapi.json")
    assert response.status_code == 200
    served = response.get_json()
    assert served["channels"]["contract"]["address"] == "test.contract"  # its topic prefix
    assert served["components"] == json.loads(json.dumps(document["components"]))


def test_every_catalogued_event_names_its_publishers_and_consumers() -> None:
    names = {event_type.name for event_type in default_catalogue()}
    assert names == set(PARTIES), "contractflow/events/parties.py must list exactly the catalogue"


@pytest.mark.parametrize("service", SERVICES)
def test_the_parties_map_is_what_the_services_really_do(service: str, tmp_path: Path) -> None:
    kernel = _bootstrapped(service, tmp_path)
    catalogue = default_catalogue()
    consumed = {catalogue.get(t).name for t in kernel.handlers}
    declared = {name for name, p in PARTIES.items() if service in p.consumers}
    assert consumed == declared, f"{service} handles {sorted(consumed)}"
    runtime = kernel.extensions.get("contractflow.workflow")
    thrown = {catalogue.get(t).name for t in getattr(runtime, "publications", {}).event_types()}
    published = {name for name, p in PARTIES.items() if service in p.publishers}
    assert thrown <= published, f"{service}'s workflows throw {sorted(thrown - published)}"


def test_the_reference_erp_reads_and_sends_only_what_the_map_gives_the_erp(
    tmp_path: Path,
) -> None:
    kernel = _bootstrapped("erp_connector", tmp_path)
    catalogue = default_catalogue()
    consumed = {catalogue.get(t).name for t in kernel.handlers}
    assert consumed <= {name for name, p in PARTIES.items() if "erp" in p.consumers}
    for sent in ("erp.purchase_order.created", "erp.payment.recorded", "erp.vendor.updated"):
        assert "erp" in PARTIES[sent].publishers


def _bootstrapped(service: str, tmp_path: Path) -> Any:
    import importlib

    from contractflow.db import make_engine
    from contractflow.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine, service)
    engine.dispose()
    bootstrap = importlib.import_module(f"services.{service}.bootstrap").bootstrap
    return bootstrap(service_settings(service, url, "test."))


# -- schema evolution ----------------------------------------------------------------------
def test_no_event_schema_changed_incompatibly_without_a_new_version(document: dict) -> None:
    lock = compatibility.read_lock(ROOT / compatibility.LOCK)
    current = compatibility.resolved_data_schemas(document)
    missing = sorted(set(current) - set(lock))
    assert not missing, f"not in {compatibility.LOCK}: {missing}; run `make asyncapi`"
    _, problems = compatibility.updated_lock(lock, current)
    assert problems == []
    assert compatibility.updated_lock(lock, current)[0] == lock, "run `make asyncapi`"


OLD = {
    "type": "object",
    "required": ["contract_id"],
    "properties": {
        "contract_id": {"type": "string"},
        "total": {"type": "object", "properties": {"amount": {"type": "string"}}},
        "kind": {"type": "string", "enum": ["automatic", "temporary"]},
        "until": {"type": "string", "format": "date"},
    },
}


def changed(**edit: Any) -> dict[str, Any]:
    new = copy.deepcopy(OLD)
    for path, value in edit.items():
        *parents, last = path.split("__")
        node = new
        for part in parents:
            node = node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return new


@pytest.mark.parametrize(
    ("new", "complaint"),
    [
        (changed(properties__total=None), "data.total: field removed"),
        (changed(properties__total__properties__amount=None), "data.total.amount: field removed"),
        (changed(required=["contract_id", "until"]), "data.until: made required"),
        (changed(properties__contract_id={"type": "integer"}), "data.contract_id: type"),
        (changed(properties__until={"type": "string"}), "data.until: format"),
        (changed(properties__kind__enum=["automatic"]), "data.kind: enum values dropped"),
    ],
)
def test_each_breaking_change_is_named(new: dict, complaint: str) -> None:
    problems = compatibility.incompatibilities(OLD, new)
    assert any(p.startswith(complaint) for p in problems), problems


def test_an_added_optional_field_is_compatible_and_the_lock_follows_it() -> None:
    new = changed(properties__note={"type": "string"})
    assert compatibility.incompatibilities(OLD, new) == []
    lock, problems = compatibility.updated_lock({"x.v1": OLD}, {"x.v1": new, "y.v1": OLD})
    assert problems == [] and lock == {"x.v1": new, "y.v1": OLD}


def test_a_breaking_change_stays_out_of_the_lock() -> None:
    new = changed(properties__total=None)
    lock, problems = compatibility.updated_lock({"x.v1": OLD}, {"x.v1": new})
    assert lock == {"x.v1": OLD} and problems == ["x.v1: data.total: field removed"]


def test_the_yaml_parses_back_to_the_document(document: dict) -> None:
    assert yaml.safe_load(render_yaml(document)) == json.loads(json.dumps(document))
