"""Reports (SPEC §3.5): the period report of a subtree, the setup report, /baocao, and the setup
deadline reminder.

The figures come from ``handlers.views.build_view`` — the same judgement /tinhhinh, /xephang and
the dashboard use — so a report never disagrees with what the bot said in the groups. Two small
extra reads: the leaves (for "weeks met out of the weeks counted") and the week's focus items.
The "Liên kết" sheet is streamed from a server-side cursor into XlsxWriter's constant-memory mode,
so a province's school year is written without holding its million links.

Party privacy (§3.4): unit rows carry party figures as counts only; the per-member party columns
are filled only for the units in ``party_units`` (the requester's own units; None: every unit,
the operator's CLI).
"""

from __future__ import annotations

import io
import logging
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import IO, Callable, Iterable

from sqlalchemy import exists, func, or_, select

from bot.config import Config
from bot.domain import texts_vi
from bot.domain.periods import format_date, parse_period
from bot.domain.quotas import on_leave
from bot.domain.ranking import name_key
from bot.domain.types import ChatKind, ChatRef, Period, SendDocument, SendText
from bot.report_xlsx import EXCEL_MAX_ROWS, HEADER_ROWS, Column, ReportWriter, SheetFiller
from handlers.context import Context
from handlers.scope import ADMIN_ROLES, is_admin_of, private_chat_of, record_chat_admin, resolve_unit, start_link
from handlers.views import SubtreeView, build_view
from storage.models import FocusItem, Group, Leave, Member, Person, Submission, Unit, UnitPage, UnitRole
from storage.subtree import in_subtree
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

# Telegram's bots may send files up to 50 MB (SPEC §3.5).
TELEGRAM_FILE_LIMIT = 50 * 1024 * 1024
# Rows fetched from the cursor at a time: big enough to keep the driver busy, small in memory.
STREAM_BATCH = 20_000
SETUP_ARG = "thietlap"
REPORT_PERIOD_ARGS = ("tuan", "thang", "hocky", "namhoc")
# The setup reminder goes out at this local time, three days before the deadline.
SETUP_REMINDER_TIME = time(8, 0)
SETUP_REMINDER_DAYS = 3

Progress = Callable[[int, int], None]  # (links written, links in all)


@dataclass(frozen=True)
class ReportStats:
    units: int
    people: int
    links: int
    links_included: bool


def report_filename(unit: Unit | None, period: Period) -> str:
    code = unit.code if unit is not None else "TOAN-BO"
    return f"baocao_{code}_{period.key.replace('..', '_')}.xlsx"


def _made_at(now: datetime, tz) -> str:
    local = now.astimezone(tz)
    return f"{local:%H:%M} {format_date(local.date())}"


def _percent(a: int, b: int) -> str:
    return f"{round(100 * a / b)}%" if b else "0%"


# ---------------------------------------------------------------------------------------------
# Extra reads


async def _leaves(uow: UnitOfWork, view: SubtreeView) -> dict[int, list[tuple[date, date]]]:
    tl = view.tl
    first = min(tl.weeks[0].first_day, tl.period.first_day)
    last = max(tl.weeks[-1].last_day, tl.period.last_day)
    prefix = view.root.path if view.root is not None else "/"
    out: dict[int, list[tuple[date, date]]] = defaultdict(list)
    rows = (await uow.session.execute(
        select(Leave.person_id, Leave.first_day, Leave.last_day)
        .join(Person, Person.id == Leave.person_id)
        .join(Unit, Unit.id == Person.home_unit_id)
        .where(in_subtree(Unit.path, prefix), Leave.last_day >= first, Leave.first_day <= last)
    )).all()
    for pid, lo, hi in rows:
        out[pid].append((lo, hi))
    return out


