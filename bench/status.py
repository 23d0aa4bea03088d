"""/tinhhinh and /xephang at province and nation scale (SPEC §5): p50/p99 through the dispatcher,
beside the same SQL run raw.

    .venv/bin/python bench/generate.py            # once: /tmp/province.db
    .venv/bin/python bench/status.py [--db /tmp/province.db | --url postgresql+asyncpg://…]
                                     [--calls 200] [--write-every K]

Each command is sent as its unit's admin would send it: in the largest school's group (the admin
sees the names of who has not yet shared), and privately by the admin of the largest office and
of the department. A call is timed from ``Dispatcher.handle`` to its reply queued, including the
transaction that records the sender (one commit, synchronous=FULL like the bot). Per unit: the
first call (cold: the first for that unit and command in this process), then ``--calls`` more;
p50/p99 of those, and over all of them with the cold one.
``--write-every K``: before every K-th call after the first, a teacher of the unit's largest
school shares a new post of the school's page in its group, through the dispatcher (not timed):
what a write between two calls costs the next call.
The reference replays the SELECT statements of the cold call, with their parameters, on a plain
``sqlite3`` connection (SQLite) or a plain asyncpg connection (PostgreSQL; SQLAlchemy's asyncpg
dialect sends $1-style statements, replayed as they are): what the database alone costs.
Goals: school p99 ≤ 20 ms, department p99 ≤ 150 ms (province, SQLite) or ≤ 200 ms (nation).
The process's peak RSS (``ru_maxrss``) is printed after each unit.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import resource
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, text  # noqa: E402

from bench.generate import BENCH_NOW, DEFAULT_OUT, bench_config, sqlite_url  # noqa: E402
from bot.app import open_storage  # noqa: E402
from bot.domain.types import ChatKind, ChatRef, Delivery, DeliveryStatus, IncomingMessage, SendText, UserRef  # noqa: E402
from handlers.dispatch import Dispatcher  # noqa: E402

GOALS_MS = {"school": 20.0, "office": None, "department": 150.0}
NATION_GOALS_MS = {"school": 20.0, "office": None, "department": 200.0}


class FixedClock:
    def now(self):
        return BENCH_NOW


class BenchMessenger:
    """Telegram as the dispatcher sees it: every chat's admins known, replies kept."""

    platform = "telegram"

    def __init__(self) -> None:
        self.admins: dict[str, frozenset[str]] = {}
        self.last: SendText | None = None
        self.sent = 0
        self.reactions = 0

    async def deliver(self, action):
        if isinstance(action, SendText):
            self.last = action
            self.sent += 1
        else:
            self.reactions += 1
        return Delivery(DeliveryStatus.SENT, message_id=str(self.sent))

    async def chat_admin_ids(self, chat):
        return self.admins.get(chat.chat_id, frozenset())

    async def chat_member_count(self, chat):
        return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


async def targets(engine) -> dict[str, dict]:
    """For the largest school, the largest office and the department: the chat and admin a call
    comes from, the people below, and a teacher of the largest school below who writes links.

    Subtree sizes are summed in Python from the people per home unit: joining every unit with its
    subtree's LIKE is quadratic in units (26,000 at nation scale)."""
    async with engine.connect() as conn:
        units = (await conn.execute(text("SELECT id, name, path, type FROM units"))).all()
        per_home = dict((await conn.execute(text(
            "SELECT home_unit_id, count(*) FROM persons WHERE home_unit_id IS NOT NULL GROUP BY 1"))).all())
        by_path = {u.path: u.id for u in units}
        below = {u.id: 0 for u in units}
        for u in units:
            n = per_home.get(u.id, 0)
            if n:
                parts = [p for p in u.path.split("/") if p]
                for i in range(1, len(parts) + 1):
                    below[by_path["/" + "/".join(parts[:i]) + "/"]] += n

        def largest(kind: str, under: str = "/"):
            return min((u for u in units if u.type == kind and u.path.startswith(under)),
                       key=lambda u: (-below[u.id], u.id))

        async def admin_of(unit_id: int) -> UserRef:
            user_id, display = (await conn.execute(text(
                "SELECT m.user_id, m.display_name FROM unit_roles r JOIN members m ON m.person_id = r.person_id "
                "WHERE r.unit_id = :u AND r.role = 'admin' AND m.platform = 'telegram' ORDER BY m.id LIMIT 1"),
                {"u": unit_id})).one()
            return UserRef("telegram", user_id, display)

        async def writer_in(school) -> tuple[ChatRef, UserRef, str]:
            """The school's group, a teacher in it who is not one of its admins, its page's URL."""
            gid, chat_id = (await conn.execute(text(
                "SELECT id, chat_id FROM groups WHERE unit_id = :u AND active ORDER BY id LIMIT 1"),
                {"u": school.id})).one()
            user_id, display = (await conn.execute(text(
                "SELECT m.user_id, m.display_name FROM group_memberships gm JOIN members m ON m.id = gm.member_id "
                "WHERE gm.group_id = :g AND gm.active AND m.active AND m.platform = 'telegram' AND m.person_id "
                "NOT IN (SELECT person_id FROM unit_roles WHERE unit_id = :u) ORDER BY m.id LIMIT 1"),
                {"g": gid, "u": school.id})).one()
            page = (await conn.execute(text(
                "SELECT url FROM unit_pages WHERE unit_id = :u ORDER BY id LIMIT 1"), {"u": school.id})).scalar()
            return (ChatRef("telegram", chat_id, ChatKind.GROUP, school.name),
                    UserRef("telegram", user_id, display), page)

        rows = {}
        for kind in ("school", "office", "department"):
            unit = largest(kind)
            admin = await admin_of(unit.id)
            school = unit if kind == "school" else largest("school", unit.path)
            write_chat, teacher, page = await writer_in(school)
            chat = write_chat if kind == "school" else ChatRef("telegram", admin.user_id, ChatKind.PRIVATE)
            rows[kind] = {"chat": chat, "admin": admin, "people": below[unit.id], "name": unit.name,
                          "write_chat": write_chat, "teacher": teacher, "page": page}
        return rows


