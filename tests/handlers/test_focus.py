"""/tieudiem, /guilen, /dexuat: the pages of the week, announced once per group down the tree,
focus completion in the views, and posts sent up to the parent (SPEC §1, §3.2, §3.3)."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from bot.app import run_console
from bot.config import default_config
from bot.domain import texts_vi
from bot.domain.periods import week_of
from bot.domain.types import ChatKind, ChatRef, Delivery, Outbound, UserRef
from handlers.focus import item_of, set_period
from handlers.rhythm import compose
from handlers.views import build_view
from storage.models import FocusItem, Group, Member, Nomination, Person, Unit
from tests.conftest import FakeMessenger
from tests.handlers.test_jobs import expire_leases, instance
from tests.handlers.test_query_count import SCHOOLS, QueryCounter, grow

PAGE = "https://www.facebook.com/thcskimboi"
PAGE_KEY = "facebook:thcskimboi"
POST = "https://www.facebook.com/pgdkimboi/posts/555"
SO_PAGE = "https://www.facebook.com/sogdhoabinh"
ADMINS_ONLY = texts_vi.ADMINS_ONLY

# Units and their groups: the department, the Kim Bôi office and two of its schools, the Lạc Sơn
# office and one of its schools, and an upper-secondary school straight under the department.
GROUPS = {
    "g-so": "SGD-HOABINH", "g-pgd": "PGD-KIMBOI", "g-thcs": "THCS-KIMBOI", "g-th": "TH-KIMBOI",
    "g-lacson": "PGD-LACSON", "g-vuban": "THCS-VUBAN", "g-thpt": "THPT-KIMBOI",
}
KIMBOI = {"g-pgd", "g-thcs", "g-th"}


@dataclass
class Tree:
    so: UserRef = field(default_factory=lambda: UserRef("test", "so", "Chánh văn phòng Sở"))
    pgd: UserRef = field(default_factory=lambda: UserRef("test", "pgd", "Trưởng phòng Kim Bôi"))
    thcs: UserRef = field(default_factory=lambda: UserRef("test", "hieutruong", "Cô Hiệu trưởng"))
    teacher: UserRef = field(default_factory=lambda: UserRef("test", "lan", "Nguyễn Thị Lan"))


@pytest.fixture
async def tree(harness) -> Tree:
    t = Tree()
    for chat_id, code in GROUPS.items():
        await harness.bind(harness.group(chat_id), code)
    harness.messenger.admins.update({"g-so": {t.so.user_id}, "g-pgd": {t.pgd.user_id}, "g-thcs": {t.thcs.user_id}})
    return t


def announcements(messenger: FakeMessenger) -> dict[str, int]:
    counts: dict[str, int] = {}
    for action in messenger.transcript:
        if getattr(action, "plain", "").startswith("📌 Tiêu điểm"):
            counts[action.chat.chat_id] = counts.get(action.chat.chat_id, 0) + 1
    return counts


async def claims(harness, kind: str = "focus") -> list[tuple]:
    async with harness.storage.engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(text(
            "select chat_id, period, status from sent_messages where kind = :k order by chat_id, period"), dict(k=kind))]


async def focus_rows(harness) -> list[tuple]:
    async with harness.storage.engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(text(
            "select u.code, f.week, f.kind, f.item_key from focus_items f join units u on u.id = f.unit_id "
            "order by f.id"))]


# --- matching: what a focus item is ---------------------------------------------------------------


@pytest.mark.parametrize("url, kind, key", [
    ("https://www.facebook.com/thcskimboi", "page", "facebook:thcskimboi"),
    ("https://m.facebook.com/thcskimboi/?mibextid=abc", "page", "facebook:thcskimboi"),
    ("https://www.facebook.com/thcskimboi/posts/123?fbclid=x", "post", "https://www.facebook.com/thcskimboi/posts/123"),
    ("https://www.facebook.com/share/p/1AbCdEf/", "post", None),
    ("https://www.tiktok.com/@truongthcs", "page", None),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&si=x", "post", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
])
def test_a_page_link_is_a_page_item_and_a_post_link_a_single_post(url, kind, key):
    entry = item_of(url)
    assert entry is not None and entry.kind == kind
    if key is not None:
        assert entry.item_key == key
    if kind == "post":
        assert entry.item_key == entry.url  # posts are matched by canonical URL


@pytest.mark.parametrize("junk", ["abc", "http://localhost/x", "https://zalo.me/g/abcdef", "ftp://example.com/x"])
def test_junk_groups_and_invites_are_no_focus_item(junk):
    assert item_of(junk) is None


def test_the_claim_period_names_the_week_and_the_set_not_its_order():
    assert set_period("2026-W48", ["b", "a"]) == set_period("2026-W48", ["a", "b"])
    assert set_period("2026-W48", ["a"]) != set_period("2026-W48", ["a", "b"])
    assert set_period("2026-W48", ["a"]).startswith("2026-W48#") and len(set_period("2026-W48", ["a"])) <= 64


# --- /tieudiem --------------------------------------------------------------------------------------


async def test_an_office_admin_sets_the_focus_and_every_group_below_hears_it_once(harness, tree):
    cmd = await harness.send(harness.group("g-pgd"), tree.pgd, f"/tieudiem {PAGE} {POST}")
    assert announcements(harness.messenger) == {c: 1 for c in KIMBOI}
    [text_] = {a.plain for a in harness.messenger.transcript if a.plain.startswith("📌")}
    assert text_.splitlines()[:3] == [
        "📌 Tiêu điểm tuần 23/11–29/11/2026 do Phòng GD&ĐT Kim Bôi chọn:",
        f"• Trang: {PAGE}", f"• Bài: {POST}"]
    last = harness.messenger.transcript[-1]
    assert last.chat.chat_id == "g-pgd" and last.reply_to == cmd.message_id
    assert last.plain == texts_vi.focus_saved(2, "Phòng GD&ĐT Kim Bôi", 3, 0, 0)
    assert "3 nhóm" in last.plain
    assert await focus_rows(harness) == [("PGD-KIMBOI", "2026-W48", "page", PAGE_KEY),
                                         ("PGD-KIMBOI", "2026-W48", "post", POST)]
    period = set_period("2026-W48", [PAGE_KEY, POST])
    assert await claims(harness) == [(c, period, "sent") for c in sorted(KIMBOI)]
    async with harness.storage.engine.connect() as conn:
        assert (await conn.execute(text("select count(*) from audit_log where action = 'focus_set'"))).scalar() == 1


async def test_the_same_set_again_is_not_announced_and_a_changed_set_is(harness, tree):
    pgd = harness.group("g-pgd")
    await harness.send(pgd, tree.pgd, f"/tieudiem {PAGE} {POST}")
    harness.messenger.clear()
    await harness.send(pgd, tree.pgd, f"/focus {POST} {PAGE}")  # same set, other order, English alias
    assert announcements(harness.messenger) == {}
    assert harness.messenger.texts() == [texts_vi.focus_saved(2, "Phòng GD&ĐT Kim Bôi", 0, 0, 3)]
    await harness.send(pgd, tree.pgd, "/tieudiem them https://www.facebook.com/pgdkimboi")
    assert announcements(harness.messenger) == {c: 1 for c in KIMBOI}
    assert "• Trang: https://www.facebook.com/pgdkimboi" in harness.messenger.texts("g-thcs")[0]
    harness.messenger.clear()
    # Back to the first set: every group heard exactly that set already this week.
    await harness.send(pgd, tree.pgd, "/tieudiem xoa https://www.facebook.com/pgdkimboi")
    assert announcements(harness.messenger) == {}
    assert len(await claims(harness)) == 6
    await harness.send(pgd, tree.pgd, "/tieudiem xoa tatca")
    assert harness.messenger.texts()[-1] == texts_vi.focus_cleared("Phòng GD&ĐT Kim Bôi")
    assert await focus_rows(harness) == []


async def test_next_week_the_same_set_is_announced_again(harness, tree):
    pgd = harness.group("g-pgd")
    await harness.send(pgd, tree.pgd, f"/tieudiem {PAGE}")
    harness.advance(days=7)
    harness.messenger.clear()
    await harness.send(pgd, tree.pgd, f"/tieudiem {PAGE}")
    assert announcements(harness.messenger) == {c: 1 for c in KIMBOI}
    assert "tuần 30/11–06/12/2026" in harness.messenger.texts("g-th")[0]


async def test_the_department_reaches_every_group_of_the_province(harness, tree):
    await harness.send(harness.group("g-so"), tree.so, f"/tieudiem {SO_PAGE} {PAGE}")
    assert announcements(harness.messenger) == {c: 1 for c in GROUPS}
    assert harness.messenger.texts()[-1].endswith("Đã thông báo tới 7 nhóm.")


async def test_a_school_cannot_set_focus_and_a_non_admin_is_refused(harness, tree):
    await harness.send(harness.group("g-thcs"), tree.thcs, f"/tieudiem {PAGE}")
    await harness.send(harness.group("g-pgd"), tree.teacher, f"/tieudiem {PAGE}")
    await harness.send(harness.group("g-pgd"), tree.teacher, f"/tieudiem them {PAGE}")
    assert harness.messenger.texts() == [texts_vi.FOCUS_PARENT_ONLY, ADMINS_ONLY, ADMINS_ONLY]
    assert await focus_rows(harness) == [] and await claims(harness) == []


async def test_a_parents_admin_by_code_sets_a_childs_focus_from_a_private_chat(harness, tree):
    _, admin_code = await harness.codes("SGD-HOABINH")
    officer = harness.user("Cán bộ Sở", "canbo")
    private = harness.private(officer)
    await harness.send(private, officer, f"/dangky {admin_code}")
    harness.messenger.clear()
    await harness.send(private, officer, f"/tieudiem PGD-LACSON {PAGE}")
    assert announcements(harness.messenger) == {"g-lacson": 1, "g-vuban": 1}
    assert await focus_rows(harness) == [("PGD-LACSON", "2026-W48", "page", PAGE_KEY)]
    assert harness.messenger.transcript[-1].chat == private


async def test_anyone_sees_the_items_that_apply_to_their_unit(harness, tree):
    await harness.send(harness.group("g-so"), tree.so, f"/tieudiem {SO_PAGE}")
    await harness.send(harness.group("g-pgd"), tree.pgd, f"/tieudiem {POST}")
    harness.messenger.clear()
    await harness.send(harness.group("g-thcs"), tree.teacher, "/tieudiem")
    await harness.send(harness.group("g-vuban"), tree.teacher, "/tieudiem xem")
    thcs, vuban = harness.messenger.texts()
    assert thcs.splitlines() == [
        "📌 Tiêu điểm tuần 23/11–29/11/2026 của Trường THCS Kim Bôi:",
        "Do Sở GD&ĐT Hòa Bình chọn:", f"• Trang: {SO_PAGE}",
        "Do Phòng GD&ĐT Kim Bôi chọn:", f"• Bài: {POST}"]
    assert POST not in vuban and SO_PAGE in vuban
    harness.messenger.clear()
    await harness.send(harness.group("g-thpt"), tree.teacher, "/tieudiem xem")
    harness.advance(days=7)
    await harness.send(harness.group("g-thpt"), tree.teacher, "/tieudiem")
    assert harness.messenger.texts()[1] == texts_vi.focus_list("Trường THPT Kim Bôi", "tuần 30/11–06/12/2026", [])


@pytest.mark.parametrize("arg, answer", [
    ("abc", texts_vi.focus_bad_item("abc")),
    ("https://zalo.me/g/abcdef", texts_vi.focus_bad_item("https://zalo.me/g/abcdef")),
    ("7", texts_vi.focus_bad_number("7", 0)),
])
async def test_bad_items_get_one_line_and_change_nothing(harness, tree, arg, answer):
    await harness.send(harness.group("g-pgd"), tree.pgd, f"/tieudiem {PAGE}")
    harness.messenger.clear()
    await harness.send(harness.group("g-pgd"), tree.pgd, f"/tieudiem them {arg}")
    await harness.send(harness.group("g-pgd"), tree.pgd, f"/tieudiem {arg} {POST}")
    assert harness.messenger.texts() == [answer, answer]
    assert await focus_rows(harness) == [("PGD-KIMBOI", "2026-W48", "page", PAGE_KEY)]


async def test_usage_and_limits(harness, tree):
    pgd = harness.group("g-pgd")
    many = " ".join(f"https://www.facebook.com/page{i}" for i in range(11))
    await harness.send(pgd, tree.pgd, "/tieudiem them")
    await harness.send(pgd, tree.pgd, f"/tieudiem {many}")
    await harness.send(pgd, tree.pgd, f"/tieudiem xoa {PAGE}")
    assert harness.messenger.texts() == [texts_vi.FOCUS_USAGE, texts_vi.focus_too_many(10),
                                         texts_vi.focus_not_there(PAGE)]


async def test_focus_links_are_never_credited_to_the_admin(harness, tree):
    await harness.send(harness.group("g-pgd"), tree.pgd, f"/tieudiem {POST}")
    assert await harness.scalar("select count(*) from submissions") == 0


# --- once per group: twice, two dispatchers, a dead instance, another platform ---------------------


async def test_two_dispatchers_on_one_database_announce_once_per_group(harness, tree):
    b = instance(harness, "b")
    b.messenger.admins.update(harness.messenger.admins)
    pgd = harness.group("g-pgd")
    msg_a = harness.send(pgd, tree.pgd, f"/tieudiem {PAGE} {POST}", message_id="100")
    from bot.domain.types import IncomingMessage

    msg_b = b.dispatcher.handle(IncomingMessage(chat=pgd, message_id="101", sender=tree.pgd,
                                                date=harness.clock.now(), text=f"/tieudiem {POST} {PAGE}"))
    await asyncio.gather(msg_a, msg_b)
    totals: dict[str, int] = {}
    for m in (harness.messenger, b.messenger):
        for chat, n in announcements(m).items():
            totals[chat] = totals.get(chat, 0) + n
    assert totals == {c: 1 for c in KIMBOI}
    # The same message delivered again (to either instance) changes and sends nothing.
    await b.dispatcher.handle(IncomingMessage(chat=pgd, message_id="101", sender=tree.pgd,
                                              date=harness.clock.now(), text=f"/tieudiem {POST} {PAGE}"))
    assert sum(announcements(harness.messenger).values()) + sum(announcements(b.messenger).values()) == 3
    assert len(await claims(harness)) == 3


class HangingMessenger(FakeMessenger):
    """Delivers the first ``room`` sends, then hangs: an instance that dies mid-fan-out."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    async def deliver(self, action: Outbound) -> Delivery:
        if self.room <= 0:
            await asyncio.Event().wait()
        self.room -= 1
        return await super().deliver(action)