def weeks_counted(view: SubtreeView, person_id: int, leaves: Iterable[tuple[date, date]]) -> list[int]:
    """The weeks held against the person, by the rule of ``quotas.judge``: not a holiday, no
    leave, not over before they were first seen, begun, and over (or the whole period)."""
    tl, now = view.tl, view.now
    joined = view.people[person_id].joined
    leaves = tuple(leaves)
    single = len(tl.weeks) == 1
    out = []
    for i, week in enumerate(tl.weeks):
        if tl.holiday[i] or any(on_leave(week, lo, hi) for lo, hi in leaves):
            continue
        if week.end <= joined or week.start > now:
            continue
        if single or week.end <= now:
            out.append(i)
    return out


async def focus_completion(uow: UnitOfWork, view: SubtreeView) -> tuple[int, int] | None:
    """(expected people who shared one of their week's focus items, expected people), or None when
    no focus item was set for the subtree in the period. Focus items come from the root and the
    units above it (a parent sets them for its whole subtree)."""
    tl = view.tl
    weeks = {w.key: i for i, w in enumerate(tl.weeks)}
    if view.root is not None:
        setters = [int(part) for part in view.root.path.strip("/").split("/") if part]
    else:
        setters = [uid for uid, u in view.units.items() if u.parent_id is None]
    items = (await uow.session.execute(
        select(FocusItem.week, FocusItem.kind, FocusItem.item_key)
        .where(FocusItem.unit_id.in_(setters), FocusItem.week.in_(list(weeks)))
    )).all()
    if not items:
        return None
    per_week: dict[int, set[tuple[str, str]]] = defaultdict(set)
    pages, posts = set(), set()
    for week, kind, key in items:
        per_week[weeks[week]].add((kind, key))
        (pages if kind == "page" else posts).add(key)
    expected = {pid for pid, r in view.results.items() if not r.exempt}
    prefix = view.root.path if view.root is not None else "/"
    conditions = []
    if pages:
        conditions.append(Submission.page_key.in_(pages))
    if posts:
        conditions.append(Submission.canonical_url.in_(posts))
    rows = (await uow.session.execute(
        select(Submission.person_id, Submission.page_key, Submission.canonical_url, Submission.created_at)
        .join(Person, Person.id == Submission.person_id)
        .join(Unit, Unit.id == Person.home_unit_id)
        .where(in_subtree(Unit.path, prefix), Submission.withdrawn_at.is_(None), or_(*conditions),
               Submission.created_at >= tl.start, Submission.created_at < tl.end)
    )).all()
    shared: set[int] = set()
    for pid, page_key, canonical, at in rows:
        if pid not in expected or pid in shared:
            continue
        week = next((i for i, w in enumerate(tl.weeks) if w.contains(at)), None)
        wanted = per_week.get(week, set()) if week is not None else set()
        if ("page", page_key) in wanted or ("post", canonical) in wanted:
            shared.add(pid)
    return len(shared), len(expected)


async def _focus(uow: UnitOfWork, view: SubtreeView) -> tuple[int, int] | None:
    """The view's own focus figures when it has them (the same as /tinhhinh's), else read here."""
    if hasattr(view, "focus_figures") and view.root is not None:
        fig = view.focus_figures(view.root.id)
        return (fig.done, fig.expected) if fig.applies else None
    return await focus_completion(uow, view)


async def own_admin_units(uow: UnitOfWork, person_id: int | None) -> set[int]:
    """The units the person is an own admin of (by code, or seen administering their group)."""
    if person_id is None:
        return set()
    rows = (await uow.session.execute(
        select(UnitRole.unit_id).where(UnitRole.person_id == person_id, UnitRole.role.in_(ADMIN_ROLES))
    )).scalars()
    return {int(u) for u in rows}


# ---------------------------------------------------------------------------------------------
# The period report


def _unit_type_name(config: Config, unit: Unit) -> str:
    t = config.unit_types.get(unit.type)
    return t.name if t is not None else unit.type


