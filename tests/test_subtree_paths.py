"""Subtree filters (storage.subtree): the same units as a path prefix, as an index range on SQLite.

`units.path LIKE :p || '%'` is never an index search in SQLite, so a school's /tinhhinh used to
plan from the whole province's links of the period (bench/README.md). These hold the range's
meaning (exactly the prefix's units, with paths that share leading digits) and its plans."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain.periods import week_of
from handlers.views import build_view
from storage.models import Unit
from storage.subtree import ancestor_paths, in_subtree, upper_bound
from tests.conftest import on_sqlite

# Paths that share leading digits: "/1/4/" must not take "/1/40/" or "/1/41/".
PATHS = ["/1/", "/1/4/", "/1/4/17/", "/1/4/17/3/", "/1/40/", "/1/41/", "/1/41/4/", "/14/", "/2/"]


def test_upper_bound_and_ancestors():
    assert upper_bound("/1/4/") == "/1/40"
    assert upper_bound("/") == "0"
    with pytest.raises(ValueError):
        upper_bound("/1/4")
    assert ancestor_paths("/1/4/17/") == ["/1/", "/1/4/", "/1/4/17/"]
    assert ancestor_paths("/") == []


def test_the_range_holds_exactly_the_paths_with_the_prefix():
    for prefix in PATHS + ["/"]:
        lo, hi = prefix, upper_bound(prefix)
        assert [p for p in PATHS if lo <= p < hi] == [p for p in PATHS if p.startswith(prefix)], prefix


def test_sqlite_gets_the_range_and_postgresql_keeps_like():
    # PostgreSQL's default collation is usually a locale that ignores '/': there a byte range
    # would be wrong, and LIKE is what it always was.
    stmt = select(Unit.id).where(in_subtree(Unit.path, "/1/4/"))
    on_sqlite_sql = str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    assert "(units.path >= '/1/4/' AND units.path < '/1/40')" in on_sqlite_sql
    assert "LIKE" not in on_sqlite_sql
    assert "LIKE" in str(stmt.compile(dialect=postgresql.dialect()))
    negated = str(select(Unit.id).where(~in_subtree(Unit.path, "/1/4/")).compile(dialect=sqlite.dialect()))
    assert "NOT (units.path >=" in negated


async def test_in_subtree_selects_the_subtree_and_is_an_index_search(harness, config):
    async with harness.storage.uow() as uow:
        units = (await uow.session.execute(select(Unit).order_by(Unit.id))).scalars().all()
        assert len(units) >= len(PATHS)
        for unit, path in zip(units, PATHS):
            await uow.session.execute(update(Unit).where(Unit.id == unit.id).values(path="~" + path))
        await uow.session.flush()
        for prefix in PATHS + ["/"]:
            got = set((await uow.session.execute(
                select(Unit.path).where(in_subtree(Unit.path, "~" + prefix)))).scalars())
            assert got == {"~" + p for p in PATHS if p.startswith(prefix)}, prefix
        # Statement caching must not keep one prefix's bounds for another.
        for prefix, expected in (("~/1/4/", 3), ("~/1/41/", 2), ("~/1/4/", 3)):
            rows = (await uow.session.execute(select(Unit.id).where(in_subtree(Unit.path, prefix)))).all()
            assert len(rows) == expected
    if on_sqlite(config):
        async with harness.storage.engine.connect() as conn:
            plan = " ".join(r[3] for r in (await conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM units WHERE path >= ? AND path < ?", ("/1/4/", "/1/40"))).all())
        assert "ix_units_path" in plan and "SCAN" not in plan


async def test_a_school_view_plans_from_its_own_people_and_pages(harness, config):
    """Every statement of a school's view is an index search from the school's units, people
    and pages: none scans links, persons or units, none reads the links by time alone. The bot
    never runs ANALYZE: these plans come from the statistics migration 0004 writes."""
    if not on_sqlite(config):
        pytest.skip("plans are SQLite's")
    statements: list[tuple[str, tuple]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, tuple(parameters or ())))

    now = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
    async with harness.storage.uow() as uow:
        school = (await uow.session.execute(select(Unit).where(Unit.type == "school").limit(1))).scalar_one()
        event.listen(harness.storage.engine.sync_engine, "before_cursor_execute", capture)
        try:
            await build_view(uow, config, school, week_of(now, config.bot.tz), now)
        finally:
            event.remove(harness.storage.engine.sync_engine, "before_cursor_execute", capture)
    selects = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) >= 6
    async with harness.storage.engine.connect() as conn:
        for statement, params in selects:
            plan = [r[3] for r in (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()]
            text = " | ".join(plan)
            assert not any(step.startswith("SCAN") and step.split()[1] in ("submissions", "persons", "units", "members")
                           for step in plan), text
            assert "ix_submissions_created" not in text, text
            if "unit_pages" in statement:
                assert "ix_submissions_page_key_created" in text and "ix_submissions_page_post" in text, text
