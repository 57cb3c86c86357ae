"""PostgreSQL wakes the outbox relay itself when outbox rows are inserted.

Writers sent `NOTIFY contractflow_outbox` from the client: a statement and a round trip in
every transaction that writes an event. A statement-level trigger does the same inside
the server. NOTIFY is delivered at commit only, and identical notifications of one
transaction are delivered once, so it is still one wake-up per committed transaction and
none for a rolled-back one. SQLite has no NOTIFY (its relays poll): nothing to do there.

Revision ID: k0005
Revises: k0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "k0005"
down_revision = "k0004"
branch_labels = None
depends_on = None

CHANNEL = "contractflow_outbox"  # contractflow.events.wakeup.CHANNEL at the time of writing


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION contractflow_outbox_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER outbox_wakes_relay AFTER INSERT ON outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION contractflow_outbox_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER outbox_wakes_relay ON outbox")
    op.execute("DROP FUNCTION contractflow_outbox_notify()")