def summary_sentences(view: SubtreeView, focus: tuple[int, int] | None, made: str) -> list[str]:
    """Four to six plain sentences, ready to paste into the unit's own written report."""
    root = view.root
    name = root.name if root is not None else "toàn hệ thống"
    sentences = [texts_vi.summary_opening(name, view.label, made)]
    if root is not None:
        fig = view.rollup[root.id]
    else:
        from bot.domain.quotas import UnitFigures

        fig = UnitFigures()
        for uid in view.children.get(None, []):
            fig = fig.plus_people(view.rollup[uid])
    if view.holiday:
        sentences.append(texts_vi.SUMMARY_HOLIDAY)
    elif fig.expected:
        sentences.append(texts_vi.summary_people(fig.shared, fig.met, fig.expected, _percent(fig.shared, fig.expected)))
    else:
        sentences.append(texts_vi.SUMMARY_NOBODY)
    if root is not None:
        sentences.append(texts_vi.summary_pages(fig.page_posts, fig.page_target))
    below = [uid for uid in view.units if root is None or uid != root.id]
    if below:
        met = sum(1 for uid in below if view.own[uid].pages_met)
        sentences.append(texts_vi.summary_children(met, len(below)))
    if fig.party_expected and not view.holiday:
        sentences.append(texts_vi.summary_party(fig.party_met, fig.party_expected))
    if focus is None:
        sentences.append(texts_vi.SUMMARY_NO_FOCUS)
    else:
        sentences.append(texts_vi.summary_focus(*focus))
    return sentences[:6]


UNIT_COLUMNS = [Column(h, w, k) for h, w, k in zip(
    texts_vi.UNIT_HEADERS,
    (16, 36, 14, 16, 10, 12, 10, 11, 11, 11, 11, 10, 12, 10, 10),
    ("text", "text", "text", "text", "int", "int", "text", "int", "int", "int", "pct", "int", "int", "int", "int"),
)]
MEMBER_COLUMNS = [Column(h, w, k) for h, w, k in zip(
    texts_vi.MEMBER_HEADERS,
    (16, 30, 28, 28, 10, 9, 12, 10, 10, 12),
    ("text", "text", "text", "text", "int", "int", "int", "text", "text", "text"),
)]
LINK_COLUMNS = [Column(h, w, k) for h, w, k in zip(
    texts_vi.LINK_HEADERS,
    (17, 16, 26, 11, 60, 12),
    ("datetime", "text", "text", "text", "text", "text"),
)]


def tree_order(view: SubtreeView) -> list[Unit]:
    """The root, then each child followed by its own subtree, children by name (as /tinhhinh lists them)."""
    out: list[Unit] = []
    stack = [view.root.id] if view.root is not None else list(reversed(view.children.get(None, [])))
    while stack:
        uid = stack.pop()
        out.append(view.units[uid])
        stack.extend(reversed(view.children.get(uid, [])))
    return out


def unit_rows(view: SubtreeView, config: Config) -> Iterable[list]:
    """One row per unit in tree order; people figures are the unit's whole subtree (as /tinhhinh
    shows them), page posts its own fanpage's; party figures are counts."""
    yn = {True: texts_vi.YES, False: texts_vi.NO}
    for unit in tree_order(view):
        fig = view.rollup[unit.id]
        parent = view.units.get(unit.parent_id) if unit.parent_id is not None else None
        yield [
            unit.code, unit.name, _unit_type_name(config, unit), parent.code if parent is not None else "",
            fig.page_posts, fig.page_target, yn[fig.pages_met], fig.expected, fig.shared, fig.met,
            (fig.shared / fig.expected) if fig.expected else None, fig.party_expected, fig.party_met,
            view.own[unit.id].known, unit.staff,
        ]


def _accounts(person) -> str:
    out = []
    for user, _ in person.accounts:
        shown = f"@{user.username}" if user.username else user.display_name
        out.append(f"{user.platform.capitalize()} {shown}")
    return "; ".join(out)


