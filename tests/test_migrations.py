"""The migrations build exactly the schema the models describe (on SQLite, and on PostgreSQL when
LANTOA_TEST_POSTGRES is set): a model change without its migration fails here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.app import open_storage
from storage.models import Base


def _compare(c):
    """The differences between the database and the models; an index the models create on one
    dialect only (``ddl_if``, e.g. PostgreSQL's pattern index on unit paths) is expected only
    there."""
    def include(obj, name, type_, reflected, compare_to):
        cond = getattr(obj, "_ddl_if", None)
        return reflected or cond is None or cond.dialect in (None, c.dialect.name)

    return compare_metadata(MigrationContext.configure(c, opts={"compare_type": True, "include_object": include}),
                            Base.metadata)


async def test_migrations_match_the_models(config):
    storage = await open_storage(config)
    try:
        async with storage.engine.connect() as conn:
            diff = await conn.run_sync(_compare)
    finally:
        await storage.close()
    assert diff == []


async def test_every_revision_upgrades_to_head_and_back(config):
    """From each earlier revision (a database made by an older release) to head, and down again:
    an operator upgrading from any release gets the same schema as a new database."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from storage.db import create_engine
    from storage.migrate import alembic_config

    revisions = [r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()][::-1]
    assert len(revisions) >= 4
    engine = create_engine(config.database.url)
    try:
        for revision in revisions[:-1]:
            async with engine.begin() as conn:
                await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "base"))
                await conn.run_sync(lambda c, r=revision: command.upgrade(alembic_config(c), r))
                await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
            async with engine.connect() as conn:
                diff = await conn.run_sync(_compare)
            assert diff == [], (revision, diff)
    finally:
        await engine.dispose()
