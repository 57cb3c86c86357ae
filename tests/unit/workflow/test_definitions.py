"""The validator on real-world models, the migration, and state format upgrades."""

from __future__ import annotations

import os
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from sqlalchemy import func, select, update

from contractflow.config import REPO_ROOT
from contractflow.db import Base, unit_of_work
from contractflow.workflow.definitions import inspect
from contractflow.workflow.models import DefinitionRow, InstanceRow

from .conftest import FIXTURES
from .helpers import complete, open_tasks, start, status

# ../shared beside the repository (laid there for every checkout and CI run).
MIWG = REPO_ROOT.parent / "shared" / "corpora" / "miwg"

# What the validator must say about each MIWG reference model (a fragment of a reason).
EXPECTED = {
    "A.1.0": "not executable",
    "A.2.0": "not executable",
    "A.2.1": "not executable",
    "A.3.0": "not executable",
    "A.4.0": "not executable",
    "A.4.1": "not executable",
    "B.1.0": "has no implementation",
    "B.2.0": "has no implementation",
    "C.1.0": "must have an operator",
    "C.1.1": "has no implementation",
    "C.2.0": "not executable",
    "C.3.0": "start event",
    "C.4.0": "has no implementation",
    "C.5.0": "has no implementation",
    "C.6.0": "dataInputAssociation",
    "C.7.0": "dataOutputAssociation",
    "C.8.0": "not executable",
    "C.8.1": "must have an operator",
    "C.9.0": "must have an operator",
    "C.9.1": None,
    "C.9.2": "cardinality",
}


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_miwg_reference_models_get_a_clear_verdict(model):
    path = MIWG / f"{model}.bpmn"
    if not path.exists():
        if os.environ.get("CI"):  # CI lays ../shared beside the clone: its absence is a fault
            pytest.fail(f"{path} is missing")
        pytest.skip(f"{path} is not available")
    found = inspect(path.name, path.read_text(encoding="utf-8"))
    expected = EXPECTED[model]
    if expected is None:
        assert found.problems == [] and found.provides
        return
    assert found.problems, f"{model} should not be deployable"
    assert all(p.file_name == path.name and p.reason for p in found.problems)
    assert any(expected in p.reason for p in found.problems), [str(p) for p in found.problems]


def test_not_well_formed_xml_is_reported_not_raised():
    found = inspect("broken.bpmn", "<bpmn:definitions")
    assert found.problems and "not well-formed XML" in found.problems[0].reason


def test_workflow_migrations_match_the_models(db_engine):
    ours = (
        "workflow_start_timer",
        "workflow_definition",
        "workflow_instance",
        "human_task",
        "workflow_timer",
        "message_subscription",
        "held_message",
        "workflow_incident",
        "workflow_history",
    )
    assert set(ours) <= set(Base.metadata.tables)
    with db_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if any(f"'{name}'" in repr(d) for name in ours)] == []


def test_state_saved_in_the_old_full_format_is_migrated_on_load(make_runtime, sessions):
    runtime = make_runtime("trivial.bpmn")
    iid = start(runtime, sessions, "trivial")
    with unit_of_work(sessions) as session:
        live = runtime.store.load(session, iid)
        registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
        old = BpmnWorkflowSerializer(registry).serialize_json(live.workflow).encode()
        session.execute(
            update(InstanceRow).where(InstanceRow.id == iid).values(state=old, state_format=1)
        )
    complete(runtime, sessions, iid, "confirm", {"approved": True})
    assert status(sessions, iid)[0] == "completed"


def test_open_tasks_survive_a_process_without_lanes_or_properties(make_runtime, sessions):
    runtime = make_runtime("pre_signing.bpmn")
    iid = start(runtime, sessions, "pre_signing", users=1, onsite=True)
    task = open_tasks(runtime, sessions, iid)["requirements"]
    assert (task.candidate_role, task.form_key, task.name) == ("buyer", None, "Define requirements")


def _service_folder(tmp_path, *names):
    folder = tmp_path / "negotiation"
    folder.mkdir()
    for name in names:
        (folder / name).write_text((FIXTURES / name).read_text())
    return folder


def test_decision_tables_from_the_shared_folder_drive_business_rule_tasks(
    make_runtime, sessions, tmp_path
):
    runtime = make_runtime()
    folder = _service_folder(tmp_path, "banded.bpmn")
    with unit_of_work(sessions) as session:
        rows = runtime.load_definitions(session, folder, FIXTURES / "decisions")
    assert [r.file_name for r in rows] == ["decisions/fee_band.dmn", "negotiation/banded.bpmn"]
    assert rows[1].requires == str(rows[0].id)  # the BPMN version pins the DMN version
    small = start(runtime, sessions, "banded", users=3)
    large = start(runtime, sessions, "banded", users=30)
    with unit_of_work(sessions) as session:
        assert runtime.instance(session, small).variables["band"] == "small"
        assert runtime.instance(session, large).variables["band"] == "large"
    with unit_of_work(sessions) as session:  # start-up again: nothing changed, nothing added
        again = runtime.load_definitions(session, folder, FIXTURES / "decisions")
    assert [r.id for r in again] == [r.id for r in rows]


def test_unsafe_decision_table_cell_is_rejected_with_the_rule_id(make_runtime, sessions):
    content = (
        (FIXTURES / "decisions" / "fee_band.dmn")
        .read_text()
        .replace('<text>"large"</text>', '<text>__import__("os").getcwd()</text>')
    )
    found = inspect("decisions/fee_band.dmn", content)
    assert [(p.element_id, "__import__" in p.reason) for p in found.problems] == [
        ("rule_large", True)
    ]


def test_processes_starting_together_deploy_each_file_once(make_runtime, sessions, tmp_path):
    folder = _service_folder(tmp_path, "trivial.bpmn", "fees.bpmn")
    runtimes = [make_runtime(), make_runtime()]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def boot(runtime):
        barrier.wait()
        try:
            with unit_of_work(sessions) as session:
                runtime.load_definitions(session, folder)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=boot, args=(r,)) for r in runtimes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with unit_of_work(sessions) as session:
        assert session.scalar(select(func.count()).select_from(DefinitionRow)) == 2
