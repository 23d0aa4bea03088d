"""Fan-out of Friday's reminder to every school's group under Telegram's limits (SPEC §5).

    .venv/bin/python bench/fanout.py [--scale 1]

The real bot (python-telegram-bot, its rate limiter, the outbox, the claims in ``sent_messages``)
talks over HTTP to the local fake Bot API (``tests/fake_telegram/server.py``), which enforces
Telegram's limits: 30 messages a second overall and 20 a minute per group, answering 429 with
``retry_after`` beyond them. The province (units, 18,000 people, 530 bound groups, a few links so
that most groups have people to remind) is generated into a temporary file: the shared
``/tmp/province.db`` is never written to. The figure is the time from ``Jobs.fire`` to the last
message delivered, against the lower bound groups/30 s; the reference, in the same run, is the
same fan-out of the previous week's reminder with flood control off. Goal ≤ 1.10 × the bound,
none lost. This takes about 20 s by nature.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate import BENCH_NOW, bench_config, generate, sqlite_url  # noqa: E402
from bot.app import TelegramApp, open_storage  # noqa: E402
from bot.config import TelegramSection  # noqa: E402
from tests.fake_telegram import builders as b  # noqa: E402
from tests.fake_telegram.server import FAKE_TOKEN, FakeTelegramServer  # noqa: E402

GOAL = 1.10
PER_SECOND = 30
# Wednesday 10:00 in Hà Nội: nothing is due at start-up, so the catch-up sends nothing.
START = BENCH_NOW - timedelta(days=2, hours=5)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


async def fan_out(app: TelegramApp, server: FakeTelegramServer, at: datetime) -> dict:
    before = Counter(c.params.get("chat_id") for c in server.calls_to("sendMessage") if c.ok)
    throttled_before = len(server.throttled("sendMessage"))
    # When composing ends and the first send is handed to PTB: the rest of the run's claims are
    # taken while the first ones go out (handlers.jobs.FIRST_CHUNK).
    marks: dict[str, float] = {}
    compose, deliver = app.jobs.compose, app.outbox.messenger.deliver

    async def timed_compose(*args, **kwargs):
        try:
            return await compose(*args, **kwargs)
        finally:
            marks.setdefault("composed", time.perf_counter())

    async def timed_deliver(action):
        marks.setdefault("first_send", time.perf_counter())
        return await deliver(action)

    app.jobs.compose, app.outbox.messenger.deliver = timed_compose, timed_deliver
    start = time.perf_counter()
    try:
        run = await app.jobs.fire("reminder", at)
        fired = time.perf_counter() - start  # composed and every chunk claimed; sends under way
        await asyncio.wait_for(app.outbox.drain(), 600)
    finally:
        app.jobs.compose, app.outbox.messenger.deliver = compose, deliver
    elapsed = time.perf_counter() - start
    after = Counter(c.params.get("chat_id") for c in server.calls_to("sendMessage") if c.ok)
    got = {chat: after[chat] - before.get(chat, 0) for chat in after if after[chat] - before.get(chat, 0)}
    return {"seconds": elapsed, "composed": marks.get("composed", start) - start,
            "first_send": marks.get("first_send", start) - start, "fired": fired,
            "planned": run.planned, "claimed": run.claimed,
            "chats_reached": len(got), "messages": sum(got.values()),
            "throttled": len(server.throttled("sendMessage")) - throttled_before,
            "lost": run.claimed - len(got)}


async def run(scale: float = 1.0, *, links: int | None = None, out=print) -> dict:
    # PTB logs every 429 it waits out; the count is printed instead. Restored after (the smoke
    # test runs this inside the test process).
    ptb_log = logging.getLogger("telegram")
    level = ptb_log.level
    ptb_log.setLevel(logging.ERROR)
    try:
        return await _run(scale, links, out)
    finally:
        ptb_log.setLevel(level)


async def _run(scale: float, links: int | None, out) -> dict:
    with tempfile.TemporaryDirectory(prefix="lantoa-fanout-") as tmp:
        db = str(Path(tmp) / "fanout.db")
        # Two recent weeks of links at a tenth of the usual rate: most schools have laggards.
        await generate(out=db, scale=scale, links=links if links is not None else round(100_000 * scale),
                       since=(BENCH_NOW - timedelta(days=12)).date(), progress=False)
        server = FakeTelegramServer(FAKE_TOKEN)
        await server.start()
        try:
            cfg = replace(bench_config(sqlite_url(db)),
                          telegram=TelegramSection(enabled=True, token=FAKE_TOKEN, base_url=server.base_url))
            storage = await open_storage(cfg)
            async with storage.engine.connect() as conn:
                from sqlalchemy import text

                chats = [(int(c), t) for c, t in (await conn.execute(
                    text("SELECT chat_id, title FROM groups WHERE active"))).all()]
            for chat_id, title in chats:
                server.add_chat(b.group(chat_id, title))
            app = TelegramApp(cfg, storage, poll_timeout=1, retry_delay=0.05, clock=FixedClock(START),
                              instance="bench-fanout")
            await app.start()
            try:
                reference = await fan_out(app, server, BENCH_NOW - timedelta(days=7))
                server.flood_control(per_chat_per_minute=20, global_per_second=PER_SECOND)
                result = await fan_out(app, server, BENCH_NOW)
            finally:
                await app.stop()
                await storage.close()
        finally:
            await server.stop()
    bound = result["claimed"] / PER_SECOND
    result["bound"] = bound
    result["reference"] = reference
    ratio = result["seconds"] / bound if bound else 0.0
    verdict = "met" if ratio <= GOAL and result["lost"] == 0 else "MISSED"
    out(f"fan-out: {result['claimed']} reminders to {len(chats)} groups in {result['seconds']:.1f} s "
        f"= {ratio:.2f} × the {result['claimed']}/{PER_SECOND} s bound of {bound:.1f} s "
        f"(composed in {result['composed']:.2f} s, first send at {result['first_send']:.2f} s, "
        f"all claimed at {result['fired']:.2f} s); "
        f"{result['throttled']} answered 429; {result['lost']} lost; {result['messages']} messages "
        f"to {result['chats_reached']} chats — goal ≤ {GOAL:.2f} × bound, none lost: {verdict}")
    out(f"reference (previous week, no flood control): {reference['claimed']} reminders in "
        f"{reference['seconds']:.1f} s ({reference['claimed'] / max(reference['seconds'], 1e-9):.0f}/s, composed in "
        f"{reference['composed']:.2f} s, first send at {reference['first_send']:.2f} s), "
        f"{reference['lost']} lost")
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0)
    a = p.parse_args(argv)
    asyncio.run(run(a.scale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
