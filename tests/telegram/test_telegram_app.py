"""The real python-telegram-bot application against a fake Bot API server, over real HTTP."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import replace
from datetime import datetime, timezone
from types import SimpleNamespace

import aiohttp
import pytest

from bot.app import TelegramApp, load_demo_units, open_storage
from bot.config import ScheduleSection, TelegramSection, WebSection
from bot.domain.types import ChatKind, ChatRef, IncomingMessage, Mention, SendDocument, SendText, UserRef
from bot.platforms.telegram import ALLOWED_UPDATES
from tests.fake_telegram import builders as b
from tests.fake_telegram.fixtures import FAKE_TOKEN
from tests.fake_telegram.server import FakeTelegramServer

GROUP_ID = -1001987654321
POST = "https://www.facebook.com/thcslequydon/posts/123456789"
LAN = b.user(6100000001, "Lan", "Nguyễn Thị")
BINH = b.user(6100000002, "Bình", "Trần Văn")
PRINCIPAL = b.user(6100000009, "Hùng", "Trần Văn", username="thayhung")
GROUP = b.group(GROUP_ID, "Truyền thông THCS Kim Bôi")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Running:
    """A TelegramApp started against the fake server, stoppable and restartable."""

    def __init__(self, config, storage):
        # No scheduled jobs: started at the wall clock, a restart within hours of Friday 15:00 would
        # make up that week's reminder in a bound group (the scheduler has tests of its own).
        config = replace(config, schedule=ScheduleSection(None, None, None, config.schedule.grace_hours))
        self.config, self.storage = config, storage
        self.app: TelegramApp | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> TelegramApp:
        self.app = TelegramApp(self.config, self.storage, poll_timeout=1, retry_delay=0.05)
        await self.app.start()
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self.app.run_until(self._stop))
        return self.app

    async def stop(self) -> None:
        if self.app is None:
            return
        self._stop.set()
        await self._task
        await self.app.stop()
        self.app = None

    async def crash(self) -> None:
        """Stop without confirming the last updates, as a killed process would."""
        app = self.app
        app.platform._offset = None  # nothing confirmed on the way out
        await self.stop()

    async def scalar(self, sql: str):
        from sqlalchemy import text

        async with self.storage.engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()

    async def join_code(self, unit: str) -> str:
        async with self.storage.uow() as uow:
            return (await uow.units.by_code(unit)).join_code


@pytest.fixture
async def tg(fake_telegram: FakeTelegramServer, config):
    cfg = replace(config, telegram=TelegramSection(enabled=True, token=FAKE_TOKEN, base_url=fake_telegram.base_url))
    storage = await open_storage(cfg)
    await load_demo_units(storage, cfg, datetime.now(timezone.utc))
    running = Running(cfg, storage)
    await running.start()
    yield running
    await running.stop()
    await storage.close()


async def bind_group(tg: Running, server: FakeTelegramServer, unit: str = "THCS-KIMBOI") -> None:
    server.add_chat(GROUP)
    server.set_admins(GROUP_ID, [b.owner(PRINCIPAL)])
    server.push_update(b.message(GROUP, PRINCIPAL, f"/dangky {await tg.join_code(unit)}"))
    await server.wait_for(lambda c: c.method == "sendMessage" and "Đã gắn nhóm" in c.params.get("text", ""))


async def test_start_up_registers_commands_and_asks_for_every_update_kind(tg, fake_telegram):
    await fake_telegram.wait_for(lambda c: c.method == "getUpdates", include_pending=True)
    assert set(ALLOWED_UPDATES) <= set(fake_telegram.allowed_updates)
    commands = fake_telegram.my_commands(language_code="vi")
    assert {c["command"] for c in commands} >= {"toi", "dangky", "huy", "huongdan", "batdau"}
    assert any("Kết quả của tôi" in c["description"] for c in commands)


async def test_link_is_credited_with_a_reaction_and_no_text(tg, fake_telegram):
    await bind_group(tg, fake_telegram)
    sent_before = len(fake_telegram.sent_messages())
    update_id = fake_telegram.push_update(b.message(GROUP, LAN, f"👉 Em đã chia sẻ {POST} ạ"))
    reaction = await fake_telegram.wait_for("setMessageReaction")
    assert reaction.params["reaction"][0]["emoji"] == "👍"
    await fake_telegram.wait_confirmed(update_id)
    assert len(fake_telegram.sent_messages()) == sent_before
    assert await tg.scalar("select count(*) from submissions") == 1


async def test_same_post_again_is_not_credited_and_gets_one_line(tg, fake_telegram):
    await bind_group(tg, fake_telegram)
    fake_telegram.push_update(b.message(GROUP, LAN, POST))
    await fake_telegram.wait_for("setMessageReaction")
    fake_telegram.push_update(b.message(GROUP, LAN, POST + "?mibextid=Nif5oz&fbclid=IwAR0abc"))
    reply = await fake_telegram.wait_for(lambda c: c.method == "sendMessage" and "đã được ghi nhận" in c.params["text"])
    assert reply.params["text"].startswith("Bài này đã được ghi nhận ngày ")
    assert len(fake_telegram.reactions()) == 1
    assert await tg.scalar("select count(*) from submissions") == 1


async def test_text_link_and_caption_are_credited(tg, fake_telegram):
    await bind_group(tg, fake_telegram)
    text = "Mọi người thả tim giúp bài này nhé 💖"
    fake_telegram.push_update(b.message(GROUP, LAN, text, entities=[b.text_link(text, "bài này", POST)]))
    fake_telegram.push_update(b.message(GROUP, BINH, caption="Ảnh hoạt động 📸 https://youtu.be/dQw4w9WgXcQ",
                                        photo=b.photo_sizes()))
    await fake_telegram.wait_for_count("setMessageReaction", 2)
    assert await tg.scalar("select count(*) from submissions") == 2


async def test_dangky_by_non_admin_is_refused(tg, fake_telegram):
    fake_telegram.add_chat(GROUP)
    fake_telegram.set_admins(GROUP_ID, [b.owner(PRINCIPAL)])
    fake_telegram.push_update(b.message(GROUP, LAN, f"/dangky@LanToaBot {await tg.join_code('THCS-KIMBOI')}"))
    reply = await fake_telegram.wait_for("sendMessage")
    assert reply.params["text"] == "Chỉ quản trị viên nhóm mới dùng được lệnh này."
    assert await tg.scalar("select unit_id from groups") is None


async def test_migrated_group_stays_bound(tg, fake_telegram):
    await bind_group(tg, fake_telegram)
    in_old, in_new = b.migrate(GROUP, -1002212345678, PRINCIPAL)
    fake_telegram.push_updates(in_old, in_new)
    new_group = b.group(-1002212345678, GROUP["title"])
    update_id = fake_telegram.push_update(b.message(new_group, LAN, POST))
    await fake_telegram.wait_confirmed(update_id)
    reaction = await fake_telegram.wait_for("setMessageReaction")
    assert int(reaction.params["chat_id"]) == -1002212345678
    assert await tg.scalar("select count(*) from groups") == 1
    assert await tg.scalar("select u.code from groups g join units u on u.id = g.unit_id") == "THCS-KIMBOI"


async def test_kicked_bot_sends_nothing_more_to_that_chat(tg, fake_telegram):
    await bind_group(tg, fake_telegram)
    update_id = fake_telegram.push_update(fake_telegram.kick_bot(GROUP_ID, PRINCIPAL))
    await fake_telegram.wait_confirmed(update_id)
    assert await tg.scalar("select active from groups") == 0
    calls_before = len(fake_telegram.calls)
    # Telegram would not deliver more from that chat; even if an old update arrives, nothing is sent.
    update_id = fake_telegram.push_update(b.message(GROUP, LAN, "/huongdan"))
    await fake_telegram.wait_confirmed(update_id)
    await tg.app.outbox.drain()
    assert [c for c in fake_telegram.calls[calls_before:] if c.method in ("sendMessage", "setMessageReaction")
            and c.ok] == []


async def test_bot_added_without_reading_rights_explains_the_fix(tg, fake_telegram):
    bot_user = b.user(123456, "Lan Tỏa", username="LanToaBot", is_bot=True)
    fake_telegram.push_update(b.my_chat_member(GROUP, bot_user, "left", "member", PRINCIPAL))
    reply = await fake_telegram.wait_for("sendMessage")
    assert "/setprivacy" in reply.params["text"]


async def test_flood_control_429_is_waited_out_and_nothing_is_lost(tg, fake_telegram):
    await bind_group(tg, fake_telegram)
    fake_telegram.fail_next("setMessageReaction", 1, retry_after=1)
    fake_telegram.push_update(b.message(GROUP, LAN, POST))
    await fake_telegram.wait_for(lambda c: c.method == "setMessageReaction" and c.ok, timeout=10)
    assert len(fake_telegram.throttled("setMessageReaction")) == 1


async def test_redelivered_update_after_a_crash_credits_nothing_twice(tg, fake_telegram):
    await bind_group(tg, fake_telegram)
    await fake_telegram.wait_confirmed()
    # The process dies right after the commit, before the next getUpdates confirms the update.
    committed = asyncio.Event()
    real_handle = tg.app.platform.core.handle

    async def handle_then_die(event):
        await real_handle(event)
        if isinstance(event, IncomingMessage) and POST in event.text:
            committed.set()
            await asyncio.Event().wait()

    tg.app.platform.core = SimpleNamespace(handle=handle_then_die)
    update_id = fake_telegram.push_update(b.message(GROUP, LAN, POST))
    await asyncio.wait_for(committed.wait(), 5)
    await fake_telegram.wait_for("setMessageReaction")
    await tg.crash()
    assert fake_telegram.confirmed_offset <= update_id  # Telegram will send it again
    await tg.start()
    await fake_telegram.wait_confirmed(update_id)
    assert fake_telegram.deliveries[update_id] >= 2
    assert await tg.scalar("select count(*) from submissions") == 1
    assert len(fake_telegram.reactions()) == 1


async def test_reaction_refused_falls_back_to_one_short_reply(tg, fake_telegram):
    await bind_group(tg, fake_telegram)
    fake_telegram.fail_reactions(GROUP_ID)
    fake_telegram.push_update(b.message(GROUP, LAN, POST))
    reply = await fake_telegram.wait_for(lambda c: c.method == "sendMessage" and c.params.get("text") == "✅ Đã ghi nhận.")
    assert reply.ok


async def test_mentions_long_texts_and_documents_through_the_messenger(tg, fake_telegram):
    fake_telegram.add_chat(GROUP)
    chat = ChatRef("telegram", str(GROUP_ID), ChatKind.GROUP)
    who = UserRef("telegram", "6100000001", "Nguyễn Thị <Lan>")
    messenger = tg.app.platform.messenger
    result = await messenger.deliver(SendText(chat, ("Nhắc ", Mention(who), " nhé")))
    assert result.status.value == "sent"
    [sent] = fake_telegram.sent_messages(GROUP_ID)
    assert sent.text == "Nhắc Nguyễn Thị <Lan> nhé" and sent.mentioned_ids == [6100000001]
    long_text = "\n".join(f"Dòng {i}: " + "ạ" * 80 for i in range(120))
    await messenger.deliver(SendText.of(chat, long_text))
    parts = fake_telegram.sent_messages(GROUP_ID)[1:]
    assert len(parts) == 3 and "\n".join(p.text for p in parts) == long_text
    await messenger.deliver(SendDocument(chat, "bao-cao.xlsx", b"PK\x03\x04 data", caption="Báo cáo tháng"))
    [doc] = fake_telegram.documents(GROUP_ID)
    assert doc.filename == "bao-cao.xlsx" and doc.content == b"PK\x03\x04 data"


async def test_token_never_reaches_the_logs(fake_telegram, config, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # even if someone turns httpx up
    caplog.set_level(logging.DEBUG, logger="telegram")
    cfg = replace(config, telegram=TelegramSection(enabled=True, token=FAKE_TOKEN, base_url=fake_telegram.base_url))
    storage = await open_storage(cfg)
    await load_demo_units(storage, cfg, datetime.now(timezone.utc))
    running = Running(cfg, storage)
    await running.start()
    try:
        fake_telegram.add_chat(GROUP)
        fake_telegram.fail("sendMessage", 500, "Internal Server Error", times=1)
        fake_telegram.push_update(b.message(GROUP, LAN, "/huongdan"))
        fake_telegram.push_update(b.message(GROUP, LAN, POST))
        await fake_telegram.wait_for(lambda c: c.method == "sendMessage" and c.status is not None)
        await fake_telegram.wait_confirmed()
        await running.app.outbox.drain()
    finally:
        await running.stop()
        await storage.close()
    assert "getUpdates" in caplog.text or "telegram" in caplog.text  # the logs were captured at all
    secret_part = FAKE_TOKEN.split(":", 1)[1]
    assert secret_part not in caplog.text
    assert FAKE_TOKEN not in caplog.text


async def test_wrong_token_stops_with_a_clear_error_and_no_token(fake_telegram, config, caplog):
    from bot.domain.types import PlatformRefused

    wrong = "999999:WRONG-TOKEN-abcdefghijklmnopqrstuvwxyz"
    cfg = replace(config, telegram=TelegramSection(enabled=True, token=wrong, base_url=fake_telegram.base_url))
    storage = await open_storage(cfg)
    app = TelegramApp(cfg, storage, poll_timeout=1)
    try:
        with pytest.raises(PlatformRefused) as info:
            await app.start()
        assert "WRONG-TOKEN" not in str(info.value) and info.value.__cause__ is None
        assert "token" in str(info.value)
    finally:
        await app.platform.application.shutdown()
        await storage.close()


async def test_webhook_checks_the_secret_and_answers_after_commit(fake_telegram, config):
    port = free_port()
    cfg = replace(
        config,
        telegram=TelegramSection(enabled=True, token=FAKE_TOKEN, base_url=fake_telegram.base_url, mode="webhook",
                                 secret="s3cret-Webhook_value"),
        web=WebSection(listen="127.0.0.1", port=port, public_url=f"http://127.0.0.1:{port}"),
    )
    storage = await open_storage(cfg)
    await load_demo_units(storage, cfg, datetime.now(timezone.utc))
    running = Running(cfg, storage)
    await running.start()
    try:
        assert fake_telegram.webhook.url == f"http://127.0.0.1:{port}/telegram/webhook"
        assert fake_telegram.webhook.secret_token == "s3cret-Webhook_value"
        url = fake_telegram.webhook.url
        update = b.message(GROUP, PRINCIPAL, "/huongdan", update_id=900001)
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with session.post(url, json=update, headers=headers) as response:
                    assert response.status == 403
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
        assert await running.scalar("select count(*) from members") == 0  # nothing processed
        fake_telegram.add_chat(GROUP)
        fake_telegram.set_admins(GROUP_ID, [b.owner(PRINCIPAL)])
        fake_telegram.push_update(b.message(GROUP, PRINCIPAL, f"/dangky {await running.join_code('THCS-KIMBOI')}"))
        fake_telegram.push_update(b.message(GROUP, LAN, POST))
        results = await fake_telegram.deliver_webhook()
        assert [status for _, status in results] == [200, 200]
        assert await running.scalar("select count(*) from submissions") == 1  # committed before the 200
        await fake_telegram.wait_for("setMessageReaction")
    finally:
        await running.stop()
        await storage.close()
    assert fake_telegram.webhook.url  # never deleted on shutdown


async def test_a_429_on_a_reply_is_waited_out_and_the_reply_arrives(tg, fake_telegram):
    fake_telegram.add_chat(GROUP)
    fake_telegram.fail_next("sendMessage", 1, retry_after=1)
    fake_telegram.push_update(b.message(GROUP, LAN, "/huongdan"))
    reply = await fake_telegram.wait_for(lambda c: c.method == "sendMessage" and c.ok, timeout=10)
    assert reply.params["text"].startswith("Lan Tỏa giúp đơn vị")
    assert len(fake_telegram.throttled("sendMessage")) == 1


async def test_bots_messages_credit_no_one_and_leaving_ends_membership(tg, fake_telegram):
    await bind_group(tg, fake_telegram)
    other_bot = b.user(5550001, "Bot khác", username="OtherBot", is_bot=True)
    fake_telegram.push_update(b.message(GROUP, other_bot, POST))
    fake_telegram.push_update(b.message(GROUP, LAN, "chào cả nhà"))
    fake_telegram.push_update(b.chat_member(GROUP, LAN, "member", "left"))
    await fake_telegram.wait_confirmed()
    assert await tg.scalar("select count(*) from submissions") == 0
    assert await tg.scalar(
        "select gm.active from group_memberships gm join members m on m.id = gm.member_id "
        f"where m.user_id = '{LAN['id']}'") == 0


async def test_an_update_the_database_could_not_take_is_not_confirmed_and_comes_again(tg, fake_telegram):
    from handlers.dispatch import DatabaseUnavailable

    await bind_group(tg, fake_telegram)
    await fake_telegram.wait_confirmed()
    real_handle = tg.app.platform.core.handle
    failures = []

    async def handle_with_one_outage(event):
        if isinstance(event, IncomingMessage) and POST in event.text and not failures:
            failures.append(event)
            raise DatabaseUnavailable("connection refused")
        await real_handle(event)

    tg.app.platform.core = SimpleNamespace(handle=handle_with_one_outage)
    update_id = fake_telegram.push_update(b.message(GROUP, LAN, POST))
    await fake_telegram.wait_confirmed(update_id, timeout=10)
    assert failures and fake_telegram.deliveries[update_id] >= 2
    await fake_telegram.wait_for("setMessageReaction")
    assert await tg.scalar("select count(*) from submissions") == 1
