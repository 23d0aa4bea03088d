"""Reports (SPEC §3.5): every generated file is opened with openpyxl and its numbers compared with
what the database holds — a member who left, one on leave, a holiday week, a withdrawn link, a
person with two accounts —; an empty period; the row split; who may ask and what they see."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import openpyxl
import pytest

from bot.app import load_demo_units, open_storage
from bot.domain.periods import SchoolCalendar, parse_period
from bot.domain.types import ChatKind, ChatRef, MemberLeft, SendDocument, SendPhoto, SendText
from handlers import reports
from handlers.dispatch import Dispatcher
from tests.conftest import FakeClock, FakeMessenger, Harness

# Monday 02/11/2026 09:00 in Hà Nội; the report is asked on Friday 27/11 (week 48 still running).
MON = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
ASKED = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
# Week 46 (09–13/11) is a holiday week.
HOLIDAYS = ((date(2026, 11, 9), date(2026, 11, 13)),)
PAGE = "https://www.facebook.com/thcskimboi"


@pytest.fixture
async def h(config):
    config = replace(config, calendar=SchoolCalendar(holidays=HOLIDAYS, setup_deadline=date(2026, 11, 30)))
    clock = FakeClock(MON)
    storage = await open_storage(config)
    await load_demo_units(storage, config, clock.now())
    messenger = FakeMessenger()
    dispatcher = Dispatcher(storage.uow, config, clock, instance="test")
    dispatcher.attach(messenger, inline=True)
    yield Harness(storage, dispatcher, messenger, clock)
    await storage.close()


def post(n: int) -> str:
    return f"https://www.facebook.com/someone/posts/{n}"


async def month_of_school(h):
    """THCS Kim Bôi in November 2026 (see the module's docstring for who did what)."""
    g = ChatRef("test", "g-thcs", ChatKind.GROUP, title="Truyền thông Trường THCS Kim Bôi")
    await h.bind(g, "THCS-KIMBOI")
    principal = h.user("Hiệu Trưởng Hà", "ht", "hieutruong")
    h.messenger.admins["g-thcs"] = {principal.user_id}
    cuc, dung, anh, em = (h.user(n, i) for n, i in (("Lê Thị Cúc", "cuc"), ("Đào Văn Dũng", "dung"),
                                                      ("Bùi Thị Ánh", "anh"), ("Phạm Văn Em", "em")))
    await h.send(g, principal, "chào cả nhà")
    for t in (cuc, dung, anh, em):
        await h.send(g, t, "em chào thầy cô")
    await h.send(h.private(principal), principal, "/batdau")
    await h.send(g, principal, f"/trang them {PAGE}")
    ah = await h.send(g, anh, "em xin nghỉ")
    await h.send(g, principal, "/nghi 30/11", reply_to=ah)
    # Week 45
    await h.send(g, cuc, post(1))
    await h.send(g, dung, post(2))
    await h.send(g, em, post(3))
    await h.send(g, cuc, f"{PAGE}/posts/777")  # a post of the school's own page
    wrong = await h.send(g, dung, post(4))
    await h.send(g, dung, "/huy", reply_to=wrong)  # withdrawn
    await h.dispatcher.handle(MemberLeft(g, em, h.clock.now()))
    # Week 46 (holiday) and week 47
    h.advance(days=7)
    await h.send(g, cuc, post(5))
    h.advance(days=7)
    await h.send(g, cuc, post(6))
    dung2 = h.user("Dũng (máy 2)", "dung2")
    await h.send(g, dung2, post(7))
    # The two accounts are one person (as /lienket would make them).
    async with h.storage.engine.begin() as conn:
        from sqlalchemy import text

        keep = (await conn.execute(text("select person_id from members where user_id='dung'"))).scalar()
        gone = (await conn.execute(text("select person_id from members where user_id='dung2'"))).scalar()
        await conn.execute(text("update members set person_id=:k where person_id=:g"), {"k": keep, "g": gone})
        await conn.execute(text("update submissions set person_id=:k where person_id=:g"), {"k": keep, "g": gone})
        await conn.execute(text("delete from persons where id=:g"), {"g": gone})
        await conn.execute(text("update persons set party_member=true where id=(select person_id from members "
                                "where user_id='cuc')"))
    h.clock.current = ASKED
    h.messenger.clear()
    return g, principal


def book(action: SendDocument) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(action.data))


