"""A version an administrator deploys (the editor, a rollback) survives the service's
restart: start-up deploys a workflow file only when the file itself changed since
start-up last deployed it, so it never silently puts the old file back over the edit."""

from __future__ import annotations

from contractflow.workflow.definitions import latest_rows
from contractflow.workflow.deployment import deploy_folders, deploy_unlocked

from .conftest import fixture_text

FILE = "negotiation/trivial.bpmn"


def _latest(sessions):  # type: ignore[no-untyped-def]
    with sessions() as session:
        row = latest_rows(session, "negotiation")[FILE]
        return row.sequence, row.deployed_by, row.content


def test_an_edit_survives_a_restart_and_a_changed_file_replaces_it(
    make_runtime, sessions, tmp_path
):
    folder = tmp_path / "negotiation"
    folder.mkdir()
    (folder / "trivial.bpmn").write_text(fixture_text("trivial.bpmn"))
    runtime = make_runtime()
    deploy_folders(runtime, sessions, folder)
    edited = fixture_text("trivial_v2.bpmn")
    with sessions() as session:
        deploy_unlocked(session, runtime, FILE, edited, "ada")
        session.commit()
    assert _latest(sessions)[:2] == (2, "ada")

    restarted = deploy_folders(make_runtime(), sessions, folder)
    assert _latest(sessions) == (2, "ada", edited)
    assert [(r.file_name, r.sequence) for r in restarted.deployed] == [(FILE, 2)]

    # A new release changes the file: it is deployed over the edit, as a new version.
    released = fixture_text("trivial.bpmn").replace('name="', 'name="Released: ', 1)
    (folder / "trivial.bpmn").write_text(released)
    deploy_folders(make_runtime(), sessions, folder)
    assert _latest(sessions) == (3, "startup", released)
