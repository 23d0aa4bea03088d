"""/tinhhinh, /xephang, /dangvien, /trang, #trang and /nghi, as an admin, an own admin, a parent's
admin and a teacher would use them, in a group and in a private chat (SPEC §3.1 item 7, §3.2, §3.4)."""

from __future__ import annotations

from bot.domain.types import DeleteMessage, Mention, SendText


async def make_admin(harness, user, unit_code: str) -> None:
    """Admin of a unit by its admin code, as a principal would become one."""
    _, admin_code = await harness.codes(unit_code)
    await harness.send(harness.private(user), user, f"/dangky {admin_code}")


async def school(harness, n_people: int = 3):
    """THCS-KIMBOI's group with its principal (a chat admin) and ``n_people`` teachers."""
    g = harness.group("g-thcs")
    await harness.bind(g, "THCS-KIMBOI")
    principal = harness.user("Hiệu Trưởng Hà", "hieutruong")
    harness.messenger.admins["g-thcs"] = {principal.user_id}
    teachers = [harness.user(name, f"t{i}") for i, name in enumerate(["Lê Thị Cúc", "Đào Văn Dũng", "Bùi Thị Ánh",
                                                                          "Phạm Văn Em"][:n_people])]
    await harness.send(g, principal, "chào cả nhà")
    for t in teachers:
        await harness.send(g, t, "em chào thầy cô")
    return g, principal, teachers


async def test_status_for_the_principal_names_who_has_not_yet_fewest_links_first(harness):
    g, principal, (cuc, dung, anh) = await school(harness)
    await harness.send(g, cuc, "https://www.facebook.com/thcskimboi/posts/1")
    await harness.send(g, principal, "https://www.facebook.com/thcskimboi/posts/1")
    harness.messenger.clear()
    await harness.send(g, principal, "/tinhhinh")
    (reply,) = [a for a in harness.messenger.transcript if isinstance(a, SendText)]
    assert reply.plain == "\n".join([
        "📊 Trường THCS Kim Bôi — tuần 23/11–29/11/2026",
        "Bài trên trang của đơn vị: 0/1",
        "Thầy cô đã chia sẻ: 2/4 người",
        "Đạt chỉ tiêu: 2/4 người",
        "Chưa đạt chỉ tiêu (2 người): @Bùi Thị Ánh, @Đào Văn Dũng",
    ])
    # Mentions, so that people without a username are notified too.
    mentioned = [p.user.user_id for p in reply.parts if isinstance(p, Mention)]
    assert mentioned == ["t2", "t1"]


async def test_status_for_a_teacher_shows_counts_and_her_own_state_without_names(harness):
    g, principal, (cuc, dung, anh) = await school(harness)
    await harness.send(g, cuc, "https://youtu.be/aaaaaaaaaa1")
    harness.messenger.clear()
    await harness.send(g, dung, "/tinhhinh")
    text = harness.messenger.texts()[-1]
    assert "Thầy cô đã chia sẻ: 1/4 người" in text
    assert text.endswith("Bạn: 0 bài — chưa đạt.")
    for name in ("Cúc", "Dũng", "Ánh", "Hà"):
        assert name not in text


async def test_registered_page_counts_posts_shared_before_registration_once(harness):
    g, principal, (cuc, dung, anh) = await school(harness)
    await harness.send(g, cuc, "https://www.facebook.com/thcskimboi/posts/1")
    await harness.send(g, dung, "https://m.facebook.com/thcskimboi/posts/1?mibextid=x")
    await harness.send(g, principal, "/trang them https://www.facebook.com/thcskimboi")
    assert "Đã đăng ký trang https://www.facebook.com/thcskimboi" in harness.messenger.texts()[-1]
    await harness.send(g, principal, "/tinhhinh")
    assert "Bài trên trang của đơn vị: 1/1 ✅" in harness.messenger.texts()[-1]
    await harness.send(g, principal, "/trang")
    assert harness.messenger.texts()[-1] == "Trang của Trường THCS Kim Bôi:\n• https://www.facebook.com/thcskimboi"
    await harness.send(g, cuc, "/trang them https://www.facebook.com/abc")
    assert harness.messenger.texts()[-1] == "Chỉ quản trị viên của đơn vị mới dùng được lệnh này."
    await harness.send(g, principal, "/trang them https://www.facebook.com/thcskimboi/posts/9")
    assert "Cần link của trang" in harness.messenger.texts()[-1]