def rows(ws, first: int = 3) -> list[list]:
    return [tuple(r) for r in ws.iter_rows(min_row=first, values_only=True)]


def by_code(ws) -> dict[str, dict]:
    header = [c.value for c in ws[2]]
    return {r[0]: dict(zip(header, r)) for r in rows(ws)}


async def db_links(h, prefix_code: str, first: datetime, end: datetime) -> list[str]:
    from sqlalchemy import text

    async with h.storage.engine.connect() as conn:
        path = (await conn.execute(text("select path from units where code=:c"), {"c": prefix_code})).scalar()
        return sorted((await conn.execute(text(
            "select s.original_url from submissions s join units u on u.id = s.unit_id "
            "where u.path like :p and s.withdrawn_at is null and s.created_at >= :a and s.created_at < :b"),
            # SQLite compares the stored text; PostgreSQL wants the times themselves.
            {"p": path + "%", "a": first if conn.dialect.name == "postgresql" else first.isoformat(sep=" "),
             "b": end if conn.dialect.name == "postgresql" else end.isoformat(sep=" ")})).scalars())


async def test_baocao_sends_the_month_to_the_principals_private_chat_and_one_line_to_the_group(h):
    g, principal = await month_of_school(h)
    await h.send(g, principal, "/baocao")
    docs = [a for a in h.messenger.transcript if isinstance(a, SendDocument)]
    assert [d.chat.kind for d in docs] == [ChatKind.PRIVATE]
    assert docs[0].chat.chat_id == principal.user_id
    assert docs[0].filename == "baocao_THCS-KIMBOI_2026-11.xlsx"
    assert h.messenger.texts("g-thcs") == ["Bot đã gửi riêng cho thầy cô."]
    wb = book(docs[0])
    assert wb.sheetnames == ["Tóm tắt", "Đơn vị", "Thành viên", "Liên kết"]

    summary = [r[0] for r in rows(wb["Tóm tắt"], 1) if r[0]]
    assert summary[0].startswith("Trường THCS Kim Bôi — tháng 11/2026 (lập lúc 10:00 27/11/2026)")
    sentences = summary[1:]
    assert 4 <= len(sentences) <= 6
    assert "Có 2/3 cán bộ, giáo viên, nhân viên đã chia sẻ ít nhất một bài" in sentences[1]
    assert "2/3 người đạt chỉ tiêu" in sentences[1]
    assert "Trang Fanpage của đơn vị đăng 1/3 bài" in sentences[2]  # 3 working weeks × 1
    # Cúc: 4 links in the month, 3 needed (4 shrunk for the holiday week), every week met.
    assert "Số đảng viên đạt chỉ tiêu: 1/1." in sentences

    units = by_code(wb["Đơn vị"])
    assert list(units) == ["THCS-KIMBOI"]
    u = units["THCS-KIMBOI"]
    # Expected: the principal, Cúc, Dũng (Ánh on leave all the weeks held, Em left).
    assert (u["Bài trên trang"], u["Chỉ tiêu bài trên trang"], u["Đạt chỉ tiêu trang"]) == (1, 3, "Không")
    assert (u["Người cần tham gia"], u["Người đã chia sẻ"], u["Người đạt chỉ tiêu"]) == (3, 2, 2)
    assert u["Tỷ lệ tham gia"] == pytest.approx(2 / 3)
    assert wb["Đơn vị"].cell(3, 11).number_format == "0.0%"
    assert (u["Đảng viên"], u["Đảng viên đạt chỉ tiêu"]) == (1, 1)
    assert wb["Đơn vị"].freeze_panes == "A3"

    members = {r[2]: r for r in rows(wb["Thành viên"])}
    assert set(members) == {"Hiệu Trưởng Hà", "Lê Thị Cúc", "Đào Văn Dũng", "Bùi Thị Ánh"}  # Em left
    # name: (links, weeks met, weeks counted, met, party, party met); week 46 is a holiday,
    # week 48 still runs, so weeks 45 and 47 count.
    assert members["Lê Thị Cúc"][4:] == (4, 2, 2, "Có", "Có", "Có")
    assert members["Đào Văn Dũng"][4:] == (2, 2, 2, "Có", None, None)  # two accounts, one row
    assert "Dũng (máy 2)" in members["Đào Văn Dũng"][3]
    assert members["Bùi Thị Ánh"][4:8] == (0, 0, 0, "Miễn")
    assert members["Hiệu Trưởng Hà"][4:8] == (0, 0, 2, "Không")

    links = rows(wb["Liên kết"])
    period = parse_period("2026-11", ASKED, h.dispatcher.config.bot.tz)
    assert sorted(r[4] for r in links) == await db_links(h, "THCS-KIMBOI", period.start, period.end)
    assert post(4) not in {r[4] for r in links}  # withdrawn
    assert post(3) in {r[4] for r in links}  # Em left, the link stays
    first = min(links, key=lambda r: r[0])
    assert first[0] == datetime(2026, 11, 2, 9, 0)  # local time, as Excel shows it
    assert wb["Liên kết"].cell(3, 1).number_format == "dd/mm/yyyy hh:mm"
    assert [r[5] for r in links if r[4].endswith("/posts/777")] == ["Có"]


