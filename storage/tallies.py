"""Set-based reads for every view over a subtree (/tinhhinh, /xephang, the weekly jobs, reports).

A fixed number of queries per view, whatever the number of units and people: the subtree's
units, its expected people with their accounts, their leaves, their links per segment of the
period's timeline, the page posts per unit, and the bound groups. Everything else is pure
(bot.domain.quotas, bot.domain.ranking).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Sequence

from sqlalchemy import and_, case, distinct, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.quotas import PersonFacts, Timeline
from bot.domain.types import UserRef
from storage.models import Group, Leave, Member, Person, Submission, Unit, UnitPage
from storage.subtree import ancestor_paths, in_subtree

# A post shared again long after it was published counts again as a page post of that period:
# looking further back would make every view scan the whole history of every page.
PAGE_POST_LOOKBACK = timedelta(days=35)


@dataclass(slots=True)
class PersonRow:
    person_id: int
    unit_id: int
    party_member: bool
    joined: datetime
    accounts: list[tuple[UserRef, str | None]] = field(default_factory=list)  # (account, private chat id)

    @property
    def name(self) -> str:
        return self.accounts[0][0].display_name if self.accounts else "?"

    def account_on(self, platform: str) -> UserRef | None:
        return next((u for u, _ in self.accounts if u.platform == platform), None)

    def private_chats(self) -> list[tuple[str, str]]:
        """(platform, chat id) of every private chat the person has opened with the bot."""
        return [(u.platform, chat) for u, chat in self.accounts if chat]


@dataclass
class GroupRow:
    group_id: int
    unit_id: int
    platform: str
    chat_id: str
    title: str | None
    community: bool


@dataclass
class Snapshot:
    """Everything a view needs of one subtree and one timeline."""

    units: list[Unit]
    people: dict[int, PersonRow]
    facts: dict[int, PersonFacts]
    page_posts: dict[int, int]
    groups: list[GroupRow]
    # Per unit, live links in the period whose author was erased on request (`members forget`):
    # the unit keeps their contribution as an anonymous count, no person is expected for it.
    anonymous_links: dict[int, int] = field(default_factory=dict)


@dataclass
class FocusFacts:
    """The focus items that bear on a subtree and who shared one of them."""

    setters: list[tuple[int, str, str]]  # (unit that set items, its path, week key)
    shared: dict[int, set[str]]  # person -> the weeks in which they shared an item that applies to them

    def weeks_for(self, unit_path: str) -> set[str]:
        """The weeks in which some focus item applies to the unit with this path."""
        return {week for _, path, week in self.setters if unit_path.startswith(path)}


class TallyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def snapshot(self, root: Unit | None, tl: Timeline, *, with_groups: bool = True) -> Snapshot:
        """The subtree of ``root`` (None: every unit) for the timeline ``tl``: six queries."""
        prefix = root.path if root is not None else "/"
        in_tree = in_subtree(Unit.path, prefix)
        units = list((await self.session.execute(select(Unit).where(in_tree).order_by(Unit.path))).scalars())

        # Expected people: active accounts whose person's home unit is in the subtree and who
        # were first seen before the period ended.
        rows = (await self.session.execute(
            select(Person.id, Person.home_unit_id, Person.party_member, Person.created_at,
                   Member.platform, Member.user_id, Member.display_name, Member.username,
                   Member.private_chat_id)
            .join(Member, Member.person_id == Person.id)
            .join(Unit, Unit.id == Person.home_unit_id)
            .where(in_tree, Member.active.is_(True), Person.created_at < tl.end)
            .order_by(Person.id, Member.id)
        )).all()
        people: dict[int, PersonRow] = {}
        for pid, unit_id, party, created, platform, user_id, name, username, private in rows:
            row = people.get(pid)
            if row is None:
                row = people[pid] = PersonRow(pid, unit_id, bool(party), created)
            row.accounts.append((UserRef(platform, user_id, name, username), private))

        leaves: dict[int, list[tuple[date, date]]] = defaultdict(list)
        first_day, last_day = tl.weeks[0].first_day, tl.weeks[-1].last_day
        first_day = min(first_day, tl.period.first_day)
        last_day = max(last_day, tl.period.last_day)
        for pid, lo, hi in (await self.session.execute(
            select(Leave.person_id, Leave.first_day, Leave.last_day)
            .join(Person, Person.id == Leave.person_id)
            .join(Unit, Unit.id == Person.home_unit_id)
            .where(in_tree, Leave.last_day >= first_day, Leave.first_day <= last_day)
        )).all():
            leaves[pid].append((lo, hi))

        # Links per person and segment: the CASE turns a time into its segment's index.
        bounds = tl.boundaries
        segment = case(*[(Submission.created_at < bounds[i + 1], i) for i in range(len(bounds) - 1)])
        counts: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for pid, seg, n in (await self.session.execute(
            select(Submission.person_id, segment.label("seg"), func.count())
            .join(Person, Person.id == Submission.person_id)
            .join(Unit, Unit.id == Person.home_unit_id)
            .where(in_tree, Submission.withdrawn_at.is_(None),
                   Submission.created_at >= tl.start, Submission.created_at < tl.end)
            .group_by(Submission.person_id, "seg")
        )).all():
            counts[pid].append((int(seg), int(n)))

        facts = {
            pid: PersonFacts(pid, row.party_member, row.joined, tuple(leaves.get(pid, ())), tuple(counts.get(pid, ())))
            for pid, row in people.items()
        }
        page_posts = await self._page_posts(in_tree, tl.period.start, tl.period.end)
        groups = await self._groups(in_tree) if with_groups else []
        anonymous = await self._anonymous_links(in_tree, tl.period.start, tl.period.end)
        return Snapshot(units, people, facts, page_posts, groups, anonymous)

    async def _anonymous_links(self, in_tree, start: datetime, end: datetime) -> dict[int, int]:
        """Live links in [start, end) of people erased on request, per unit they were credited to."""
        stmt = (
            select(Submission.unit_id, func.count())
            .join(Unit, Unit.id == Submission.unit_id)
            .where(in_tree, Submission.person_id.is_(None), Submission.withdrawn_at.is_(None),
                   Submission.created_at >= start, Submission.created_at < end)
            .group_by(Submission.unit_id)
        )
        return {int(u): int(n) for u, n in (await self.session.execute(stmt)).all()}

    async def _page_posts(self, in_tree, start: datetime, end: datetime) -> dict[int, int]:
        """Distinct posts per unit first shared in [start, end): posts of the unit's registered
        pages (decided now, so posts shared before `/trang them` count too) and links marked
        with #trang for it. Each post counts once however many people shared it."""
        # Each arm is one range search per unit (ix_submissions_page_key_created, and the partial
        # ix_submissions_page_post, which SQLite uses only for the condition written exactly as
        # its own: the bare boolean column, "is_page_post = 1"). Each arm folds its rows to the
        # first share per post before they meet: UNION ALL then needs no temporary B-tree of
        # every link of six weeks, and min() does not mind a post found by both arms.
        live = and_(Submission.withdrawn_at.is_(None), Submission.created_at >= start - PAGE_POST_LOOKBACK,
                    Submission.created_at < end)
        by_page = (
            select(UnitPage.unit_id.label("unit_id"), Submission.canonical_url.label("url"),
                   func.min(Submission.created_at).label("at"))
            .join(Submission, Submission.page_key == UnitPage.page_key)
            .join(Unit, Unit.id == UnitPage.unit_id)
            .where(in_tree, live)
            .group_by(UnitPage.unit_id, Submission.canonical_url)
        )
        marked = (
            select(Submission.page_unit_id.label("unit_id"), Submission.canonical_url.label("url"),
                   func.min(Submission.created_at).label("at"))
            .join(Unit, Unit.id == Submission.page_unit_id)
            .where(in_tree, live, Submission.is_page_post)
            .group_by(Submission.page_unit_id, Submission.canonical_url)
        )
        both = union_all(by_page, marked).subquery()
        first = (select(both.c.unit_id, both.c.url, func.min(both.c.at).label("first_at"))
                 .group_by(both.c.unit_id, both.c.url).subquery())
        stmt = (select(first.c.unit_id, func.count()).where(first.c.first_at >= start)
                .group_by(first.c.unit_id))
        return {int(u): int(n) for u, n in (await self.session.execute(stmt)).all()}

    async def _groups(self, in_tree) -> list[GroupRow]:
        rows = (await self.session.execute(
            select(Group.id, Group.unit_id, Group.platform, Group.chat_id, Group.title, Group.community)
            .join(Unit, Unit.id == Group.unit_id)
            .where(in_tree, Group.active.is_(True))
            .order_by(Unit.path, Group.id)
        )).all()
        return [GroupRow(*r) for r in rows]

    async def focus(self, root: Unit | None, tl: Timeline) -> "FocusFacts":
        """Who shared one of the week's focus items (SPEC §3.2 /tieudiem), for every person of
        the subtree at once: two statements whatever the number of people, the second only when
        some focus item applies. The items that apply to a person are those set for the week of
        the link by their home unit or any unit above it; a link matches a page item by its page
        key (any post of the page) and a post item by its canonical URL (share links that name
        no page match only that way)."""
        from sqlalchemy.orm import aliased

        from storage.models import FocusItem

        prefix = root.path if root is not None else "/"
        weeks = {w.key: w for w in tl.weeks}
        setters = [
            (int(uid), path, week) for uid, path, week in (await self.session.execute(
                select(FocusItem.unit_id, Unit.path, FocusItem.week).distinct()
                .join(Unit, Unit.id == FocusItem.unit_id)
                .where(FocusItem.week.in_(list(weeks)),
                       # inside the subtree, or above it (its items cover the whole subtree)
                       or_(in_subtree(Unit.path, prefix), Unit.path.in_(ancestor_paths(prefix))))
            )).all()
        ]
        if not setters:
            return FocusFacts([], {})
        home, setter = aliased(Unit), aliased(Unit)
        week_of_link = case(*[(and_(Submission.created_at >= w.start, Submission.created_at < w.end), literal(key))
                              for key, w in weeks.items()])
        matches = or_(and_(FocusItem.kind == "page", Submission.page_key == FocusItem.item_key),
                      and_(FocusItem.kind == "post", Submission.canonical_url == FocusItem.item_key))
        start = min(w.start for w in weeks.values())
        end = max(w.end for w in weeks.values())
        shared: dict[int, set[str]] = defaultdict(set)
        # No DISTINCT: with it SQLite (without statistics) walks the whole partial index of live
        # links in person order instead of the period's slice of the time index; the rows are
        # the focus shares of the period, few, and the sets below fold them.
        for pid, week in (await self.session.execute(
            select(Submission.person_id, FocusItem.week)
            .join(Person, Person.id == Submission.person_id)
            .join(home, home.id == Person.home_unit_id)
            .join(FocusItem, and_(FocusItem.week == week_of_link, matches))
            .join(setter, setter.id == FocusItem.unit_id)
            .where(in_subtree(home.path, prefix), home.path.startswith(setter.path),
                   Submission.withdrawn_at.is_(None), Submission.created_at >= start, Submission.created_at < end)
        )).all():
            shared[int(pid)].add(week)
        return FocusFacts(setters, dict(shared))

    async def units_with_children(self, root: Unit | None) -> set[int]:
        prefix = root.path if root is not None else "/"
        stmt = select(distinct(Unit.parent_id)).where(in_subtree(Unit.path, prefix), Unit.parent_id.is_not(None))
        return {int(x) for x in (await self.session.execute(stmt)).scalars()}


async def own_admin_chats(session: AsyncSession, unit_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """Per unit, the private chats (platform, chat id) of its OWN admins (by code or seen as a
    group administrator) — not admins of parent units: a department would get 530 lists."""
    from storage.models import UnitRole

    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if not unit_ids:
        return out
    rows = (await session.execute(
        select(UnitRole.unit_id, Member.platform, Member.private_chat_id)
        .join(Member, Member.person_id == UnitRole.person_id)
        .where(UnitRole.unit_id.in_(list(unit_ids)), UnitRole.role.in_(("admin", "chat_admin")),
               Member.private_chat_id.is_not(None), Member.active.is_(True))
        .distinct()
    )).all()
    for unit_id, platform, chat in rows:
        if (platform, chat) not in out[unit_id]:
            out[unit_id].append((platform, chat))
    return out