async def test_a_fan_out_whose_instance_died_is_finished_by_the_sweeper_without_repeats(harness, tree):
    # 40 school groups under the Kim Bôi office, beside the tree's own.
    async with harness.storage.uow() as uow:
        office = await uow.units.by_code("PGD-KIMBOI")
        for i in range(40):
            unit = Unit(code=f"S-{i:02d}", name=f"Trường số {i}", type="school", parent_id=office.id,
                        path="", depth=office.depth + 1, join_code=f"J{i:07d}", admin_code=f"A{i:07d}",
                        created_at=harness.clock.now(), updated_at=harness.clock.now())
            uow.session.add(unit)
            await uow.session.flush()
            unit.path = f"{office.path}{unit.id}/"
            uow.session.add(Group(platform="test", chat_id=f"s-{i:02d}", title=unit.name, unit_id=unit.id,
                                  community=False, active=True, can_read=True, bound_at=harness.clock.now(),
                                  created_at=harness.clock.now()))
    dead = instance(harness, "dead", messenger=HangingMessenger(room=5), inline=False)
    dead.messenger.admins.update(harness.messenger.admins)
    await dead.dispatcher.handle(_incoming(harness, tree.pgd, f"/tieudiem {PAGE}"))
    for _ in range(1000):  # its lanes run: five sends go out and are marked sent, the rest hang
        if [s for _, _, s in await claims(harness)].count("sent") == 5:
            break
        await asyncio.sleep(0.01)
    await dead.dispatcher.platforms["test"].outbox.stop(timeout=0)  # the instance dies
    first = announcements(dead.messenger)
    assert sum(first.values()) == 5
    survivor = instance(harness, "survivor")
    assert await survivor.jobs.sweep() == 0  # leases still running: nothing is taken over
    await expire_leases(harness)
    assert await survivor.jobs.sweep() == 43 - 5
    totals = dict(first)
    for chat, n in announcements(survivor.messenger).items():
        totals[chat] = totals.get(chat, 0) + n
    assert totals == {c: 1 for c in KIMBOI | {f"s-{i:02d}" for i in range(40)}}
    assert {status for _, _, status in await claims(harness)} == {"sent"}
    assert await survivor.jobs.sweep() == 0


