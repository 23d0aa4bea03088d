"""The week's focus items and the posts units send up to their parents (SPEC §3.2 /tieudiem,
/guilen, /dexuat). Repositories flush but never commit: the unit of work owns the transaction.

A focus item belongs to the unit that set it and covers that unit's whole subtree; the items that
apply to a unit are those set by the unit itself or any unit above it for the week. What counts
as a focus share (storage.tallies.TallyRepository.focus) is read set-based over a subtree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, delete, func, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FocusItem, Group, Member, Nomination, Person, Submission, Unit, UnitPage
from storage.repositories import insert_ignore
from storage.subtree import in_subtree
from storage.tallies import PAGE_POST_LOOKBACK


@dataclass(frozen=True)
class FocusEntry:
    """One item as the commands show it."""

    kind: str  # page | post
    item_key: str
    url: str


@dataclass(frozen=True)
class Candidate:
    """Something a parent may pick for its focus: a child's nomination or a child's page post."""

    at: datetime
    kind: str  # nomination | page_post
    unit_name: str
    url: str  # canonical
    pending: bool  # a nomination not yet promoted (page posts: True)


@dataclass(frozen=True)
class Target:
    """A chat an announcement goes to: a group, or a person's private chat."""

    platform: str
    chat_id: str
    title: str | None
    group: bool


def ancestor_ids(unit: Unit) -> list[int]:
    return [int(part) for part in unit.path.strip("/").split("/") if part]


class FocusRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- focus items ------------------------------------------------------------------------------

    async def own_items(self, unit_id: int, week: str) -> list[FocusEntry]:
        """The items ``unit_id`` itself set for ``week``, in the order they were set."""
        rows = (await self.session.execute(
            select(FocusItem.kind, FocusItem.item_key, FocusItem.url)
            .where(FocusItem.unit_id == unit_id, FocusItem.week == week).order_by(FocusItem.id)
        )).all()
        return [FocusEntry(*r) for r in rows]

    async def applicable(self, unit: Unit, week: str) -> list[tuple[Unit, list[FocusEntry]]]:
        """The items that apply to ``unit`` for ``week``: set by it or by any unit above it,
        grouped by the unit that set them, from the top of the tree down."""
        rows = (await self.session.execute(
            select(Unit, FocusItem.kind, FocusItem.item_key, FocusItem.url)
            .join(FocusItem, FocusItem.unit_id == Unit.id)
            .where(Unit.id.in_(ancestor_ids(unit)), FocusItem.week == week)
            .order_by(Unit.depth, FocusItem.id)
        )).all()
        out: list[tuple[Unit, list[FocusEntry]]] = []
        for setter, kind, key, url in rows:
            if not out or out[-1][0].id != setter.id:
                out.append((setter, []))
            out[-1][1].append(FocusEntry(kind, key, url))
        return out

    async def add(self, unit_id: int, week: str, entry: FocusEntry, person_id: int | None, now: datetime) -> bool:
        """False when the item was already there (the unique index decides, not a check)."""
        return bool(await insert_ignore(self.session, FocusItem, dict(
            unit_id=unit_id, week=week, kind=entry.kind, item_key=entry.item_key, url=entry.url,
            created_by=person_id, created_at=now)))

    async def remove(self, unit_id: int, week: str, item_keys: list[str] | None) -> int:
        """Remove these items (None: all of them); how many went."""
        stmt = delete(FocusItem).where(FocusItem.unit_id == unit_id, FocusItem.week == week)
        if item_keys is not None:
            stmt = stmt.where(FocusItem.item_key.in_(item_keys))
        return (await self.session.execute(stmt.execution_options(synchronize_session=False))).rowcount or 0

    async def promote(self, setter: Unit, post_urls: list[str], now: datetime) -> int:
        """Nominations of these posts by units below ``setter`` are settled: it put them in focus."""
        if not post_urls:
            return 0
        below = select(Unit.id).where(in_subtree(Unit.path, setter.path), Unit.id != setter.id)
        result = await self.session.execute(
            update(Nomination)
            .where(Nomination.status == "pending", Nomination.canonical_url.in_(post_urls),
                   Nomination.unit_id.in_(below))
            .values(status="promoted", promoted_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0

    # --- who hears an announcement ----------------------------------------------------------------

    async def subtree_targets(self, unit: Unit, dm_platforms: tuple[str, ...]) -> list[Target]:
        """Every active bound group of the subtree, then the private chats, on platforms whose
        bots cannot sit in groups (Zalo), of the subtree's people (SPEC §3.6)."""
        groups = (await self.session.execute(
            select(Group.platform, Group.chat_id, Group.title)
            .join(Unit, Unit.id == Group.unit_id)
            .where(in_subtree(Unit.path, unit.path), Group.active.is_(True))
            .order_by(Unit.path, Group.id)
        )).all()
        targets = [Target(p, c, t, True) for p, c, t in groups]
        if dm_platforms:
            people = (await self.session.execute(
                select(Member.platform, Member.private_chat_id, Member.display_name)
                .join(Person, Person.id == Member.person_id)
                .join(Unit, Unit.id == Person.home_unit_id)
                .where(in_subtree(Unit.path, unit.path), Member.active.is_(True),
                       Member.platform.in_(dm_platforms), Member.private_chat_id.is_not(None),
                       Member.unreachable.is_(False))
                .order_by(Member.id)
            )).all()
            seen: set[tuple[str, str]] = set()
            for platform, chat, name in people:
                if (platform, chat) not in seen:
                    seen.add((platform, chat))
                    targets.append(Target(platform, chat, name, False))
        return targets

    async def unit_groups(self, unit_id: int) -> list[Target]:
        """The unit's own active groups, community groups left out (they are the sector's)."""
        rows = (await self.session.execute(
            select(Group.platform, Group.chat_id, Group.title)
            .where(Group.unit_id == unit_id, Group.active.is_(True), Group.community.is_(False))
            .order_by(Group.id)
        )).all()
        return [Target(p, c, t, True) for p, c, t in rows]

    # --- nominations ------------------------------------------------------------------------------

    async def nominate(self, unit: Unit, canonical: str, original: str, person_id: int | None,
                       now: datetime) -> tuple[Nomination, bool]:
        """The unit's nomination of this post, and whether it is new (once per unit and post)."""
        inserted = await insert_ignore(self.session, Nomination, dict(
            unit_id=unit.id, parent_id=unit.parent_id, canonical_url=canonical, original_url=original,
            created_by=person_id, created_at=now, status="pending"))
        row = (await self.session.execute(
            select(Nomination).where(Nomination.unit_id == unit.id, Nomination.canonical_url == canonical)
        )).scalar_one()
        return row, bool(inserted)

    async def candidates(self, parent: Unit, week_start: datetime, week_end: datetime,
                         limit: int = 200) -> list[Candidate]:
        """What ``parent`` may pick this week, oldest first so that numbers stay put as more
        arrive: the nominations of its direct children still pending (or promoted this week),
        and its direct children's page posts first shared this week."""
        noms = (await self.session.execute(
            select(Nomination.created_at, Unit.name, Nomination.canonical_url, Nomination.status)
            .join(Unit, Unit.id == Nomination.unit_id)
            .where(Nomination.parent_id == parent.id, Unit.parent_id == parent.id,
                   (Nomination.status == "pending") | (Nomination.promoted_at >= week_start))
            .order_by(Nomination.created_at, Nomination.id).limit(limit)
        )).all()
        out = [Candidate(at, "nomination", name, url, status == "pending") for at, name, url, status in noms]

        live = and_(Submission.withdrawn_at.is_(None), Submission.created_at >= week_start - PAGE_POST_LOOKBACK,
                    Submission.created_at < week_end)
        is_child = Unit.parent_id == parent.id
        by_page = (select(UnitPage.unit_id.label("unit_id"), Submission.canonical_url.label("url"),
                          Submission.created_at.label("at"))
                   .join(Submission, Submission.page_key == UnitPage.page_key)
                   .join(Unit, Unit.id == UnitPage.unit_id).where(is_child, live))
        marked = (select(Submission.page_unit_id.label("unit_id"), Submission.canonical_url.label("url"),
                         Submission.created_at.label("at"))
                  .join(Unit, Unit.id == Submission.page_unit_id)
                  .where(is_child, live, Submission.is_page_post))  # as ix_submissions_page_post
        both = union(by_page, marked).subquery()
        first = (select(both.c.unit_id, both.c.url, func.min(both.c.at).label("first_at"))
                 .group_by(both.c.unit_id, both.c.url).subquery())
        posts = (await self.session.execute(
            select(first.c.first_at, Unit.name, first.c.url)
            .join(Unit, Unit.id == first.c.unit_id)
            .where(first.c.first_at >= week_start)
            .order_by(first.c.first_at, first.c.url).limit(limit)
        )).all()
        nominated = {c.url for c in out}
        for at, name, url in posts:
            if url not in nominated:
                out.append(Candidate(_aware(at), "page_post", name, url, True))
        out.sort(key=lambda c: (c.at, c.kind, c.url))
        return out[:limit]


def _aware(value) -> datetime:
    """MIN() over a union loses the column's type on SQLite: turn its text back into UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
