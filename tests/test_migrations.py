"""The migrations build exactly the schema the models describe (on SQLite, and on PostgreSQL when
LANTOA_TEST_POSTGRES is set): a model change without its migration fails here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.app import open_storage
from storage.models import Base


async def test_migrations_match_the_models(config):
    storage = await open_storage(config)
    try:
        async with storage.engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata))
    finally:
        await storage.close()
    assert diff == []