async def test_a_parents_admin_gets_counts_but_no_party_column(h):
    g, principal = await month_of_school(h)
    officer = h.user("Cán Bộ Phòng", "cbp")
    _, admin_code = await h.codes("PGD-KIMBOI")
    await h.send(h.private(officer), officer, f"/dangky {admin_code}")
    h.messenger.clear()
    await h.send(h.private(officer), officer, "/baocao thang")
    (doc,) = [a for a in h.messenger.transcript if isinstance(a, SendDocument)]
    assert doc.filename == "baocao_PGD-KIMBOI_2026-11.xlsx"
    wb = book(doc)
    units = by_code(wb["Đơn vị"])
    assert list(units) == ["PGD-KIMBOI", "MN-KIMBOI", "THCS-KIMBOI", "TH-KIMBOI"]  # children by name
    assert (units["THCS-KIMBOI"]["Đảng viên"], units["PGD-KIMBOI"]["Đảng viên"]) == (1, 1)
    members = rows(wb["Thành viên"])
    assert len(members) == 4
    assert all(r[8] is None and r[9] is None for r in members)


async def test_a_teacher_is_refused_and_an_admin_without_private_chat_gets_only_the_start_line(h):
    g, principal = await month_of_school(h)
    cuc = h.user("Lê Thị Cúc", "cuc")
    await h.send(g, cuc, "/baocao")
    await h.send(h.private(cuc), cuc, "/baocao")
    assert h.messenger.texts() == ["Chỉ quản trị viên của đơn vị mới dùng được lệnh này."] * 2
    h.messenger.clear()
    vice = h.user("Phó Hiệu Trưởng", "pht")
    h.messenger.admins["g-thcs"].add(vice.user_id)
    await h.send(g, vice, "/baocao hocky")
    assert not [a for a in h.messenger.transcript if isinstance(a, SendDocument)]
    assert h.messenger.texts() == ["Báo cáo có tên người nên bot gửi riêng: thầy cô hãy nhắn riêng cho bot "
                                   "rồi gửi lại /baocao."]
    h.messenger.clear()
    await h.send(g, principal, "/baocao tuanxyz")
    assert h.messenger.texts() == ['Không hiểu khoảng thời gian "tuanxyz". Dùng: tuan | thang | hocky | namhoc | '
                                   'YYYY-MM | thietlap.']