def _incoming(harness, user: UserRef, text_: str, chat_id: str = "g-pgd"):
    from bot.domain.types import IncomingMessage

    return IncomingMessage(chat=harness.group(chat_id), message_id=f"x{harness.clock.now().timestamp()}{text_[-3:]}",
                           sender=user, date=harness.clock.now(), text=text_)


async def test_zalo_groups_and_zalo_people_hear_it_through_their_own_platform(harness, tree):
    zalo = FakeMessenger(platform="zalo")
    harness.dispatcher.attach(zalo, inline=True)
    async with harness.storage.uow() as uow:
        thcs = await uow.units.by_code("THCS-KIMBOI")
        uow.session.add(Group(platform="zalo", chat_id="zg-1", title="Zalo THCS", unit_id=thcs.id, community=False,
                              active=True, can_read=True, bound_at=harness.clock.now(), created_at=harness.clock.now()))
        person = Person(home_unit_id=thcs.id, home_unit_explicit=True, party_member=False, created_at=harness.clock.now())
        uow.session.add(person)
        await uow.session.flush()
        uow.session.add(Member(person_id=person.id, platform="zalo", user_id="z1", display_name="Cô Mai",
                               active=True, private_chat_id="zp-1", unreachable=False,
                               created_at=harness.clock.now(), last_seen_at=harness.clock.now()))
    await harness.send(harness.group("g-pgd"), tree.pgd, f"/tieudiem {PAGE}")
    assert announcements(harness.messenger) == {c: 1 for c in KIMBOI}
    assert zalo.transcript == []  # claimed with a lease already run out: the sweeper sends them
    assert harness.messenger.texts()[-1] == texts_vi.focus_saved(1, "Phòng GD&ĐT Kim Bôi", 4, 1, 0)
    sweeper = instance(harness, "zalo-instance", messenger=FakeMessenger(platform="zalo"))
    assert await sweeper.jobs.sweep() == 2
    sent = sweeper.messenger.transcript
    assert {(a.chat.chat_id, a.chat.kind) for a in sent} == {("zg-1", ChatKind.GROUP), ("zp-1", ChatKind.PRIVATE)}
    assert await sweeper.jobs.sweep() == 0


