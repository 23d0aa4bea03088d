"""Ingestion never stalls or loops (issue 13 items 1-2): through the real PTB and the fake Bot API.

An update that cannot be read, or whose handling hits a bug, is logged and confirmed; only an
unavailable database holds confirmation back. Reads (administrators, member counts) never wait
in a group's send bucket and are bounded in time, so one busy or hanging group stalls no one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timezone
from types import SimpleNamespace

import aiohttp
import pytest

import bot.platforms.telegram as tgmod
from bot.app import load_demo_units, open_storage
from bot.config import TelegramSection, WebSection
from bot.domain.types import ChatKind, ChatRef, IncomingMessage, SendText
from bot.platforms.telegram import ReadUnavailable, SendRateLimiter, TelegramMessenger
from handlers.dispatch import DatabaseUnavailable
from tests.fake_telegram import builders as b
from tests.fake_telegram.fixtures import FAKE_TOKEN
from tests.fake_telegram.server import FakeTelegramServer
from tests.telegram.test_telegram_app import (  # noqa: F401 - tg is a fixture
    BINH,
    GROUP,
    GROUP_ID,
    LAN,
    POST,
    PRINCIPAL,
    Running,
    bind_group,
    free_port,
    tg,
)

OTHER_ID = -1001555000111
OTHER = b.group(OTHER_ID, "Truyền thông TH Kim Bôi")
POST2 = "https://www.facebook.com/thkimboi/posts/987654321"


def group_chat(chat_id: int = GROUP_ID) -> ChatRef:
    return ChatRef("telegram", str(chat_id), ChatKind.GROUP)


def translate_failing_for(monkeypatch, update_id: int) -> None:
    real = tgmod.translate

    def translate(update, bot):
        if update.update_id == update_id:
            raise KeyError("a field this version did not expect")
        return real(update, bot)

    monkeypatch.setattr(tgmod, "translate", translate)


# --- item 1: a bug confirms, only the database holds back (polling) --------------------------------


async def test_an_update_whose_translation_raises_is_confirmed_once_and_later_ones_are_handled(
        tg, fake_telegram, monkeypatch, caplog):
    await bind_group(tg, fake_telegram)
    await fake_telegram.wait_confirmed()
    bad = fake_telegram.push_update(b.message(GROUP, BINH, "https://youtu.be/dQw4w9WgXcQ"))
    translate_failing_for(monkeypatch, bad)
    good = fake_telegram.push_update(b.message(GROUP, LAN, POST))
    await fake_telegram.wait_confirmed(good)
    await fake_telegram.wait_for("setMessageReaction")
    assert fake_telegram.confirmed_offset > good
    assert fake_telegram.deliveries[bad] == 1  # not redelivered, not retried
    assert await tg.scalar("select count(*) from submissions") == 1
    assert f"update {bad} could not be translated" in caplog.text


async def test_an_update_ptb_cannot_parse_is_confirmed_and_the_rest_of_its_batch_is_handled(
        tg, fake_telegram, caplog):
    await bind_group(tg, fake_telegram)
    await fake_telegram.wait_confirmed()
    await tg.stop()  # so that all three arrive in one batch when it starts again
    broken = b.message(GROUP, BINH, "xem https://youtu.be/dQw4w9WgXcQ")
    broken["message"]["entities"] = [{"type": "url"}]  # no offset/length: PTB's de_json raises
    first = fake_telegram.push_update(b.message(GROUP, LAN, "chào cả nhà"))
    bad = fake_telegram.push_update(broken)
    last = fake_telegram.push_update(b.message(GROUP, LAN, POST))
    await tg.start()
    await fake_telegram.wait_confirmed(last)
    await fake_telegram.wait_for("setMessageReaction")
    assert fake_telegram.deliveries[bad] == 2  # the batch PTB could not parse, then the re-read
    assert await tg.scalar("select count(*) from submissions") == 1
    assert fake_telegram.confirmed_offset > last > bad > first
    assert f"update {bad} could not be read" in caplog.text


async def test_a_bug_escaping_the_core_is_logged_and_confirmed(tg, fake_telegram, caplog):
    await bind_group(tg, fake_telegram)
    await fake_telegram.wait_confirmed()
    real_handle = tg.app.platform.core.handle

    async def handle(event):
        if isinstance(event, IncomingMessage) and "boom" in event.text:
            raise RuntimeError("a bug outside any transaction")
        await real_handle(event)

    tg.app.platform.core = SimpleNamespace(handle=handle)
    bad = fake_telegram.push_update(b.message(GROUP, BINH, "boom"))
    good = fake_telegram.push_update(b.message(GROUP, LAN, POST))
    await fake_telegram.wait_confirmed(good)
    await fake_telegram.wait_for("setMessageReaction")
    assert fake_telegram.deliveries[bad] == 1
    assert f"handling update {bad} failed" in caplog.text and "RuntimeError" in caplog.text


# --- item 1: the webhook answers 200 for a bug, 503 while the database is away ---------------------


@pytest.fixture
async def hook(fake_telegram: FakeTelegramServer, config):
    port = free_port()
    cfg = replace(
        config,
        telegram=TelegramSection(enabled=True, token=FAKE_TOKEN, base_url=fake_telegram.base_url,
                                 mode="webhook", secret="s3cret"),
        web=WebSection(listen="127.0.0.1", port=port, public_url=f"http://127.0.0.1:{port}"),
    )
    storage = await open_storage(cfg)
    await load_demo_units(storage, cfg, datetime.now(timezone.utc))
    running = Running(cfg, storage)
    await running.start()
    yield running
    await running.stop()
    await storage.close()


async def test_webhook_a_bug_answers_200_and_an_absent_database_503(hook, fake_telegram, monkeypatch, caplog):
    fake_telegram.add_chat(GROUP)
    fake_telegram.set_admins(GROUP_ID, [b.owner(PRINCIPAL)])
    fake_telegram.push_update(b.message(GROUP, PRINCIPAL, f"/dangky {await hook.join_code('THCS-KIMBOI')}"))
    assert [s for _, s in await fake_telegram.deliver_webhook()] == [200]

    untranslatable = fake_telegram.push_update(b.message(GROUP, BINH, "https://youtu.be/dQw4w9WgXcQ"))
    translate_failing_for(monkeypatch, untranslatable)
    broken = b.message(GROUP, BINH, "xem https://youtu.be/dQw4w9WgXcQ")
    broken["message"]["entities"] = [{"type": "url"}]
    unparsable = fake_telegram.push_update(broken)
    real_handle = hook.app.platform.core.handle
    outages = []

    async def handle(event):
        if isinstance(event, IncomingMessage) and POST in event.text and not outages:
            outages.append(event)
            raise DatabaseUnavailable("connection refused")
        await real_handle(event)

    hook.app.platform.core = SimpleNamespace(handle=handle)
    credited = fake_telegram.push_update(b.message(GROUP, LAN, POST))
    results = await fake_telegram.deliver_webhook()
    assert results == [(untranslatable, 200), (unparsable, 200), (credited, 503)]
    assert await hook.scalar("select count(*) from submissions") == 0
    assert await fake_telegram.deliver_webhook() == [(credited, 200)]  # Telegram's retry
    assert await hook.scalar("select count(*) from submissions") == 1
    assert f"update {untranslatable} could not be translated" in caplog.text
    assert f"webhook update {unparsable} could not be read" in caplog.text


async def test_webhook_answers_503_while_the_database_is_away(hook, fake_telegram):
    async with aiohttp.ClientSession() as session:
        update = b.message(GROUP, LAN, POST, update_id=900002)

        async def away(event):
            raise DatabaseUnavailable("connection refused")

        hook.app.platform.core = SimpleNamespace(handle=away)
        async with session.post(fake_telegram.webhook.url, json=update,
                                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}) as response:
            assert response.status == 503


# --- item 2: reads never wait behind the send limiter, and are bounded ------------------------------


async def bind_other_group(tg: Running, server: FakeTelegramServer) -> None:
    server.add_chat(OTHER)
    server.set_admins(OTHER_ID, [b.owner(PRINCIPAL)])
    server.push_update(b.message(OTHER, PRINCIPAL, f"/dangky {await tg.join_code('TH-KIMBOI')}"))
    await server.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == OTHER_ID
                          and "Đã gắn nhóm" in c.params.get("text", ""))


async def test_a_group_with_an_exhausted_send_bucket_still_gets_its_admin_lookups_at_once(tg, fake_telegram):
    await bind_group(tg, fake_telegram)
    await bind_other_group(tg, fake_telegram)
    await fake_telegram.wait_confirmed()
    messenger = tg.app.platform.messenger
    messenger.set_read_limits(ttl=0)  # every command asks Telegram again
    sent_before = len(fake_telegram.sent_messages(GROUP_ID))
    # 25 messages to one group: PTB's limiter lets 20 a minute through, the rest queue.
    flood = [asyncio.create_task(messenger.deliver(SendText.of(group_chat(), f"Thông báo {i}")))
             for i in range(25)]
    try:
        await fake_telegram.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == GROUP_ID
                                     and c.params.get("text") == "Thông báo 0")
        lookups_before = len(fake_telegram.calls_to("getChatAdministrators"))
        command = fake_telegram.push_update(b.message(GROUP, LAN, "/toi"))
        other = fake_telegram.push_update(b.message(OTHER, BINH, POST2))
        await fake_telegram.wait_confirmed(other, timeout=2.5)  # the limiter frees a slot every 3 s
        assert command < other
        lookups = fake_telegram.calls_to("getChatAdministrators")[lookups_before:]
        assert [c.params["chat_id"] for c in lookups if c.ok] == [GROUP_ID]
        assert len(fake_telegram.sent_messages(GROUP_ID)) - sent_before < 25  # the bucket is still full
        assert await tg.scalar("select count(*) from submissions") == 1
        reaction = await fake_telegram.wait_for("setMessageReaction")
        assert reaction.params["chat_id"] == OTHER_ID
    finally:
        for task in flood:
            task.cancel()
        await asyncio.gather(*flood, return_exceptions=True)


async def test_a_hanging_admin_lookup_holds_the_loop_no_longer_than_its_bound(tg, fake_telegram, caplog):
    await bind_group(tg, fake_telegram)
    await fake_telegram.wait_confirmed()
    messenger = tg.app.platform.messenger
    messenger.set_read_limits(ttl=0, timeout=0.3)
    fake_telegram.hold("getChatAdministrators", chat_id=GROUP_ID)
    lookups_before = len(fake_telegram.calls_to("getChatAdministrators"))
    first = fake_telegram.push_update(b.message(GROUP, LAN, "/toi"))
    second = fake_telegram.push_update(b.message(GROUP, BINH, "/toi"))
    link = fake_telegram.push_update(b.message(GROUP, LAN, POST))
    # PTB's own read timeout is 5 s: without the bound this would not be confirmed in time.
    await fake_telegram.wait_confirmed(link, timeout=2.5)
    assert first < second < link
    await fake_telegram.wait_for("setMessageReaction")
    # One timeout, then the chat is not asked again for a while: one hang costs one bound.
    assert len(fake_telegram.calls_to("getChatAdministrators")[lookups_before:]) == 1
    assert f"getChatAdministrators of {GROUP_ID} failed (no answer within 0.3 s)" in caplog.text


class FakeReads:
    """A Bot stand-in whose reads answer, fail or hang as a test says."""

    def __init__(self) -> None:
        self.admins: list | Exception | None = []
        self.count: int | Exception | None = 0
        self.calls = 0

    async def _answer(self, value):
        self.calls += 1
        if value is None:
            await asyncio.Event().wait()  # hangs until the caller's bound cancels it
        if isinstance(value, Exception):
            raise value
        return value

    async def get_chat_administrators(self, chat_id: int):
        return await self._answer(self.admins)

    async def get_chat_member_count(self, chat_id: int):
        return await self._answer(self.count)


def admin(user_id: int):
    return SimpleNamespace(user=SimpleNamespace(id=user_id))


async def test_when_the_lookup_fails_the_last_known_admins_are_used_and_it_is_not_retried_at_once(caplog):
    async with asyncio.timeout(5):  # a regression must fail, not hang on the stand-in's hang
        await _last_known_admins_are_used(caplog)


async def _last_known_admins_are_used(caplog):
    from telegram.error import NetworkError

    now = [1000.0]
    reads = FakeReads()
    messenger = TelegramMessenger(reads, admin_ttl=300, read_timeout=0.05, read_backoff=30,
                                  monotonic=lambda: now[0])
    chat = group_chat()
    reads.admins = [admin(7), admin(8)]
    assert await messenger.chat_admin_ids(chat) == {"7", "8"}
    now[0] += 301
    reads.admins = None  # hangs
    assert await messenger.chat_admin_ids(chat) == {"7", "8"}
    assert "using the last known answer" in caplog.text
    calls = reads.calls
    now[0] += 10  # within the back-off: not asked
    assert await messenger.chat_admin_ids(chat) == {"7", "8"}
    assert reads.calls == calls
    now[0] += 30  # after it: asked again, and a fresh answer replaces the old one
    reads.admins = [admin(9)]
    assert await messenger.chat_admin_ids(chat) == {"9"}

    # A chat never seen before has nothing to fall back on: the dispatcher hears of it.
    fresh = group_chat(-100777)
    reads.admins = NetworkError("httpx.ReadError")
    with pytest.raises(ReadUnavailable):
        await messenger.chat_admin_ids(fresh)
    calls = reads.calls
    with pytest.raises(ReadUnavailable):
        await messenger.chat_admin_ids(fresh)
    assert reads.calls == calls


async def test_member_count_is_read_cached_and_none_when_telegram_cannot_tell():
    async with asyncio.timeout(5):  # a regression must fail, not hang on the stand-in's hang
        await _member_count_is_read_cached()


async def _member_count_is_read_cached():
    from telegram.error import BadRequest

    now = [0.0]
    reads = FakeReads()
    messenger = TelegramMessenger(reads, admin_ttl=300, read_timeout=0.05, read_backoff=30,
                                  monotonic=lambda: now[0])
    reads.count = 34
    assert await messenger.chat_member_count(group_chat()) == 34
    reads.count = 35
    assert await messenger.chat_member_count(group_chat()) == 34  # cached like the admins
    reads.count = BadRequest("Chat not found")
    assert await messenger.chat_member_count(group_chat(-1001)) is None
    reads.count = None  # hangs
    assert await messenger.chat_member_count(group_chat(-1002)) is None


async def test_member_count_through_ptb_skips_the_send_limiter(tg, fake_telegram):
    await bind_group(tg, fake_telegram)
    messenger = tg.app.platform.messenger
    fake_telegram.set_member_count(GROUP_ID, 41)
    flood = [asyncio.create_task(messenger.deliver(SendText.of(group_chat(), f"Tin {i}"))) for i in range(25)]
    try:
        await fake_telegram.wait_for(lambda c: c.method == "sendMessage" and c.params.get("text") == "Tin 0")
        assert await asyncio.wait_for(messenger.chat_member_count(group_chat()), 1.0) == 41
        assert await messenger.chat_member_count(group_chat(-1009999)) is None  # a chat the bot is not in
    finally:
        for task in flood:
            task.cancel()
        await asyncio.gather(*flood, return_exceptions=True)


async def test_the_limiter_lets_reads_through_a_full_group_bucket_and_still_paces_sends():
    limiter = SendRateLimiter(group_max_rate=1, group_time_period=60)
    calls: list[str] = []

    async def callback(endpoint, data):
        calls.append(endpoint)
        return True

    async def request(endpoint: str):
        data = {"chat_id": GROUP_ID}
        return await limiter.process_request(callback, (endpoint, data), {}, endpoint, data, None)

    await request("sendMessage")  # the group's whole bucket
    for read in ("getChatAdministrators", "getChatMemberCount", "getChat", "getChatMember"):
        await asyncio.wait_for(request(read), 1.0)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(request("sendMessage"), 0.2)  # a send still waits its turn
    assert calls == ["sendMessage", "getChatAdministrators", "getChatMemberCount", "getChat", "getChatMember"]