async def test_hashtag_trang_marks_a_share_link_for_admins_and_officers_only(harness):
    g, principal, (cuc, dung, anh) = await school(harness)
    await harness.send(g, cuc, "#trang https://www.facebook.com/share/p/AbC123/")
    assert "Chỉ quản trị viên hoặc cán bộ truyền thông" in harness.messenger.texts()[-1]
    cuc_msg = await harness.send(g, cuc, "bài mới")
    await harness.send(g, principal, "/trang canbo", reply_to=cuc_msg)
    assert "Đã giao Lê Thị Cúc làm cán bộ truyền thông" in harness.messenger.texts()[-1]
    await harness.send(g, cuc, "Bài mới của trường #Trang https://www.facebook.com/share/p/XyZ789/")
    await harness.send(g, principal, "/tinhhinh")
    assert "Bài trên trang của đơn vị: 1/1 ✅" in harness.messenger.texts()[-1]


async def test_dangvien_in_private_by_number_and_in_group_by_reply_reveals_nothing(harness):
    g, principal, (cuc, dung, anh) = await school(harness)
    await make_admin(harness, principal, "THCS-KIMBOI")
    private = harness.private(principal)
    await harness.send(private, principal, "/dangvien")
    # A school's list order: by given name (Ánh, Cúc, Dũng, Hà), as class lists are kept.
    assert harness.messenger.texts()[-1].splitlines()[1:5] == [
        "1. ☐ Bùi Thị Ánh", "2. ☐ Lê Thị Cúc", "3. ☐ Đào Văn Dũng", "4. ☐ Hiệu Trưởng Hà"]
    await harness.send(private, principal, "/dangvien 2 3")
    assert harness.messenger.texts()[-1] == "Đã đánh dấu đảng viên: Lê Thị Cúc, Đào Văn Dũng."
    await harness.send(private, principal, "/bodangvien 2")
    await harness.send(private, principal, "/dangvien 9")
    assert "Không có số 9" in harness.messenger.texts()[-1]
    anh_msg = await harness.send(g, anh, "chào")
    harness.messenger.clear()
    command = await harness.send(g, principal, "/dangvien", reply_to=anh_msg)
    deleted = [a for a in harness.messenger.transcript if isinstance(a, DeleteMessage)]
    assert [d.message_id for d in deleted] == [command.message_id]
    assert harness.messenger.texts() == ["Đã cập nhật."]
    assert await harness.scalar(
        "select count(*) from persons where party_member") == 2  # Dũng and Ánh


async def test_dangvien_is_for_the_units_own_admins_not_a_parents_or_a_teachers(harness):
    g, principal, (cuc, dung, anh) = await school(harness)
    officer = harness.user("Cán Bộ Phòng", "pgd")
    await make_admin(harness, officer, "PGD-KIMBOI")
    cuc_msg = await harness.send(g, cuc, "chào")
    await harness.send(g, officer, "/dangvien", reply_to=cuc_msg)
    assert harness.messenger.texts()[-1] == "Chỉ quản trị viên của chính đơn vị này mới đánh dấu được đảng viên."
    await harness.send(g, dung, "/dangvien", reply_to=cuc_msg)
    assert harness.messenger.texts()[-1] == "Chỉ quản trị viên của chính đơn vị này mới đánh dấu được đảng viên."
    await harness.send(g, principal, "/dangvien")
    assert "nhắn riêng cho bot" in harness.messenger.texts()[-1]
    assert await harness.scalar("select count(*) from persons where party_member") == 0


