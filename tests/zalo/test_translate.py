"""Zalo update JSON -> neutral events, and texts cut to the platform's 2,000 characters (pure)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.domain.types import ChatKind, SenderKind
from bot.platforms.zalo import render, split_text, translate, unwrap

MSG = {"message_id": "16f6366b3f02645a3d15", "from": {"id": "e4ea2cd5", "display_name": "Nguyễn Thị Lan", "is_bot": False},
       "chat": {"id": "e4ea2cd5", "chat_type": "PRIVATE"}, "date": 1766619597466,
       "text": "facebook.com/thcs/posts/1 ạ"}


def test_a_private_text_message_becomes_one_incoming_message():
    [msg] = translate({"event_name": "message.text.received", "message": MSG})
    assert msg.chat.platform == "zalo" and msg.chat.kind is ChatKind.PRIVATE and msg.chat.chat_id == "e4ea2cd5"
    assert msg.sender.display_name == "Nguyễn Thị Lan" and msg.sender_kind is SenderKind.USER
    assert msg.links is None  # the handlers extract links from the text
    assert msg.date == datetime.fromtimestamp(1766619597.466, timezone.utc)
    assert msg.delivery_id == "e4ea2cd5/16f6366b3f02645a3d15"


@pytest.mark.parametrize("body", [
    {"event_name": "message.text.received", "message": MSG},
    {"ok": True, "result": {"event_name": "message.text.received", "message": MSG}},
    {"result": [{"message": MSG}]},
])
def test_updates_come_with_or_without_a_result_wrapper(body):
    assert [translate(u)[0].message_id for u in unwrap(body)] == ["16f6366b3f02645a3d15"]


def test_group_chats_captions_bots_and_other_name_fields():
    group = translate({"message": {**MSG, "chat": {"id": "g1", "chat_type": "GROUP"}}})[0]
    assert group.chat.kind is ChatKind.GROUP
    photo = translate({"message": {**MSG, "text": None, "photo_url": "https://x/y.jpg", "caption": "bài hay"}})[0]
    assert photo.text == "bài hay"
    bot = translate({"message": {**MSG, "from": {"id": "b1", "display_name": "Bot", "is_bot": True}}})[0]
    assert bot.sender_kind is SenderKind.BOT
    named = translate({"message": {**MSG, "from": {"id": "u1", "first_name": "Lan"}}})[0]
    assert named.sender.display_name == "Lan"


@pytest.mark.parametrize("update", [
    {}, {"message": None}, {"message": "x"}, {"message": {**MSG, "chat": None}},
    {"message": {**MSG, "chat": {"id": ["x"]}}}, {"message": {**MSG, "message_id": "9" * 100}},
    {"message": {**MSG, "text": "", "caption": None}}, {"message": {**MSG, "text": 5}},
    {"event_name": "message.sticker.received", "message": {**MSG, "text": None, "sticker": "abc"}},
])
def test_what_carries_no_usable_message_gives_no_event(update):
    assert translate(update) == []


def test_long_texts_are_cut_at_line_breaks_into_pieces_of_at_most_2000():
    text = "\n".join(f"{i:04d} " + "chữ " * 20 for i in range(40))
    pieces = split_text(text)
    assert len(pieces) == 2 and all(len(p) <= 2000 for p in pieces)
    assert "\n".join(pieces) == text
    one_line = "a " * 1500
    assert all(len(p) <= 2000 for p in split_text(one_line)) and len(split_text(one_line)) == 2
    assert split_text("ngắn") == ["ngắn"]


def test_mentions_are_rendered_as_plain_names():
    from bot.domain.types import Mention, UserRef

    assert render(("Chưa đạt: ", Mention(UserRef("zalo", "1", "Lê Thị Hoa")))) == "Chưa đạt: Lê Thị Hoa"