def member_rows(view: SubtreeView, leaves: dict[int, list[tuple[date, date]]],
                party_units: set[int] | None) -> Iterable[list]:
    """One row per expected person (an account that left is no one's member any more; a person
    with two accounts is one row). The party columns only for ``party_units`` (None: all)."""
    yn = {True: texts_vi.YES, False: texts_vi.NO}
    quota = view.rules.staff_weekly
    order = {u.id: i for i, u in enumerate(tree_order(view))}
    people = sorted(view.people.values(), key=lambda p: (order[p.unit_id], name_key(p.name), p.person_id))
    for p in people:
        r = view.results[p.person_id]
        counted = weeks_counted(view, p.person_id, leaves.get(p.person_id, ()))
        met_weeks = sum(1 for i in counted if r.week_links[i] >= quota)
        unit = view.units[p.unit_id]
        verdict = texts_vi.EXEMPT if r.exempt else yn[r.staff_met]
        party = party_met = ""
        if party_units is None or p.unit_id in party_units:
            party = texts_vi.YES if p.party_member else ""
            if p.party_member and r.party_met is not None:
                party_met = yn[r.party_met]
        yield [unit.code, unit.name, p.name, _accounts(p), r.links, met_weeks, len(counted), verdict, party,
               party_met]


def _links_query(view: SubtreeView, dialect: str = ""):
    prefix = view.root.path if view.root is not None else "/"
    period = view.tl.period
    # Epoch seconds where the database computes them: parsing a million datetimes in Python
    # costs seconds of a province report.
    if dialect == "sqlite":
        when = ((func.julianday(Submission.created_at) - 2440587.5) * 86400.0).label("at")
    elif dialect == "postgresql":
        when = func.extract("epoch", Submission.created_at).label("at")
    else:
        when = Submission.created_at
    return (
        select(when, Unit.code, Member.display_name, Submission.link_platform,
               Submission.original_url,
               # A post of a registered page counts as a page post whenever it was registered
               # (as in the page-post figures), a #trang link by its mark.
               or_(Submission.is_page_post.is_(True),
                   exists().where(UnitPage.page_key == Submission.page_key)).label("page_post"))
        .join(Unit, Unit.id == Submission.unit_id)
        .outerjoin(Member, Member.id == Submission.member_id)
        .where(in_subtree(Unit.path, prefix), Submission.withdrawn_at.is_(None),
               Submission.created_at >= period.start, Submission.created_at < period.end)
        .order_by(Submission.created_at, Submission.id)
    )


async def count_links(uow: UnitOfWork, view: SubtreeView) -> int:
    """The rows ``_links_query`` yields, counted without its joins for names and pages."""
    prefix = view.root.path if view.root is not None else "/"
    period = view.tl.period
    stmt = (select(func.count()).select_from(Submission).join(Unit, Unit.id == Submission.unit_id)
            .where(in_subtree(Unit.path, prefix), Submission.withdrawn_at.is_(None),
                   Submission.created_at >= period.start, Submission.created_at < period.end))
    return int((await uow.session.execute(stmt)).scalar_one())