async def test_party_names_reach_only_an_own_admins_private_status(harness):
    g, principal, (cuc, dung, anh) = await school(harness)
    await make_admin(harness, principal, "THCS-KIMBOI")
    await harness.send(harness.private(principal), principal, "/dangvien 1 3")  # Ánh and Dũng
    await harness.send(g, anh, "https://youtu.be/aaaaaaaaaa1")
    harness.messenger.clear()
    await harness.send(g, principal, "/tinhhinh")
    group_text = harness.messenger.texts()[-1]
    assert "Đảng viên đạt chỉ tiêu: 1/2" in group_text.splitlines()
    await harness.send(harness.private(principal), principal, "/tinhhinh")
    private_text = harness.messenger.texts()[-1]
    assert "Đảng viên của Trường THCS Kim Bôi chưa đạt chỉ tiêu: Đào Văn Dũng." in private_text
    # The office's admin sees the school's counts but never its party members' names.
    officer = harness.user("Cán Bộ Phòng", "pgd")
    await make_admin(harness, officer, "PGD-KIMBOI")
    await harness.send(harness.private(officer), officer, "/tinhhinh")
    office_text = harness.messenger.texts()[-1]
    assert "Phòng GD&ĐT Kim Bôi" in office_text.splitlines()[0]
    assert "Dũng" not in office_text and "Ánh" not in office_text


async def test_office_status_has_a_table_of_every_school_below(harness):
    g, principal, teachers = await school(harness)
    officer = harness.user("Cán Bộ Phòng", "pgd")
    await make_admin(harness, officer, "PGD-KIMBOI")
    await harness.send(g, teachers[0], "https://youtu.be/aaaaaaaaaa1")
    await harness.send(harness.private(officer), officer, "/tinhhinh")
    lines = harness.messenger.texts()[-1].splitlines()
    assert lines[0] == "📊 Phòng GD&ĐT Kim Bôi — tuần 23/11–29/11/2026"
    assert lines[1] == "Bài trên trang của đơn vị: 0/3"
    i = lines.index("Các đơn vị trực thuộc:")
    assert lines[i + 1:] == [
        "• Trường THCS Kim Bôi: trang 0/1; chia sẻ 1/4; đạt 1/4",
        "• Trường Mầm non Kim Bôi: — (chưa có nhóm)",
        "• Trường Tiểu học Kim Bôi: — (chưa có nhóm)",
    ]


async def test_status_month_and_bad_period(harness):
    g, principal, teachers = await school(harness)
    await harness.send(g, principal, "/tinhhinh thang")
    assert harness.messenger.texts()[-1].startswith("📊 Trường THCS Kim Bôi — tháng 11/2026")
    await harness.send(g, principal, "/tinhhinh hocky")
    assert harness.messenger.texts()[-1] == 'Không hiểu khoảng thời gian "hocky". Dùng: tuan | thang.'


async def test_xephang_ranks_schools_fairly_with_no_names_on_unit_lines(harness):
    g, principal, (cuc, dung, anh) = await school(harness)
    small = harness.group("g-th")
    await harness.bind(small, "TH-KIMBOI")
    solo = harness.user("Vũ Thị Giang", "solo")
    await harness.send(small, solo, "https://youtu.be/bbbbbbbbbb1")
    for t in (cuc, dung, anh):
        await harness.send(g, t, "https://youtu.be/aaaaaaaaaa1")
    await harness.send(g, principal, "https://youtu.be/aaaaaaaaaa2")
    officer = harness.user("Cán Bộ Phòng", "pgd")
    await make_admin(harness, officer, "PGD-KIMBOI")
    await harness.send(harness.private(officer), officer, "/xephang")
    lines = harness.messenger.texts()[-1].splitlines()
    assert lines[:4] == [
        "🏆 Bảng xếp hạng tuần 23/11–29/11/2026 — Phòng GD&ĐT Kim Bôi",
        "1. Trường THCS Kim Bôi — đạt 4/4 người; trang 0/1",
        "1. Trường Tiểu học Kim Bôi — đạt 1/1 người; trang 0/1",
        "— Trường Mầm non Kim Bôi (chưa có nhóm)",
    ]
    assert lines[4] == "Thầy cô tích cực nhất:"


