"""PostgreSQL storage for rows every workflow step rewrites.

Each step rewrites its instance row (a state of several KB) and usually a human task row.
Room left in each page (fillfactor) lets PostgreSQL update them in place (a HOT update, no
index entries to add), and lz4 compresses the state at a fraction of pglz's CPU. SQLite
has neither; there this migration does nothing.

Revision ID: k0004
Revises: k0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import logging

from alembic import op
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

revision = "k0004"
down_revision = "k0003"
branch_labels = None
depends_on = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    op.execute("ALTER TABLE workflow_instance SET (fillfactor = 70)")
    op.execute("ALTER TABLE human_task SET (fillfactor = 80)")
    # A server built without lz4 refuses it: keep pglz there rather than fail the upgrade.
    connection = op.get_bind()
    try:
        with connection.begin_nested():
            connection.exec_driver_sql(
                "ALTER TABLE workflow_instance ALTER COLUMN state SET COMPRESSION lz4"
            )
    except DBAPIError:
        log.warning("this PostgreSQL has no lz4: workflow state stays compressed with pglz")


def downgrade() -> None:
    if not _postgres():
        return
    op.execute("ALTER TABLE workflow_instance ALTER COLUMN state SET COMPRESSION pglz")
    op.execute("ALTER TABLE human_task RESET (fillfactor)")
    op.execute("ALTER TABLE workflow_instance RESET (fillfactor)")
