"""Bring the schema up to date with Alembic, on the engine's own connection."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any fixed number: instances starting together take turns on it, so they migrate once.
_PG_LOCK_KEY = 7_452_601


def alembic_config(connection=None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade(sync_connection) -> None:
    command.upgrade(alembic_config(sync_connection), "head")


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade to head in one transaction (under an advisory lock on PostgreSQL)."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        await conn.run_sync(_upgrade)
