"""The Zalo adapter and app against a fake Zalo Bot Platform, over real HTTP."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
import pytest_asyncio

from bot.app import ZaloApp, load_demo_units, open_storage
from bot.config import ScheduleSection, WebSection, ZaloSection
from bot.domain import texts_vi
from bot.domain.types import ChatKind, ChatRef, IncomingMessage, PlatformRefused, SendText, UserRef
from handlers.rhythm import JobKind
from tests.conftest import T0
from tests.fake_zalo.server import FAKE_ZALO_TOKEN, FakeZaloServer, free_port, html_page, text_update

POST = "https://www.facebook.com/thcskimboi/posts/123456789"
POST2 = "https://www.facebook.com/thcskimboi/posts/987654321"
MS = int(T0.timestamp() * 1000)  # Friday 27/11/2026 10:00 in Hà Nội
SECRET = "zalo-Webhook-s3cret"


@pytest_asyncio.fixture
async def fake_zalo():
    server = FakeZaloServer()
    await server.start()
    yield server
    await server.stop()
    assert not server.internal_errors, server.internal_errors


class RunningZalo:
    def __init__(self, config, storage):
        self.config, self.storage = config, storage
        self.app: ZaloApp | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> ZaloApp:
        self.app = ZaloApp(self.config, self.storage, poll_timeout=1, retry_delay=0.05)
        await self.app.start()
        self._task = asyncio.create_task(self.app.run_until(self._stop))
        return self.app

    async def stop(self) -> None:
        if self.app is not None:
            self._stop.set()
            await self._task
            await self.app.stop()
            self.app = None

    async def scalar(self, sql: str):
        from sqlalchemy import text

        async with self.storage.engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()

    async def codes(self, unit: str = "THCS-KIMBOI") -> tuple[str, str]:
        async with self.storage.uow() as uow:
            u = await uow.units.by_code(unit)
            return u.join_code, u.admin_code


def zalo_config(config, server: FakeZaloServer, *, mode: str = "polling", port: int | None = None):
    port = port or free_port()
    return replace(
        config,
        zalo=ZaloSection(enabled=True, token=FAKE_ZALO_TOKEN, base_url=server.base_url, mode=mode,
                         secret=SECRET if mode == "webhook" else "", dm_per_second=1000),
        # No scheduled jobs: tests fire them at the moment they choose.
        schedule=ScheduleSection(None, None, None, 6),
        web=WebSection(listen="127.0.0.1", port=port, public_url=f"http://127.0.0.1:{port}"),
    )


@pytest_asyncio.fixture
async def zalo(fake_zalo, config):
    cfg = zalo_config(config, fake_zalo)
    storage = await open_storage(cfg)
    await load_demo_units(storage, cfg, T0)
    running = RunningZalo(cfg, storage)
    await running.start()
    yield running
    await running.stop()
    await storage.close()


async def say(server: FakeZaloServer, chat: str, text: str, *, name: str = "Nguyễn Thị Lan", at: datetime = T0,
              **kw) -> str:
    """Push one private message and return the bot's answer to it."""
    before = len(server.sent)
    server.push(text_update(chat, text, name=name, date_ms=int(at.timestamp() * 1000), **kw))
    sent = await server.wait_sent(before + 1)
    return sent[before].text


async def test_teacher_registers_privately_sends_links_and_asks_toi(zalo, fake_zalo):
    join, _ = await zalo.codes()
    assert (await say(fake_zalo, "z-lan", f"/dangky {join}")).startswith("Đã ghi nhận thầy cô thuộc")
    assert await say(fake_zalo, "z-lan", f"Em đã chia sẻ {POST} ạ") == texts_vi.ACK_FALLBACK
    again = await say(fake_zalo, "z-lan", POST)
    assert "27/11/2026" in again  # already credited, with the date
    toi = await say(fake_zalo, "z-lan", "/toi")
    assert "Trường THCS Kim Bôi" in toi and "1 bài — đã đạt" in toi
    assert await zalo.scalar("select count(*) from submissions where withdrawn_at is null") == 1
    assert await zalo.scalar("select u.code from submissions s join units u on u.id = s.unit_id") == "THCS-KIMBOI"
    assert await zalo.scalar("select platform from members") == "zalo"


