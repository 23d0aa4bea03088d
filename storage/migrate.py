"""Bring the schema up to date with Alembic, on the engine's own connection."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any fixed number: instances starting together take turns on it, so they migrate once.
_PG_LOCK_KEY = 7_452_601


@dataclass(frozen=True)
class Migration:
    """What one run did: the schema revision before and after (None before = a new database)."""

    before: str | None
    after: str | None

    @property
    def created(self) -> bool:
        return self.before is None and self.after is not None

    @property
    def upgraded(self) -> bool:
        return self.before is not None and self.before != self.after


class SchemaTooNew(Exception):
    """The database was migrated by a newer version of the bot than this one."""

    def __init__(self, revision: str, head: str | None) -> None:
        super().__init__(f"database revision {revision} is unknown here (head {head})")
        self.revision = revision
        self.head = head


def alembic_config(connection=None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def _revision(sync_connection) -> str | None:
    return MigrationContext.configure(sync_connection).get_current_revision()


def _upgrade(sync_connection, target: str) -> Migration:
    before = _revision(sync_connection)
    cfg = alembic_config(sync_connection)
    script = ScriptDirectory.from_config(cfg)
    if before is not None and before not in {s.revision for s in script.walk_revisions()}:
        # Alembic would say "Can't locate revision": the operator runs an older bot on newer data.
        raise SchemaTooNew(before, script.get_current_head())
    command.upgrade(cfg, target)
    return Migration(before, _revision(sync_connection))


async def migrate(engine: AsyncEngine, target: str = "head") -> Migration:
    """Upgrade to ``target`` (head) in one transaction (under an advisory lock on PostgreSQL).

    The revision is read inside the lock, so of instances starting together only the first
    reports an upgrade.
    """
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        elif conn.dialect.name == "sqlite":
            # SQLite's write lock, taken before the revision is read: a second process starting
            # at the same moment waits (busy_timeout) and then finds the schema up to date,
            # instead of creating the same tables again.
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        result = await conn.run_sync(_upgrade, target)
    if result.before != result.after:
        logger.info("database schema %s -> %s", result.before or "(new)", result.after)
    return result
