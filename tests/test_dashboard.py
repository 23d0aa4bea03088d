"""The web dashboard (SPEC §3.8): sign-in by a one-use 10-minute link confirmed by a POST, the
session cookie, scope (the same 404 for a unit out of scope and one that does not exist), the
privacy of party members' names, units imported while running, a fixed number of queries."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert, select

from bot.dashboard import build_dashboard
from bot.unitfile import parse_units_csv
from bot.web import build_app
from handlers.units import import_units
from storage.models import Group, GroupMembership, Member, Person, Submission, Unit, WebToken
from tests.handlers.test_query_count import QueryCounter

LINK = re.compile(r"(https?://\S+/web/login/(\S+))")


async def ok() -> bool:
    return True


class Web:
    """The dashboard over real HTTP, on the harness's database and clock."""

    def __init__(self, harness, config=None) -> None:
        self.harness = harness
        self.config = config or harness.dispatcher.config
        app = build_app(health=ok, dashboard=build_dashboard(harness.storage.uow, self.config, harness.clock))
        self.client = TestClient(TestServer(app))

    async def __aenter__(self) -> "Web":
        await self.client.start_server()
        return self.client  # type: ignore[return-value]

    async def __aexit__(self, *exc) -> None:
        await self.client.close()


async def make_admin(harness, user, unit_code: str) -> None:
    _, admin_code = await harness.codes(unit_code)
    await harness.send(harness.private(user), user, f"/dangky {admin_code}")


async def web_link(harness, user) -> tuple[str, str]:
    """/web in the private chat: the link (URL, secret) the bot answers with."""
    harness.messenger.clear()
    await harness.send(harness.private(user), user, "/web")
    texts = harness.messenger.texts(harness.private(user).chat_id)
    found = LINK.search(texts[-1])
    assert found, texts
    return found.group(1), found.group(2)


async def sign_in(harness, client, user) -> None:
    _, secret = await web_link(harness, user)
    response = await client.post("/web/login", data={"t": secret}, allow_redirects=False)
    assert response.status == 303, await response.text()


async def officer_of(harness, code: str, name: str = "Cán bộ phòng"):
    user = harness.user(name, f"u-{code}")
    await make_admin(harness, user, code)
    return user


