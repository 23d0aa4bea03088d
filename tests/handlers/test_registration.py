"""/dangky in groups and private chats, the home-unit rule, joins, leaves and migrations."""

from __future__ import annotations

from bot.domain.types import BotMembershipChanged, ChatMigrated, DeleteMessage, MemberLeft, MembersJoined, SenderKind

POST = "https://www.facebook.com/thptkimboi/posts/123456789"


async def home_unit_of(harness, user) -> str | None:
    return await harness.scalar(
        "select u.code from members m join persons p on p.id = m.person_id "
        "left join units u on u.id = p.home_unit_id where m.user_id = :uid", uid=user.user_id)


async def test_admin_binds_group_with_join_code(harness):
    join, _ = await harness.codes("THCS-KIMBOI")
    g = harness.group("g1")
    principal = harness.user("Cô Hiệu trưởng")
    harness.messenger.admins["g1"] = {principal.user_id}
    await harness.send(g, principal, f"/dangky {join.lower()}")
    assert harness.messenger.texts() == [
        "Đã gắn nhóm này với Trường THCS Kim Bôi (THCS-KIMBOI). Từ giờ, liên kết thầy cô gửi vào đây sẽ được ghi nhận."
    ]
    assert await harness.scalar("select u.code from groups g join units u on u.id = g.unit_id where g.chat_id='g1'") == "THCS-KIMBOI"
    # The principal, seen in the group, now belongs to the school.
    assert await home_unit_of(harness, principal) == "THCS-KIMBOI"


async def test_non_admin_cannot_bind(harness):
    join, _ = await harness.codes("THCS-KIMBOI")
    g = harness.group("g1")
    await harness.send(g, harness.user("Lan"), f"/dangky {join}")
    assert harness.messenger.texts() == ["Chỉ quản trị viên nhóm mới dùng được lệnh này."]
    assert await harness.scalar("select unit_id from groups where chat_id='g1'") is None


async def test_wrong_code_and_missing_code(harness):
    g = harness.group("g1")
    admin = harness.user("Admin")
    harness.messenger.admins["g1"] = {admin.user_id}
    await harness.send(g, admin, "/dangky KHONGCO1")
    await harness.send(g, admin, "/dangky")
    assert harness.messenger.texts() == [
        "Mã «KHONGCO1» không đúng. Thầy cô kiểm tra lại mã do Sở hoặc Phòng GD&ĐT cung cấp.",
        "Cú pháp: /dangky <mã tham gia> (quản trị viên gửi trong nhóm của đơn vị).",
    ]


async def test_admin_code_in_a_group_is_deleted_and_not_used(harness):
    _, admin_code = await harness.codes("THCS-KIMBOI")
    g = harness.group("g1")
    lan = harness.user("Lan")
    await harness.send(g, lan, f"/dangky {admin_code}")
    assert any(isinstance(a, DeleteMessage) for a in harness.messenger.transcript)
    assert await harness.scalar("select count(*) from unit_roles") == 0


async def test_private_join_code_sets_home_unit_explicitly(harness):
    join, _ = await harness.codes("PGD-KIMBOI")
    officer = harness.user("Chuyên viên Phòng")
    await harness.send(harness.private(officer), officer, f"/dangky {join}")
    assert "Phòng GD&ĐT Kim Bôi" in harness.messenger.texts()[-1]
    # Seen later in a school group, she still belongs to the office she chose.
    g = harness.group("g-school")
    await harness.bind(g, "THCS-KIMBOI")
    await harness.send(g, officer, "chào cả nhà")
    assert await home_unit_of(harness, officer) == "PGD-KIMBOI"


async def test_private_admin_code_makes_a_unit_admin_of_the_subtree(harness):
    _, admin_code = await harness.codes("PGD-KIMBOI")
    officer = harness.user("Trưởng phòng")
    await harness.send(harness.private(officer), officer, f"/dangky {admin_code}")
    assert harness.messenger.texts()[-1] == "Từ giờ thầy cô là quản trị viên của Phòng GD&ĐT Kim Bôi và các đơn vị trực thuộc."
    # Sent again, it says she already was one, distinctly, and grants nothing twice.
    await harness.send(harness.private(officer), officer, f"/dangky {admin_code.lower()}")
    assert harness.messenger.texts()[-1] == "Thầy cô đã là quản trị viên của Phòng GD&ĐT Kim Bôi từ trước, không cần đăng ký lại."
    assert await harness.scalar("select count(*) from audit_log where action = 'grant_admin'") == 1
    # As an admin of the office she may bind a school's group below it.
    join, _ = await harness.codes("THCS-KIMBOI")
    g = harness.group("g-school")
    await harness.send(g, officer, f"/dangky {join}")
    assert "Đã gắn nhóm này với Trường THCS Kim Bôi" in harness.messenger.texts()[-1]