async def test_the_console_and_real_platforms_never_reach_each_others_chats(harness, tree):
    async with harness.storage.uow() as uow:
        thcs = await uow.units.by_code("THCS-KIMBOI")
        uow.session.add(Group(platform="console", chat_id="c-1", title="Console THCS", unit_id=thcs.id,
                              community=False, active=True, can_read=True, bound_at=harness.clock.now(),
                              created_at=harness.clock.now()))
    await harness.send(harness.group("g-pgd"), tree.pgd, f"/tieudiem {PAGE}")
    assert [c for c, _, _ in await claims(harness)] == sorted(KIMBOI)  # no claim on the console's group
    console = FakeMessenger(platform="console")
    other = instance(harness, "console-run", messenger=console)
    console.admins["c-pgd"] = {tree.pgd.user_id}
    await other.dispatcher.bind_group(ChatRef("console", "c-pgd", ChatKind.GROUP), "PGD-KIMBOI", harness.clock.now())
    from bot.domain.types import IncomingMessage

    await other.dispatcher.handle(IncomingMessage(chat=ChatRef("console", "c-pgd", ChatKind.GROUP), message_id="1",
                                                  sender=UserRef("console", "pgd", "Trưởng phòng"),
                                                  date=harness.clock.now(), text=f"/tieudiem {POST}"))
    assert {a.chat.chat_id for a in console.transcript if a.plain.startswith("📌")} == {"c-pgd", "c-1"}
    async with harness.storage.engine.connect() as conn:
        platforms = {r[0] for r in await conn.execute(text(
            "select chat_platform from sent_messages where kind = 'focus' and period = :p"),
            dict(p=set_period("2026-W48", [POST])))}
    assert platforms == {"console"}


