"""The fake Bot API answers the real python-telegram-bot the way Telegram does."""

from __future__ import annotations

import asyncio
import datetime as dtm

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    LinkPreviewOptions,
    MessageEntity,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import AIORateLimiter, ApplicationBuilder

from tests.fake_telegram import builders as b
from tests.fake_telegram.fixtures import FAKE_TOKEN
from tests.fake_telegram.server import FakeTelegramServer

TEACHER = b.user(5_001_234_567, "Lan", "Nguyễn Thị", username="colan_thcs")
PRINCIPAL = b.user(5_009_876_543, "Hùng", "Trần Văn")
SCHOOL = b.group(-1001987654321, "THCS Lê Quý Đôn — Lan tỏa")
WANTED_UPDATES = ["message", "edited_message", "my_chat_member", "chat_member"]


def make_bot(server: FakeTelegramServer, token: str = FAKE_TOKEN) -> telegram.Bot:
    """Return a PTB Bot pointed at the fake."""
    return telegram.Bot(token, base_url=server.base_url, base_file_url=server.base_file_url)


async def test_get_me_describes_the_bot(fake_bot: telegram.Bot) -> None:
    """getMe returns the bot with its capabilities."""
    me = await fake_bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "LanToaBot", True)
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is False


async def test_privacy_mode_is_configurable() -> None:
    """``can_read_all_group_messages`` follows the constructor."""
    async with FakeTelegramServer(can_read_all_group_messages=True) as server:
        async with make_bot(server) as bot:
            assert (await bot.get_me()).can_read_all_group_messages is True


async def test_wrong_token_is_refused(fake_telegram: FakeTelegramServer) -> None:
    """Another token gets 401, which PTB raises as InvalidToken."""
    bot = make_bot(fake_telegram, "654321:WRONG-token")
    with pytest.raises(InvalidToken):
        await bot.initialize()
    call = fake_telegram.calls[-1]
    assert (call.method, call.token_ok, call.status) == ("getMe", False, 401)