async def test_home_unit_is_the_deepest_group_then_the_first_seen(harness):
    office, school, school2 = harness.group("g-office"), harness.group("g-school"), harness.group("g-school2")
    await harness.bind(office, "PGD-KIMBOI")
    await harness.bind(school, "THCS-KIMBOI")
    await harness.bind(school2, "TH-KIMBOI")
    lan = harness.user("Lan")
    await harness.send(office, lan, "xin chào")
    assert await home_unit_of(harness, lan) == "PGD-KIMBOI"
    harness.advance(minutes=1)
    await harness.send(school, lan, "xin chào")
    assert await home_unit_of(harness, lan) == "THCS-KIMBOI"
    harness.advance(minutes=1)
    await harness.send(school2, lan, "xin chào")
    assert await home_unit_of(harness, lan) == "THCS-KIMBOI"  # same depth: the one seen first
    # Links count for the home unit, wherever they are posted.
    await harness.send(office, lan, POST)
    assert await harness.scalar("select u.code from submissions s join units u on u.id = s.unit_id") == "THCS-KIMBOI"
    # Leaving the school's group moves her to the other school.
    await harness.dispatcher.handle(MemberLeft(school, lan, harness.clock.now()))
    assert await home_unit_of(harness, lan) == "TH-KIMBOI"


async def test_community_group_credits_but_sets_no_home_unit(harness):
    join, _ = await harness.codes("SGD-HOABINH")
    g = harness.group("g-community")
    admin = harness.user("Admin Sở")
    harness.messenger.admins["g-community"] = {admin.user_id}
    await harness.send(g, admin, f"/dangky {join} congdong")
    assert "nhóm cộng đồng" in harness.messenger.texts()[-1]
    lan = harness.user("Lan")
    await harness.send(g, lan, POST)
    assert await home_unit_of(harness, lan) is None
    assert await harness.scalar("select count(*) from submissions") == 1


async def test_joined_members_are_registered_and_migration_keeps_the_binding(harness):
    g = harness.group("-100")
    await harness.bind(g, "THCS-KIMBOI")
    await harness.dispatcher.handle(MembersJoined(g, (harness.user("Mới"),), harness.clock.now()))
    assert await harness.scalar("select count(*) from members") == 1
    await harness.dispatcher.handle(ChatMigrated("test", "-100", "-1001234", harness.clock.now()))
    await harness.dispatcher.handle(ChatMigrated("test", "-100", "-1001234", harness.clock.now()))
    assert await harness.scalar("select u.code from groups g join units u on u.id=g.unit_id where chat_id='-1001234'") == "THCS-KIMBOI"
    await harness.send(harness.group("-1001234"), harness.user("Lan"), POST)
    assert len(harness.messenger.reactions()) == 1


async def test_bot_removed_makes_the_group_inactive_and_added_back_active(harness):
    g = harness.group("g1")
    await harness.bind(g, "THCS-KIMBOI")
    await harness.dispatcher.handle(BotMembershipChanged(g, present=False, date=harness.clock.now()))
    assert await harness.scalar("select active from groups where chat_id='g1'") == 0
    await harness.dispatcher.handle(BotMembershipChanged(g, present=True, date=harness.clock.now()))
    assert await harness.scalar("select active from groups where chat_id='g1'") == 1
    assert await harness.scalar("select u.code from groups g join units u on u.id=g.unit_id") == "THCS-KIMBOI"


async def test_bot_that_cannot_read_says_how_to_fix_it(harness):
    g = harness.group("g1")
    await harness.dispatcher.handle(BotMembershipChanged(g, present=True, can_read_messages=False,
                                                         date=harness.clock.now()))
    [text] = harness.messenger.texts()
    assert "/setprivacy" in text