async def test_principal_with_admin_code_sees_zalo_and_telegram_teachers_side_by_side(zalo, fake_zalo):
    join, admin = await zalo.codes()
    app = zalo.app
    # A Telegram-only teacher of the same school, seen in the school's Telegram group.
    group = ChatRef("telegram", "-1001", ChatKind.GROUP, "Truyền thông THCS Kim Bôi")
    assert await app.dispatcher.bind_group(group, "THCS-KIMBOI", T0)
    await app.dispatcher.handle(IncomingMessage(group, "1", UserRef("telegram", "61", "Trần Văn Bình"), T0,
                                                text="Chào cả nhà"))
    await say(fake_zalo, "z-hoa", f"/dangky {join}", name="Lê Thị Hoa")
    await say(fake_zalo, "z-lan", f"/dangky {join}")
    await say(fake_zalo, "z-lan", POST)
    assert (await say(fake_zalo, "z-hieu", f"/dangky {admin}", name="Trần Văn Hiếu")).startswith("Từ giờ thầy cô")
    status = await say(fake_zalo, "z-hieu", "/tinhhinh", name="Trần Văn Hiếu")
    assert status.splitlines()[0].startswith("📊 Trường THCS Kim Bôi") or "Kim Bôi" in status.splitlines()[0]
    assert "1/3" in status  # Lan shared; Hoa (Zalo) and Bình (Telegram) have not
    assert "Lê Thị Hoa" in status and "Trần Văn Bình" in status and "Nguyễn Thị Lan" not in status


async def test_friday_reminder_reaches_zalo_only_laggards_directly_once(zalo, fake_zalo):
    join, _ = await zalo.codes()
    await say(fake_zalo, "z-hoa", f"/dangky {join}", name="Lê Thị Hoa")
    await say(fake_zalo, "z-lan", f"/dangky {join}")
    await say(fake_zalo, "z-lan", POST)
    before = len(fake_zalo.sent)
    friday = T0 + timedelta(hours=5)  # 15:00
    run = await zalo.app.jobs.fire(JobKind.REMINDER, friday)
    assert run.claimed == 1
    await zalo.app.outbox.drain()
    sent = fake_zalo.sent[before:]
    assert [s.chat_id for s in sent] == ["z-hoa"]  # Lan met the quota: nothing for her
    assert "0/1" in sent[0].text and "Kim Bôi" in sent[0].text
    again = await zalo.app.jobs.fire(JobKind.REMINDER, friday + timedelta(minutes=5))
    assert again.claimed == 0  # once per person and week


async def test_a_refused_direct_message_marks_the_person_unreachable_and_is_not_retried(zalo, fake_zalo):
    join, admin = await zalo.codes()
    await say(fake_zalo, "z-hoa", f"/dangky {join}", name="Lê Thị Hoa")
    await say(fake_zalo, "z-hieu", f"/dangky {admin}", name="Trần Văn Hiếu")
    fake_zalo.refusing.add("z-hoa")
    await zalo.app.jobs.fire(JobKind.REMINDER, T0 + timedelta(hours=5))
    await zalo.app.outbox.drain()
    assert await zalo.scalar("select unreachable from members where user_id = 'z-hoa'") == 1
    assert await zalo.scalar("select status from sent_messages where chat_id = 'z-hoa'") == "failed"
    refused = [c for c in fake_zalo.calls if c[0] == "sendMessage" and c[1].get("chat_id") == "z-hoa"
               and c[1]["text"].startswith("Nhắc nhở")]
    assert len(refused) == 1  # refused for good: not retried
    status = await say(fake_zalo, "z-hieu", "/tinhhinh", name="Trần Văn Hiếu", at=T0 + timedelta(hours=6))
    assert texts_vi.unreachable_line(["Lê Thị Hoa"]) in status
    # /nhacnho in the admin's private chat reaches only those who can be reached.
    fake_zalo.refusing.clear()
    assert await say(fake_zalo, "z-hieu", "/nhacnho", name="Trần Văn Hiếu",
                     at=T0 + timedelta(hours=6)) == texts_vi.direct_reached(0)
    # Writing to the bot again makes her reachable; the admin's manual reminder then reaches her once.
    await say(fake_zalo, "z-hoa", "/toi", name="Lê Thị Hoa", at=T0 + timedelta(hours=6))
    before = len(fake_zalo.sent)
    fake_zalo.push(text_update("z-hieu", "/nhacnho", name="Trần Văn Hiếu",
                               date_ms=int((T0 + timedelta(hours=7)).timestamp() * 1000)))
    sent = await fake_zalo.wait_sent(before + 2)
    assert {s.chat_id for s in sent[before:]} == {"z-hoa", "z-hieu"}
    assert texts_vi.direct_reached(1) in [s.text for s in sent[before:]]


