"""Schema migrations: the kernel's tables plus the tables of one service, via Alembic.

Each service owns its database. Alembic sees the kernel's revisions (branch `kernel`)
and that service's own (branch named after it), so `upgrade heads` never creates another
service's tables.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

from contractflow.config import REPO_ROOT

KERNEL_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x636F6E7472616374  # "contract": any constant shared by all migrators


def alembic_config(service: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(KERNEL_MIGRATIONS))
    locations = [KERNEL_MIGRATIONS / "versions"]
    service_versions = REPO_ROOT / "services" / service / "migrations"
    if service_versions.is_dir():
        locations.append(service_versions)
    config.set_main_option("version_locations", " ".join(str(p) for p in locations))
    config.set_main_option("path_separator", "space")
    return config


def upgrade(engine: Engine, service: str, revision: str = "heads") -> None:
    config = alembic_config(service)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Web and worker pods migrate as they start; the first takes this lock and the
            # others wait, then find the schema at head. Released at commit.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