async def test_commands_for_another_bot_are_ignored(harness):
    g = harness.group("g1")
    harness.dispatcher.set_bot_username("test", "LanToaBot")
    await harness.send(g, harness.user("Lan"), "/toi@OtherBot")
    await harness.send(g, harness.user("Lan"), "/lenhla")
    assert harness.messenger.transcript == []
    await harness.send(g, harness.user("Lan"), "/lenhla@LanToaBot")
    assert harness.messenger.texts() == ["Bot không hiểu lệnh /lenhla. Gõ /huongdan để xem các lệnh."]


# --- /dangky: extra words, codes in pieces, admin codes anywhere, rebinding, anonymous admins ----

async def bound_unit(harness, chat_id: str) -> tuple[str | None, int | None]:
    async with harness.storage.engine.connect() as conn:
        from sqlalchemy import text

        row = (await conn.execute(text(
            "select u.code, g.community from groups g left join units u on u.id = g.unit_id where g.chat_id = :c"),
            {"c": chat_id})).first()
    return (row[0], row[1]) if row else (None, None)


async def group_with_admin(harness, chat_id: str = "g1"):
    g = harness.group(chat_id)
    admin = harness.user("Cô Hiệu trưởng")
    harness.messenger.admins[chat_id] = {admin.user_id}
    return g, admin


async def test_dangky_with_an_unknown_extra_word_is_refused_and_binds_nothing(harness):
    join, _ = await harness.codes("THCS-KIMBOI")
    other, _ = await harness.codes("TH-KIMBOI")
    g, admin = await group_with_admin(harness)
    for extra in ("cong dong", "congdongg", other, "congdong thêm"):
        harness.messenger.clear()
        await harness.send(g, admin, f"/dangky {join} {extra}")
        [line] = harness.messenger.texts()
        assert line.startswith(f"Bot không hiểu «{extra}» sau mã tham gia nên chưa gắn nhóm."), line
        assert await bound_unit(harness, "g1") == (None, 0)


async def test_dangky_community_word_in_any_spelling(harness):
    join, _ = await harness.codes("SGD-HOABINH")
    for i, word in enumerate(("congdong", "CONGDONG", "cộngđồng", "Cộng-Đồng", "community", "cong-dong")):
        g, admin = await group_with_admin(harness, f"gc{i}")
        await harness.send(g, admin, f"/dangky {join} {word}")
        assert await bound_unit(harness, f"gc{i}") == ("SGD-HOABINH", 1), word
        assert "nhóm cộng đồng" in harness.messenger.texts()[-1]


async def test_a_join_code_typed_in_pieces_is_one_code(harness):
    join, _ = await harness.codes("THCS-KIMBOI")
    g, admin = await group_with_admin(harness)
    await harness.send(g, admin, f"/dangky {join[:4].lower()} {join[4:].lower()} congdong")
    assert await bound_unit(harness, "g1") == ("THCS-KIMBOI", 1)


async def test_an_admin_code_anywhere_in_a_group_message_is_deleted_and_never_used(harness):
    _, admin_code = await harness.codes("THCS-KIMBOI")
    g = harness.group("g1")
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Lan")
    spaced = f"{admin_code[:4].lower()} {admin_code[4:].lower()}"
    dashed = f"{admin_code[:3]}-{admin_code[3:6]}-{admin_code[6:]}"
    texts = [
        f"mã quản trị của trường là {spaced} nhé",
        f"{dashed} {POST}",  # with a link: the link is not credited either
        f"/toi {admin_code}",
        f"/dangky {admin_code.lower()}",
        f"/lenhla x {admin_code}",
        f"Mã:{admin_code}.",
    ]
    for i, text in enumerate(texts):
        harness.messenger.clear()
        msg = await harness.send(g, lan, text)
        deleted = [a for a in harness.messenger.transcript if isinstance(a, DeleteMessage)]
        assert [d.message_id for d in deleted] == [msg.message_id], text
        assert harness.messenger.texts() == [
            "Tin nhắn vừa rồi có mã quản trị nên bot không xử lý. Mã quản trị chỉ dùng khi nhắn riêng với bot, "
            "không gửi trong nhóm. Nếu bot không tự xóa được tin nhắn đó, quản trị viên hãy xóa giúp để giữ bí mật mã."
        ], text
        assert harness.messenger.reactions() == []
    assert await harness.scalar("select count(*) from unit_roles") == 0
    assert await harness.scalar("select count(*) from submissions") == 0
    assert await harness.scalar("select count(*) from audit_log where action = 'admin_code_in_group'") == len(texts)
    # An edit that adds the code is withheld the same way.
    harness.messenger.clear()
    first = await harness.send(g, lan, POST)
    await harness.send(g, lan, f"{POST} {admin_code}", message_id=first.message_id, edited=True)
    assert any(isinstance(a, DeleteMessage) for a in harness.messenger.transcript)


