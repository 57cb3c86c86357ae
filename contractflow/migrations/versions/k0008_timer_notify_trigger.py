"""PostgreSQL wakes the worker's timer job when workflow timers are written.

The timer job sleeps until the earliest timer is due instead of querying every second; a
transaction that writes a timer (a new wait, a moved start schedule) may have made one
due sooner, so statement-level triggers on `workflow_timer` and `workflow_start_timer`
send NOTIFY at its commit (once per transaction, none on rollback) and the job LISTENs
(contractflow.workflow_timer_wait.TIMERS_CHANNEL). SQLite has no NOTIFY: its waiter wakes
on any commit to the file. Nothing to do there.

Revision ID: k0008
Revises: k0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "k0008"
down_revision = "k0007"
branch_labels = None
depends_on = None

CHANNEL = "contractflow_timers"  # TIMERS_CHANNEL at the time of writing
TABLES = ("workflow_timer", "workflow_start_timer")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION contractflow_timer_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_wakes_scheduler AFTER INSERT OR UPDATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION contractflow_timer_notify()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_wakes_scheduler ON {table}")
    op.execute("DROP FUNCTION contractflow_timer_notify()")
