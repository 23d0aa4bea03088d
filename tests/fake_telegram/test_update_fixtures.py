"""The recorded updates in tests/data/telegram_updates are valid, with right UTF-16 offsets."""

from __future__ import annotations

import json
import unicodedata

import pytest
import telegram
from telegram import Update

from tests.fake_telegram.builders import auto_entities, entity_text, update_kind
from tests.fake_telegram.fixtures import FAKE_TOKEN, UPDATES_DIR, load_update
from tests.fake_telegram.server import FakeTelegramServer

FILES = sorted(UPDATES_DIR.glob("*.json"))
EXPECTED = {
    "group_text_two_urls", "group_text_link", "group_photo_caption", "edited_message",
    "reply_huy", "forwarded_from_user", "anonymous_admin", "channel_automatic_forward",
    "message_from_bot", "new_chat_members", "left_chat_member", "migrate_to_chat_id",
    "migrate_from_chat_id", "my_chat_member_added", "my_chat_member_kicked",
    "chat_member_joined", "command_dangky", "private_start", "private_text_url",
}
DETECTED_TYPES = {"url", "bot_command", "hashtag", "mention"}


def test_every_expected_fixture_exists() -> None:
    """Each situation the adapter must handle has a recorded update."""
    assert {path.stem for path in FILES} >= EXPECTED


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_fixture_parses_with_ptb(path) -> None:
    """``Update.de_json`` accepts the file; its text is NFC and its update kind is unique."""
    raw = path.read_text("utf-8")
    assert unicodedata.is_normalized("NFC", raw)
    data = json.loads(raw)
    update = Update.de_json(data, telegram.Bot(FAKE_TOKEN))
    assert update.update_id == data["update_id"]
    assert getattr(update, update_kind(data)) is not None


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_fixture_entities_cover_what_a_client_detects(path) -> None:
    """Detected entities are exactly those a client computes, in UTF-16 units."""
    data = json.loads(path.read_text("utf-8"))
    body = data[update_kind(data)]
    for text_key, entities_key in (("text", "entities"), ("caption", "caption_entities")):
        text = body.get(text_key)
        if text is None:
            continue
        detected = [e for e in body.get(entities_key, []) if e["type"] in DETECTED_TYPES]
        assert detected == auto_entities(text)


def test_links_read_back_through_ptb() -> None:
    """PTB extracts the intended strings, emoji and Vietnamese letters notwithstanding."""
    bot = telegram.Bot(FAKE_TOKEN)
    two = Update.de_json(load_update("group_text_two_urls"), bot).message
    assert list(two.parse_entities(["url"]).values()) == [
        "https://www.facebook.com/share/p/1AbCdEfGh2/?mibextid=WC7FNe",
        "https://youtu.be/dQw4w9WgXcQ?si=Xy12AbCd",
    ]
    hidden = Update.de_json(load_update("group_text_link"), bot).message
    ((entity, words),) = hidden.parse_entities().items()
    assert (entity.type, words) == ("text_link", "bài này")
    photo = Update.de_json(load_update("group_photo_caption"), bot).message
    assert list(photo.parse_caption_entities(["url"]).values()) == [
        "https://www.facebook.com/thcslequydon/posts/pfbid0Tq8sV9wXyZ"
    ]
    command = Update.de_json(load_update("command_dangky"), bot).message
    assert list(command.parse_entities().values()) == ["/dangky@LanToaBot"]
    data = load_update("reply_huy")["message"]
    assert entity_text(data["text"], data["entities"][0]) == "/huy"
    original = load_update("group_text_link")["message"]
    assert data["reply_to_message"]["message_id"] == original["message_id"]


async def test_fixtures_travel_through_the_fake(fake_telegram: FakeTelegramServer) -> None:
    """Pushed in order, every fixture reaches PTB via getUpdates, opt-in kinds included."""
    recorded = (json.loads(p.read_text("utf-8")) for p in FILES)
    updates = sorted(recorded, key=lambda u: u["update_id"])
    for update in updates:
        fake_telegram.push_update(update)
    async with telegram.Bot(FAKE_TOKEN, base_url=fake_telegram.base_url) as bot:
        got = await bot.get_updates(
            allowed_updates=["message", "edited_message", "my_chat_member", "chat_member"]
        )
    assert [u.update_id for u in got] == [u["update_id"] for u in updates]
    assert fake_telegram.chat(-4012345678).migrated_to == -1002212345678
    assert fake_telegram.chat(-1001987654321).bot_status == "kicked"