async def test_words_that_merely_look_like_codes_are_left_alone(harness):
    g = harness.group("g1")
    await harness.bind(g, "THCS-KIMBOI")
    await harness.send(g, harness.user("Lan"), f"ABCD 2345 https://www.facebook.com/thptkimboi/posts/98765 XYZW-2345")
    assert not any(isinstance(a, DeleteMessage) for a in harness.messenger.transcript)
    assert len(harness.messenger.reactions()) == 1


async def test_the_admin_code_still_works_in_a_private_chat(harness):
    _, admin_code = await harness.codes("THCS-KIMBOI")
    officer = harness.user("Hiệu trưởng")
    await harness.send(harness.private(officer), officer, f"/dangky {admin_code[:4]} {admin_code[4:]}")
    assert not any(isinstance(a, DeleteMessage) for a in harness.messenger.transcript)
    assert harness.messenger.texts()[-1].startswith("Từ giờ thầy cô là quản trị viên của Trường THCS Kim Bôi")


async def test_rebinding_to_another_unit_needs_the_same_command_again_within_ten_minutes(harness):
    school, _ = await harness.codes("TH-KIMBOI")
    g, admin = await group_with_admin(harness)
    await harness.bind(g, "THCS-KIMBOI")
    first = await harness.send(g, admin, f"/dangky {school}")
    assert harness.messenger.texts()[-1] == (
        "Nhóm này đang gắn với Trường THCS Kim Bôi (THCS-KIMBOI). "
        "Gửi lại đúng lệnh này trong 10 phút để chuyển nhóm sang Trường Tiểu học Kim Bôi (TH-KIMBOI)."
    )
    assert await bound_unit(harness, "g1") == ("THCS-KIMBOI", 0)
    # The same update delivered again is not its own confirmation.
    await harness.send(g, admin, f"/dangky {school}", message_id=first.message_id)
    assert await bound_unit(harness, "g1") == ("THCS-KIMBOI", 0)
    harness.advance(minutes=9)
    await harness.send(g, admin, f"/dangky {school.lower()}")
    assert harness.messenger.texts()[-1] == "Đã chuyển nhóm này từ Trường THCS Kim Bôi sang Trường Tiểu học Kim Bôi (TH-KIMBOI)."
    assert await bound_unit(harness, "g1") == ("TH-KIMBOI", 0)
    assert await harness.scalar("select count(*) from audit_log where action = 'bind_group'") == 1


async def test_a_rebind_request_expires_and_a_different_one_replaces_it(harness):
    school, _ = await harness.codes("TH-KIMBOI")
    office, _ = await harness.codes("PGD-KIMBOI")
    g, admin = await group_with_admin(harness)
    await harness.bind(g, "THCS-KIMBOI")
    await harness.send(g, admin, f"/dangky {school}")
    harness.advance(minutes=11)
    await harness.send(g, admin, f"/dangky {school}")  # too late: a new request
    assert await bound_unit(harness, "g1") == ("THCS-KIMBOI", 0)
    await harness.send(g, admin, f"/dangky {office}")  # another target replaces it
    await harness.send(g, admin, f"/dangky {school}")
    assert await bound_unit(harness, "g1") == ("THCS-KIMBOI", 0)
    await harness.send(g, admin, f"/dangky {school}")
    assert await bound_unit(harness, "g1") == ("TH-KIMBOI", 0)


async def test_a_request_older_than_the_last_rebinding_confirms_nothing(harness):
    school, _ = await harness.codes("TH-KIMBOI")
    g, admin = await group_with_admin(harness)
    await harness.bind(g, "THCS-KIMBOI")
    await harness.send(g, admin, f"/dangky {school}")  # asks THCS → TH
    harness.advance(minutes=1)
    await harness.bind(g, "PGD-KIMBOI")  # meanwhile the operator binds it elsewhere
    harness.advance(minutes=1)
    await harness.send(g, admin, f"/dangky {school}")  # asked about another state: a new request
    assert await bound_unit(harness, "g1") == ("PGD-KIMBOI", 0)
    assert harness.messenger.texts()[-1].startswith("Nhóm này đang gắn với Phòng GD&ĐT Kim Bôi (PGD-KIMBOI).")
    await harness.send(g, admin, f"/dangky {school}")
    assert await bound_unit(harness, "g1") == ("TH-KIMBOI", 0)