async def write_report(uow: UnitOfWork, config: Config, root: Unit | None, period: Period, now: datetime,
                       target: str | IO[bytes], *, party_units: set[int] | None = None,
                       include_links: bool = True, max_rows: int = EXCEL_MAX_ROWS,
                       progress: Progress | None = None, view: SubtreeView | None = None) -> ReportStats:
    """The period report of ``root``'s subtree written to ``target`` (a path or a binary file).

    XlsxWriter writes the small sheets and the "Liên kết" sheets' titles and headers into memory;
    then the package is copied into ``target`` while the links are streamed from the database
    into those sheets (``SheetFiller``), so memory stays flat however many links there are."""
    tz = config.bot.tz
    view = view or await build_view(uow, config, root, period, now)
    leaves = await _leaves(uow, view)
    focus = await _focus(uow, view)
    made = _made_at(now, tz)
    title = texts_vi.report_title(root.name if root is not None else "Toàn hệ thống", view.label, made)
    capacity = max_rows - HEADER_ROWS
    total = await count_links(uow, view) if include_links else 0
    package = io.BytesIO()
    writer = ReportWriter(package, max_rows=max_rows)
    members: list[str] = []
    try:
        writer.summary(texts_vi.SHEET_SUMMARY, title, summary_sentences(view, focus, made))
        writer.table(texts_vi.SHEET_UNITS, title, UNIT_COLUMNS, unit_rows(view, config))
        writer.table(texts_vi.SHEET_MEMBERS, title, MEMBER_COLUMNS, member_rows(view, leaves, party_units))
        if include_links:
            members = writer.placeholders(texts_vi.SHEET_LINKS, title, LINK_COLUMNS, -(-total // capacity))
    finally:
        writer.close()
    if not include_links:
        _save(package.getvalue(), target)
        return ReportStats(len(view.units), len(view.people), 0, False)
    styles = {kind: fmt.xf_index for kind, fmt in writer.formats.items() if fmt is not None}
    filler = SheetFiller(package.getvalue(), target, members, LINK_COLUMNS, styles, capacity, total)
    try:
        dialect = (await uow.session.connection()).dialect.name
        result = await uow.session.stream(_links_query(view, dialect).execution_options(yield_per=STREAM_BATCH))
        forgotten, yes = texts_vi.FORGOTTEN_PERSON, texts_vi.YES
        offset = _fixed_offset(view.tl.period, tz)
        async for batch in result.partitions():
            filler.write(((at, code, name or forgotten, platform, url, yes if page else "")
                          for at, code, name, platform, url, page in batch), tz, utc_offset=offset)
            if progress is not None:
                progress(min(filler.written, total), total)
    finally:
        filler.close()
    if filler.dropped:
        logger.info("report: %d links arrived after the count and are left out", filler.dropped)
    return ReportStats(len(view.units), len(view.people), filler.written, True)


def _fixed_offset(period: Period, tz) -> float | None:
    """The zone's UTC offset in seconds when it is the same all through the period (Vietnam:
    always); None when a DST change falls inside it."""
    first = period.start.astimezone(tz).utcoffset()
    last = (period.end - timedelta(microseconds=1)).astimezone(tz).utcoffset()
    days = (period.end - period.start).days
    probes = {(period.start + timedelta(days=d)).astimezone(tz).utcoffset() for d in range(0, days + 1, 7)}
    return first.total_seconds() if first == last and probes == {first} else None


def _save(data: bytes, target: str | IO[bytes]) -> None:
    if isinstance(target, str):
        with open(target, "wb") as f:
            f.write(data)
    else:
        target.write(data)


async def report_bytes(uow: UnitOfWork, config: Config, unit: Unit | None, period: Period, now: datetime, *,
                       requester_person_id: int | None, super_admin: bool = False,
                       include_links: bool = True) -> bytes:
    """The report file for one requester (a download route calls this: Zalo cannot send files).
    The per-member party column covers only the requester's own units, unless a super-admin."""
    party_units = None if super_admin else await own_admin_units(uow, requester_person_id)
    buffer = io.BytesIO()
    await write_report(uow, config, unit, period, now, buffer, party_units=party_units,
                       include_links=include_links)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# The setup report


@dataclass
class SetupRow:
    unit: Unit
    parent_code: str
    type_name: str
    group_titles: list[str]
    title_ok: bool
    pages: list[str]
    known: int

    @property
    def has_group(self) -> bool:
        return bool(self.group_titles)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.casefold()).replace("đ", "d")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.replace("-", " ").replace("–", " ").replace(":", " ").replace("|", " ").split())


def title_follows(title: str | None, unit_name: str) -> bool:
    """Whether a group's title is "Truyền thông + <tên đơn vị>" (any case, with or without
    diacritics, a dash or colon between)."""
    if not title:
        return False
    folded = _fold(title)
    return folded == _fold("Truyền thông " + unit_name)


