"""Commands as people really type them: Telex diacritics, unknown names, links inside commands."""

from __future__ import annotations

import json
import unicodedata

from bot.domain import texts_vi

POST = "https://www.facebook.com/thptkimboi/posts/123456789"
POST2 = "https://www.facebook.com/thptkimboi/posts/555"


async def test_commands_typed_with_diacritics_reach_their_command(harness):
    lan = harness.user("Lan")
    private = harness.private(lan)
    for text in ("/hướng dẫn", "/hướngdẫn", unicodedata.normalize("NFD", "/Hướng Dẫn"), "/bắt đầu"):
        harness.messenger.clear()
        await harness.send(private, lan, text)
        assert harness.messenger.texts() == [texts_vi.help_text(1, 10)], text
    # /đăng ký in a group, as the principal's phone types it.
    join, _ = await harness.codes("THCS-KIMBOI")
    g = harness.group("g1")
    principal = harness.user("Hiệu trưởng")
    harness.messenger.admins["g1"] = {principal.user_id}
    await harness.send(g, principal, f"/đăng ký {join}")
    assert harness.messenger.texts()[-1].startswith("Đã gắn nhóm này với Trường THCS Kim Bôi")
    # /hủy replying to a message.
    first = await harness.send(g, lan, POST)
    await harness.send(g, lan, "/hủy", reply_to=first)
    assert harness.messenger.texts()[-1] == "Đã rút 1 liên kết của tin nhắn này."


async def test_toi_typed_with_diacritics(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Lan")
    await harness.send(g, lan, "/Tôi")
    [text] = harness.messenger.texts()
    assert text.startswith("📊 Lan — Trường THCS Kim Bôi")


async def test_an_unknown_command_in_a_private_chat_is_always_answered(harness):
    lan = harness.user("Lan")
    private = harness.private(lan)
    harness.dispatcher.set_bot_username("test", "LanToaBot")
    for text, shown in (("/xyz", "/xyz"), ("/tôii", "/tôii"), ("/lenhla abc", "/lenhla"),
                        ("/toi@OtherBot", "/toi@OtherBot"), ("/xyz@LanToaBot", "/xyz")):
        harness.messenger.clear()
        await harness.send(private, lan, text)
        assert harness.messenger.texts() == [f"Bot không hiểu lệnh {shown}. Gõ /huongdan để xem các lệnh."], text


async def test_an_unknown_command_in_a_group_stays_quiet_but_its_link_counts(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    harness.dispatcher.set_bot_username("test", "LanToaBot")
    await harness.send(g, harness.user("Lan"), f"/chiase {POST}")
    assert harness.messenger.texts() == []
    assert len(harness.messenger.reactions()) == 1
    # A command for another bot is none of ours, link included.
    await harness.send(g, harness.user("Bình"), f"/chiase@OtherBot {POST2}")
    assert await harness.scalar("select count(*) from submissions") == 1


async def test_a_link_in_a_command_message_is_credited_as_if_sent_alone(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Lan")
    msg = await harness.send(g, lan, f"/huongdan {POST}")
    assert harness.messenger.texts() == [texts_vi.help_text(1, 10)]
    assert [r.message_id for r in harness.messenger.reactions()] == [msg.message_id]
    assert await harness.scalar("select count(*) from submissions where withdrawn_at is null") == 1


async def test_toi_with_a_link_counts_the_link_it_came_with(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    await harness.send(g, harness.user("Lan"), f"/toi {POST}")
    [text] = harness.messenger.texts()
    assert "1 bài — đã đạt ✅" in text
    assert len(harness.messenger.reactions()) == 1


async def test_dangky_with_a_link_binds_first_then_credits_it_for_the_unit(harness):
    join, _ = await harness.codes("THCS-KIMBOI")
    g = harness.group("g-new")
    principal = harness.user("Hiệu trưởng")
    harness.messenger.admins["g-new"] = {principal.user_id}
    await harness.send(g, principal, f"/dangky {join} {POST}")
    assert harness.messenger.texts() == [
        "Đã gắn nhóm này với Trường THCS Kim Bôi (THCS-KIMBOI). Từ giờ, liên kết thầy cô gửi vào đây sẽ được ghi nhận."
    ]
    assert len(harness.messenger.reactions()) == 1
    assert await harness.scalar("select u.code from submissions s join units u on u.id = s.unit_id") == "THCS-KIMBOI"


async def test_a_link_sent_with_huy_is_not_credited_and_says_why(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Lan")
    first = await harness.send(g, lan, POST)
    harness.messenger.clear()
    undo = await harness.send(g, lan, f"/huy {POST2}", reply_to=first)
    assert harness.messenger.texts() == ["Đã rút 1 liên kết của tin nhắn này.", texts_vi.LINK_WITH_UNDO_NOT_CREDITED]
    assert harness.messenger.reactions() == []
    # Editing that /huy message does not credit its link either.
    await harness.send(g, lan, f"/huy {POST2} nhé", message_id=undo.message_id, edited=True, reply_to=first)
    assert await harness.scalar("select count(*) from submissions where withdrawn_at is null") == 0


async def test_an_edit_of_a_plain_command_message_rescans_its_links(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Lan")
    msg = await harness.send(g, lan, "/huongdan")
    await harness.send(g, lan, f"/huongdan {POST}", message_id=msg.message_id, edited=True)
    assert await harness.scalar("select count(*) from submissions where withdrawn_at is null") == 1


async def test_the_audit_of_an_admins_huy_names_the_author_and_the_admin(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan, principal = harness.user("Lan"), harness.user("Hiệu trưởng")
    harness.messenger.admins[g.chat_id] = {principal.user_id}
    first = await harness.send(g, lan, POST)
    await harness.send(g, principal, "/huy", reply_to=first)
    lan_person = await harness.scalar("select person_id from members where user_id = 'Lan'")
    admin_person = await harness.scalar("select person_id from members where user_id = 'Hiệu trưởng'")
    assert lan_person != admin_person
    async with harness.storage.engine.connect() as conn:
        from sqlalchemy import text

        actor, person_id, detail = (await conn.execute(text(
            "select actor, person_id, detail from audit_log where action = 'withdraw_undo'"))).one()
    detail = json.loads(detail)
    assert actor == "test:Hiệu trưởng"
    assert person_id == lan_person
    assert detail["author"] == "test:Lan"
    assert detail["author_person_ids"] == [lan_person]
    assert detail["by_admin"] is True and detail["admin_person_id"] == admin_person


async def test_the_audit_of_ones_own_huy(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Lan")
    first = await harness.send(g, lan, POST)
    await harness.send(g, lan, "/huy", reply_to=first)
    lan_person = await harness.scalar("select person_id from members where user_id = 'Lan'")
    assert await harness.scalar("select person_id from audit_log where action = 'withdraw_undo'") == lan_person
    assert await harness.scalar("select actor from audit_log where action = 'withdraw_undo'") == "test:Lan"