async def test_raw_http_answers_match_telegram(fake_telegram: FakeTelegramServer) -> None:
    """401 and 404 bodies are Telegram's; method names are case-insensitive; JSON bodies work."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake_telegram.base_url}1:nope/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False, "error_code": 401, "description": "Unauthorized",
            }
        async with http.post(f"{fake_telegram.base_url}{FAKE_TOKEN}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False, "error_code": 404, "description": "Not Found",
            }
        async with http.get(f"{fake_telegram.base_url}{FAKE_TOKEN}/GETME") as response:
            assert (await response.json())["result"]["username"] == "LanToaBot"
        url = f"{fake_telegram.base_url}{FAKE_TOKEN}/getUpdates"
        async with http.post(url, json={"timeout": 0, "allowed_updates": ["message"]}) as response:
            assert await response.json() == {"ok": True, "result": []}
    assert fake_telegram.allowed_updates == ["message"]
    methods = [c.method for c in fake_telegram.calls]
    assert methods == ["getMe", "noSuchMethod", "getMe", "getUpdates"]


async def test_updates_come_back_until_confirmed(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """Unconfirmed updates are delivered again; ``offset`` forgets everything below it."""
    first = fake_telegram.push_update(b.message(SCHOOL, TEACHER, "Bài một"))
    second = fake_telegram.push_update(b.message(SCHOOL, TEACHER, "Bài hai"))
    assert second == first + 1

    assert [u.update_id for u in await fake_bot.get_updates()] == [first, second]
    assert [u.update_id for u in await fake_bot.get_updates()] == [first, second]
    assert [u.update_id for u in await fake_bot.get_updates(limit=1)] == [first]

    remaining = await fake_bot.get_updates(offset=first + 1)
    assert [u.message.text for u in remaining] == ["Bài hai"]
    assert fake_telegram.deliveries[first] == 3

    assert await fake_bot.get_updates(offset=second + 1) == ()
    assert fake_telegram.pending_updates == []
    await fake_telegram.wait_confirmed(timeout=0.1)


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """A long poll waits, and answers early when an update is pushed."""
    poll = asyncio.create_task(fake_bot.get_updates(timeout=30))
    await fake_telegram.wait_for("getUpdates", include_pending=True)
    assert not poll.done()
    update_id = fake_telegram.push_update(b.message(SCHOOL, TEACHER, "Có bài mới"))
    updates = await asyncio.wait_for(poll, timeout=5)
    assert [u.update_id for u in updates] == [update_id]


async def test_long_poll_times_out_empty(fake_bot: telegram.Bot) -> None:
    """With nothing queued a long poll ends after its timeout with no updates."""
    assert await fake_bot.get_updates(timeout=dtm.timedelta(milliseconds=100)) == ()


async def test_a_second_poller_ends_the_first_with_conflict(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """Two instances polling at once: the older getUpdates gets 409."""
    older = asyncio.create_task(fake_bot.get_updates(timeout=30))
    await fake_telegram.wait_for("getUpdates", include_pending=True)
    async with make_bot(fake_telegram) as second_instance:
        assert await second_instance.get_updates() == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(older, timeout=5)


async def test_allowed_updates_are_remembered_and_applied(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """``chat_member`` arrives only when asked for; the last list asked for is remembered."""
    joined = b.chat_member(SCHOOL, TEACHER, "left", "member")
    first = fake_telegram.push_update(joined)
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "Xin chào"))
    got = await fake_bot.get_updates(allowed_updates=WANTED_UPDATES)
    assert [u.chat_member is not None for u in got] == [True, False]
    assert fake_telegram.allowed_updates == WANTED_UPDATES
    assert fake_telegram.calls_to("getUpdates")[-1].params["allowed_updates"] == WANTED_UPDATES

    await fake_bot.get_updates(offset=first + 2, allowed_updates=[])
    fake_telegram.push_update(joined)
    later = fake_telegram.push_update(b.message(SCHOOL, TEACHER, "Lần nữa"))
    assert [u.update_id for u in await fake_bot.get_updates()] == [later]
    assert fake_telegram.dropped_updates[0]["chat_member"]["chat"]["id"] == SCHOOL["id"]


async def test_webhook_blocks_polling_and_is_recorded(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """setWebhook is recorded; getUpdates then answers 409 until deleteWebhook."""
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "cũ"))
    assert await fake_bot.set_webhook(
        "https://lantoa.example.vn/telegram/webhook",
        secret_token="s3cr3t-Token_1",
        allowed_updates=WANTED_UPDATES,
        drop_pending_updates=True,
    )
    hook = fake_telegram.webhook
    assert hook.url == "https://lantoa.example.vn/telegram/webhook"
    assert (hook.secret_token, hook.allowed_updates) == ("s3cr3t-Token_1", WANTED_UPDATES)
    assert hook.drop_pending_updates is True and fake_telegram.pending_updates == []
    info = await fake_bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == (hook.url, 0)
    with pytest.raises(Conflict, match="webhook is active"):
        await fake_bot.get_updates()
    with pytest.raises(BadRequest, match="(?i)secret token"):
        await fake_bot.set_webhook("https://lantoa.example.vn/x", secret_token="có dấu")
    assert await fake_bot.delete_webhook()
    assert await fake_bot.get_updates() == ()


async def test_webhook_delivery_confirms_only_2xx(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """deliver_webhook posts updates with the secret header and keeps those not answered 2xx."""
    received: list[tuple[str | None, int]] = []
    answers = iter([500, 200, 200])

    async def endpoint(request: web.Request) -> web.Response:
        """Record the secret and the update id; answer the next scripted status."""
        update = await request.json()
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        received.append((secret, update["update_id"]))
        return web.Response(status=next(answers))

    app = web.Application()
    app.router.add_post("/telegram/webhook", endpoint)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        await fake_bot.set_webhook(f"http://127.0.0.1:{port}/telegram/webhook", secret_token="abc")
        update_id = fake_telegram.push_update(b.message(SCHOOL, TEACHER, "qua webhook"))
        assert await fake_telegram.deliver_webhook() == [(update_id, 500)]
        info = await fake_bot.get_webhook_info()
        assert info.last_error_message.endswith("500 Internal Server Error")
        assert await fake_telegram.deliver_webhook() == [(update_id, 200)]
        await fake_telegram.wait_confirmed(update_id, timeout=1)
        assert received == [("abc", update_id), ("abc", update_id)]
    finally:
        await runner.cleanup()


async def test_send_message_returns_a_message_ptb_parses(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """sendMessage answers a full Message; HTML, mentions, reply and preview are recorded."""
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "https://fb.com/p/1", message_id=40))
    html = (
        '<b>Chúc mừng</b> <a href="tg://user?id=5001234567">cô Lan</a> &amp; thầy Hùng '
        "đã lan tỏa https://fb.com/p/1"
    )
    sent = await fake_bot.send_message(
        SCHOOL["id"],
        html,
        parse_mode="HTML",
        reply_parameters=ReplyParameters(message_id=40),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    assert isinstance(sent, Message)
    assert sent.text == "Chúc mừng cô Lan & thầy Hùng đã lan tỏa https://fb.com/p/1"
    assert (sent.chat.id, sent.from_user.id, sent.message_id) == (SCHOOL["id"], 123456, 41)
    assert sent.reply_to_message.message_id == 40
    entities = sent.parse_entities()
    assert [(e.type, text) for e, text in entities.items()] == [
        ("bold", "Chúc mừng"), ("text_mention", "cô Lan"), ("url", "https://fb.com/p/1"),
    ]
    assert [e.user.first_name for e in entities if e.user] == ["Lan"]

    record = fake_telegram.sent_messages(SCHOOL["id"])[0]
    assert (record.parse_mode, record.raw_text, record.text) == ("HTML", html, sent.text)
    assert record.mentioned_ids == [5_001_234_567]
    assert record.mentions[0].text == "cô Lan"
    assert record.reply_to_message_id == 40
    assert record.link_preview_options == {"is_disabled": True}

    second = await fake_bot.send_message(SCHOOL["id"], "Tiếp theo")
    assert second.message_id == 42 and second.entities == ()


async def test_explicit_entities_markdown_and_keyboards(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """Explicit entities are kept, Markdown is recorded as sent; only inline keyboards echo."""
    fake_telegram.push_update(b.message(b.private_chat(TEACHER), TEACHER, "/start"))
    chat_id = TEACHER["id"]
    bold = MessageEntity(MessageEntity.BOLD, 0, 4)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Xem", url="https://lantoa.vn")]])
    sent = await fake_bot.send_message(chat_id, "Tuần 12: 5 bài", entities=[bold],
                                       reply_markup=keyboard)
    assert sent.entities == (bold,) and sent.reply_markup == keyboard
    plain = await fake_bot.send_message(
        chat_id, "*Tuần 12*", parse_mode="MarkdownV2",
        reply_markup=ReplyKeyboardMarkup([[KeyboardButton("Tình hình")]]),
    )
    assert plain.reply_markup is None
    record = fake_telegram.sent_messages(chat_id)[-1]
    assert (record.parse_mode, record.raw_text) == ("MarkdownV2", "*Tuần 12*")
    assert record.reply_markup == {"keyboard": [[{"text": "Tình hình"}]]}


async def test_send_message_is_validated_like_telegram(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """Empty, too long, bad HTML, a missing reply target and unknown chats are refused."""
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "chào"))
    chat_id = SCHOOL["id"]
    with pytest.raises(BadRequest, match="(?i)Message text is empty"):
        await fake_bot.send_message(chat_id, "  \n ")
    with pytest.raises(BadRequest, match="(?i)Message is too long"):
        await fake_bot.send_message(chat_id, "ệ" * 4097)
    assert (await fake_bot.send_message(chat_id, "ệ" * 4096)).text == "ệ" * 4096
    assert (await fake_bot.send_message(chat_id, "<b>" + "ệ" * 4096 + "</b>", parse_mode="HTML"))
    with pytest.raises(BadRequest, match='(?i)Unsupported start tag "br" at byte offset 5'):
        await fake_bot.send_message(chat_id, "Chào<br>", parse_mode="HTML")
    with pytest.raises(BadRequest, match='(?i)Unsupported start tag "cô" at byte offset 0'):
        await fake_bot.send_message(chat_id, "<Cô Lan>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)Message to be replied not found"):
        await fake_bot.send_message(chat_id, "trả lời", reply_parameters=ReplyParameters(9999))
    assert await fake_bot.send_message(
        chat_id,
        "trả lời",
        reply_parameters=ReplyParameters(9999, allow_sending_without_reply=True),
    )
    with pytest.raises(BadRequest, match="(?i)Chat not found"):
        await fake_bot.send_message(-1000000000001, "ai đó?")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await fake_bot.send_message(PRINCIPAL["id"], "Chào thầy")
    assert fake_telegram.errors("sendMessage")[0].response == {
        "ok": False, "error_code": 400, "description": "Bad Request: message text is empty",
    }


async def test_kicked_bot_gets_forbidden(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """After kick_bot, sends to the chat raise Forbidden; kick_bot returns a my_chat_member."""
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "chào"))
    fake_telegram.set_admins(SCHOOL["id"], [b.owner(PRINCIPAL)])
    kicked = fake_telegram.kick_bot(SCHOOL["id"])
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await fake_bot.send_message(SCHOOL["id"], "còn đó không?")
    update_id = fake_telegram.push_update(kicked)
    (update,) = await fake_bot.get_updates(offset=update_id)
    assert update.update_id == update_id
    change = update.my_chat_member
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("member", "kicked")
    assert change.from_user.id == PRINCIPAL["id"]
    assert change.new_chat_member.user.id == 123456

    basic = b.group(-4012345678, "Tổ Toán", type="group")
    fake_telegram.add_chat(basic)
    fake_telegram.kick_bot(basic["id"], by_user=PRINCIPAL)
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await fake_bot.send_message(basic["id"], "xin chào")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_429_is_retry_after(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """fail_next answers 429 with retry_after, which PTB raises as RetryAfter; then it succeeds."""
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "chào"))
    fake_telegram.fail_next("sendMessage", 1, retry_after=3)
    with pytest.raises(RetryAfter):
        await fake_bot.send_message(SCHOOL["id"], "👍 đã ghi nhận")
    assert await fake_bot.send_message(SCHOOL["id"], "👍 đã ghi nhận")
    (throttled,) = fake_telegram.throttled()
    assert throttled.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert len(fake_telegram.sent_messages()) == 1


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_limits_each_chat_per_minute(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """The limiter answers 429 past N messages a minute in a chat, until the window moves on."""
    now = [1000.0]
    fake_telegram.clock = lambda: now[0]
    fake_telegram.flood_control(per_chat_per_minute=3, global_per_second=30)
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "chào"))
    other = b.group(-1001111111111, "THPT Chu Văn An")
    fake_telegram.push_update(b.message(other, TEACHER, "chào"))
    for n in range(3):
        now[0] += 1
        await fake_bot.send_message(SCHOOL["id"], f"tin {n}")
    with pytest.raises(RetryAfter):
        await fake_bot.send_message(SCHOOL["id"], "tin 3")
    assert fake_telegram.throttled()[0].response["parameters"] == {"retry_after": 58}
    assert await fake_bot.send_message(other["id"], "nhóm khác vẫn gửi được")
    now[0] += 58
    assert await fake_bot.send_message(SCHOOL["id"], "tin 3")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_ptb_rate_limiter_retries_through_a_429(fake_telegram: FakeTelegramServer) -> None:
    """PTB's AIORateLimiter with max_retries waits out a 429 and the message goes through."""
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "chào"))
    fake_telegram.fail_next("sendMessage", 1, retry_after=1)
    application = (
        ApplicationBuilder()
        .token(FAKE_TOKEN)
        .base_url(fake_telegram.base_url)
        .base_file_url(fake_telegram.base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=1))
        .updater(None)
        .build()
    )
    async with application:
        await application.bot.send_message(SCHOOL["id"], "lần hai thì được")
    assert [c.status for c in fake_telegram.calls_to("sendMessage")] == [429, 200]