async def setup_rows(uow: UnitOfWork, config: Config, root: Unit | None) -> list[SetupRow]:
    """Per unit: bound groups and their titles, registered pages, people known. Four queries."""
    prefix = root.path if root is not None else "/"
    in_tree = in_subtree(Unit.path, prefix)
    units = list((await uow.session.execute(select(Unit).where(in_tree).order_by(Unit.path))).scalars())
    by_id = {u.id: u for u in units}
    titles: dict[int, list[str]] = defaultdict(list)
    for unit_id, title, community in (await uow.session.execute(
        select(Group.unit_id, Group.title, Group.community).join(Unit, Unit.id == Group.unit_id)
        .where(in_tree, Group.active.is_(True)).order_by(Group.id)
    )).all():
        if not community:
            titles[unit_id].append(title or "")
    pages: dict[int, list[str]] = defaultdict(list)
    for unit_id, url in (await uow.session.execute(
        select(UnitPage.unit_id, UnitPage.url).join(Unit, Unit.id == UnitPage.unit_id)
        .where(in_tree).order_by(UnitPage.id)
    )).all():
        pages[unit_id].append(url)
    known = {int(u): int(n) for u, n in (await uow.session.execute(
        select(Person.home_unit_id, func.count(func.distinct(Person.id)))
        .join(Member, Member.person_id == Person.id).join(Unit, Unit.id == Person.home_unit_id)
        .where(in_tree, Member.active.is_(True)).group_by(Person.home_unit_id)
    )).all()}
    rows = []
    for u in units:
        parent = by_id.get(u.parent_id) if u.parent_id is not None else None
        gs = titles.get(u.id, [])
        rows.append(SetupRow(u, parent.code if parent is not None else "", _unit_type_name(config, u), gs,
                             any(title_follows(t, u.name) for t in gs), pages.get(u.id, []), known.get(u.id, 0)))
    return rows


def setup_summary(rows: list[SetupRow]) -> list[str]:
    with_group = sum(r.has_group for r in rows)
    lines = texts_vi.setup_summary(len(rows), with_group, sum(bool(r.pages) for r in rows),
                                   sum(r.title_ok for r in rows))
    staffed = [r for r in rows if r.unit.staff]
    if staffed:
        lines.append(texts_vi.setup_known_line(sum(r.known for r in staffed), sum(r.unit.staff for r in staffed)))
    return lines


SETUP_COLUMNS = [Column(h, w, k) for h, w, k in zip(
    texts_vi.SETUP_HEADERS, (16, 36, 14, 16, 8, 36, 14, 44, 10, 10),
    ("text", "text", "text", "text", "text", "text", "text", "text", "int", "int"),
)]


def _setup_values(r: SetupRow) -> list:
    yn = {True: texts_vi.YES, False: texts_vi.NO}
    return [r.unit.code, r.unit.name, r.type_name, r.parent_code, yn[r.has_group], "; ".join(r.group_titles),
            yn[r.title_ok] if r.has_group else "", "\n".join(r.pages), r.known, r.unit.staff]


def write_setup(rows: list[SetupRow], target: str | IO[bytes], *, now: datetime, tz,
                root: Unit | None = None) -> None:
    made = _made_at(now, tz)
    name = root.name if root is not None else "Toàn hệ thống"
    title = f"{texts_vi.SETUP_TITLE} — {name} (lập lúc {made})"
    writer = ReportWriter(target)
    try:
        writer.summary(texts_vi.SHEET_SUMMARY, title, setup_summary(rows))
        writer.table(texts_vi.SHEET_SETUP, title, SETUP_COLUMNS, (_setup_values(r) for r in rows))
    finally:
        writer.close()


def setup_table(rows: list[SetupRow]) -> str:
    """The setup report as text for a terminal: one line per unit, tab-separated, then the summary."""
    lines = ["\t".join(texts_vi.SETUP_HEADERS)]
    for r in rows:
        values = _setup_values(r)
        values[7] = " ".join(r.pages)
        lines.append("\t".join("" if v is None else str(v) for v in values))
    lines.append("")
    lines += setup_summary(rows)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# /baocao