async def test_an_empty_period_has_every_sheet_and_no_rows(h):
    await month_of_school(h)
    async with h.storage.uow() as uow:
        unit = await uow.units.by_code("THCS-KIMBOI")
        period = parse_period("2026-10", ASKED, h.dispatcher.config.bot.tz)
        out = io.BytesIO()
        stats = await reports.write_report(uow, h.dispatcher.config, unit, period, ASKED, out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Tóm tắt", "Đơn vị", "Thành viên", "Liên kết"]
    assert rows(wb["Thành viên"]) == [] and rows(wb["Liên kết"]) == []
    assert [c.value for c in wb["Liên kết"][2]][:2] == ["Thời gian", "Mã đơn vị"]
    assert stats.links == 0
    summary = [r[0] for r in rows(wb["Tóm tắt"], 1) if r[0]]
    assert "Trong kỳ chưa có cán bộ, giáo viên, nhân viên nào được tính chỉ tiêu." in summary


async def test_links_continue_on_a_second_sheet_at_the_row_limit(h):
    await month_of_school(h)
    async with h.storage.uow() as uow:
        unit = await uow.units.by_code("THCS-KIMBOI")
        period = parse_period("2026-11", ASKED, h.dispatcher.config.bot.tz)
        out = io.BytesIO()
        stats = await reports.write_report(uow, h.dispatcher.config, unit, period, ASKED, out, max_rows=5)
    wb = openpyxl.load_workbook(out)
    # 7 links, 3 a sheet under the title and header rows.
    assert stats.links == 7
    assert [n for n in wb.sheetnames if n.startswith("Liên kết")] == ["Liên kết", "Liên kết (2)", "Liên kết (3)"]
    assert [len(rows(wb[n])) for n in ("Liên kết", "Liên kết (2)", "Liên kết (3)")] == [3, 3, 1]
    assert wb["Liên kết (2)"].cell(2, 1).value == "Thời gian"
    times = [r[0] for n in ("Liên kết", "Liên kết (2)", "Liên kết (3)") for r in rows(wb[n])]
    assert times == sorted(times)


async def test_over_telegrams_limit_the_chat_gets_it_without_links(h, monkeypatch):
    g, principal = await month_of_school(h)
    monkeypatch.setattr(reports, "TELEGRAM_FILE_LIMIT", 1000)
    await h.send(h.private(principal), principal, "/baocao")
    (doc,) = [a for a in h.messenger.transcript if isinstance(a, SendDocument)]
    assert book(doc).sheetnames == ["Tóm tắt", "Đơn vị", "Thành viên"]
    assert "python -m bot report" in doc.caption


async def test_report_bytes_for_a_download_follow_the_requester(h):
    await month_of_school(h)
    async with h.storage.uow() as uow:
        unit = await uow.units.by_code("THCS-KIMBOI")
        period = parse_period("thang", ASKED, h.dispatcher.config.bot.tz)
        from sqlalchemy import select

        from storage.models import Member

        principal_person = (await uow.session.execute(
            select(Member.person_id).where(Member.user_id == "ht"))).scalar_one()
        own = await reports.report_bytes(uow, h.dispatcher.config, unit, period, ASKED,
                                         requester_person_id=principal_person)
        stranger = await reports.report_bytes(uow, h.dispatcher.config, unit, period, ASKED,
                                              requester_person_id=None)
    party = lambda data: [r[8] for r in rows(openpyxl.load_workbook(io.BytesIO(data))["Thành viên"])]  # noqa: E731
    assert "Có" in party(own)
    assert set(party(stranger)) == {None}


async def test_setup_report_and_title_rule(h):
    await month_of_school(h)
    office = ChatRef("test", "g-pgd", ChatKind.GROUP, title="Nhóm phòng")
    await h.bind(office, "PGD-KIMBOI")
    async with h.storage.uow() as uow:
        unit = await uow.units.by_code("PGD-KIMBOI")
        got = {r.unit.code: r for r in await reports.setup_rows(uow, h.dispatcher.config, unit)}
    assert (got["THCS-KIMBOI"].has_group, got["THCS-KIMBOI"].title_ok, got["THCS-KIMBOI"].pages) == (True, True, [PAGE])
    assert (got["PGD-KIMBOI"].has_group, got["PGD-KIMBOI"].title_ok) == (True, False)
    assert (got["TH-KIMBOI"].has_group, got["TH-KIMBOI"].pages) == (False, [])
    assert got["THCS-KIMBOI"].known == 4  # principal, Cúc, Dũng, Ánh; Dũng's two accounts once; Em left
    assert reports.title_follows("TRUYEN THONG - Truong THCS Kim Boi", "Trường THCS Kim Bôi")
    assert not reports.title_follows("Trường THCS Kim Bôi", "Trường THCS Kim Bôi")

    principal = h.user("Hiệu Trưởng Hà", "ht", "hieutruong")
    h.messenger.clear()
    await h.send(h.group("g-thcs"), principal, "/baocao thietlap")
    (doc,) = [a for a in h.messenger.transcript if isinstance(a, SendDocument)]
    wb = book(doc)
    assert wb.sheetnames == ["Tóm tắt", "Thiết lập"]
    assert by_code(wb["Thiết lập"])["THCS-KIMBOI"]["Trang Fanpage"] == PAGE


async def test_setup_deadline_reminds_units_without_a_page_and_lists_them_to_the_parent(h):
    await month_of_school(h)
    office = ChatRef("test", "g-pgd", ChatKind.GROUP, title="Nhóm phòng")
    await h.bind(office, "PGD-KIMBOI")
    from handlers.jobs import Jobs
    from handlers.rhythm import JobKind

    jobs = Jobs(h.dispatcher)
    due = jobs.setup_due()
    assert due == datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)  # 27/11 08:00 local, 3 days before
    h.messenger.clear()
    assert (await jobs.run_due(JobKind.SETUP, due - timedelta(minutes=1))).outcome == "nothing"
    run = await jobs.run_due(JobKind.SETUP, due + timedelta(minutes=5))
    assert run.outcome == "sent"
    texts = {a.chat.chat_id: a.plain for a in h.messenger.transcript if isinstance(a, SendText)}
    # THCS has a group and a page: nothing; the office has a group and no page, and children missing things.
    assert set(texts) == {"g-pgd"}
    assert "Phòng GD&ĐT Kim Bôi chưa đăng ký trang Fanpage" in texts["g-pgd"]
    assert "— Trường Tiểu học Kim Bôi: chưa có nhóm, chưa đăng ký trang Fanpage" in texts["g-pgd"]
    assert "Trường THCS Kim Bôi" not in texts["g-pgd"]
    assert "30/11/2026" in texts["g-pgd"]
    assert (await jobs.run_due(JobKind.SETUP, due + timedelta(hours=1))).outcome == "already"
    assert (await jobs.run_due(JobKind.SETUP, due + timedelta(days=1))).outcome == "missed"


