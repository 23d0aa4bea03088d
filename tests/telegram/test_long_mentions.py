"""Issue 14 item 9 through the real PTB and the fake Bot API: a long reminder that names people
without a username reaches them all, in messages Telegram accepts."""

from __future__ import annotations

from bot.domain.types import ChatKind, ChatRef, Mention, SendText, UserRef
from tests.fake_telegram import builders as b
from tests.telegram.test_telegram_app import GROUP, GROUP_ID, tg  # noqa: F401 - tg is a fixture


async def test_a_long_reminder_mentions_everyone_by_id_in_messages_telegram_accepts(tg, fake_telegram):
    fake_telegram.add_chat(GROUP)
    chat = ChatRef("telegram", str(GROUP_ID), ChatKind.GROUP)
    people = [UserRef("telegram", str(6200000000 + i), f"Lò Thị <Hoa> & Mai {i}") for i in range(300)]
    for person in people:  # none has a username: only a tg://user?id= link can notify them
        assert person.username is None
    parts: list = ["Các thầy cô chưa chia sẻ tuần này:"]
    for i, person in enumerate(people, 1):
        parts += [f"\n{i}. ", Mention(person), " 👉 0 link"]
    delivery = await tg.app.platform.messenger.deliver(SendText(chat, tuple(parts)))
    assert delivery.status.value == "sent"
    sent = fake_telegram.sent_messages(GROUP_ID)
    assert len(sent) > 1 and all(call.ok for call in fake_telegram.calls_to("sendMessage"))
    assert [m for s in sent for m in s.mentioned_ids] == [int(p.user_id) for p in people]
    assert all(m.text.endswith("0 link") for m in sent)  # every message ends at a line break
    assert sent[0].text.startswith("Các thầy cô chưa chia sẻ tuần này:\n1. Lò Thị <Hoa> & Mai 0 👉 0 link")