async def cmd_baocao(ctx: Context, args: tuple[str, ...]) -> None:
    """/baocao [tuan|thang|hocky|namhoc|YYYY-MM|thietlap]: the report of the unit and its subtree,
    to the asking admin's private chat; one line in the group."""
    await record_chat_admin(ctx)
    in_group = ctx.msg.chat.is_group
    if in_group and not await ctx.is_admin():
        ctx.reply(texts_vi.ADMINS_ONLY)
        return
    unit, rest = await resolve_unit(ctx, args)
    if unit is None:
        return
    if not await is_admin_of(ctx, unit):
        ctx.reply(texts_vi.ADMINS_ONLY)
        return
    setup = bool(rest) and rest[0].casefold() == SETUP_ARG
    period = None
    if not setup:
        try:
            if len(rest) > 1:
                raise ValueError
            period = parse_period(rest[0] if rest else "thang", ctx.now, ctx.tz, ctx.config.calendar)
        except ValueError:
            ctx.reply(texts_vi.bad_period_arg(" ".join(rest)[:40], texts_vi.REPORT_PERIODS))
            return
    if ctx.msg.chat.platform == "zalo":
        await _download_link(ctx, unit, period)
        return
    target = ctx.msg.chat if not in_group else private_chat_of(ctx)
    if target is None:
        ctx.reply(texts_vi.report_open_private(start_link(ctx)), quote=False)
        return
    if setup:
        rows = await setup_rows(ctx.uow, ctx.config, unit)
        buffer = io.BytesIO()
        write_setup(rows, buffer, now=ctx.now, tz=ctx.tz, root=unit)
        filename = f"thietlap_{unit.code}_{ctx.now.astimezone(ctx.tz):%Y-%m-%d}.xlsx"
        caption = f"{texts_vi.SETUP_TITLE} — {unit.name}."
        data = buffer.getvalue()
    else:
        data, caption = await _period_report_for_chat(ctx, unit, period)
        filename = report_filename(unit, period)
    ctx.out.append(SendDocument(target, filename, data, caption=caption,
                                reply_to=ctx.msg.message_id if not in_group else None))
    if in_group:
        ctx.reply(texts_vi.SENT_PRIVATELY)


# Zalo cannot send files: a link to the report, made on demand by whichever instance is asked.
DOWNLOAD_LIFETIME = timedelta(hours=24)
DOWNLOAD_PATH = "/web/tai/"


async def _download_link(ctx: Context, unit: Unit, period: Period | None) -> None:
    """SPEC §3.5: on a platform without files, a download link valid 24 hours when the web
    server has a public address; otherwise one line saying where reports are."""
    public = ctx.config.web.public_url.rstrip("/")
    if not public or period is None or ctx.person is None:
        ctx.reply(texts_vi.REPORT_NO_FILES_HERE)
        return
    from storage import web_tokens

    secret = await web_tokens.issue(ctx.uow.session, web_tokens.DOWNLOAD, ctx.person.id, ctx.now,
                                    DOWNLOAD_LIFETIME, subject=f"{unit.code}|{period.key}")
    label = texts_vi.period_label(period.kind.value, period.key, period.first_day, period.last_day)
    ctx.reply(texts_vi.report_download_link(unit.name, label, f"{public}{DOWNLOAD_PATH}{secret}"))


async def download_subject(uow: UnitOfWork, config: Config, secret: str, now: datetime
                           ) -> tuple[int, Unit, Period] | None:
    """(person id, unit, period) of a live download link; None for anything else."""
    from bot.domain.periods import period_by_key
    from storage import web_tokens
    from storage.models import WebToken

    person_id = await web_tokens.valid(uow.session, web_tokens.DOWNLOAD, secret, now)
    if person_id is None:
        return None
    subject = (await uow.session.execute(select(WebToken.subject).where(
        WebToken.token_hash == web_tokens.token_hash(secret)))).scalar_one_or_none() or ""
    code, _, key = subject.partition("|")
    unit = await uow.units.by_code(code)
    try:
        period = period_by_key(key, config.bot.tz, config.calendar)
    except ValueError:
        return None
    return (person_id, unit, period) if unit is not None else None