class RawReplay:
    """The captured SELECTs on a plain connection: sqlite3 on the file, or asyncpg."""

    def __init__(self, db: str | None, url: str | None) -> None:
        self.db, self.url, self.conn = db, url, None

    async def __aenter__(self) -> "RawReplay":
        if self.url:
            import asyncpg
            from sqlalchemy.engine import make_url

            dsn = make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
            self.conn = await asyncpg.connect(dsn)
        else:
            self.conn = sqlite3.connect(self.db)
        return self

    async def __aexit__(self, *exc) -> None:
        if self.url:
            await self.conn.close()
        else:
            self.conn.close()

    async def explain(self, statements: list[tuple[str, tuple]], out, plan_lines: int = 0) -> None:
        """Each statement's own time (best of 3), slowest first, with the head of its plan."""
        timed = []
        for s, p in statements:
            best = min([await self.run([(s, p)]) for _ in range(3)])
            timed.append((best, s, p))
        for best, s, p in sorted(timed, key=lambda t: -t[0]):
            out(f"    {best:8.1f} ms  {' '.join(s.split())[:150]}")
            if plan_lines and self.url:
                plan = await self.conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + s, *p)
                for row in plan[:plan_lines]:
                    out(f"                 {row[0]}")

    async def run(self, statements: list[tuple[str, tuple]]) -> float:
        """Milliseconds to run every statement once and fetch every row."""
        start = time.perf_counter()
        for s, p in statements:
            if self.url:
                await self.conn.fetch(s, *p)
            else:
                self.conn.execute(s, p).fetchall()
        return (time.perf_counter() - start) * 1000


def selects_of(statements: list[tuple[str, tuple]]) -> list[tuple[str, tuple]]:
    return [(s, p) for s, p in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]