async def test_send_document_uploads_bytes_intact(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """A multipart upload keeps its bytes, filename and caption; the file downloads back."""
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "chào"))
    content = bytes(range(256)) * 40 + "Báo cáo tuần".encode()
    sent = await fake_bot.send_document(
        SCHOOL["id"],
        InputFile(content, filename="bao-cao-tuan-12.xlsx"),
        caption="<b>Báo cáo</b> tuần 12",
        parse_mode="HTML",
    )
    assert sent.document.file_name == "bao-cao-tuan-12.xlsx"
    assert sent.document.file_size == len(content)
    assert sent.caption == "Báo cáo tuần 12"
    (document,) = fake_telegram.documents()
    assert (document.chat_id, document.filename, document.content) == (
        SCHOOL["id"], "bao-cao-tuan-12.xlsx", content,
    )
    assert document.caption == "Báo cáo tuần 12" and document.parse_mode == "HTML"
    call = fake_telegram.calls_to("sendDocument")[0]
    assert call.files["document"].content == content and call.params["chat_id"] == SCHOOL["id"]

    downloaded = await (await fake_bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == content
    with pytest.raises(BadRequest, match="(?i)file must be non-empty"):
        await fake_bot.send_document(SCHOOL["id"], InputFile(b"", filename="rong.txt"))


async def test_reactions_are_recorded_and_can_fail(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """setMessageReaction records 👍, refuses emoji outside Telegram's list and injected chats."""
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "https://fb.com/p/2", message_id=7))
    assert await fake_bot.set_message_reaction(SCHOOL["id"], 7, "👍") is True
    (reaction,) = fake_telegram.reactions(SCHOOL["id"])
    assert (reaction.message_id, reaction.emojis) == (7, ["👍"])
    with pytest.raises(BadRequest, match="(?i)reaction_invalid"):
        await fake_bot.set_message_reaction(SCHOOL["id"], 7, "✅")
    with pytest.raises(BadRequest, match="(?i)message_id_invalid"):
        await fake_bot.set_message_reaction(SCHOOL["id"], 8, "👍")
    fake_telegram.fail_reactions(SCHOOL["id"])
    with pytest.raises(BadRequest, match="(?i)reaction_invalid"):
        await fake_bot.set_message_reaction(SCHOOL["id"], 7, "👍")
    assert len(fake_telegram.reactions()) == 1
    assert fake_telegram.errors("setMessageReaction")[-1].params == {
        "chat_id": SCHOOL["id"], "message_id": 7, "reaction": [{"type": "emoji", "emoji": "👍"}],
    }


