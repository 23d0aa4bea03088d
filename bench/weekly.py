"""The weekly job at province scale (SPEC §5): composing Friday's reminders for every bound group,
without sending. Goal ≤ 2 s, and a query count that does not change when the people double.

    .venv/bin/python bench/generate.py            # once: /tmp/province.db
    .venv/bin/python bench/weekly.py [--db /tmp/province.db] [--runs 5] [--double-db PATH]
    .venv/bin/python bench/weekly.py --url postgresql+asyncpg://… [--runs 5]     # N only

``handlers.rhythm.compose(uow, config, "reminder", now)`` runs ``--runs`` times on the province
(N people); then once on a province with the same units and 2N people, generated into a
temporary file (or ``--double-db``, reused if it exists) with links for the last five weeks at
a whole year's rate per person (the reminder reads only the current week). Beside each figure,
the reference: the same SELECT statements, with their parameters, replayed on plain sqlite3.
With ``--url`` (PostgreSQL, e.g. the nation) only N is measured (a 2N nation is another
45 minutes of generating; the query count's constancy is the province's claim), and the
reference is replayed on a plain asyncpg connection.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, text  # noqa: E402

from bench.generate import BENCH_NOW, DEFAULT_OUT, bench_config, generate, sqlite_url  # noqa: E402
from bench.status import RawReplay, selects_of  # noqa: E402
from bot.app import open_storage  # noqa: E402
from handlers.rhythm import compose  # noqa: E402

GOAL_S = 2.0
RECENT = date(2026, 4, 20)  # the 2N database's links start here (five weeks before BENCH_NOW)


async def measure(db: str | None, runs: int, url: str | None = None) -> dict:
    """Median and best compose time, the statements one compose issued, the raw reference."""
    config = bench_config(url or sqlite_url(db))
    storage = await open_storage(config)
    try:
        statements: list[tuple[str, tuple]] = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            statements.append((statement, tuple(parameters or ())))

        times, plans = [], []
        for i in range(runs + 1):  # the first run warms caches and is not counted
            statements.clear()
            # The Friday job composes once a week: measured as built, not from the views the bot
            # keeps between calls (handlers.views).
            storage.uow.view_cache.clear()
            event.listen(storage.engine.sync_engine, "before_cursor_execute", capture)
            start = time.perf_counter()
            async with storage.uow() as uow:
                plans = await compose(uow, config, "reminder", BENCH_NOW)
            elapsed = time.perf_counter() - start
            event.remove(storage.engine.sync_engine, "before_cursor_execute", capture)
            if i:
                times.append(elapsed)
        async with storage.engine.connect() as conn:
            people = (await conn.execute(text("SELECT count(*) FROM persons"))).scalar()
            groups = (await conn.execute(text("SELECT count(*) FROM groups WHERE active"))).scalar()
    finally:
        await storage.close()
    async with RawReplay(db, url) as raw:
        raw_times = [await raw.run(selects_of(statements)) / 1000 for _ in range(max(runs, 1))]
    group_plans = sum(1 for p in plans if p.chat.is_group)
    return {"median": statistics.median(times) if times else 0.0, "best": min(times) if times else 0.0,
            "raw": statistics.median(raw_times), "queries": len(statements), "people": people,
            "groups": groups, "group_plans": group_plans, "private_plans": len(plans) - group_plans,
            "statements": [s for s, _ in statements]}


def line(label: str, r: dict) -> str:
    return (f"{label}: {r['people']:,} people, {r['groups']} groups → {r['group_plans']} group reminders "
            f"(+{r['private_plans']} private) in {r['median']:.2f} s median, {r['best']:.2f} s best; "
            f"{r['queries']} queries | raw SQL of the same queries {r['raw']:.2f} s")


async def run(db: str, runs: int = 5, double_db: str | None = None, *, out=print,
              double_links: int | None = None) -> tuple[dict, dict]:
    n = await measure(db, runs)
    verdict = "met" if n["median"] <= GOAL_S else "MISSED"
    out(line("N ", n) + f" — goal ≤ {GOAL_S:.0f} s: {verdict} ({n['median'] / GOAL_S:.0%} of it)")
    with tempfile.TemporaryDirectory(prefix="lantoa-bench-") as tmp:
        path = double_db or str(Path(tmp) / "double.db")
        if not Path(path).exists():
            links = double_links if double_links is not None else round(2 * _links_of(db))
            start = time.perf_counter()
            await generate(out=path, people=2 * n["people"], links=links, since=RECENT,
                           scale=_scale_of(db), progress=False)
            out(f"(2N database generated in {time.perf_counter() - start:.0f} s: {path})")
        d = await measure(path, max(1, runs // 2))
    out(line("2N", d))
    same = "the same" if d["queries"] == n["queries"] else f"CHANGED ({n['queries']} → {d['queries']})"
    out(f"query count at N and 2N people: {n['queries']} and {d['queries']}: {same}")
    return n, d


def _links_of(db: str) -> int:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT count(*) FROM submissions").fetchone()[0]


def _scale_of(db: str) -> float:
    """The --scale the database was generated with, from its number of schools."""
    with sqlite3.connect(db) as c:
        schools = c.execute("SELECT count(*) FROM units WHERE type = 'school'").fetchone()[0]
    return schools / 530


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=DEFAULT_OUT)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--double-db", default=None, help="the 2N database (generated there if missing)")
    p.add_argument("--url", default=None, help="a PostgreSQL URL instead of --db (N only)")
    a = p.parse_args(argv)
    if a.url:
        print(f"weekly reminder at {BENCH_NOW:%d/%m/%Y %H:%M} UTC, database {a.url.rsplit('@', 1)[-1]}")
        n = asyncio.run(measure(None, a.runs, a.url))
        print(line("N ", n) + f" — goal ≤ {GOAL_S:.0f} s at province scale ({n['median'] / GOAL_S:.0%} of it)")
        return 0
    if not Path(a.db).exists():
        print(f"{a.db} does not exist: run bench/generate.py first", file=sys.stderr)
        return 2
    print(f"weekly reminder at {BENCH_NOW:%d/%m/%Y %H:%M} UTC, database {a.db}")
    asyncio.run(run(a.db, a.runs, a.double_db))
    return 0


if __name__ == "__main__":
    sys.exit(main())