async def test_sign_in_by_link_then_a_post_lands_on_the_office(harness):
    officer = await officer_of(harness, "PGD-KIMBOI")
    url, secret = await web_link(harness, officer)
    assert url.startswith("http://127.0.0.1:8080/web/login/")
    sent = [a for a in harness.messenger.transcript if hasattr(a, "disable_preview")][-1]
    assert sent.disable_preview  # a preview robot must not fetch (or spend) the link
    async with Web(harness) as client:
        for _ in range(2):  # opening the page (a preview, a second look) spends nothing
            page = await client.get(f"/web/login/{secret}")
            body = await page.text()
            assert page.status == 200
            assert 'method="post"' in body and "Đăng nhập" in body and "<script" not in body
        response = await client.post("/web/login", data={"t": secret}, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/web/"
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/web" in cookie
        assert "Max-Age=28800" in cookie and "Secure" not in cookie
        home = await client.get("/web/", allow_redirects=False)
        assert home.status == 303 and home.headers["Location"] == "/web/u/PGD-KIMBOI"
        page = await client.get("/web/u/PGD-KIMBOI")
        body = await page.text()
        assert page.status == 200
        assert "Phòng GD&amp;ĐT Kim Bôi" in body
        for school in ("Trường THCS Kim Bôi", "Trường Tiểu học Kim Bôi", "Trường Mầm non Kim Bôi"):
            assert school in body
        assert "Trường THCS Vụ Bản" not in body  # another office's school


async def test_a_link_works_once(harness):
    officer = await officer_of(harness, "PGD-KIMBOI")
    _, secret = await web_link(harness, officer)
    async with Web(harness) as client:
        first = await client.post("/web/login", data={"t": secret}, allow_redirects=False)
        assert first.status == 303
        client.session.cookie_jar.clear()
        again = await client.post("/web/login", data={"t": secret}, allow_redirects=False)
        assert again.status == 410 and "Set-Cookie" not in again.headers
        assert "đã dùng" in await again.text()
        assert (await client.get(f"/web/login/{secret}")).status == 410
    async with harness.storage.uow() as uow:
        hashes = (await uow.session.execute(select(WebToken.token_hash))).scalars().all()
    assert secret not in hashes and all(len(h) == 64 for h in hashes)  # only hashes are stored


async def test_a_link_expires_after_ten_minutes_and_a_new_one_does_not_revoke_an_old_one(harness):
    officer = await officer_of(harness, "PGD-KIMBOI")
    _, old = await web_link(harness, officer)
    harness.advance(minutes=5)
    _, new = await web_link(harness, officer)
    harness.advance(minutes=4, seconds=59)
    async with Web(harness) as client:
        assert (await client.post("/web/login", data={"t": old}, allow_redirects=False)).status == 303
        harness.advance(minutes=5, seconds=2)  # the new one is now 10 minutes and 1 second old
        client.session.cookie_jar.clear()
        late = await client.post("/web/login", data={"t": new}, allow_redirects=False)
        assert late.status == 410 and "Set-Cookie" not in late.headers


async def test_the_session_lasts_eight_hours_by_the_server_and_logout_ends_it(harness):
    officer = await officer_of(harness, "PGD-KIMBOI")
    async with Web(harness) as client:
        await sign_in(harness, client, officer)
        harness.advance(hours=7, minutes=59)
        assert (await client.get("/web/u/PGD-KIMBOI")).status == 200
        harness.advance(minutes=1)
        expired = await client.get("/web/u/PGD-KIMBOI")  # the browser still sends the cookie
        assert expired.status == 401 and "/web" in await expired.text()

        await sign_in(harness, client, officer)
        cookie = {c.key: c.value for c in client.session.cookie_jar}["lantoa_session"]
        out = await client.post("/web/logout")
        assert out.status == 200 and "đăng xuất" in (await out.text()).lower()
        replay = await client.get("/web/u/PGD-KIMBOI", cookies={"lantoa_session": cookie})
        assert replay.status == 401


async def test_behind_https_the_cookie_is_secure_and_the_link_is_on_the_public_url(harness):
    cfg = harness.dispatcher.config
    cfg = replace(cfg, web=replace(cfg.web, public_url="https://lantoa.sgd.example.vn"))
    harness.dispatcher.config = cfg
    officer = await officer_of(harness, "PGD-KIMBOI")
    url, secret = await web_link(harness, officer)
    assert url == f"https://lantoa.sgd.example.vn/web/login/{secret}"
    async with Web(harness, cfg) as client:
        response = await client.post("/web/login", data={"t": secret}, allow_redirects=False)
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


async def test_outside_the_scope_and_nonexistent_are_the_same_404(harness):
    principal = await officer_of(harness, "THCS-KIMBOI", "Hiệu trưởng")
    async with Web(harness) as client:
        await sign_in(harness, client, principal)
        own = await client.get("/web/u/THCS-KIMBOI")
        assert own.status == 200
        answers = []
        for path in ("/web/u/PGD-KIMBOI", "/web/u/SGD-HOABINH", "/web/u/TH-KIMBOI", "/web/u/THCS-VUBAN",
                     "/web/u/KHONG-CO", "/web/u/%3Cscript%3E", "/web/u/THCS-KIMBOI/khac", "/web/khac",
                     "/web/u/PGD-KIMBOI/baocao"):
            response = await client.get(path)
            answers.append((response.status, await response.text(),
                            {k: v for k, v in response.headers.items() if k not in ("Date", "Content-Length")}))
        assert answers[0][0] == 404
        assert all(a == answers[0] for a in answers), [a[0] for a in answers]


async def test_the_department_sees_offices_then_any_school(harness):
    officer = await officer_of(harness, "SGD-HOABINH", "Cán bộ sở")
    async with Web(harness) as client:
        await sign_in(harness, client, officer)
        page = await (await client.get("/web/u/SGD-HOABINH")).text()
        for child in ("Phòng GD&amp;ĐT Kim Bôi", "Phòng GD&amp;ĐT Lạc Sơn", "Trường THPT Kim Bôi"):
            assert child in page
        school = await client.get("/web/u/TH-VUBAN")
        assert school.status == 200
        body = await school.text()
        assert 'href="/web/u/SGD-HOABINH' in body and 'href="/web/u/PGD-LACSON' in body  # the trail


async def test_a_super_admin_sees_every_unit(harness):
    cfg = harness.dispatcher.config
    cfg = replace(cfg, bot=replace(cfg.bot, super_admins=("test:boss",)))
    harness.dispatcher.config = cfg
    boss = harness.user("Giám đốc", "boss")
    async with Web(harness, cfg) as client:
        await sign_in(harness, client, boss)
        assert (await client.get("/web/u/THCS-VUBAN")).status == 200
        assert (await client.get("/web/u/SGD-HOABINH")).status == 200


async def test_web_is_for_admins_in_a_private_chat(harness):
    teacher = harness.user("Cô Hoa", "hoa")
    await harness.send(harness.private(teacher), teacher, "/web")
    assert "quản trị" in harness.messenger.texts()[-1] and "/web/login/" not in harness.messenger.texts()[-1]
    group = harness.group()
    await harness.bind(group, "THCS-KIMBOI")
    harness.messenger.admins[group.chat_id] = {"hieutruong"}
    principal = harness.user("Hiệu trưởng", "hieutruong")
    harness.messenger.clear()
    await harness.send(group, principal, "/web")
    said = harness.messenger.texts()
    assert len(said) == 1 and "riêng" in said[0] and "/web/login/" not in said[0]
    # Seen as the group's administrator, they may now ask privately.
    url, _ = await web_link(harness, principal)
    assert "/web/login/" in url


async def add_teachers(harness, code: str, names: list[str], *, party: set[str] = frozenset(),
                       links: dict[str, int] | None = None) -> None:
    """Teachers of a unit with a bound group, some with links this week."""
    group = harness.group(f"g-{code}")
    await harness.bind(group, code)
    for n, name in enumerate(names):
        user = harness.user(name, f"{code}-{name}")
        text = " ".join(f"https://youtu.be/v{code.replace('-', '')}x{n}x{k}" for k in range((links or {}).get(name, 0)))
        await harness.send(group, user, text or "chào")
    if party:
        async with harness.storage.uow() as uow:
            for name in party:
                member = await uow.members.get("test", f"{code}-{name}")
                person = await uow.members.person(member.person_id)
                person.party_member = True


async def test_party_members_names_only_for_the_units_own_admins(harness):
    cfg = harness.dispatcher.config
    # A party member with one link meets the staff quota and misses the party's weekly two.
    cfg = replace(cfg, quotas=replace(cfg.quotas, party_weekly=2))
    harness.dispatcher.config = cfg
    await add_teachers(harness, "THCS-KIMBOI", ["Nguyễn Văn An", "Lê Thị Đảng"], party={"Lê Thị Đảng"},
                       links={"Lê Thị Đảng": 1})
    principal = await officer_of(harness, "THCS-KIMBOI", "Hiệu trưởng")
    officer = await officer_of(harness, "PGD-KIMBOI", "Cán bộ phòng")
    async with Web(harness, cfg) as client:
        await sign_in(harness, client, principal)
        own = await (await client.get("/web/u/THCS-KIMBOI")).text()
        assert "Nguyễn Văn An" in own  # the laggard
        assert "Đảng viên chưa đạt" in own and "Lê Thị Đảng" in own
        client.session.cookie_jar.clear()
        await sign_in(harness, client, officer)
        parent = await (await client.get("/web/u/THCS-KIMBOI")).text()
        assert "Nguyễn Văn An" in parent  # laggards: admins of the unit or above
        assert "Lê Thị Đảng" not in parent and "Đảng viên chưa đạt" not in parent
        assert "0/1" in parent  # the party figure as a count


async def test_units_imported_while_running_appear_at_once_and_hostile_names_stay_text(harness):
    officer = await officer_of(harness, "PGD-KIMBOI")
    async with Web(harness) as client:
        await sign_in(harness, client, officer)
        assert (await client.get("/web/u/TH-MOI")).status == 404
        csv = ("code,name,type,parent\nTH-MOI,<script>alert(1)</script>,school,PGD-KIMBOI\n"
               "TH-MOI2,Trường \"Mới\" & <b>đẹp</b>,school,PGD-KIMBOI\n")
        async with harness.storage.uow() as uow:
            result = await import_units(uow, parse_units_csv(csv.encode()), harness.dispatcher.config.unit_types.keys(),
                                        harness.clock.now(), random.Random(3))
            assert not result.errors
        page = await (await client.get("/web/u/PGD-KIMBOI")).text()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
        assert "&lt;b&gt;đẹp&lt;/b&gt;" in page
        school = await client.get("/web/u/TH-MOI")
        assert school.status == 200 and "<script" not in await school.text()
        assert "script-src" not in school.headers["Content-Security-Policy"]
        assert "default-src 'none'" in school.headers["Content-Security-Policy"]
        assert school.headers["X-Frame-Options"] == "DENY" and school.headers["Referrer-Policy"] == "no-referrer"


async def test_every_child_listed_empty_ones_as_dash_and_last(harness):
    await add_teachers(harness, "TH-KIMBOI", ["Cô A", "Cô B"], links={"Cô A": 1})
    officer = await officer_of(harness, "PGD-KIMBOI")
    async with Web(harness) as client:
        await sign_in(harness, client, officer)
        for sort in ("", "?sx=trang", "?sx=thamgia"):
            page = await (await client.get(f"/web/u/PGD-KIMBOI{sort}")).text()
            rows = re.findall(r"<tr(?: class=\"empty\")?><td>([^<]*)</td><td class=\"name\"><a [^>]*>([^<]*)</a>", page)
            assert [r[1] for r in rows] == ["Trường Tiểu học Kim Bôi", "Trường Mầm non Kim Bôi", "Trường THCS Kim Bôi"]
            assert [r[0] for r in rows] == ["1", "—", "—"]
            assert "1/2 (50%)" in page


async def test_the_trend_shows_twelve_weeks_from_one_set_of_tallies(harness):
    await add_teachers(harness, "TH-KIMBOI", ["Cô A"], links={"Cô A": 1})
    harness.advance(weeks=1)
    officer = await officer_of(harness, "PGD-KIMBOI")
    async with Web(harness) as client:
        await sign_in(harness, client, officer)
        page = await (await client.get("/web/u/PGD-KIMBOI")).text()
    row = page[page.index("Trường Tiểu học Kim Bôi"):]
    row = row[:row.index("</tr>")]
    assert "tuần 23/11–29/11/2026: 1/1 đạt" in row
    assert "tuần 30/11–06/12/2026: 0/1 đạt" in row
    assert row.count("<svg") == 1


async def test_a_bad_period_says_why_and_shows_this_week(harness):
    officer = await officer_of(harness, "PGD-KIMBOI")
    async with Web(harness) as client:
        await sign_in(harness, client, officer)
        page = await client.get("/web/u/PGD-KIMBOI?ky=<x>")
        body = await page.text()
        assert page.status == 200 and "&lt;x&gt;" in body and "tuần này" in body
        month = await (await client.get("/web/u/PGD-KIMBOI?ky=2026-11")).text()
        assert "tháng 11/2026" in month


async def grow_office(harness, schools: int, people: int) -> None:
    """``schools`` schools under PGD-KIMBOI, each with a bound group, ``people`` teachers over
    them with a few links each over the last three weeks."""
    now = harness.clock.now()
    async with harness.storage.uow() as uow:
        have = (await uow.session.execute(select(Unit).where(Unit.code.like("S-%")))).scalars().all()
        if len(have) < schools:
            csv = "code,name,type,parent\n" + "".join(
                f"S-{i:02d},Trường số {i},school,PGD-KIMBOI\n" for i in range(len(have), schools))
            result = await import_units(uow, parse_units_csv(csv.encode()), harness.dispatcher.config.unit_types.keys(),
                                        now, random.Random(1))
            assert not result.errors
            await uow.session.flush()
            new = (await uow.session.execute(select(Unit).where(Unit.code.like("S-%"), Unit.id.not_in(
                [u.id for u in have] or [0])))).scalars().all()
            await uow.session.execute(insert(Group), [
                dict(platform="test", chat_id=f"g-{u.code}", title=u.name, unit_id=u.id, community=False, active=True,
                     can_read=True, bound_at=now, created_at=now) for u in new])
        units = (await uow.session.execute(select(Unit).where(Unit.code.like("S-%")).order_by(Unit.code))).scalars().all()
        groups = {g.unit_id: g.id for g in (await uow.session.execute(select(Group))).scalars()}
        base = await uow.session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1)) or 0
        rng = random.Random(people)
        for i in range(people):
            unit = units[i % len(units)]
            person = Person(home_unit_id=unit.id, home_unit_explicit=False, party_member=i % 3 == 0,
                            created_at=now - timedelta(days=90))
            uow.session.add(person)
            await uow.session.flush()
            member = Member(person_id=person.id, platform="test", user_id=f"p{base}-{i}", display_name=f"Người {i}",
                            active=True, unreachable=False, created_at=person.created_at, last_seen_at=now)
            uow.session.add(member)
            await uow.session.flush()
            uow.session.add(GroupMembership(group_id=groups[unit.id], member_id=member.id, active=True,
                                            first_seen_at=now, last_seen_at=now))
            for k in range(rng.randrange(0, 3)):
                uow.session.add(Submission(
                    person_id=person.id, member_id=member.id, unit_id=unit.id, group_id=groups[unit.id],
                    chat_platform="test", chat_id=f"g-{unit.code}", message_id=f"m{base}-{i}-{k}",
                    original_url=f"https://youtu.be/v{base}x{i}x{k}",
                    canonical_url=f"https://www.youtube.com/watch?v=v{base}x{i}x{k}",
                    link_platform="youtube", is_page_post=False, created_at=now - timedelta(days=rng.randrange(0, 21))))


