"""Each benchmark of bench/ run at a tiny scale, so that none of them can rot. Nothing here is
timed: the figures are the benchmarks' business (SPEC §5), these check that they still run and
still measure what they say (the replies exist, nothing is lost, the counts add up)."""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from bench import fanout, rss, status, weekly
from bench.generate import BENCH_NOW, HOLIDAYS, generate
from tests.conftest import POSTGRES_ADMIN

SCALE = 0.02  # 11 schools, 1 office, 1 school straight under the department


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory):
    import asyncio

    path = tmp_path_factory.mktemp("bench") / "tiny.db"
    counts = asyncio.run(generate(out=str(path), scale=SCALE, links=3000, progress=False))
    return path, counts


def rows(path, sql):
    with sqlite3.connect(path) as c:
        return c.execute(sql).fetchall()


def test_the_generated_province_has_its_shape(tiny_db):
    path, counts = tiny_db
    assert rows(path, "SELECT type, count(*) FROM units GROUP BY type ORDER BY type") == [
        ("department", 1), ("office", 1), ("school", 11)]
    # Every school has a bound group and an admin; a direct school sits under the department.
    assert rows(path, "SELECT count(*) FROM groups WHERE unit_id IN (SELECT id FROM units WHERE type = 'school')") == [(11,)]
    assert rows(path, "SELECT count(DISTINCT unit_id) FROM unit_roles WHERE role = 'admin'")[0][0] >= 11
    assert rows(path, "SELECT count(*) FROM units WHERE type = 'school' AND depth = 1") == [(1,)]
    assert counts.people == 360 and counts.groups == 11
    assert 0.25 < counts.party / counts.people < 0.42
    assert counts.two_accounts > 0 and counts.members == counts.people + counts.two_accounts
    # About the links asked for (the last week stops at BENCH_NOW), each person credited once per post.
    assert 2500 <= counts.links <= 3000
    assert rows(path, "SELECT count(*) FROM (SELECT person_id, canonical_url FROM submissions "
                      "WHERE withdrawn_at IS NULL GROUP BY 1, 2 HAVING count(*) > 1)") == [(0,)]
    assert rows(path, "SELECT count(*) FROM submissions WHERE withdrawn_at IS NOT NULL")[0][0] > 0
    latest = rows(path, "SELECT max(created_at) FROM submissions")[0][0]
    assert latest <= BENCH_NOW.strftime("%Y-%m-%d %H:%M:%S.%f")


def test_links_have_a_weekly_rhythm_with_friday_peaks_and_quiet_holidays(tiny_db):
    path, _ = tiny_db
    by_day = Counter()
    by_date = Counter()
    for (at,) in rows(path, "SELECT created_at FROM submissions"):
        local = datetime.fromisoformat(at) + timedelta(hours=7)  # Hà Nội
        by_day[(local.weekday())] += 1
        by_date[local.date()] += 1
    assert by_day.most_common(1)[0][0] == 4  # Friday
    tet_first, tet_last = HOLIDAYS[1]
    in_tet = sum(n for d, n in by_date.items() if tet_first <= d <= tet_last)
    a_school_week = sum(n for d, n in by_date.items() if date(2026, 3, 9) <= d <= date(2026, 3, 15))
    assert in_tet == 0 and a_school_week > 30


async def test_the_generator_is_seeded(tmp_path):
    a = await generate(out=str(tmp_path / "a.db"), scale=SCALE, links=200, progress=False)
    b = await generate(out=str(tmp_path / "b.db"), scale=SCALE, links=200, progress=False)
    assert a == b
    sql = "SELECT person_id, canonical_url, created_at FROM submissions ORDER BY id"
    assert rows(tmp_path / "a.db", sql) == rows(tmp_path / "b.db", sql)