# --- focus completion in the views -----------------------------------------------------------------


async def test_focus_completion_counts_who_shared_an_item_that_applies_to_them(harness, tree):
    await harness.send(harness.group("g-so"), tree.so, f"/tieudiem {SO_PAGE}")
    await harness.send(harness.group("g-pgd"), tree.pgd, f"/tieudiem {POST} https://www.facebook.com/share/p/AbC123/")
    thcs, vuban, th = harness.group("g-thcs"), harness.group("g-vuban"), harness.group("g-th")
    a, b, c, d = (harness.user(n) for n in ("An", "Bình", "Chi", "Dũng"))
    e, f, g = (harness.user(n) for n in ("Giang", "Hà", "Khoa"))
    await harness.send(thcs, a, f"{SO_PAGE}/posts/901?fbclid=x")  # any post of the department's page
    await harness.send(thcs, b, f"{POST}?mibextid=q")  # the office's post, tracking removed
    await harness.send(thcs, c, "https://youtu.be/dQw4w9WgXcQ")  # a share, not a focus one
    await harness.send(th, d, "https://www.facebook.com/share/p/AbC123/")  # a share link: by its URL
    await harness.send(vuban, e, f"{POST}")  # Lạc Sơn: the Kim Bôi office's item is not theirs
    await harness.send(vuban, f, f"{SO_PAGE}/posts/902")
    withdrawn = await harness.send(vuban, g, f"{SO_PAGE}/posts/903")
    await harness.send(vuban, g, "/huy", reply_to=withdrawn)
    async with harness.storage.uow() as uow:
        units = {u.code: u for u in await uow.units.all()}
        week = week_of(harness.clock.now(), harness.dispatcher.config.bot.tz)
        view = await build_view(uow, harness.dispatcher.config, None, week, harness.clock.now())
    fig = lambda code, own=False: view.focus_figures(units[code].id, own=own)  # noqa: E731
    assert (fig("THCS-KIMBOI").done, fig("THCS-KIMBOI").expected) == (2, 3)  # An, Bình of An, Bình, Chi
    assert (fig("TH-KIMBOI").done, fig("TH-KIMBOI").expected) == (1, 1)
    assert (fig("THCS-VUBAN").done, fig("THCS-VUBAN").expected) == (1, 3)  # Hà; Giang's post is not theirs
    assert (fig("PGD-KIMBOI").done, fig("PGD-KIMBOI").expected) == (3, 5)  # + the office's own admin
    assert (fig("SGD-HOABINH").done, fig("SGD-HOABINH").expected) == (4, 9)  # + the department's admin
    assert not fig("THPT-KIMBOI").expected and fig("THPT-KIMBOI").applies
    assert fig("PGD-KIMBOI", own=True).expected == 1 and fig("PGD-KIMBOI").applies
    names = {p.name: p.person_id for p in view.people.values()}
    assert [n for n in ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Khoa") if view.focus_done(names[n])] == \
        ["An", "Bình", "Dũng", "Hà"]
    # /tinhhinh shows the line, the leaderboard too.
    harness.messenger.clear()
    await harness.send(thcs, c, "/tinhhinh")
    assert "Chia sẻ trang tiêu điểm: 2/3 người" in harness.messenger.texts()[0].splitlines()
    await harness.send(harness.group("g-pgd"), tree.pgd, "/xephang")
    assert "Chia sẻ trang tiêu điểm: 3/5 người" in harness.messenger.texts()[1].splitlines()


async def test_without_focus_items_no_line_is_shown_and_last_weeks_items_do_not_count(harness, tree):
    thcs = harness.group("g-thcs")
    await harness.send(thcs, tree.teacher, f"{PAGE}/posts/1")
    await harness.send(thcs, tree.teacher, "/tinhhinh")
    assert not any("tiêu điểm" in t for t in harness.messenger.texts())
    await harness.send(harness.group("g-pgd"), tree.pgd, f"/tieudiem {PAGE}")  # set after the share: still counts
    harness.messenger.clear()
    await harness.send(thcs, tree.teacher, "/tinhhinh")
    assert "Chia sẻ trang tiêu điểm: 1/1 người" in harness.messenger.texts()[0]
    harness.advance(days=7)  # a new week: no focus items yet
    harness.messenger.clear()
    await harness.send(thcs, tree.teacher, "/tinhhinh")
    assert "tiêu điểm" not in harness.messenger.texts()[0]


async def test_the_monday_leaderboard_reports_last_weeks_focus(harness, tree):
    await harness.send(harness.group("g-pgd"), tree.pgd, f"/tieudiem {PAGE}")
    await harness.send(harness.group("g-thcs"), tree.teacher, f"{PAGE}/posts/42")
    monday = harness.clock.now() + timedelta(days=3, hours=-2)  # Monday 30/11 08:00
    async with harness.storage.uow() as uow:
        plans = await compose(uow, harness.dispatcher.config, "leaderboard", monday)
    by_chat = {p.chat.chat_id: p.actions[0].plain for p in plans}
    assert "Chia sẻ trang tiêu điểm: 1/2 người" in by_chat["g-pgd"].splitlines()
    assert "Chia sẻ trang tiêu điểm: 1/1 người" in by_chat["g-thcs"].splitlines()
    assert "tiêu điểm" not in by_chat["g-vuban"]


async def test_focus_completion_takes_a_fixed_number_of_queries(harness):
    officer = harness.user("Sở", "so")
    _, admin_code = await harness.codes("SGD-HOABINH")
    await harness.send(harness.private(officer), officer, f"/dangky {admin_code}")
    await grow(harness, 300)
    async with harness.storage.uow() as uow:
        so, lacson = await uow.units.by_code("SGD-HOABINH"), await uow.units.by_code("PGD-LACSON")
        week = week_of(harness.clock.now(), harness.dispatcher.config.bot.tz).key
        # Links that grow() gives people: a post shared by some, set by two levels of the tree.
        uow.session.add_all([
            FocusItem(unit_id=so.id, week=week, kind="post", item_key="https://www.youtube.com/watch?v=v0x0",
                      url="https://www.youtube.com/watch?v=v0x0", created_at=harness.clock.now()),
            FocusItem(unit_id=lacson.id, week=week, kind="post", item_key="https://www.youtube.com/watch?v=v1x0",
                      url="https://www.youtube.com/watch?v=v1x0", created_at=harness.clock.now()),
        ])

    async def measure() -> dict[str, int]:
        counts = {}
        with QueryCounter(harness.storage.engine) as q:
            await harness.send(harness.private(officer), officer, "/tinhhinh")
        counts["tinhhinh"] = q.count
        with QueryCounter(harness.storage.engine) as q:
            async with harness.storage.uow() as uow:
                assert len(await compose(uow, harness.dispatcher.config, "reminder", harness.clock.now())) >= SCHOOLS
        counts["reminder"] = q.count
        return counts

    first = await measure()
    assert "Chia sẻ trang tiêu điểm:" in harness.messenger.texts()[-1]
    await grow(harness, 600, start=300)
    assert await measure() == first


# --- /guilen and /dexuat ----------------------------------------------------------------------------


NOMINATED = "https://www.facebook.com/thcskimboi/posts/999"


async def test_a_school_sends_a_post_up_once_and_the_office_hears_it_in_its_groups(harness, tree):
    thcs = harness.group("g-thcs")
    await harness.send(thcs, tree.thcs, f"/guilen {NOMINATED}?fbclid=abc")
    assert harness.messenger.texts("g-pgd") == [texts_vi.nomination_notice("Trường THCS Kim Bôi", NOMINATED)]
    assert harness.messenger.texts("g-thcs") == [texts_vi.nominated("Phòng GD&ĐT Kim Bôi", 1)]
    assert harness.messenger.texts("g-so") == []
    harness.advance(days=1)
    harness.messenger.clear()
    await harness.send(thcs, tree.thcs, f"/nominate {NOMINATED}")
    assert harness.messenger.texts() == [
        texts_vi.nominated_before("Phòng GD&ĐT Kim Bôi", harness.clock.now().date() - timedelta(days=1), False)]
    async with harness.storage.engine.connect() as conn:
        assert (await conn.execute(text("select count(*) from nominations"))).scalar() == 1
        assert (await conn.execute(text("select count(*) from audit_log where action = 'nominate'"))).scalar() == 1
    assert [(c, s) for c, _, s in await claims(harness, "nomination")] == [("g-pgd", "sent")]


async def test_guilen_refusals(harness, tree):
    await harness.send(harness.group("g-thcs"), tree.teacher, f"/guilen {NOMINATED}")
    await harness.send(harness.group("g-thcs"), tree.thcs, f"/guilen {PAGE}")
    await harness.send(harness.group("g-thcs"), tree.thcs, "/guilen")
    await harness.send(harness.group("g-so"), tree.so, f"/guilen {NOMINATED}")
    assert harness.messenger.texts() == [ADMINS_ONLY, texts_vi.GUILEN_NEEDS_POST, texts_vi.GUILEN_USAGE,
                                         texts_vi.GUILEN_NO_PARENT]
    async with harness.storage.engine.connect() as conn:
        assert (await conn.execute(text("select count(*) from nominations"))).scalar() == 0


async def test_a_parents_admin_may_send_up_for_a_school_in_its_group(harness, tree):
    _, admin_code = await harness.codes("PGD-KIMBOI")
    officer = harness.user("Cán bộ Phòng", "cbp")
    await harness.send(harness.private(officer), officer, f"/dangky {admin_code}")
    harness.messenger.clear()
    await harness.send(harness.group("g-thcs"), officer, f"/guilen {NOMINATED}")
    assert harness.messenger.texts("g-pgd") == [texts_vi.nomination_notice("Trường THCS Kim Bôi", NOMINATED)]


async def test_an_office_lists_nominations_and_page_posts_and_promotes_one_by_number(harness, tree):
    thcs, pgd = harness.group("g-thcs"), harness.group("g-pgd")
    await harness.send(thcs, tree.thcs, f"/trang them {PAGE}")
    await harness.send(thcs, tree.teacher, f"{PAGE}/posts/77")  # a page post of the school this week
    harness.advance(minutes=5)
    await harness.send(thcs, tree.thcs, f"/guilen {NOMINATED}")
    await harness.send(harness.group("g-vuban"), tree.teacher, "https://www.facebook.com/thcsvuban/posts/1")
    harness.messenger.clear()
    await harness.send(pgd, tree.pgd, "/dexuat")
    listing = harness.messenger.texts()[0]
    assert listing == texts_vi.candidates_list("Phòng GD&ĐT Kim Bôi", "tuần 23/11–29/11/2026", [
        (1, "page_post", "Trường THCS Kim Bôi", f"{PAGE}/posts/77", False),
        (2, "nomination", "Trường THCS Kim Bôi", NOMINATED, False)], 0)
    harness.messenger.clear()
    await harness.send(pgd, tree.pgd, "/tieudiem them 2")
    assert announcements(harness.messenger) == {c: 1 for c in KIMBOI}
    async with harness.storage.uow() as uow:
        [nom] = (await uow.session.execute(select(Nomination))).scalars().all()
        assert nom.status == "promoted" and nom.promoted_at is not None
    harness.messenger.clear()
    await harness.send(pgd, tree.pgd, "/dexuat")  # numbers stay put; the chosen one is marked
    assert f"2. Trường THCS Kim Bôi đề xuất: {NOMINATED} ✅ đang là tiêu điểm" in harness.messenger.texts()[0]
    await harness.send(thcs, tree.thcs, f"/guilen {NOMINATED}")
    assert harness.messenger.texts()[-1].endswith("và đã được chọn làm tiêu điểm.")


async def test_the_department_promotes_a_schools_nomination_by_link(harness, tree):
    await harness.send(harness.group("g-thcs"), tree.thcs, f"/guilen {NOMINATED}")
    await harness.send(harness.group("g-so"), tree.so, f"/tieudiem {NOMINATED}")
    async with harness.storage.uow() as uow:
        [nom] = (await uow.session.execute(select(Nomination))).scalars().all()
        assert nom.status == "promoted"


async def test_dexuat_refusals(harness, tree):
    await harness.send(harness.group("g-pgd"), tree.teacher, "/dexuat")
    await harness.send(harness.group("g-thcs"), tree.thcs, "/dexuat")
    await harness.send(harness.group("g-pgd"), tree.pgd, "/dexuat")
    assert harness.messenger.texts() == [
        ADMINS_ONLY, texts_vi.DEXUAT_NO_CHILDREN,
        texts_vi.candidates_list("Phòng GD&ĐT Kim Bôi", "tuần 23/11–29/11/2026", [], 0)]


# --- the console ------------------------------------------------------------------------------------


async def test_the_whole_routine_works_in_the_console():
    script = "\n".join([
        ":time 2026-11-23 09:00", ":group PGD-KIMBOI", ":as Trưởng phòng", ":admin on",
        f"/tieudiem {PAGE}",
        ":group THCS-KIMBOI", ":as Hiệu trưởng", ":admin on", f"/guilen {NOMINATED}",
        ":as Cô Lan", f"{PAGE}/posts/5", "/tinhhinh",
        ":group PGD-KIMBOI", ":as Trưởng phòng", "/dexuat", "/tieudiem them 1", "",
    ])
    out = io.StringIO()
    assert await run_console(default_config(), demo=True, stdin=io.StringIO(script), stdout=out) == 0
    lines = out.getvalue().splitlines()
    assert "bot> 📌 Tiêu điểm tuần 23/11–29/11/2026 do Phòng GD&ĐT Kim Bôi chọn:" in lines
    assert "bot> [THCS-KIMBOI] 📌 Tiêu điểm tuần 23/11–29/11/2026 do Phòng GD&ĐT Kim Bôi chọn:" in lines
    assert f"bot> [PGD-KIMBOI] 📣 Trường THCS Kim Bôi đề xuất bài viết: {NOMINATED}" in lines
    assert "bot> Chia sẻ trang tiêu điểm: 1/2 người" in lines
    assert f"bot> 1. Trường THCS Kim Bôi đề xuất: {NOMINATED}" in lines
    assert f"bot> [THCS-KIMBOI] • Bài: {NOMINATED}" in lines
