"""Link crediting through the dispatcher, with a fake messenger keeping a transcript."""

from __future__ import annotations

from bot.domain.types import React, SenderKind

POST = "https://www.facebook.com/thptkimboi/posts/123456789"


async def test_link_is_credited_with_a_reaction_and_no_text(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Nguyễn Thị Lan")
    msg = await harness.send(g, lan, f"Em đã chia sẻ bài {POST} nhé")
    assert [(r.chat.chat_id, r.message_id, r.emoji) for r in harness.messenger.reactions()] == [("g-thcs", msg.message_id, "👍")]
    assert harness.messenger.texts() == []
    assert await harness.scalar("select count(*) from submissions where withdrawn_at is null") == 1


async def test_same_post_with_tracking_parameters_is_not_counted_twice(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Nguyễn Thị Lan")
    await harness.send(g, lan, POST)
    harness.messenger.clear()
    await harness.send(g, lan, "https://m.facebook.com/thptkimboi/posts/123456789/?mibextid=Nif5oz&fbclid=IwAR0")
    assert harness.messenger.reactions() == []
    assert harness.messenger.texts() == ["Bài này đã được ghi nhận ngày 27/11/2026."]
    assert await harness.scalar("select count(*) from submissions") == 1


async def test_different_people_sharing_the_same_post_are_each_credited(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    await harness.send(g, harness.user("Lan"), POST)
    await harness.send(g, harness.user("Bình"), POST)
    assert len(harness.messenger.reactions()) == 2
    assert await harness.scalar("select count(distinct person_id) from submissions") == 2


async def test_redelivered_message_changes_nothing(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Lan")
    await harness.send(g, lan, POST, message_id="77")
    harness.messenger.clear()
    await harness.send(g, lan, POST, message_id="77")
    assert harness.messenger.transcript == []
    assert await harness.scalar("select count(*) from submissions") == 1
    assert await harness.scalar("select count(*) from audit_log where action='credit'") == 1


async def test_unbound_group_gets_one_hint_a_day_and_credits_nothing(harness):
    g = harness.group("g-new")
    lan = harness.user("Lan")
    await harness.send(g, lan, POST)
    await harness.send(g, lan, "https://youtu.be/dQw4w9WgXcQ")
    texts = harness.messenger.texts()
    assert len(texts) == 1 and "/dangky" in texts[0]
    harness.advance(days=1)
    await harness.send(g, lan, "https://youtu.be/dQw4w9WgXcQ")
    assert len(harness.messenger.texts()) == 2
    assert await harness.scalar("select count(*) from submissions") == 0


async def test_page_link_is_not_a_post_and_gets_one_line(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    await harness.send(g, harness.user("Lan"), "https://www.facebook.com/thptkimboi")
    assert harness.messenger.reactions() == []
    [text] = harness.messenger.texts()
    assert "link bài viết" in text
    assert await harness.scalar("select count(*) from submissions") == 0


async def test_invalid_links_are_ignored_silently(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    await harness.send(g, harness.user("Lan"), "http://localhost/admin javascript:alert(1) tỉ lệ 3.5 và file.txt")
    assert harness.messenger.transcript == []


async def test_at_most_ten_links_count_and_the_rest_are_named(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    links = " ".join(f"https://vnexpress.net/bai-{i}-48123{i:02d}.html" for i in range(40))
    text = ("Chia sẻ: " + links + " ") * 1
    await harness.send(g, harness.user("Lan"), text[:4000])
    assert len(harness.messenger.reactions()) == 1
    [line] = harness.messenger.texts()
    assert "tối đa 10" in line
    assert await harness.scalar("select count(*) from submissions") == 10


async def test_edit_adds_and_withdraws_and_is_idempotent(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Lan")
    yt = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    msg = await harness.send(g, lan, POST)
    harness.advance(minutes=5)
    for _ in range(2):  # the same edit twice changes nothing the second time
        await harness.send(g, lan, yt, message_id=msg.message_id, edited=True)
    assert await harness.scalar("select count(*) from submissions where withdrawn_at is null") == 1
    assert await harness.scalar("select canonical_url from submissions where withdrawn_at is null") == yt
    assert len(harness.messenger.reactions()) == 2
    # The edit brings the first link back: it is credited again.
    await harness.send(g, lan, f"{POST} {yt}", message_id=msg.message_id, edited=True)
    assert await harness.scalar("select count(*) from submissions where withdrawn_at is null") == 2


async def test_undo_by_the_sender_then_the_post_may_be_credited_again(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Lan")
    first = await harness.send(g, lan, POST)
    await harness.send(g, lan, "/huy", reply_to=first)
    assert harness.messenger.texts()[-1] == "Đã rút 1 liên kết của tin nhắn này."
    assert await harness.scalar("select count(*) from submissions where withdrawn_at is null") == 0
    await harness.send(g, lan, POST)
    assert len(harness.messenger.reactions()) == 2
    # The undone message redelivered does not come back to life.
    await harness.send(g, lan, POST, message_id=first.message_id)
    assert await harness.scalar("select count(*) from submissions where withdrawn_at is null") == 1


async def test_undo_by_someone_else_is_refused_but_an_admin_may(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan, binh, hieu_truong = harness.user("Lan"), harness.user("Bình"), harness.user("Hiệu trưởng")
    first = await harness.send(g, lan, POST)
    await harness.send(g, binh, "/huy", reply_to=first)
    assert "Chỉ người gửi" in harness.messenger.texts()[-1]
    harness.messenger.admins["g-thcs"] = {hieu_truong.user_id}
    await harness.send(g, hieu_truong, "/undo", reply_to=first)
    assert harness.messenger.texts()[-1] == "Đã rút 1 liên kết của tin nhắn này."


async def test_messages_from_channels_and_bots_credit_no_one(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    await harness.send(g, None, POST, sender_kind=SenderKind.ANONYMOUS_ADMIN)
    await harness.send(g, None, POST + "1", sender_kind=SenderKind.CHANNEL)
    assert await harness.scalar("select count(*) from submissions") == 0
    assert len(harness.messenger.texts()) == 1  # said once (a day), not at every message
    assert not any(isinstance(a, React) for a in harness.messenger.transcript)


async def test_platform_entities_are_used_instead_of_the_text(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    await harness.send(g, harness.user("Lan"), "bài này", links=(POST,))
    assert len(harness.messenger.reactions()) == 1
