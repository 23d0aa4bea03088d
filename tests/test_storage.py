"""Storage against a real SQLite file: schema by migration, pragmas, constraints, no commits."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from bot.app import open_storage
from storage.migrate import alembic_config
from storage.models import Submission
from tests.conftest import on_sqlite

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)


def submission(**kw) -> dict:
    values = dict(person_id=None, member_id=None, unit_id=None, group_id=None, chat_platform="test", chat_id="g",
                  message_id="1", original_url="u", canonical_url="https://x.com/a/status/1", link_platform="x",
                  page_key=None, is_page_post=False, created_at=NOW)
    values.update(kw)
    return values


async def test_migration_creates_the_schema_once(config):
    storage = await open_storage(config)
    try:
        async with storage.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            indexes = await conn.run_sync(lambda c: inspect(c).get_indexes("submissions"))
            version = (await conn.execute(text("select version_num from alembic_version"))).scalar()
        assert {"units", "unit_pages", "persons", "members", "groups", "group_memberships", "unit_roles",
                "submissions", "sent_messages", "audit_log", "leaves"} <= tables
        assert any(ix["name"] == "uq_submissions_person_link_live" and ix["unique"] for ix in indexes)
        assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
    finally:
        await storage.close()
    # Running it again is a no-op.
    storage = await open_storage(config)
    await storage.close()


async def test_sqlite_runs_in_wal_with_foreign_keys(config):
    if not on_sqlite(config):
        pytest.skip("SQLite pragmas")
    storage = await open_storage(config)
    try:
        async with storage.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await storage.close()


async def test_one_live_credit_per_person_and_link_is_enforced_by_the_database(harness):
    async with harness.storage.uow() as uow:
        from storage.models import Person

        person = Person(home_unit_explicit=False, party_member=False, created_at=NOW)
        uow.session.add(person)
        await uow.session.flush()
        pid = person.id
    async with harness.storage.uow() as uow:
        first = await uow.submissions.credit(submission(person_id=pid))
        again = await uow.submissions.credit(submission(person_id=pid))
        other_msg = await uow.submissions.credit(submission(person_id=pid, message_id="2"))
    assert (first.result, again.result, other_msg.result) == ("credited", "redelivered", "duplicate")
    assert other_msg.since == NOW
    # A raw insert that bypasses the repository still cannot credit the same person twice.
    with pytest.raises(IntegrityError):
        async with harness.storage.uow() as uow:
            uow.session.add(Submission(**submission(person_id=pid, message_id="3")))
            await uow.session.flush()


async def test_repositories_do_not_commit(harness):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with harness.storage.uow() as uow:
            await uow.submissions.credit(submission())
            raise Boom
    assert await harness.scalar("select count(*) from submissions") == 0


async def test_times_come_back_in_utc(harness):
    async with harness.storage.uow() as uow:
        await uow.submissions.credit(submission())
    async with harness.storage.uow() as uow:
        [row] = await uow.submissions.for_message("test", "g", "1")
    assert row.created_at == NOW and row.created_at.tzinfo is not None


async def test_claims_are_unique_per_chat_kind_and_period(harness):
    from datetime import timedelta

    async with harness.storage.uow() as uow:
        assert await uow.sent.claim("test", "g", "hint", "2026-11-27", "a", timedelta(minutes=10))
        assert not await uow.sent.claim("test", "g", "hint", "2026-11-27", "b", timedelta(minutes=10))
        assert await uow.sent.claim("test", "g", "hint", "2026-11-28", "b", timedelta(minutes=10))


async def test_sqlite_file_database_syncs_fully_so_an_acknowledged_commit_survives_power_loss(config):
    # SPEC §3.7: in WAL mode synchronous=NORMAL may lose the last commits on power loss.
    if not on_sqlite(config):
        pytest.skip("SQLite pragmas")
    storage = await open_storage(config)
    try:
        async with storage.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 2  # FULL
    finally:
        await storage.close()
