"""Recorded Telegram updates -> the neutral events the rest of the bot sees."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import telegram

from bot.domain.types import (
    BotMembershipChanged,
    ChatKind,
    ChatMigrated,
    IncomingMessage,
    MemberLeft,
    MembersJoined,
    Mention,
    SenderKind,
    UserRef,
)
from bot.platforms.telegram import BotIdentity, render_html, split_parts, translate
from tests.fake_telegram.fixtures import FAKE_TOKEN, UPDATES_DIR, load_update

BOT = BotIdentity(123456, "LanToaBot", can_read_all_group_messages=False)
GROUP = "-1001987654321"


def events(name: str, bot: BotIdentity = BOT):
    return translate(telegram.Update.de_json(load_update(name), telegram.Bot(FAKE_TOKEN)), bot)


def test_two_url_entities_after_emoji_are_read_with_utf16_offsets():
    [msg] = events("group_text_two_urls")
    assert isinstance(msg, IncomingMessage)
    assert msg.chat.kind is ChatKind.GROUP and msg.chat.chat_id == GROUP
    assert msg.chat.title == "THCS Lê Quý Đôn — Lan tỏa"
    assert msg.links == ("https://www.facebook.com/share/p/1AbCdEfGh2/?mibextid=WC7FNe",
                         "https://youtu.be/dQw4w9WgXcQ?si=Xy12AbCd")
    assert msg.sender_kind is SenderKind.USER and msg.sender.platform == "telegram"
    assert msg.date == datetime.fromtimestamp(1731562200, timezone.utc)


def test_text_link_hidden_behind_words_gives_its_url():
    [msg] = events("group_text_link")
    assert msg.links == ("https://www.facebook.com/thcslequydon/posts/pfbid02kXyZaBcD3eFgH4iJ",)
    assert msg.sender == UserRef("telegram", "6123456789", "Đức Phạm Minh", None, False)


def test_caption_links_count():
    [msg] = events("group_photo_caption")
    assert msg.links and all(link.startswith("http") for link in msg.links)
    assert msg.text  # the caption is the text


def test_edit_is_dated_at_the_edit():
    [msg] = events("edited_message")
    assert msg.edited and msg.message_id == "1201"
    assert msg.date == datetime.fromtimestamp(1731562500, timezone.utc)
    assert len(msg.links) == 2


def test_reply_carries_the_replied_message_and_its_sender():
    [msg] = events("reply_huy")
    assert msg.text == "/huy"
    assert msg.reply_to is not None and msg.reply_to.sender is not None


def test_forward_credits_the_forwarder():
    [msg] = events("forwarded_from_user")
    assert msg.forwarded and msg.sender_kind is SenderKind.USER
    raw = load_update("forwarded_from_user")["message"]
    assert msg.sender.user_id == str(raw["from"]["id"])


@pytest.mark.parametrize("name, kind", [
    ("anonymous_admin", SenderKind.ANONYMOUS_ADMIN),
    ("channel_automatic_forward", SenderKind.CHANNEL),
    ("message_from_bot", SenderKind.BOT),
])
def test_senders_that_credit_no_person(name, kind):
    [msg] = events(name)
    assert msg.sender_kind is kind
    if kind is not SenderKind.BOT:
        assert msg.sender is None


def test_membership_service_messages():
    [joined] = events("new_chat_members")
    assert isinstance(joined, MembersJoined) and joined.members
    [left] = events("left_chat_member")
    assert isinstance(left, MemberLeft)
    [via_chat_member] = events("chat_member_joined")
    assert isinstance(via_chat_member, MembersJoined)
    assert via_chat_member.members[0].user_id == "6123456789"


def test_migration_both_ways_names_old_and_new_chat():
    [to] = events("migrate_to_chat_id")
    [frm] = events("migrate_from_chat_id")
    assert isinstance(to, ChatMigrated) and isinstance(frm, ChatMigrated)
    assert to.new_chat_id == "-1002212345678"
    assert (frm.old_chat_id, frm.new_chat_id) == (to.old_chat_id, to.new_chat_id)


def test_bot_added_without_privacy_off_cannot_read_and_kicked_is_absent():
    [added] = events("my_chat_member_added")
    assert isinstance(added, BotMembershipChanged) and added.present and not added.can_read_messages
    [added_ok] = events("my_chat_member_added", BotIdentity(123456, "LanToaBot", True))
    assert added_ok.can_read_messages
    [kicked] = events("my_chat_member_kicked")
    assert not kicked.present


def test_command_and_private_chat():
    [cmd] = events("command_dangky")
    assert cmd.text == "/dangky@LanToaBot ABCD2345" and cmd.links == ()
    [start] = events("private_start")
    assert start.chat.kind is ChatKind.PRIVATE and start.text.startswith("/start")


def test_every_recorded_update_translates_without_error():
    names = sorted(p.stem for p in UPDATES_DIR.glob("*.json"))
    assert len(names) >= 15
    for name in names:
        for event in events(name):
            assert event is not None


def test_mentions_are_tg_user_links_with_escaped_names():
    who = UserRef("telegram", "42", "Cô <Lan> & Mai")
    assert render_html(("Nhắc ", Mention(who), " <b>")) == 'Nhắc <a href="tg://user?id=42">Cô &lt;Lan&gt; &amp; Mai</a> &lt;b&gt;'


def test_long_text_is_split_at_line_breaks():
    lines = [f"dòng {i:04d} " + "x" * 90 for i in range(100)]
    chunks = split_parts(("\n".join(lines),), limit=4096)
    assert len(chunks) == 3
    assert all(len("".join(c)) <= 4096 for c in chunks)
    assert "\n".join("".join(c) for c in chunks) == "\n".join(lines)
    huge = split_parts(("y" * 9000,), limit=4096)
    assert [len("".join(c)) for c in huge] == [4096, 4096, 808]


def _visible(chunk) -> str:
    return "".join(p.user.display_name if isinstance(p, Mention) else p for p in chunk)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_a_long_list_of_mentions_is_split_at_line_breaks_and_no_mention_is_cut():
    people = [Mention(UserRef("telegram", str(7000 + i), f"Nguyễn Thị <Lan> & Mai số {i}")) for i in range(400)]
    parts: list = ["Tuần này còn thiếu:"]
    for i, person in enumerate(people, 1):
        parts += [f"\n{i}. ", person, " — 0 link"]
    chunks = split_parts(tuple(parts), limit=4096)
    assert len(chunks) > 1
    assert all(_utf16(_visible(c)) <= 4096 for c in chunks)
    assert [p for c in chunks for p in c if isinstance(p, Mention)] == people  # each one whole, in order
    for chunk in chunks[1:]:
        assert isinstance(chunk[0], str) and chunk[0][0].isdigit()  # a new message starts a new line
    assert "\n".join(_visible(c) for c in chunks) == _visible(parts)


def test_an_over_long_line_of_mentions_is_cut_between_them_not_inside_one():
    people = [Mention(UserRef("telegram", str(i), f"Trần Văn Bình {i}")) for i in range(600)]
    parts: list = ["Chưa chia sẻ: "]
    for person in people:
        parts += [person, ", "]
    chunks = split_parts(tuple(parts), limit=4096)
    assert len(chunks) >= 3
    assert all(_utf16(_visible(c)) <= 4096 for c in chunks)
    assert [p for c in chunks for p in c if isinstance(p, Mention)] == people
    assert "".join(_visible(c) for c in chunks) == _visible(parts)


def test_length_is_counted_as_telegram_counts_it_in_utf16_units():
    chunks = split_parts(("👍" * 3000,), limit=4096)  # 6,000 units: one emoji is two
    assert [_utf16(_visible(c)) for c in chunks] == [4096, 1904]
    words = split_parts((" ".join(["Trường"] * 1000),), limit=4096)
    assert all(_utf16(_visible(c)) <= 4096 for c in words)
    assert all(not c[0].startswith("ờng") for c in words)  # cut between words, not inside one


def test_a_link_telegram_cut_at_a_bidi_control_is_read_whole_and_refused():
    from bot.domain.links import canonicalize

    text = "Bài mới https://www.face\u202ebook.com/thcs/posts/1 nhé"
    start = text.index("book.com")
    update = {"update_id": 9001, "message": {
        "message_id": 77, "date": 1731562200, "chat": {"id": -100123, "type": "supergroup", "title": "G"},
        "from": {"id": 5, "is_bot": False, "first_name": "Lan"}, "text": text,
        # What a client that stops at the control character would mark: the remainder alone.
        "entities": [{"type": "url", "offset": start, "length": len("book.com/thcs/posts/1")}]}}
    [msg] = translate(telegram.Update.de_json(update, telegram.Bot(FAKE_TOKEN)), BOT)
    assert msg.links and all(canonicalize(link) is None for link in msg.links)