async def test_delete_message_needs_rights(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """The bot deletes its own messages; others' only as an admin."""
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "spam", message_id=70))
    own = await fake_bot.send_message(SCHOOL["id"], "tạm thời")
    assert await fake_bot.delete_message(SCHOOL["id"], own.message_id)
    with pytest.raises(BadRequest, match="(?i)Message to delete not found"):
        await fake_bot.delete_message(SCHOOL["id"], own.message_id)
    with pytest.raises(BadRequest, match="(?i)Message can't be deleted"):
        await fake_bot.delete_message(SCHOOL["id"], 70)
    fake_telegram.add_chat(SCHOOL, bot_status="administrator")
    assert await fake_bot.delete_message(SCHOOL["id"], 70)
    assert fake_telegram.deleted_messages() == [(SCHOOL["id"], own.message_id), (SCHOOL["id"], 70)]


async def test_commands_per_scope_and_language(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """set/get/deleteMyCommands keep one list per scope and language; names are validated."""
    commands = [BotCommand("dangky", "Đăng ký nhóm vào đơn vị"), BotCommand("huy", "Hủy ghi nhận")]
    scope = BotCommandScopeAllGroupChats()
    assert await fake_bot.set_my_commands(commands, scope=scope, language_code="vi")
    assert fake_telegram.my_commands({"type": "all_group_chats"}, "vi")[0] == {
        "command": "dangky", "description": "Đăng ký nhóm vào đơn vị",
    }
    assert fake_telegram.my_commands() == []
    got = await fake_bot.get_my_commands(scope=scope, language_code="vi")
    assert [c.command for c in got] == ["dangky", "huy"]
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await fake_bot.set_my_commands([BotCommand("đăngký", "Đăng ký")])
    assert await fake_bot.delete_my_commands(scope=scope, language_code="vi")
    assert fake_telegram.my_commands({"type": "all_group_chats"}, "vi") == []


async def test_chat_admins_members_and_info(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """getChatAdministrators/getChatMember/getChat answer from configured and observed state."""
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "chào cả nhà"))
    fake_telegram.set_admins(SCHOOL["id"], [b.owner(PRINCIPAL), b.user(42, "Phó", "Hiệu trưởng")])
    admins = await fake_bot.get_chat_administrators(SCHOOL["id"])
    assert [(a.user.id, a.status) for a in admins] == [
        (PRINCIPAL["id"], "creator"), (42, "administrator"),
    ]
    assert (await fake_bot.get_chat_member(SCHOOL["id"], TEACHER["id"])).status == "member"
    assert (await fake_bot.get_chat_member(SCHOOL["id"], 123456)).status == "member"
    with pytest.raises(BadRequest, match="(?i)User not found"):
        await fake_bot.get_chat_member(SCHOOL["id"], 999)
    fake_telegram.push_update(b.left_chat_member(SCHOOL, TEACHER))
    assert (await fake_bot.get_chat_member(SCHOOL["id"], TEACHER["id"])).status == "left"
    chat = await fake_bot.get_chat(SCHOOL["id"])
    assert (chat.title, chat.type) == (SCHOOL["title"], "supergroup")

    fake_telegram.push_update(b.my_chat_member(SCHOOL, fake_telegram.bot_user, "member",
                                               "administrator", PRINCIPAL))
    admins = await fake_bot.get_chat_administrators(SCHOOL["id"])
    assert [a.user.id for a in admins][-1] == 123456


