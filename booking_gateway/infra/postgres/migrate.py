"""Schema migrations, run by ``booking-gateway migrate`` and at zero-config start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrade to ``revision``. Synchronous (Alembic runs its own event loop): call it from a
    thread when inside one."""
    command.upgrade(alembic_config(database_url), revision)