async def test_long_texts_are_split_at_line_breaks_and_mentions_become_names(zalo, fake_zalo):
    from bot.domain.types import Mention

    chat = ChatRef("zalo", "z-lan", ChatKind.PRIVATE)
    lines = [f"Dòng {i:03d} " + "x" * 40 for i in range(50)]  # ~2,500 characters
    text = "\n".join(lines)
    assert 2400 < len(text) < 2600
    delivery = await zalo.app.platform.messenger.deliver(SendText(chat, (text, "\n", Mention(UserRef("zalo", "1", "Lan")))))
    assert delivery.status.value == "sent"
    texts = fake_zalo.texts("z-lan")
    assert len(texts) == 2 and all(len(t) <= 2000 for t in texts)
    assert "\n".join(texts) == text + "\nLan"


async def test_gateway_errors_are_waited_out_and_polling_goes_on(zalo, fake_zalo, caplog):
    caplog.set_level(logging.DEBUG)
    fake_zalo.fail("getUpdates", 502, html_page(502))
    fake_zalo.fail("getUpdates", 429, "<html>Too Many Requests</html>")
    assert await say(fake_zalo, "z-lan", "/huongdan")  # answered after the errors
    fake_zalo.fail("sendMessage", 504, html_page(504))
    assert await say(fake_zalo, "z-lan", "/toi")  # a send retried after a 504 page
    assert "getUpdates failed" in caplog.text
    assert FAKE_ZALO_TOKEN.split(":", 1)[1] not in caplog.text


async def test_malformed_updates_are_ignored_without_a_crash(zalo, fake_zalo):
    for junk in ({"event_name": "message.text.received"}, {"message": "x"}, {"message": {"chat": {"id": []}}},
                 {"event_name": "message.sticker.received", "message": {"message_id": "1", "chat": {"id": "z"},
                                                                        "from": {"id": "z"}, "sticker": "abc"}},
                 {"message": {"message_id": "2" * 200, "chat": {"id": "z"}, "text": "hi"}}):
        fake_zalo.push(junk)
    assert await say(fake_zalo, "z-lan", "/huongdan")
    assert await zalo.scalar("select count(*) from members") == 1


async def test_wrong_token_stops_with_one_clear_line_and_no_token(fake_zalo, config, caplog):
    cfg = zalo_config(config, fake_zalo)
    cfg = replace(cfg, zalo=replace(cfg.zalo, token="1:WRONGzaloTOKENxyz123456"))
    storage = await open_storage(cfg)
    app = ZaloApp(cfg, storage, poll_timeout=1)
    try:
        with pytest.raises(PlatformRefused) as info:
            await app.start()
        assert "WRONGzalo" not in str(info.value) and info.value.__cause__ is None
        assert "token" in str(info.value)
    finally:
        await app.outbox.stop()
        await storage.close()


async def test_webhook_checks_the_secret_and_a_redelivery_changes_nothing(fake_zalo, config):
    cfg = zalo_config(config, fake_zalo, mode="webhook")
    storage = await open_storage(cfg)
    await load_demo_units(storage, cfg, T0)
    running = RunningZalo(cfg, storage)
    await running.start()
    try:
        assert fake_zalo.webhook == {"url": f"{cfg.web.public_url}/zalo/webhook", "secret_token": SECRET}
        url = fake_zalo.webhook["url"]
        join, _ = await running.codes()
        register = text_update("z-lan", f"/dangky {join}", date_ms=MS)
        link = text_update("z-lan", POST, date_ms=MS)
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"X-Bot-Api-Secret-Token": "wrong-secret"}):
                async with session.post(url, json=register, headers=headers) as response:
                    assert response.status == 403
            assert await running.scalar("select count(*) from members") == 0  # nothing processed
            ok = {"X-Bot-Api-Secret-Token": SECRET}
            async with session.post(url, json={"ok": True, "result": register}, headers=ok) as response:
                assert response.status == 200  # with the `result` wrapper
            for _ in range(2):  # the same delivery twice
                async with session.post(url, json=link, headers=ok) as response:
                    assert response.status == 200
            async with session.post(url, data=b"not json", headers=ok) as response:
                assert response.status == 400
            async with session.post(url, json={"message": {"text": 1}}, headers=ok) as response:
                assert response.status == 200  # unreadable: acknowledged, ignored
        await running.app.outbox.drain()
        assert await running.scalar("select count(*) from submissions") == 1
        assert await running.scalar("select count(*) from seen_deliveries") == 2
        assert fake_zalo.texts("z-lan").count(texts_vi.ACK_FALLBACK) == 1  # one answer, not two
    finally:
        await running.stop()
        await storage.close()
    assert fake_zalo.webhook is not None  # never deleted on shutdown


