"""/nhacnho /remind [tatca]: an admin sends this week's reminder now (SPEC §3.2, §3.3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.domain.periods import week_of
from bot.domain.types import SendText
from handlers import rhythm
from handlers.rhythm import PlannedSend
from storage.models import Group, Unit

from tests.handlers.test_jobs import expire_leases, instance

ALREADY = "Hôm nay nhóm này đã được nhắc rồi: mỗi nhóm chỉ nhận lời nhắc thủ công một lần mỗi ngày."
ALL_DONE = "Tuần này mọi người trong đơn vị đã đạt chỉ tiêu, không cần nhắc. 👏"
ADMINS_ONLY = "Chỉ quản trị viên của đơn vị mới dùng được lệnh này."


class GroupComposer:
    """A reminder for every active bound group of the subtree, except units marked done."""

    def __init__(self) -> None:
        self.done: set[str] = set()
        self.calls: list[dict] = []

    async def __call__(self, uow, config, kind, now, *, subtree=None, groups_only=False):
        self.calls.append(dict(kind=kind, now=now, subtree=subtree.code if subtree else None, groups_only=groups_only))
        stmt = (select(Group, Unit.code).join(Unit, Unit.id == Group.unit_id)
                .where(Group.active.is_(True), Unit.path.startswith(subtree.path if subtree else "/"))
                .order_by(Group.chat_id))
        plans = []
        for group, code in (await uow.session.execute(stmt)).all():
            if code in self.done:
                continue
            from bot.domain.types import ChatKind, ChatRef

            chat = ChatRef(group.platform, group.chat_id, ChatKind.GROUP, group.title)
            plans.append(PlannedSend(chat, kind, week_of(now, config.bot.tz).key,
                                     (SendText.of(chat, f"⏰ Nhắc việc {code}"),)))
        return plans


@pytest.fixture
def composer(monkeypatch):
    fake = GroupComposer()
    monkeypatch.setattr(rhythm, "compose", fake)
    return fake


@pytest.fixture
async def school(harness):
    """THCS-KIMBOI's group with its principal (a chat admin)."""
    chat = harness.group("g-thcs")
    await harness.bind(chat, "THCS-KIMBOI")
    principal = harness.user("Cô Hiệu trưởng")
    harness.messenger.admins["g-thcs"] = {principal.user_id}
    return chat, principal


async def manual_rows(harness):
    async with harness.storage.engine.connect() as conn:
        from sqlalchemy import text

        return [tuple(r) for r in await conn.execute(text(
            "select chat_id, period, status from sent_messages where kind = 'manual' order by chat_id"))]


async def test_an_admin_sends_the_reminder_now_as_a_reply_to_the_command(harness, composer, school):
    chat, principal = school
    cmd = await harness.send(chat, principal, "/nhacnho")
    [sent] = harness.messenger.transcript
    assert sent.plain == "⏰ Nhắc việc THCS-KIMBOI" and sent.reply_to == cmd.message_id
    assert composer.calls == [dict(kind="reminder", now=harness.clock.now(), subtree="THCS-KIMBOI", groups_only=True)]
    # Recorded like a scheduled send: kind manual, period the local date.
    assert await manual_rows(harness) == [("g-thcs", "2026-11-27", "sent")]


async def test_the_english_alias_works_too(harness, composer, school):
    chat, principal = school
    await harness.send(chat, principal, "/remind")
    assert harness.messenger.texts() == ["⏰ Nhắc việc THCS-KIMBOI"]


async def test_a_non_admin_gets_one_refusal_line_and_nothing_is_sent(harness, composer, school):
    chat, _ = school
    await harness.send(chat, harness.user("Lan"), "/nhacnho")
    assert harness.messenger.texts() == [ADMINS_ONLY]
    assert composer.calls == [] and await manual_rows(harness) == []


async def test_twice_a_day_the_second_gets_one_line_and_the_next_day_it_goes_again(harness, composer, school):
    chat, principal = school
    await harness.send(chat, principal, "/nhacnho")
    await harness.send(chat, principal, "/nhacnho")
    assert harness.messenger.texts() == ["⏰ Nhắc việc THCS-KIMBOI", ALREADY]
    harness.advance(days=1)  # Saturday, same week
    await harness.send(chat, principal, "/nhacnho")
    assert harness.messenger.texts()[-1] == "⏰ Nhắc việc THCS-KIMBOI"
    assert [r[1] for r in await manual_rows(harness)] == ["2026-11-27", "2026-11-28"]


async def test_the_manual_reminder_does_not_replace_the_scheduled_one(harness, composer, school):
    chat, principal = school
    harness.clock.current = harness.clock.now().replace(hour=7)  # 14:00 in Hà Nội, Friday
    await harness.send(chat, principal, "/nhacnho")
    scheduler = instance(harness, "sched", composer)
    run = await scheduler.jobs.run_due("reminder", harness.clock.now() + timedelta(hours=1))
    assert run.claimed == 1


async def test_where_everyone_is_done_the_asker_is_told_so(harness, composer, school):
    chat, principal = school
    composer.done.add("THCS-KIMBOI")
    await harness.send(chat, principal, "/nhacnho")
    assert harness.messenger.texts() == [ALL_DONE]
    assert await manual_rows(harness) == []


