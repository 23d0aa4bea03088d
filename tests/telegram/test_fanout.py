"""A scheduled fan-out through the real python-telegram-bot against the fake Bot API, under
flood control with forced 429s: every group gets exactly one message, nothing is lost."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from bot.app import TelegramApp, load_demo_units, open_storage
from bot.config import TelegramSection
from bot.domain.types import ChatKind, ChatRef, Mention, SendText, UserRef
from handlers import rhythm
from handlers.rhythm import PlannedSend
from tests.fake_telegram import builders as b
from tests.fake_telegram.fixtures import FAKE_TOKEN
from tests.handlers.test_jobs import expire_leases

GROUPS = [-1002000000000 - i for i in range(34)]
LAN = UserRef("telegram", "6100000001", "Nguyễn Thị <Lan> & Co")  # no username; needs escaping
# Wednesday 25/11/2026 10:00 in Hà Nội: nothing is due, so the start-up catch-up sends nothing.
WEDNESDAY = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
FRIDAY_1500 = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


async def compose(uow, config, kind, now, *, subtree=None, groups_only=False):
    plans = []
    for chat_id in GROUPS:
        chat = ChatRef("telegram", str(chat_id), ChatKind.GROUP)
        parts = ("⏰ Tuần 48: còn ", Mention(LAN), " chưa chia sẻ bài nào.")
        plans.append(PlannedSend(chat, kind, "2026-W48", (SendText(chat, parts),)))
    return plans


class Harness:
    def __init__(self, app: TelegramApp, storage) -> None:
        self.app, self.storage = app, storage

    async def scalar(self, sql: str):
        from sqlalchemy import text

        async with self.storage.engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()


@pytest.fixture
async def running(fake_telegram, config, monkeypatch):
    monkeypatch.setattr(rhythm, "compose", compose)
    cfg = replace(config, telegram=TelegramSection(enabled=True, token=FAKE_TOKEN, base_url=fake_telegram.base_url))
    storage = await open_storage(cfg)
    await load_demo_units(storage, cfg, WEDNESDAY)
    for i, chat_id in enumerate(GROUPS):
        fake_telegram.add_chat(b.group(chat_id, f"Truyền thông trường {i}"))
    app = TelegramApp(cfg, storage, poll_timeout=1, retry_delay=0.05, clock=FixedClock(WEDNESDAY), instance="fanout")
    await app.start()
    try:
        yield Harness(app, storage)
    finally:
        await app.stop()
        await storage.close()


async def test_a_fan_out_to_34_groups_under_flood_control_with_forced_429s_loses_nothing(running, fake_telegram):
    assert fake_telegram.sent_messages() == []  # the catch-up at start-up found nothing due
    fake_telegram.flood_control(per_chat_per_minute=20, global_per_second=30)
    fake_telegram.fail_next("sendMessage", 4, retry_after=1)
    run = await running.app.jobs.fire("reminder", FRIDAY_1500)
    assert run.claimed == 34
    await asyncio.wait_for(running.app.outbox.drain(), 60)

    assert len(fake_telegram.throttled("sendMessage")) >= 4
    for chat_id in GROUPS:
        [message] = fake_telegram.sent_messages(chat_id)
        assert message.mentioned_ids == [6100000001]  # a mention that works without a username
        assert message.text == "⏰ Tuần 48: còn Nguyễn Thị <Lan> & Co chưa chia sẻ bài nào."
    assert await running.scalar("select count(*) from sent_messages where kind = 'reminder' and status = 'sent'") == 34
    # Firing again (a restart, a second instance) sends nothing more.
    assert (await running.app.jobs.fire("reminder", FRIDAY_1500)).outcome == "already"
    await running.app.outbox.drain()
    assert len(fake_telegram.sent_messages()) == 34


async def test_a_gateway_error_is_retried_by_the_sweeper_and_a_removed_bot_is_not(running, fake_telegram):
    flaky, removed = GROUPS[3], GROUPS[7]
    fake_telegram.fail("sendMessage", 502, "Bad Gateway", chat_id=flaky, times=1)
    fake_telegram.kick_bot(removed)
    await running.app.jobs.fire("reminder", FRIDAY_1500)
    await asyncio.wait_for(running.app.outbox.drain(), 60)
    assert fake_telegram.sent_messages(flaky) == [] and fake_telegram.sent_messages(removed) == []
    assert await running.scalar(f"select status from sent_messages where chat_id = '{flaky}'") == "released"
    assert await running.scalar(f"select status from sent_messages where chat_id = '{removed}'") == "failed"

    await expire_leases(running)  # the back-off is over
    assert await running.app.jobs.sweep() == 1
    await asyncio.wait_for(running.app.outbox.drain(), 30)
    assert len(fake_telegram.sent_messages(flaky)) == 1
    assert fake_telegram.sent_messages(removed) == []
    assert await running.scalar("select count(*) from sent_messages where status = 'sent'") == 33
    assert await running.scalar("select count(*) from sent_messages where status = 'failed'") == 1
