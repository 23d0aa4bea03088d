"""Ingest (SPEC §5): Telegram update JSON → PTB → our adapter → dispatcher → committed →
acknowledgements queued, beside raw aiosqlite INSERT+COMMIT on the same schema, in the same run.

    .venv/bin/python bench/ingest.py [N] [--batch 100] [--rate 200] [--seconds 10] [--normal] [--one-by-one]

- whole path: N link messages of a realistic mix (40 bound groups of 50 people seen before; one or
  two links; some links the sender already shared; some senders new; a few commands), parsed by
  the real ``telegram.Update.de_json``, translated by our adapter and handed to
  ``Dispatcher.handle_batch`` in batches of ``--batch`` as ``getUpdates`` delivers them; replies
  go to the outbox (a messenger that only counts). The figure is messages/s to the last commit.
- reference: single-row INSERT + COMMIT into ``submissions`` through aiosqlite, same pragmas
  (WAL, synchronous=FULL), the floor of one commit per message.
- latency: messages arrive at a steady ``--rate`` per second for ``--seconds``; whenever the
  loop is free it takes everything that has arrived (as a long poll returns it) as one batch;
  p50/p99 from arrival to the batch's commit.
- ``--normal``: the bot's database with synchronous=NORMAL instead of FULL, to show what FULL costs.
- ``--one-by-one``: also the old path, ``Dispatcher.handle`` per message (one transaction each).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, text  # noqa: E402
from telegram import Update  # noqa: E402

from bot.app import load_demo_units, open_storage  # noqa: E402
from bot.config import default_config  # noqa: E402
from bot.domain.types import ChatKind, ChatRef, Delivery, DeliveryStatus  # noqa: E402
from bot.platforms.telegram import BotIdentity, translate  # noqa: E402
from handlers.dispatch import Dispatcher  # noqa: E402
from tests.fake_telegram import builders as b  # noqa: E402

GROUPS = 40
PEOPLE_PER_GROUP = 50
NEWCOMERS = 0.02  # the share of messages from people the bot has not seen yet
BOT = BotIdentity(999, "lantoa_bench_bot", False)


class CountingMessenger:
    platform = "telegram"

    def __init__(self) -> None:
        self.sent = 0

    async def deliver(self, action):
        self.sent += 1
        return Delivery(DeliveryStatus.SENT, "1")

    async def chat_admin_ids(self, chat):
        return frozenset()


class Clock:
    def now(self):
        return datetime.now(timezone.utc)


class Mix:
    """Update JSON as Telegram sends it: mostly fresh links, some repeats, new people, commands."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.update_id = 1000
        self.message_id = 1000
        self.post = 10_000_000
        self.newcomer = 8_000_000
        self.groups = [b.group(-1001000000000 - g, f"Tổ chuyên môn {g}") for g in range(GROUPS)]
        self.people = [[b.user(5_000_000 + g * 1000 + p, "Giáo viên", f"{g}-{p}") for p in range(PEOPLE_PER_GROUP)]
                       for g in range(GROUPS)]
        self.shared: dict[int, list[str]] = {}

    def _link(self) -> str:
        self.post += 1
        kind = self.rng.random()
        if kind < 0.6:
            return f"https://www.facebook.com/thcskimboi/posts/{self.post}?mibextid=abc"
        if kind < 0.8:
            return f"https://youtu.be/v{self.post}"
        return f"https://www.tiktok.com/@truong/video/{7_000_000_000_000_000_000 + self.post}"

    def update(self, *, warm: tuple[int, int] | None = None) -> dict:
        self.update_id += 1
        self.message_id += 1
        if warm is not None:
            g, p = warm
            sender, links, text_ = self.people[g][p], [self._link()], None
        else:
            g = self.rng.randrange(GROUPS)
            roll = self.rng.random()
            sender = self.people[g][self.rng.randrange(PEOPLE_PER_GROUP)]
            links = [self._link()]
            text_ = None
            if roll < NEWCOMERS:  # someone the bot has not seen yet
                self.newcomer += 1
                sender = b.user(self.newcomer, "Cô giáo", "mới")
            elif roll < 0.07 and self.shared.get(sender["id"]):  # shared this one before
                links = [self.rng.choice(self.shared[sender["id"]])]
            elif roll < 0.17:
                links.append(self._link())
            elif roll < 0.175:
                text_ = "/toi"
                links = []
        if text_ is None:
            self.shared.setdefault(sender["id"], []).extend(links)
            text_ = "Em chia sẻ bài của trường ạ " + " ".join(links)
        msg = b.message(self.groups[g], sender, text_, message_id=self.message_id, date=int(time.time()))
        return b.update("message", msg["message"] if "message" in msg else msg, self.update_id)


async def _bot_storage(folder: Path, name: str, normal: bool):
    cfg = default_config()
    cfg = replace(cfg, database=replace(cfg.database, url=f"sqlite+aiosqlite:///{folder / name}"))
    storage = await open_storage(cfg)
    if normal:
        @event.listens_for(storage.engine.sync_engine, "connect")
        def _normal(dbapi_conn, _record):
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
        await storage.engine.dispose()  # connections made from now on get NORMAL
    now = Clock().now()
    await load_demo_units(storage, cfg, now)
    dispatcher = Dispatcher(storage.uow, cfg, Clock(), instance="bench")
    messenger = CountingMessenger()
    outbox = dispatcher.attach(messenger, bot_username=BOT.username)
    async with storage.uow() as uow:
        leaves = [u.code for u in await uow.units.all() if u.type == "school"] or [u.code for u in await uow.units.all()]
    mix = Mix()
    for g, chat in enumerate(mix.groups):
        ref = ChatRef("telegram", str(chat["id"]), ChatKind.GROUP, chat["title"])
        assert await dispatcher.bind_group(ref, leaves[g % len(leaves)], now)
    # Everyone has spoken once before: the common case is a known person in a known group.
    warm = [mix.update(warm=(g, p)) for g in range(GROUPS) for p in range(PEOPLE_PER_GROUP)]
    for start in range(0, len(warm), 100):
        await _handle(dispatcher, _events(warm[start:start + 100]))
    await _drained(outbox)
    return storage, dispatcher, outbox, mix