async def test_an_unbound_group_is_told_to_register(harness, composer):
    chat = harness.group("g-new")
    admin = harness.user("Admin")
    harness.messenger.admins["g-new"] = {admin.user_id}
    await harness.send(chat, admin, "/nhacnho")
    assert len(harness.messenger.texts()) == 1 and "/dangky" in harness.messenger.texts()[0]
    assert composer.calls == []


async def test_tatca_pre_claims_every_group_below_then_tells_the_asker_how_many(harness, composer):
    office = harness.group("g-pgd")
    await harness.bind(office, "PGD-KIMBOI")
    for chat_id, code in (("g-thcs", "THCS-KIMBOI"), ("g-th", "TH-KIMBOI"), ("g-mn", "MN-KIMBOI"),
                          ("g-vuban", "THCS-VUBAN")):  # the last is another office's school
        await harness.bind(harness.group(chat_id), code)
    composer.done.add("MN-KIMBOI")
    officer = harness.user("Trưởng phòng")
    harness.messenger.admins["g-pgd"] = {officer.user_id}
    # TH-KIMBOI was reminded by its own principal earlier today.
    harness.messenger.admins["g-th"] = {"Cô giáo"}
    await harness.send(harness.group("g-th"), harness.user("Cô giáo"), "/nhacnho")
    harness.messenger.clear()

    await harness.send(office, officer, "/nhacnho tatca")
    texts = [(a.chat.chat_id, a.plain) for a in harness.messenger.transcript]
    assert texts == [
        ("g-pgd", "⏰ Nhắc việc PGD-KIMBOI"),
        ("g-thcs", "⏰ Nhắc việc THCS-KIMBOI"),
        ("g-pgd", "Đã gửi lời nhắc tới 2 nhóm. 1 nhóm đã được nhắc hôm nay nên không gửi lại."),
    ]
    assert await manual_rows(harness) == [("g-pgd", "2026-11-27", "sent"), ("g-th", "2026-11-27", "sent"),
                                          ("g-thcs", "2026-11-27", "sent")]


async def test_tat_ca_typed_with_diacritics_is_tatca(harness, composer, school):
    chat, principal = school
    await harness.send(chat, principal, "/nhacnho tất cả")
    assert harness.messenger.texts() == ["⏰ Nhắc việc THCS-KIMBOI", "Đã gửi lời nhắc tới 1 nhóm."]


async def test_a_fan_out_whose_instance_died_is_finished_by_the_sweeper(harness, composer):
    office = harness.group("g-pgd")
    await harness.bind(office, "PGD-KIMBOI")
    for chat_id, code in (("g-thcs", "THCS-KIMBOI"), ("g-th", "TH-KIMBOI")):
        await harness.bind(harness.group(chat_id), code)
    officer = harness.user("Trưởng phòng")
    harness.messenger.admins["g-pgd"] = {officer.user_id}
    # The asking instance commits its claims and dies before its outbox sends anything.
    link = harness.dispatcher.platforms["test"]

    async def dead(actions, claims=None):
        return None

    link.outbox.put = dead
    await harness.send(office, officer, "/nhacnho tatca")
    assert await manual_rows(harness) == [("g-pgd", "2026-11-27", "claimed"), ("g-th", "2026-11-27", "claimed"),
                                          ("g-thcs", "2026-11-27", "claimed")]
    await expire_leases(harness)
    other = instance(harness, "other", composer)
    assert await other.jobs.sweep() == 3
    assert sorted(a.plain for a in other.messenger.transcript) == [
        "⏰ Nhắc việc PGD-KIMBOI", "⏰ Nhắc việc TH-KIMBOI", "⏰ Nhắc việc THCS-KIMBOI"]
    assert {r[2] for r in await manual_rows(harness)} == {"sent"}


async def test_in_a_private_chat_an_admin_reminds_the_groups_of_the_unit_they_administer(harness, composer, school):
    _, admin_code = await harness.codes("THCS-KIMBOI")
    principal = harness.user("Thầy Hùng")
    private = harness.private(principal)
    await harness.send(private, principal, f"/dangky {admin_code}")
    harness.messenger.clear()
    await harness.send(private, principal, "/nhacnho")
    assert [(a.chat.chat_id, a.plain) for a in harness.messenger.transcript] == [
        ("g-thcs", "⏰ Nhắc việc THCS-KIMBOI"), (principal.user_id, "Đã gửi lời nhắc tới 1 nhóm.")]


async def test_in_a_private_chat_someone_who_administers_nothing_is_refused(harness, composer, school):
    lan = harness.user("Lan")
    await harness.send(harness.group("g-thcs"), lan, "chào cả nhà")  # her home unit is the school
    harness.messenger.clear()
    await harness.send(harness.private(lan), lan, "/nhacnho")
    assert harness.messenger.texts() == [ADMINS_ONLY]
    assert await manual_rows(harness) == []


async def test_the_real_composition_reminds_a_laggard_by_name(harness, school):
    chat, principal = school
    lan = harness.user("Nguyễn Thị Lan")
    await harness.send(chat, lan, "chào cả nhà")
    harness.messenger.clear()
    await harness.send(chat, principal, "/nhacnho")
    [sent] = harness.messenger.transcript
    assert sent.chat == chat
    assert "Nguyễn Thị Lan" in sent.plain