async def run(db: str | None = None, calls: int = 200, *, url: str | None = None, write_every: int = 0,
              explain: int = -1, profile: int = 0, commands: tuple[str, ...] = ("/tinhhinh", "/xephang"),
              kinds: tuple[str, ...] = ("school", "office", "department"), out=print) -> dict[str, dict[str, float]]:
    """Run the benchmark on the SQLite file ``db`` or the database ``url``; returns
    {"/tinhhinh school": {"cold": ms, "p50": ms, "p99": ms, "raw_p50": …}, …}.
    ``explain`` ≥ 0: after each unit, every SELECT's own time, slowest first, with that many lines
    of its plan (EXPLAIN ANALYZE, PostgreSQL only). ``profile`` > 0: the cold call under cProfile
    (its time then includes the profiler's), that many functions by cumulative time."""
    config = bench_config(url or sqlite_url(db))
    goals = NATION_GOALS_MS if url else GOALS_MS
    storage = await open_storage(config)
    results: dict[str, dict[str, float]] = {}
    try:
        messenger = BenchMessenger()
        dispatcher = Dispatcher(storage.uow, config, FixedClock(), instance="bench")
        dispatcher.attach(messenger, inline=True)
        where = await targets(storage.engine)
        captured: list[tuple[str, tuple]] = []
        capturing = [False]

        def capture(conn, cursor, statement, parameters, context, executemany):
            if capturing[0]:
                captured.append((statement, tuple(parameters or ())))

        event.listen(storage.engine.sync_engine, "before_cursor_execute", capture)
        seq = [0]
        # Fresh message and post ids on every run: the benchmark may run again on one database.
        run_id = time.time_ns() // 1000

        async def once(text_: str, chat: ChatRef, sender: UserRef) -> float:
            seq[0] += 1
            msg = IncomingMessage(chat=chat, message_id=f"bench-{run_id}-{seq[0]}", sender=sender,
                                  date=BENCH_NOW, text=text_)
            start = time.perf_counter()
            await dispatcher.handle(msg)
            return (time.perf_counter() - start) * 1000

        write_times: list[float] = []

        async def write(target: dict) -> None:
            link = f"{target['page'].rstrip('/')}/posts/{run_id + seq[0] + 1}"
            write_times.append(await once(link, target["write_chat"], target["teacher"]))

        async with RawReplay(db, url) as raw:
            for command in commands:
                for kind, target in where.items():
                    if kind not in kinds:
                        continue
                    chat, admin, people, name = target["chat"], target["admin"], target["people"], target["name"]
                    if chat.is_group:
                        messenger.admins[chat.chat_id] = frozenset({admin.user_id})
                    captured.clear()
                    capturing[0] = True
                    profiler = cProfile.Profile() if profile else None
                    if profiler:
                        profiler.enable()
                    cold = await once(command, chat, admin)
                    if profiler:
                        profiler.disable()
                    capturing[0] = False
                    statements = list(captured)
                    reply = messenger.last.plain if messenger.last else ""
                    times, writes_before = [], len(write_times)
                    for i in range(1, calls + 1):
                        if write_every and i % write_every == 0:
                            await write(target)
                        times.append(await once(command, chat, admin))
                    selects = selects_of(statements)
                    raw_times = [await raw.run(selects) for _ in range(max(calls, 1))]
                    every = [cold] + times
                    writes = write_times[writes_before:]
                    key = f"{command} {kind}"
                    r = results[key] = {
                        "cold": cold, "p50": statistics.median(times) if times else cold,
                        "p99": percentile(times, 0.99) if times else cold,
                        "all_p50": statistics.median(every), "all_p99": percentile(every, 0.99),
                        "raw_p50": statistics.median(raw_times), "raw_p99": percentile(raw_times, 0.99),
                        "queries": len(statements), "selects": len(selects), "people": people,
                        "writes": len(writes), "write_p50": statistics.median(writes) if writes else 0.0,
                        "peak_rss_mb": peak_rss_mb(),
                    }
                    goal = goals[kind]
                    verdict = "" if goal is None else (f" — goal p99 ≤ {goal:.0f} ms: "
                                                       f"{'met' if r['p99'] <= goal else 'MISSED'}")
                    wrote = f" | {len(writes)} writes (p50 {r['write_p50']:.1f} ms)" if writes else ""
                    out(f"{key:<22} {name[:34]:<34} {people:>7,} people | cold {cold:8.1f} ms | dispatcher "
                        f"p50 {r['p50']:7.1f} p99 {r['p99']:7.1f} ms (with the cold call: p50 {r['all_p50']:.1f} "
                        f"p99 {r['all_p99']:.1f}) | raw SQL ({len(selects)} selects of {len(statements)} "
                        f"statements) p50 {r['raw_p50']:7.1f} p99 {r['raw_p99']:7.1f} ms{wrote} | peak RSS "
                        f"{r['peak_rss_mb']:.0f} MB{verdict}")
                    if not reply:
                        out(f"  (no reply to {key}: check the generated roles)")
                    if profiler:
                        report = io.StringIO()
                        pstats.Stats(profiler, stream=report).sort_stats("cumulative").print_stats(profile)
                        out(report.getvalue())
                    if explain >= 0:
                        await raw.explain(selects, out, explain)
    finally:
        await storage.close()
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=DEFAULT_OUT, help="the SQLite file (written to: the admins' seen-times)")
    p.add_argument("--url", default=None, help="a database URL instead (postgresql+asyncpg://…)")
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--write-every", type=int, default=0, metavar="K",
                   help="a teacher shares a new link before every K-th call (0: never)")
    p.add_argument("--explain", type=int, default=-1, metavar="LINES",
                   help="print each SELECT's own time, slowest first, and LINES lines of its plan (PostgreSQL)")
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="profile each unit's cold call (cProfile), print the N costliest functions")
    p.add_argument("--commands", default="/tinhhinh,/xephang", help="which commands (comma-separated)")
    p.add_argument("--units", default="school,office,department", help="which of school, office, department")
    a = p.parse_args(argv)
    if a.url is None and not Path(a.db).exists():
        print(f"{a.db} does not exist: run bench/generate.py first", file=sys.stderr)
        return 2
    where = a.url.rsplit("@", 1)[-1] if a.url else a.db
    every = f", a link written before every {a.write_every}th call" if a.write_every else ""
    print(f"status at {BENCH_NOW:%d/%m/%Y %H:%M} UTC, {a.calls} calls each{every}, database {where}")
    asyncio.run(run(None if a.url else a.db, a.calls, url=a.url, write_every=a.write_every, explain=a.explain,
                    profile=a.profile, commands=tuple(a.commands.split(",")), kinds=tuple(a.units.split(","))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