async def test_a_community_group_made_normal_says_community_mode_ended(harness):
    sgd, _ = await harness.codes("SGD-HOABINH")
    pgd, _ = await harness.codes("PGD-KIMBOI")
    g, admin = await group_with_admin(harness, "g-community")
    await harness.send(g, admin, f"/dangky {sgd} congdong")
    await harness.send(g, admin, f"/dangky {sgd}")
    assert harness.messenger.texts()[-1] == (
        "Nhóm này đang là nhóm cộng đồng của Sở GD&ĐT Hòa Bình (SGD-HOABINH). "
        "Gửi lại đúng lệnh này trong 10 phút để kết thúc chế độ nhóm cộng đồng."
    )
    await harness.send(g, admin, f"/dangky {sgd}")
    assert harness.messenger.texts()[-1] == (
        "Đã đổi chế độ của nhóm này (Sở GD&ĐT Hòa Bình, SGD-HOABINH). Nhóm không còn là nhóm cộng đồng: "
        "tham gia nhóm này từ giờ xác định đơn vị của thành viên."
    )
    assert await bound_unit(harness, "g-community") == ("SGD-HOABINH", 0)
    # Back to community mode, and then to another unit as a normal group: both changes are named.
    for _ in range(2):
        await harness.send(g, admin, f"/dangky {sgd} congdong")
    await harness.send(g, admin, f"/dangky {pgd}")
    assert harness.messenger.texts()[-1].endswith(
        "Gửi lại đúng lệnh này trong 10 phút để chuyển nhóm sang Phòng GD&ĐT Kim Bôi (PGD-KIMBOI) "
        "và kết thúc chế độ nhóm cộng đồng.")
    await harness.send(g, admin, f"/dangky {pgd}")
    assert harness.messenger.texts()[-1] == (
        "Đã chuyển nhóm này từ Sở GD&ĐT Hòa Bình sang Phòng GD&ĐT Kim Bôi (PGD-KIMBOI). "
        "Nhóm không còn là nhóm cộng đồng: tham gia nhóm này từ giờ xác định đơn vị của thành viên."
    )


async def test_an_anonymous_group_admin_can_register_the_group(harness):
    join, _ = await harness.codes("THCS-KIMBOI")
    g = harness.group("g1")
    await harness.send(g, None, f"/dangky {join}", sender_kind=SenderKind.ANONYMOUS_ADMIN)
    assert harness.messenger.texts() == [
        "Đã gắn nhóm này với Trường THCS Kim Bôi (THCS-KIMBOI). Từ giờ, liên kết thầy cô gửi vào đây sẽ được ghi nhận."
    ]
    assert await bound_unit(harness, "g1") == ("THCS-KIMBOI", 0)
    assert await harness.scalar("select actor from audit_log where action = 'bind_group'") == "test:g1"
    # Other commands need a person: one line says so.
    harness.messenger.clear()
    await harness.send(g, None, "/huongdan", sender_kind=SenderKind.ANONYMOUS_ADMIN)
    assert harness.messenger.texts() == [
        "Lệnh này được gửi dưới danh nghĩa nhóm nên bot không biết ai gửi. "
        "Thầy cô hãy gửi lại bằng tài khoản cá nhân (tắt chế độ ẩn danh của quản trị viên)."
    ]


async def test_a_channel_still_cannot_register_a_group(harness):
    join, _ = await harness.codes("THCS-KIMBOI")
    g = harness.group("g1")
    await harness.send(g, None, f"/dangky {join}", sender_kind=SenderKind.CHANNEL)
    assert harness.messenger.texts() == []
    assert await bound_unit(harness, "g1") == (None, 0)


async def test_private_dangky_with_extra_words_is_refused(harness):
    join, _ = await harness.codes("THCS-KIMBOI")
    lan = harness.user("Lan")
    await harness.send(harness.private(lan), lan, f"/dangky {join} abc")
    assert harness.messenger.texts() == ["Bot không hiểu «abc» sau mã nên chưa ghi nhận gì. Cú pháp: /dangky <mã>."]
    assert await home_unit_of(harness, lan) is None