async def test_the_leaderboard_of_a_parent_comes_with_its_chart(h):
    await month_of_school(h)
    office = ChatRef("test", "g-pgd", ChatKind.GROUP, title="Nhóm phòng")
    await h.bind(office, "PGD-KIMBOI")
    from handlers.rhythm import JobKind, compose

    monday = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
    async with h.storage.uow() as uow:
        plans = await compose(uow, h.dispatcher.config, JobKind.LEADERBOARD, monday)
    by_chat = {p.chat.chat_id: p.actions for p in plans}
    assert [type(a) for a in by_chat["g-thcs"]] == [SendText]
    assert [type(a) for a in by_chat["g-pgd"]] == [SendText, SendPhoto]
    assert by_chat["g-pgd"][1].data.startswith(b"\x89PNG\r\n\x1a\n")


async def test_the_setup_reminder_is_scheduled_and_caught_up_only_with_a_deadline(h):
    from bot.scheduler import Scheduler
    from handlers.jobs import Jobs

    jobs = Jobs(h.dispatcher)
    assert "setup" in {j.id for j in Scheduler(jobs, h.clock).aps.get_jobs()}
    office = ChatRef("test", "g-pgd", ChatKind.GROUP, title="Nhóm phòng")
    await h.bind(office, "PGD-KIMBOI")
    runs = {r.kind: r.outcome for r in await jobs.catch_up(jobs.setup_due() + timedelta(hours=2))}
    assert runs["setup"] == "sent"

    h.dispatcher.config = replace(h.dispatcher.config, calendar=SchoolCalendar(holidays=HOLIDAYS))
    jobs = Jobs(h.dispatcher)
    assert "setup" not in {j.id for j in Scheduler(jobs, h.clock).aps.get_jobs()}
    assert "setup" not in {r.kind for r in await jobs.catch_up(ASKED)}