async def test_status_benchmark_answers_every_command_for_each_level(tiny_db):
    path, _ = tiny_db
    lines: list[str] = []
    results = await status.run(str(path), calls=2, out=lines.append)
    assert set(results) == {f"{c} {k}" for c in ("/tinhhinh", "/xephang") for k in ("school", "office", "department")}
    assert not any("no reply" in line for line in lines)
    for r in results.values():
        assert r["selects"] >= 3 and r["p99"] >= r["p50"] > 0
    assert results["/tinhhinh department"]["people"] == 360


async def test_status_benchmark_writes_a_link_before_every_kth_call(tiny_db, tmp_path):
    path = tmp_path / "copy.db"
    shutil.copy(tiny_db[0], path)
    before = rows(path, "SELECT count(*) FROM submissions")[0][0]
    lines: list[str] = []
    results = await status.run(str(path), calls=4, write_every=2, out=lines.append)
    # Two writes per command and unit (before calls 2 and 4), each a new credited link.
    assert {r["writes"] for r in results.values()} == {2}
    assert rows(path, "SELECT count(*) FROM submissions")[0][0] == before + 12
    assert all(r["cold"] > 0 and r["all_p99"] >= r["p99"] and r["peak_rss_mb"] > 10 for r in results.values())
    assert all("2 writes" in line for line in lines)


async def test_weekly_benchmark_counts_the_same_queries_at_n_and_2n(tiny_db, tmp_path):
    path, _ = tiny_db
    lines: list[str] = []
    n, d = await weekly.run(str(path), runs=1, double_db=str(tmp_path / "double.db"), out=lines.append,
                            double_links=400)
    assert d["people"] == 2 * n["people"]
    assert n["group_plans"] > 0 and d["group_plans"] > 0
    assert n["queries"] == d["queries"]
    assert "the same" in lines[-1]


async def test_fanout_benchmark_delivers_every_reminder_once(tmp_path):
    result = await fanout.run(SCALE, links=100, out=lambda line: None)
    assert result["claimed"] == 11 and result["lost"] == 0
    assert result["messages"] >= result["chats_reached"] == 11
    assert result["reference"]["lost"] == 0 and result["reference"]["claimed"] == 11


async def test_rss_benchmark_measures_the_running_bot(tiny_db):
    path, _ = tiny_db
    lines: list[str] = []
    result = await rss.run(str(path), messages=20, out=lines.append)
    assert result["peak"] >= result["started"] > 10
    assert result["reference"]["started"] > 10
    assert any("heavy libraries already imported: none" in line for line in lines)


@pytest.mark.skipif(not POSTGRES_ADMIN, reason="LANTOA_TEST_POSTGRES is not set")
async def test_the_postgresql_path_generates_the_same_rows_and_benchmarks_them(config, tiny_db):
    """The nation's path (COPY, indexes built at the end) at a tiny scale: the same rows as the
    SQLite file for the same seed, the migration's indexes back, and status and weekly run on it."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = config.database.url
    counts = await generate(url=url, scale=SCALE, links=3000, progress=False)
    assert counts == tiny_db[1]
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        pg = [(r[0], r[1], r[2].strftime("%Y-%m-%d %H:%M:%S.%f")) for r in await conn.fetch(
            "SELECT person_id, canonical_url, created_at AT TIME ZONE 'UTC' FROM submissions ORDER BY id")]
        indexes = {r[0] for r in await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'submissions'")}
        analyzed = await conn.fetchval(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'submissions'")
    finally:
        await conn.close()
    assert pg == rows(tiny_db[0], "SELECT person_id, canonical_url, created_at FROM submissions ORDER BY id")
    assert {"uq_submissions_person_link_live", "ix_submissions_page_key_created",
            "ix_submissions_person_created"} <= indexes and analyzed
    lines: list[str] = []
    results = await status.run(url=url, calls=2, write_every=2, out=lines.append)
    assert not any("no reply" in line for line in lines)
    assert all(r["selects"] >= 3 and r["writes"] == 1 for r in results.values())
    n = await weekly.measure(None, 1, url)
    assert n["group_plans"] > 0 and n["queries"] > 0
