"""Ingest rate: messages through the dispatcher to a commit, beside raw aiosqlite INSERT+COMMIT.

    .venv/bin/python bench/ingest.py [N]

Both figures are measured in the same run on the same machine (shared machines are noisy):
the reference is single-row INSERT + COMMIT into the same `submissions` table, with the same
pragmas (WAL, synchronous=FULL), which is the floor of what one commit per message costs.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bot.app import load_demo_units, open_storage  # noqa: E402
from bot.config import default_config  # noqa: E402
from bot.domain.types import ChatKind, ChatRef, Delivery, DeliveryStatus, IncomingMessage, UserRef  # noqa: E402
from handlers.dispatch import Dispatcher  # noqa: E402


class NullMessenger:
    platform = "bench"

    async def deliver(self, action):
        return Delivery(DeliveryStatus.SENT)

    async def chat_admin_ids(self, chat):
        return frozenset()


class Clock:
    def now(self):
        return datetime.now(timezone.utc)


async def ours(n: int, folder: Path) -> float:
    cfg = default_config()
    cfg = replace(cfg, database=replace(cfg.database, url=f"sqlite+aiosqlite:///{folder / 'ours.db'}"))
    storage = await open_storage(cfg)
    await load_demo_units(storage, cfg, Clock().now())
    dispatcher = Dispatcher(storage.uow, cfg, Clock(), instance="bench")
    dispatcher.attach(NullMessenger(), inline=True)
    group = ChatRef("bench", "g", ChatKind.GROUP)
    assert await dispatcher.bind_group(group, "THCS-KIMBOI", Clock().now())
    people = [UserRef("bench", str(i), f"Giáo viên {i}") for i in range(50)]
    start = time.perf_counter()
    t0 = datetime(2026, 11, 27, tzinfo=timezone.utc)
    for i in range(n):
        await dispatcher.handle(IncomingMessage(
            chat=group, message_id=str(i), sender=people[i % 50], date=t0 + timedelta(seconds=i),
            text=f"Em chia sẻ https://www.facebook.com/thcskimboi/posts/{10_000_000 + i} ạ"))
    elapsed = time.perf_counter() - start
    async with storage.engine.connect() as conn:
        assert (await conn.execute(text("select count(*) from submissions"))).scalar() == n
    await storage.close()
    return n / elapsed


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


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        reference = await raw(n, Path(tmp))
        rate = await ours(n, Path(tmp))
    print(f"ingest: {rate:,.0f} messages/s through the dispatcher (one transaction each)")
    print(f"reference: {reference:,.0f} raw single-row INSERT+COMMIT/s on the same schema")
    print(f"ratio: {rate / reference:.0%} of raw")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