async def _handle(dispatcher, events: list) -> None:
    if hasattr(dispatcher, "handle_batch"):
        await dispatcher.handle_batch(events)
    else:  # the code before batches: one transaction per event (for before/after figures)
        for e in events:
            await dispatcher.handle(e)


def _events(updates: list[dict]) -> list:
    events = []
    for data in updates:
        events.extend(translate(Update.de_json(data, None), BOT))
    return events


async def _drained(outbox) -> None:
    while not outbox._idle.is_set():  # noqa: SLF001 - a benchmark may look inside
        await asyncio.sleep(0.01)


async def whole_path(n: int, batch: int, folder: Path, normal: bool) -> tuple[float, int]:
    storage, dispatcher, outbox, mix = await _bot_storage(folder, "ours.db", normal)
    updates = [mix.update() for _ in range(n)]
    async with storage.engine.connect() as conn:
        before = (await conn.execute(text("select count(*) from submissions"))).scalar()
    start = time.perf_counter()
    for i in range(0, n, batch):
        await _handle(dispatcher, _events(updates[i:i + batch]))
    elapsed = time.perf_counter() - start
    async with storage.engine.connect() as conn:
        credited = (await conn.execute(text("select count(*) from submissions"))).scalar() - before
    await _drained(outbox)
    await storage.close()
    return n / elapsed, credited


async def one_by_one(n: int, folder: Path) -> float:
    storage, dispatcher, outbox, mix = await _bot_storage(folder, "single.db", False)
    events = _events([mix.update() for _ in range(n)])
    start = time.perf_counter()
    for e in events:
        await dispatcher.handle(e)
    elapsed = time.perf_counter() - start
    await _drained(outbox)
    await storage.close()
    return n / elapsed


async def latency(rate: float, seconds: float, batch: int, folder: Path, normal: bool) -> tuple[list[float], int]:
    storage, dispatcher, outbox, mix = await _bot_storage(folder, "latency.db", normal)
    total = int(rate * seconds)
    arrived: list[tuple[float, dict]] = []
    waits: list[float] = []
    batches = [0]
    more = asyncio.Event()

    async def telegram() -> None:
        t0 = time.perf_counter()
        for i in range(total):
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            arrived.append((time.perf_counter(), mix.update()))
            more.set()

    producer = asyncio.create_task(telegram())
    handled = 0
    while handled < total:
        if not arrived:
            more.clear()
            await more.wait()
        taken, arrived[:] = arrived[:batch], arrived[batch:]
        await _handle(dispatcher, _events([data for _, data in taken]))
        done = time.perf_counter()
        waits.extend(done - t for t, _ in taken)
        handled += len(taken)
        batches[0] += 1
    await producer
    await _drained(outbox)
    await storage.close()
    return waits, batches[0]


async def raw(n: int, folder: Path) -> float:
    cfg = default_config()
    cfg = replace(cfg, database=replace(cfg.database, url=f"sqlite+aiosqlite:///{folder / 'raw.db'}"))
    storage = await open_storage(cfg)  # the same schema, through the same migration
    await storage.close()
    import aiosqlite

    async with aiosqlite.connect(folder / "raw.db") as db:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=FULL")
        start = time.perf_counter()
        for i in range(n):
            await db.execute(
                "INSERT INTO submissions (chat_platform, chat_id, message_id, original_url, canonical_url,"
                " link_platform, is_page_post, created_at) VALUES ('bench','g',?,?,?, 'facebook', 0, ?)",
                (str(i), f"u{i}", f"https://www.facebook.com/x/posts/{i}", "2026-11-27 00:00:00"))
            await db.commit()
        return n / (time.perf_counter() - start)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(args) -> None:
    sync = "NORMAL" if args.normal else "FULL"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        reference = await raw(args.n, folder)
        rate, credited = await whole_path(args.n, args.batch, folder, args.normal)
        single = await one_by_one(min(args.n, 2000), folder) if args.one_by_one else None
        waits, batches = await latency(args.rate, args.seconds, args.batch, folder, args.normal) \
            if args.seconds else ([], 0)
    print(f"ingest: {rate:,.0f} messages/s, update JSON to commit and acknowledgements queued "
          f"({args.n:,} messages in batches of {args.batch}, {credited:,} links credited, synchronous={sync})")
    print(f"reference: {reference:,.0f} raw single-row INSERT+COMMIT/s on the same schema (synchronous=FULL)")
    print(f"ratio: {rate / reference:.0%} of raw")
    if single is not None:
        print(f"one by one: {single:,.0f} messages/s through Dispatcher.handle (one transaction each)")
    if waits:
        print(f"latency at {args.rate:g} messages/s for {args.seconds:g} s: p50 {_pct(waits, 0.5) * 1000:.1f} ms, "
              f"p99 {_pct(waits, 0.99) * 1000:.1f} ms, max {max(waits) * 1000:.1f} ms, "
              f"{len(waits) / max(1, batches):.1f} messages per batch on average")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--normal", action="store_true")
    parser.add_argument("--one-by-one", action="store_true")
    asyncio.run(main(parser.parse_args()))