async def _period_report_for_chat(ctx: Context, unit: Unit, period: Period) -> tuple[bytes, str]:
    party_units = None if ctx.is_super_admin else await own_admin_units(
        ctx.uow, ctx.person.id if ctx.person is not None else None)
    if party_units is not None and ctx.chat_admin and ctx.group is not None and ctx.group.unit_id is not None:
        party_units.add(ctx.group.unit_id)
    view = await build_view(ctx.uow, ctx.config, unit, period, ctx.now)
    caption = texts_vi.report_caption(unit.name, view.label)
    buffer = io.BytesIO()
    await write_report(ctx.uow, ctx.config, unit, period, ctx.now, buffer, party_units=party_units, view=view)
    data = buffer.getvalue()
    if len(data) > TELEGRAM_FILE_LIMIT:
        # Too big for a chat: the same report without its list of links, and where to get it whole.
        buffer = io.BytesIO()
        await write_report(ctx.uow, ctx.config, unit, period, ctx.now, buffer, party_units=party_units,
                           include_links=False, view=view)
        data = buffer.getvalue()
        caption = caption + "\n" + texts_vi.REPORT_WITHOUT_LINKS
    return data, caption


# ---------------------------------------------------------------------------------------------
# The setup deadline reminder ([calendar] setup_deadline)


def setup_reminder_at(config: Config) -> datetime | None:
    """When the setup reminder is due: three days before the deadline, in the morning (UTC)."""
    deadline = getattr(config.calendar, "setup_deadline", None)
    if deadline is None:
        return None
    day = deadline - timedelta(days=SETUP_REMINDER_DAYS)
    from datetime import timezone

    return datetime.combine(day, SETUP_REMINDER_TIME, tzinfo=config.bot.tz).astimezone(timezone.utc)


async def compose_setup_reminder(uow: UnitOfWork, config: Config, kind: str, now: datetime, *,
                                 subtree: Unit | None = None) -> list:
    """Each unit still missing a page gets one line in its group(s); each parent's group gets the
    list of its children still missing a group or a page. Nothing without a deadline."""
    from handlers.rhythm import PlannedSend

    deadline = getattr(config.calendar, "setup_deadline", None)
    if deadline is None:
        return []
    rows = await setup_rows(uow, config, subtree)
    prefix = subtree.path if subtree is not None else "/"
    groups: dict[int, list[ChatRef]] = defaultdict(list)
    for unit_id, platform, chat_id, title in (await uow.session.execute(
        select(Group.unit_id, Group.platform, Group.chat_id, Group.title).join(Unit, Unit.id == Group.unit_id)
        .where(in_subtree(Unit.path, prefix), Group.active.is_(True), Group.community.is_(False))
        .order_by(Group.id)
    )).all():
        groups[unit_id].append(ChatRef(platform, chat_id, ChatKind.GROUP, title))
    when = format_date(deadline)
    period = deadline.isoformat()
    # One message per chat (a send is claimed once per chat, kind and period): a parent that
    # lacks a page itself hears both in one message.
    texts: dict[ChatRef, list[str]] = defaultdict(list)

    def send(chat: ChatRef, text: str) -> None:
        texts[chat].append(text)

    missing_by_parent: dict[int, list[str]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: name_key(r.unit.name)):
        gaps = ([texts_vi.SETUP_NO_GROUP] if not r.has_group else []) + ([texts_vi.SETUP_NO_PAGE] if not r.pages else [])
        if not gaps:
            continue
        if r.unit.parent_id is not None:
            missing_by_parent[r.unit.parent_id].append(f"— {r.unit.name}: {', '.join(gaps)}")
        if r.has_group and not r.pages:
            for chat in groups[r.unit.id]:
                send(chat, texts_vi.setup_deadline_unit(r.unit.name, when, texts_vi.SETUP_NO_PAGE))
    names = {r.unit.id: r.unit.name for r in rows}
    for parent_id, lines in missing_by_parent.items():
        for chat in groups.get(parent_id, []):
            send(chat, texts_vi.setup_deadline_parent(names.get(parent_id, ""), when, lines))
    return [PlannedSend(chat, kind, period, (SendText.of(chat, "\n\n".join(parts)),)) for chat, parts in texts.items()]
