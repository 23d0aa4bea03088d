"""/toi, /batdau, /huongdan."""

from __future__ import annotations

from datetime import timedelta


async def test_toi_shows_week_month_and_streak(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Nguyễn Thị Lan")
    # A link in each of the two previous weeks and one this week.
    harness.advance(days=-14)
    await harness.send(g, lan, "https://youtu.be/aaaaaaaaaa1")
    harness.advance(days=7)
    await harness.send(g, lan, "https://youtu.be/aaaaaaaaaa2")
    harness.advance(days=7)
    await harness.send(g, lan, "https://youtu.be/aaaaaaaaaa3")
    await harness.send(g, lan, "/toi")
    assert harness.messenger.texts()[-1] == "\n".join([
        "📊 Nguyễn Thị Lan — Trường THCS Kim Bôi",
        "Tuần này (23/11–29/11/2026): 1 bài — đã đạt ✅.",
        "Tháng 11/2026: 3 bài.",
        "🔥 3 tuần liên tiếp đạt chỉ tiêu.",
    ])


async def test_toi_unfinished_week_does_not_break_the_streak(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Lan")
    harness.advance(days=-7)
    await harness.send(g, lan, "https://youtu.be/aaaaaaaaaa1")
    harness.advance(days=7)
    await harness.send(g, lan, "/me")
    text = harness.messenger.texts()[-1]
    assert "0 bài — chưa đạt (tối thiểu 1 bài)." in text
    assert "🔥 1 tuần liên tiếp" in text


async def test_toi_party_figures_only_in_private(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Lan")
    await harness.send(g, lan, "https://youtu.be/aaaaaaaaaa1")
    async with harness.storage.uow() as uow:
        member = await uow.members.get("test", lan.user_id)
        (await uow.members.person(member.person_id)).party_member = True
    await harness.send(g, lan, "/toi")
    assert "đảng viên" not in harness.messenger.texts()[-1]
    await harness.send(harness.private(lan), lan, "/toi")
    assert "Chỉ tiêu đảng viên: tuần 1/1 ✅, tháng 1/4." in harness.messenger.texts()[-1]


async def test_help_and_start(harness):
    lan = harness.user("Lan")
    await harness.send(harness.private(lan), lan, "/batdau")
    await harness.send(harness.private(lan), lan, "/help")
    first, second = harness.messenger.texts()
    assert first == second
    assert first.splitlines()[0].startswith("Lan Tỏa giúp đơn vị")
    assert "/toi" in first and "/dangky" in first
