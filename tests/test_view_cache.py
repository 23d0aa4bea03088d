"""Judged views kept between calls (handlers.views.build_view): reused while nothing they read
has changed, rebuilt after any write that could change them — by this instance or another on
the same database — and never kept from a transaction that could still roll back."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from bot.app import open_storage
from bot.domain.periods import month_of, week_of
from handlers import views
from handlers.views import build_view
from storage.db import NOT_VIEWED
from tests.handlers.test_query_count import QueryCounter, grow


@pytest.fixture
def small_cache(monkeypatch):
    # The tree below has 150 people: keep views from 100, as the bot keeps a department's.
    monkeypatch.setattr(views, "CACHED_FROM_PEOPLE", 100)


async def department(harness):
    async with harness.storage.uow() as uow:
        return await uow.units.by_code("SGD-HOABINH")


async def view_now(harness, storage=None, period=None, now=None):
    """The department's view through ``storage`` (default: the harness's), and its query count."""
    storage = storage or harness.storage
    now = now or harness.clock.now()
    period = period or week_of(now, harness.dispatcher.config.bot.tz)
    root = await department(harness)
    with QueryCounter(storage.engine) as q:
        async with storage.uow() as uow:
            view = await build_view(uow, harness.dispatcher.config, root, period, now)
    return view, q.count


async def test_a_kept_view_costs_one_query_and_equals_a_fresh_one(harness, small_cache):
    await grow(harness, 150)
    first, built = await view_now(harness)
    second, cost = await view_now(harness)
    assert built > 5 and cost == 1  # the stamp only
    assert second.rollup == first.rollup and second.results == first.results
    assert second.root.id == first.root.id and second.units[second.root.id].name == first.root.name


async def test_small_views_are_not_kept(harness):
    await grow(harness, 150)  # fewer than CACHED_FROM_PEOPLE (500)
    _, built = await view_now(harness)
    _, again = await view_now(harness)
    assert again == built


async def test_a_credited_link_is_seen_at_once(harness, small_cache):
    await grow(harness, 150)
    before, _ = await view_now(harness)
    await view_now(harness)
    teacher = harness.user("Cô Mới", "moi")
    group = harness.group("g-S-01")
    await harness.send(group, teacher, "https://www.facebook.com/thcskimboi/posts/777001")
    after, cost = await view_now(harness)
    assert cost > 1
    root = after.root.id
    assert after.rollup[root].links == before.rollup[root].links + 1


async def test_another_instance_s_write_is_seen(harness, small_cache, config):
    await grow(harness, 150)
    other = await open_storage(config)  # a second instance on the same database
    try:
        await view_now(harness, other)
        kept, cost = await view_now(harness, other)
        assert cost == 1
        await harness.send(harness.group("g-S-02"), harness.user("Thầy Hai", "hai"),
                           "https://www.facebook.com/thcskimboi/posts/777002")
        fresh, cost = await view_now(harness, other)
        assert cost > 1 and fresh.rollup[fresh.root.id].links == kept.rollup[kept.root.id].links + 1
    finally:
        await other.close()


async def test_writes_no_view_reads_keep_the_view(harness, small_cache):
    await grow(harness, 150)
    await view_now(harness)
    async with harness.storage.uow() as uow:
        uow.audit.add(harness.clock.now(), "test", detail="nothing a view reads")
        await uow.sent.claim("test", "g-S-01", "reminder", "2026-W01", "test", timedelta(minutes=5))
    _, cost = await view_now(harness)
    assert cost == 1


async def test_a_view_read_by_a_writing_transaction_is_not_kept(harness, small_cache):
    """The transaction could still roll back: what it wrote must not outlive it in a kept view."""
    await grow(harness, 150)
    root = await department(harness)
    now = harness.clock.now()
    period = week_of(now, harness.dispatcher.config.bot.tz)
    person_id = await harness.scalar("SELECT min(id) FROM persons")
    with pytest.raises(RuntimeError):
        async with harness.storage.uow() as uow:
            await uow.session.execute(text("UPDATE persons SET party_member = NOT party_member WHERE id = :p"),
                                      {"p": person_id})
            dirty = await build_view(uow, harness.dispatcher.config, root, period, now)
            raise RuntimeError("rolled back")
    view, cost = await view_now(harness)
    assert cost > 1
    assert view.people[person_id].party_member != dirty.people[person_id].party_member


async def test_a_kept_view_survives_the_rollback_of_the_transaction_that_built_it(harness, small_cache):
    await grow(harness, 150)
    root = await department(harness)
    now = harness.clock.now()
    period = week_of(now, harness.dispatcher.config.bot.tz)
    with pytest.raises(RuntimeError):
        async with harness.storage.uow() as uow:
            await build_view(uow, harness.dispatcher.config, root, period, now)
            raise RuntimeError("a reply failed after the view was built")
    view, cost = await view_now(harness)
    assert cost == 1
    assert all(unit.name for unit in view.units.values())  # not expired by that rollback


async def test_a_new_judgement_epoch_rebuilds(harness, small_cache):
    """Within a month, the end of a week changes who is judged: the month's view is rebuilt then,
    and not when only minutes pass."""
    await grow(harness, 150)
    tz = harness.dispatcher.config.bot.tz
    now = harness.clock.now()
    month = month_of(now, tz)
    await view_now(harness, period=month, now=now)
    _, cost = await view_now(harness, period=month, now=now + timedelta(minutes=5))
    assert cost == 1
    week = week_of(now, tz)
    _, cost = await view_now(harness, period=month, now=week.end + timedelta(minutes=1))
    assert cost > 1


async def test_every_table_a_view_reads_invalidates_it(harness, small_cache):
    """storage.db.NOT_VIEWED must not name a table the views read, or a write there would leave a
    kept view wrong: every table named in a view's statements is checked."""
    await grow(harness, 150)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    sync_engine = harness.storage.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", seen)
    try:
        await view_now(harness, period=month_of(harness.clock.now(), harness.dispatcher.config.bot.tz))
        await view_now(harness)
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)
    read = {name.lower() for st in statements
            for name in re.findall(r'(?:FROM|JOIN)\s+"?(\w+)', st, re.I)}
    read -= {"view_stamp"}
    assert {"units", "persons", "members", "submissions", "groups"} <= read
    assert not read & NOT_VIEWED, read & NOT_VIEWED
