"""A held message keeps the record that carried it.

When its TTL runs out it is dead-lettered; with the original topic, partition, offset and
bytes the letter can be replayed where it came from (`contractflow dlq replay`). Rows held
before this revision have none and their letters say so.

Revision ID: k0006
Revises: k0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0006"
down_revision = "k0005"
branch_labels = None
depends_on = None

COLUMNS = (
    ("origin_topic", sa.String(249)),
    ("origin_partition", sa.Integer()),
    ("origin_offset", sa.BigInteger()),
    ("origin_key", sa.LargeBinary()),
    ("origin_value", sa.LargeBinary()),
)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("held_message", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("held_message") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