async def test_an_office_of_sixty_schools_renders_with_a_fixed_number_of_queries(harness):
    officer = await officer_of(harness, "PGD-KIMBOI")
    counts = []
    async with Web(harness) as client:
        await sign_in(harness, client, officer)
        for schools, people in ((30, 300), (60, 300), (60, 600)):
            await grow_office(harness, schools, people)
            with QueryCounter(harness.storage.engine) as q:
                page = await client.get("/web/u/PGD-KIMBOI")
                body = await page.text()
            assert page.status == 200 and "Trường số 59" in body or schools == 30
            counts.append(q.count)
    assert counts[0] == counts[1] == counts[2], counts
    assert counts[0] <= 20, counts


async def test_the_page_is_built_for_360_px(harness):
    """Checked in a real browser by test_dashboard_browser.py; these rules are what it relies on."""
    officer = await officer_of(harness, "PGD-KIMBOI")
    async with Web(harness) as client:
        await sign_in(harness, client, officer)
        page = await (await client.get("/web/u/PGD-KIMBOI")).text()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "*{box-sizing:border-box}" in page
    assert re.search(r"\.box\{max-width:100%;overflow-x:auto", page)
    assert '<div class="box"><table>' in page


async def test_the_units_report_downloads_for_any_period(harness):
    pytest.importorskip("handlers.reports", reason="the report module (handlers/reports.py) is not installed")
    import io

    import openpyxl

    await add_teachers(harness, "TH-KIMBOI", ["Cô A", "Cô B"], links={"Cô A": 1})
    officer = await officer_of(harness, "PGD-KIMBOI")
    async with Web(harness) as client:
        await sign_in(harness, client, officer)
        page = await (await client.get("/web/u/PGD-KIMBOI")).text()
        assert 'action="/web/u/PGD-KIMBOI/baocao"' in page and "Tải báo cáo" in page
        for ky in ("thang", "tuan", "2026-11", "2026-W48", "2026-11-01..2026-11-30", "namhoc"):
            response = await client.get(f"/web/u/PGD-KIMBOI/baocao?ky={ky}")
            assert response.status == 200, ky
            assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
            assert "attachment" in response.headers["Content-Disposition"]
            book = openpyxl.load_workbook(io.BytesIO(await response.read()), read_only=True)
            assert "Đơn vị" in book.sheetnames
        bad = await client.get("/web/u/PGD-KIMBOI/baocao?ky=khong")
        assert bad.status == 400 and "khong" in await bad.text()
        assert (await client.get("/web/u/THCS-VUBAN/baocao?ky=thang")).status == 404


async def test_without_a_report_module_the_download_is_absent(harness):
    officer = await officer_of(harness, "PGD-KIMBOI")
    app = build_app(health=ok, dashboard=build_dashboard(harness.storage.uow, harness.dispatcher.config,
                                                         harness.clock, report=None))
    async with TestClient(TestServer(app)) as client:
        await sign_in(harness, client, officer)
        page = await (await client.get("/web/u/PGD-KIMBOI")).text()
        assert "baocao" not in page
        assert (await client.get("/web/u/PGD-KIMBOI/baocao")).status == 404