async def test_lienket_merges_a_telegram_and_a_zalo_account_into_one_person(zalo, fake_zalo):
    join, _ = await zalo.codes()
    app = zalo.app
    group = ChatRef("telegram", "-1001", ChatKind.GROUP, "Truyền thông THCS Kim Bôi")
    await app.dispatcher.bind_group(group, "THCS-KIMBOI", T0)
    tg_lan = UserRef("telegram", "61", "Nguyễn Thị Lan")
    # On Telegram she shared POST (first) and POST2; on Zalo POST again (later) — POST counts once.
    await app.dispatcher.handle(IncomingMessage(group, "1", tg_lan, T0 - timedelta(hours=1), text=POST))
    await app.dispatcher.handle(IncomingMessage(group, "2", tg_lan, T0 - timedelta(hours=1), text=POST2))
    await say(fake_zalo, "z-lan", f"/dangky {join}")
    await say(fake_zalo, "z-lan", POST)
    assert await zalo.scalar("select count(*) from persons") == 2
    shown = await say(fake_zalo, "z-lan", "/lienket")
    code = shown.split(":", 1)[1].split()[0]
    # Typed in her private chat on Telegram (answers there go to the Telegram outbox, absent here).
    private = ChatRef("telegram", "61", ChatKind.PRIVATE)
    await app.dispatcher.handle(IncomingMessage(private, "3", tg_lan, T0, text=f"/lienket {code}"))
    assert await zalo.scalar("select count(*) from persons") == 1
    assert await zalo.scalar("select count(distinct person_id) from members") == 1
    assert await zalo.scalar("select count(*) from submissions where withdrawn_at is null") == 2
    assert await zalo.scalar("select withdrawn_reason from submissions where withdrawn_at is not null") == "merge"
    assert await zalo.scalar("select count(*) from audit_log where action = 'merge_persons'") == 1
    # The code works once.
    await app.dispatcher.handle(IncomingMessage(private, "4", tg_lan, T0, text=f"/lienket {code}"))
    assert "Tuần này (23/11–29/11/2026): 2 bài" in await say(fake_zalo, "z-lan", "/toi", at=T0 + timedelta(minutes=1))


async def test_the_token_never_reaches_the_logs(fake_zalo, config, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("aiohttp", "aiohttp.client", "bot", "handlers"):
        caplog.set_level(logging.DEBUG, logger=name)
    cfg = zalo_config(config, fake_zalo)
    storage = await open_storage(cfg)
    await load_demo_units(storage, cfg, T0)
    running = RunningZalo(cfg, storage)
    await running.start()
    try:
        fake_zalo.fail("getUpdates", 502, html_page(502))
        fake_zalo.refusing.add("z-lan")
        fake_zalo.push(text_update("z-lan", "/huongdan", date_ms=MS))
        await fake_zalo.wait_drained()
        fake_zalo.refusing.clear()
        assert await say(fake_zalo, "z-lan", "/toi")
        for _ in range(3):
            fake_zalo.fail("sendMessage", 502, html_page(502))
        await running.app.platform.messenger.deliver(SendText.of(ChatRef("zalo", "z-lan", ChatKind.PRIVATE), "x"))
    finally:
        await running.stop()
        await storage.close()
    assert "zalo" in caplog.text
    assert FAKE_ZALO_TOKEN.split(":", 1)[1] not in caplog.text and FAKE_ZALO_TOKEN not in caplog.text


async def test_run_starts_zalo_beside_telegram_on_one_web_server(fake_zalo, fake_telegram, config):
    from bot.app import run_bot
    from bot.config import TelegramSection
    from tests.fake_telegram.fixtures import FAKE_TOKEN

    port = free_port()
    cfg = zalo_config(config, fake_zalo, mode="webhook", port=port)
    cfg = replace(cfg, telegram=TelegramSection(enabled=True, token=FAKE_TOKEN, base_url=fake_telegram.base_url,
                                                mode="webhook", secret="tg-Webhook-s3cret"))
    storage = await open_storage(cfg)
    await load_demo_units(storage, cfg, T0)
    await storage.close()
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(cfg, stop=stop))
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):  # wait (bounded) until both platforms are up and the port answers
                if fake_zalo.webhook and fake_telegram.webhook:
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                await asyncio.sleep(0.05)
            assert fake_zalo.webhook["url"] == f"http://127.0.0.1:{port}/zalo/webhook"
            assert fake_telegram.webhook.url == f"http://127.0.0.1:{port}/telegram/webhook"
            update = text_update("z-lan", "/huongdan", date_ms=MS)
            async with session.post(fake_zalo.webhook["url"], json=update,
                                    headers={"X-Bot-Api-Secret-Token": SECRET}) as response:
                assert response.status == 200
        assert (await fake_zalo.wait_sent(1))[0].chat_id == "z-lan"
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 30) == 0