async def test_member_count_counts_present_members_and_the_bot(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """getChatMemberCount: everyone present, bots included, unless a test sets the figure."""
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "chào cả nhà"))
    fake_telegram.set_admins(SCHOOL["id"], [b.owner(PRINCIPAL)])
    assert await fake_bot.get_chat_member_count(SCHOOL["id"]) == 3  # teacher, principal, bot
    fake_telegram.push_update(b.left_chat_member(SCHOOL, TEACHER))
    assert await fake_bot.get_chat_member_count(SCHOOL["id"]) == 2
    fake_telegram.set_member_count(SCHOOL["id"], 41)
    assert await fake_bot.get_chat_member_count(SCHOOL["id"]) == 41
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await fake_bot.get_chat_member_count(-100999)


async def test_a_held_method_hangs_until_released(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """hold() leaves calls unanswered (recorded as pending) until release(); other calls go on."""
    fake_telegram.add_chat(SCHOOL)
    fake_telegram.set_admins(SCHOOL["id"], [b.owner(PRINCIPAL)])
    fake_telegram.hold("getChatAdministrators", chat_id=SCHOOL["id"])
    pending = asyncio.create_task(fake_bot.get_chat_administrators(SCHOOL["id"]))
    call = await fake_telegram.wait_for("getChatAdministrators", include_pending=True)
    assert call.status is None and not pending.done()
    assert (await fake_bot.send_message(SCHOOL["id"], "vẫn gửi được")).text == "vẫn gửi được"
    fake_telegram.release("getChatAdministrators")
    assert [a.user.id for a in await pending] == [PRINCIPAL["id"]]
    assert call.status == 200


async def test_migrated_group_answers_chat_migrated(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """After an upgrade, sends to the old id raise ChatMigrated with the new id."""
    old = b.group(-4098765432, "Tổ Văn", type="group")
    fake_telegram.push_update(b.message(old, TEACHER, "chào"))
    in_old, in_new = b.migrate(old, -1004098765432, PRINCIPAL)
    fake_telegram.push_updates(in_old, in_new)
    with pytest.raises(ChatMigrated) as raised:
        await fake_bot.send_message(old["id"], "còn đây không?")
    assert raised.value.new_chat_id == -1004098765432
    assert (await fake_bot.send_message(-1004098765432, "chào siêu nhóm")).message_id == 2
    updates = await fake_bot.get_updates()
    assert updates[1].message.migrate_to_chat_id == -1004098765432
    assert updates[2].message.migrate_from_chat_id == old["id"]


async def test_edit_message_text(
    fake_telegram: FakeTelegramServer, fake_bot: telegram.Bot
) -> None:
    """editMessageText changes the bot's own message and refuses no-op edits."""
    fake_telegram.push_update(b.message(SCHOOL, TEACHER, "chào"))
    sent = await fake_bot.send_message(SCHOOL["id"], "Bảng xếp hạng: đang tính…")
    edited = await fake_bot.edit_message_text("Bảng xếp hạng: xong", SCHOOL["id"], sent.message_id)
    assert edited.text == "Bảng xếp hạng: xong" and edited.edit_date is not None
    with pytest.raises(BadRequest, match="(?i)Message is not modified"):
        await fake_bot.edit_message_text("Bảng xếp hạng: xong", SCHOOL["id"], sent.message_id)
    assert fake_telegram.edited_messages()[0].text == "Bảng xếp hạng: xong"


async def test_push_update_numbers_updates(fake_telegram: FakeTelegramServer) -> None:
    """Ids are assigned in order; a stale explicit id is refused unless renumbered."""
    first = fake_telegram.push_update(b.message(SCHOOL, TEACHER, "một"))
    later = {"update_id": first + 10, **b.message(SCHOOL, TEACHER, "hai")}
    assert fake_telegram.push_update(later) == first + 10
    stale = {"update_id": first, **b.message(SCHOOL, TEACHER, "ba")}
    with pytest.raises(ValueError, match="renumber"):
        fake_telegram.push_update(stale)
    assert fake_telegram.push_update(stale, renumber=True) == first + 11


async def test_wait_for_fails_clearly(fake_telegram: FakeTelegramServer) -> None:
    """wait_for raises TimeoutError naming what it waited for."""
    with pytest.raises(TimeoutError, match="sendMessage"):
        await fake_telegram.wait_for("sendMessage", timeout=0.05)


async def test_url_entities_have_utf16_offsets(fake_bot: telegram.Bot) -> None:
    """url_entities and text_link count UTF-16 units, so PTB extracts exactly the links."""
    text = "Thầy cô 👉 https://fb.watch/abc/"
    entities = b.url_entities(text)
    assert entities == [{"offset": 11, "length": 21, "type": "url"}]
    built = b.message(SCHOOL, TEACHER, text, entities=entities)
    parsed = Message.de_json(built["message"], fake_bot)
    assert list(parsed.parse_entities().values()) == ["https://fb.watch/abc/"]

    text = (
        "🔥🔥 Bài mới: https://www.facebook.com/share/p/1AbC/ và 📣 https://youtu.be/x?si=a, "
        "xem nhé!"
    )
    link = b.text_link(text, "xem", "https://zalo.me/g/abc")
    update = Update.de_json(b.message(SCHOOL, TEACHER, text, update_id=1), fake_bot)
    assert list(update.message.parse_entities(["url"]).values()) == [
        "https://www.facebook.com/share/p/1AbC/", "https://youtu.be/x?si=a",
    ]
    built = b.message(SCHOOL, TEACHER, text, entities=[link])
    message = Message.de_json(built["message"], fake_bot)
    assert list(message.parse_entities().values()) == ["xem"]
