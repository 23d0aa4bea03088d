"""/tinhhinh and /xephang at province scale (SPEC §5): p50/p99 through the dispatcher, beside the
same SQL run raw.

    .venv/bin/python bench/generate.py            # once: /tmp/province.db
    .venv/bin/python bench/status.py [--db /tmp/province.db] [--calls 200]

Each command is sent 200 times as its unit's admin would send it: in the largest school's group
(the admin sees the names of who has not yet shared), and privately by the admin of the largest
office and of the department. A call is timed from ``Dispatcher.handle`` to its reply queued,
including the transaction that records the sender (one commit, synchronous=FULL like the bot).
The reference replays the SELECT statements that one such call issued, with their parameters,
on a plain ``sqlite3`` connection to the same file: what the database alone costs.
Goals: school p99 ≤ 20 ms, department p99 ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
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

    async def deliver(self, action):
        if isinstance(action, SendText):
            self.last = action
            self.sent += 1
        return Delivery(DeliveryStatus.SENT, message_id=str(self.sent))

    async def chat_admin_ids(self, chat):
        return self.admins.get(chat.chat_id, frozenset())

    async def chat_member_count(self, chat):
        return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def targets(engine) -> dict[str, tuple[ChatRef, UserRef, int, str]]:
    """(chat, admin, people below, name) for the largest school, the largest office, the department."""
    async with engine.connect() as conn:
        rows = {}
        for kind in ("school", "office", "department"):
            unit_id, name, path = (await conn.execute(text(
                "SELECT u.id, u.name, u.path FROM units u JOIN persons p ON p.home_unit_id IN "
                " (SELECT id FROM units WHERE path LIKE u.path || '%') WHERE u.type = :t "
                "GROUP BY u.id ORDER BY count(*) DESC, u.id LIMIT 1"), {"t": kind})).one()
            people = (await conn.execute(text(
                "SELECT count(*) FROM persons p JOIN units u ON u.id = p.home_unit_id WHERE u.path LIKE :p"),
                {"p": path + "%"})).scalar()
            user_id, display = (await conn.execute(text(
                "SELECT m.user_id, m.display_name FROM unit_roles r JOIN members m ON m.person_id = r.person_id "
                "WHERE r.unit_id = :u AND r.role = 'admin' AND m.platform = 'telegram' ORDER BY m.id LIMIT 1"),
                {"u": unit_id})).one()
            admin = UserRef("telegram", user_id, display)
            if kind == "school":
                chat_id = (await conn.execute(text(
                    "SELECT chat_id FROM groups WHERE unit_id = :u AND active ORDER BY id LIMIT 1"),
                    {"u": unit_id})).scalar()
                chat = ChatRef("telegram", chat_id, ChatKind.GROUP, name)
            else:
                chat = ChatRef("telegram", user_id, ChatKind.PRIVATE)
            rows[kind] = (chat, admin, people, name)
        return rows


async def run(db: str, calls: int = 200, *, out=print) -> dict[str, dict[str, float]]:
    """Run the benchmark; returns {"/tinhhinh school": {"p50": ms, "p99": ms, "raw_p50": …}, …}."""
    storage = await open_storage(bench_config(sqlite_url(db)))
    results: dict[str, dict[str, float]] = {}
    try:
        messenger = BenchMessenger()
        dispatcher = Dispatcher(storage.uow, bench_config(sqlite_url(db)), FixedClock(), instance="bench")
        dispatcher.attach(messenger, inline=True)
        where = await targets(storage.engine)
        captured: list[tuple[str, tuple]] = []
        capturing = [False]

        def capture(conn, cursor, statement, parameters, context, executemany):
            if capturing[0]:
                captured.append((statement, tuple(parameters or ())))

        event.listen(storage.engine.sync_engine, "before_cursor_execute", capture)
        raw = sqlite3.connect(db)
        seq = [0]

        async def once(command: str, chat: ChatRef, admin: UserRef) -> float:
            seq[0] += 1
            msg = IncomingMessage(chat=chat, message_id=f"bench-{seq[0]}", sender=admin, date=BENCH_NOW,
                                  text=command)
            start = time.perf_counter()
            await dispatcher.handle(msg)
            return (time.perf_counter() - start) * 1000

        for command in ("/tinhhinh", "/xephang"):
            for kind, (chat, admin, people, name) in where.items():
                if chat.is_group:
                    messenger.admins[chat.chat_id] = frozenset({admin.user_id})
                for _ in range(3):  # warm caches (SQLAlchemy's compiled statements, SQLite's pages)
                    await once(command, chat, admin)
                captured.clear()
                capturing[0] = True
                await once(command, chat, admin)
                capturing[0] = False
                statements = list(captured)
                reply = messenger.last.plain if messenger.last else ""
                times = [await once(command, chat, admin) for _ in range(calls)]
                selects = [(s, p) for s, p in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
                raw_times = []
                for _ in range(calls):
                    start = time.perf_counter()
                    for s, p in selects:
                        raw.execute(s, p).fetchall()
                    raw_times.append((time.perf_counter() - start) * 1000)
                key = f"{command} {kind}"
                r = results[key] = {
                    "p50": statistics.median(times), "p99": percentile(times, 0.99),
                    "raw_p50": statistics.median(raw_times), "raw_p99": percentile(raw_times, 0.99),
                    "queries": len(statements), "selects": len(selects), "people": people,
                }
                goal = GOALS_MS[kind]
                verdict = "" if goal is None else (f" — goal p99 ≤ {goal:.0f} ms: "
                                                   f"{'met' if r['p99'] <= goal else 'MISSED'}")
                out(f"{key:<22} {name[:34]:<34} {people:>6} people | dispatcher p50 {r['p50']:7.1f} ms "
                    f"p99 {r['p99']:7.1f} ms | raw SQL ({len(selects)} selects of {len(statements)} statements)"
                    f" p50 {r['raw_p50']:7.1f} ms p99 {r['raw_p99']:7.1f} ms{verdict}")
                if not reply:
                    out(f"  (no reply to {key}: check the generated roles)")
        raw.close()
    finally:
        await storage.close()
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=DEFAULT_OUT)
    p.add_argument("--calls", type=int, default=200)
    a = p.parse_args(argv)
    if not Path(a.db).exists():
        print(f"{a.db} does not exist: run bench/generate.py first", file=sys.stderr)
        return 2
    print(f"status at {BENCH_NOW:%d/%m/%Y %H:%M} UTC, {a.calls} calls each, database {a.db}")
    asyncio.run(run(a.db, a.calls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
