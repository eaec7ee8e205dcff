"""Apply Alembic migrations programmatically (used by the CLI, the app and the tests)."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config


def is_ours(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate's filter: the job queue's tables belong to procrastinate's schema
    (migration 0006), not to our models."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "booklnk.db:migrations")
    # ConfigParser interpolation would eat a literal '%' in a password.
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    # Alembic's env.py runs its own event loop; keep it off ours.
    await asyncio.to_thread(upgrade, database_url, revision)
