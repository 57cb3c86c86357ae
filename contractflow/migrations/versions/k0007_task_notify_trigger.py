"""PostgreSQL wakes the workers' task jobs when human tasks are opened.

The task notices (every service) and approval's task routing react to newly opened tasks;
they ran a query every second to find them. A statement-level trigger on `human_task`
sends NOTIFY at the writer's commit (once per transaction, none on rollback) and the jobs
LISTEN (contractflow.service_workflows.OPENED_TASKS_CHANNEL). SQLite has no NOTIFY: its
waiters wake on any commit to the file. Nothing to do there.

Revision ID: k0007
Revises: k0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "k0007"
down_revision = "k0006"
branch_labels = None
depends_on = None

CHANNEL = "contractflow_tasks"  # OPENED_TASKS_CHANNEL at the time of writing


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION contractflow_task_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER human_task_wakes_jobs AFTER INSERT ON human_task "
        "FOR EACH STATEMENT EXECUTE FUNCTION contractflow_task_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER human_task_wakes_jobs ON human_task")
    op.execute("DROP FUNCTION contractflow_task_notify()")
