"""/dangky in groups and private chats, the home-unit rule, joins, leaves and migrations."""

from __future__ import annotations

from bot.domain.types import BotMembershipChanged, ChatMigrated, DeleteMessage, MemberLeft, MembersJoined

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
    assert harness.messenger.texts()[-1] == "Thầy cô đã là quản trị viên của Phòng GD&ĐT Kim Bôi và các đơn vị trực thuộc."
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