async def test_nghi_exempts_until_the_day_and_only_admins_may(harness):
    g, principal, (cuc, dung, anh) = await school(harness)
    cuc_msg = await harness.send(g, cuc, "em xin nghỉ ốm")
    await harness.send(g, dung, "/nghi 30/11", reply_to=cuc_msg)
    assert harness.messenger.texts()[-1] == "Chỉ quản trị viên của đơn vị mới dùng được lệnh này."
    await harness.send(g, principal, "/nghi 31/02", reply_to=cuc_msg)
    assert harness.messenger.texts()[-1] == 'Không hiểu ngày "31/02": hãy viết dd/mm hoặc dd/mm/yyyy.'
    await harness.send(g, principal, "/nghi 30/11", reply_to=cuc_msg)
    assert harness.messenger.texts()[-1] == (
        "Đã ghi nhận Lê Thị Cúc nghỉ từ 27/11/2026 đến hết 30/11/2026: không tính chỉ tiêu trong thời gian này.")
    await harness.send(g, principal, "/tinhhinh")
    text = harness.messenger.texts()[-1]
    assert "Thầy cô đã chia sẻ: 0/3 người" in text
    assert "Cúc" not in text
    # A new leave later does not take the past week's exemption away.
    harness.advance(days=14)
    await harness.send(g, principal, "/nghi 20/12", reply_to=cuc_msg)
    harness.advance(days=-14)
    await harness.send(g, principal, "/tinhhinh")
    assert "Cúc" not in harness.messenger.texts()[-1]


async def test_status_shows_people_known_against_the_headcount_and_the_groups_count_to_admins(harness):
    g, principal, teachers = await school(harness)
    async with harness.storage.uow() as uow:
        (await uow.units.by_code("THCS-KIMBOI")).staff = 45

    async def member_count(chat):
        return 49  # the bot itself is one of them

    harness.messenger.chat_member_count = member_count
    await harness.send(g, principal, "/tinhhinh")
    assert "Đã tham gia: 4/45 (theo biên chế); nhóm có 48 thành viên" in harness.messenger.texts()[-1].splitlines()
    await harness.send(g, teachers[0], "/tinhhinh")
    assert "Đã tham gia: 4/45 (theo biên chế)" in harness.messenger.texts()[-1].splitlines()


async def test_dangky_names_the_pages_to_like_and_follow(harness):
    g, principal, teachers = await school(harness)
    await harness.send(g, principal, "/trang them https://www.facebook.com/thcskimboi")
    office = harness.group("g-pgd")
    harness.messenger.admins["g-pgd"] = {principal.user_id}
    await harness.bind(office, "PGD-KIMBOI")
    await harness.send(office, principal, "/trang them https://www.facebook.com/pgdkimboi")
    newcomer = harness.user("Người Mới", "new")
    join_code, _ = await harness.codes("THCS-KIMBOI")
    await harness.send(harness.private(newcomer), newcomer, f"/dangky {join_code}")
    assert harness.messenger.texts()[-1].splitlines()[1:] == [
        "Thầy cô hãy thích và theo dõi các trang:",
        "• Trường THCS Kim Bôi: https://www.facebook.com/thcskimboi",
        "• Phòng GD&ĐT Kim Bôi: https://www.facebook.com/pgdkimboi",
    ]


async def test_an_unknown_unit_code_in_private_is_named_as_such(harness):
    officer = harness.user("Cán Bộ Phòng", "pgd")
    await make_admin(harness, officer, "PGD-KIMBOI")
    await harness.send(harness.private(officer), officer, "/tinhhinh KHONGCO")
    assert harness.messenger.texts()[-1] == "Không có đơn vị mã KHONGCO trong phạm vi thầy cô quản lý."
    await harness.send(harness.private(officer), officer, "/tinhhinh SGD-HOABINH")
    assert harness.messenger.texts()[-1] == "Không có đơn vị mã SGD-HOABINH trong phạm vi thầy cô quản lý."
    await harness.send(harness.private(officer), officer, "/tinhhinh THCS-KIMBOI thang")
    assert harness.messenger.texts()[-1].startswith("📊 Trường THCS Kim Bôi — tháng 11/2026")
