"""One subtree over one period, judged: the shared ground of /tinhhinh, /xephang, the weekly jobs
and (later) the reports and the dashboard. A fixed number of queries (storage.tallies), then pure
judgement (bot.domain.quotas) and ranking (bot.domain.ranking)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.config import Config
from bot.domain import texts_vi
from bot.domain.quotas import (
    PersonResult,
    Rules,
    Timeline,
    UnitFigures,
    build_timeline,
    judge,
    judgement_epoch,
    unit_figures,
)
from bot.domain.ranking import Ranked, name_key, rank_units
from bot.domain.types import Mention, Period, Segment
from handlers.focus_figures import FocusFigures, focus_figures
from storage.models import Unit
from storage.tallies import GroupRow, PersonRow
from storage.uow import UnitOfWork


def rules_of(config: Config) -> Rules:
    q = config.quotas
    return Rules(q.staff_weekly, q.party_weekly, q.party_monthly)


@dataclass
class SubtreeView:
    root: Unit | None
    tl: Timeline
    now: datetime
    units: dict[int, Unit]
    children: dict[int | None, list[int]]
    people: dict[int, PersonRow]
    results: dict[int, PersonResult]
    own: dict[int, UnitFigures]  # a unit's own people and its own page posts
    rollup: dict[int, UnitFigures]  # the people of its whole subtree, its own page posts
    groups: dict[int, list[GroupRow]]  # active bound groups per unit
    rules: Rules
    # Focus completion (/tieudiem): per unit's own people and per subtree; who shared an item.
    focus_own: dict[int, FocusFigures] = field(default_factory=dict)
    focus_rollup: dict[int, FocusFigures] = field(default_factory=dict)
    focus_people: set[int] = field(default_factory=set)
    # Built once by build_view: a department's reminders ask these once per unit, and walking
    # 18,000 people for each of 541 units was most of the weekly job's time.
    people_by_unit: dict[int, list[PersonRow]] = field(default_factory=dict)
    units_with_group_below: set[int] = field(default_factory=set)

    @property
    def holiday(self) -> bool:
        return all(self.tl.holiday)

    @property
    def label(self) -> str:
        p = self.tl.period
        return texts_vi.period_label(p.kind.value, p.key, p.first_day, p.last_day)

    def people_of(self, unit_id: int) -> list[PersonRow]:
        return list(self.people_by_unit.get(unit_id, ()))

    def people_below(self, unit_id: int) -> list[PersonRow]:
        rows: list[PersonRow] = []
        stack = [unit_id]
        while stack:
            uid = stack.pop()
            rows.extend(self.people_by_unit.get(uid, ()))
            stack.extend(self.children.get(uid, ()))
        # In the snapshot's order (by person id), as when this filtered the whole view.
        rows.sort(key=lambda p: p.person_id)
        return rows

    def laggards(self, unit_id: int) -> list[PersonRow]:
        """Below the staff quota (the public rule, the same for everyone): fewest links first,
        then by name. Party membership plays no part in who is listed or in what order."""
        rows = [p for p in self.people_of(unit_id) if self.results[p.person_id].public_laggard]
        return sorted(rows, key=lambda p: (self.results[p.person_id].links, name_key(p.name), p.person_id))

    def party_shortfalls(self, unit_id: int) -> list[PersonRow]:
        """Party members below a party quota: for private messages only."""
        rows = [p for p in self.people_of(unit_id)
                if p.party_member and self.results[p.person_id].party_met is False]
        return sorted(rows, key=lambda p: name_key(p.name))

    def is_behind(self, unit_id: int) -> bool:
        fig = self.rollup[unit_id]
        return fig.met < fig.expected or not fig.pages_met

    def ranked_children(self, unit_id: int | None) -> list[Ranked[Unit]]:
        rows = []
        for child_id in self.children.get(unit_id, []):
            fig = self.rollup[child_id]
            rankable = bool(self.has_group_below(child_id))
            rows.append((self.units[child_id], fig, rankable))
        return rank_units(rows, name_of=lambda u: name_key(u.name))

    def focus_figures(self, unit_id: int, *, own: bool = False) -> FocusFigures:
        """k/N of the expected people (of the subtree, or with ``own`` of the unit alone) who
        shared one of the focus items that applied to them; ``applies`` False: none was set."""
        return (self.focus_own if own else self.focus_rollup).get(unit_id, FocusFigures())

    def focus_done(self, person_id: int) -> bool:
        """The person shared a focus item that applied to them in the period."""
        return person_id in self.focus_people

    def has_group_below(self, unit_id: int) -> bool:
        return unit_id in self.units_with_group_below


# Views of at least this many people are kept between calls (a school's is built in ~10 ms; a
# department's judges 18,000 people, ~0.5 s): see build_view.
CACHED_FROM_PEOPLE = 500


async def build_view(uow: UnitOfWork, config: Config, root: Unit | None, period: Period,
                     now: datetime) -> SubtreeView:
    """The subtree of ``root`` (None: every unit) over ``period``, judged as of ``now``.

    Large views are kept in the unit of work's cache (one per database and process) under the
    view stamp read before their rows: reused while no transaction has written what views read
    (storage.db.NOT_VIEWED lists what they do not), under the same configuration, and for a
    ``now`` in the same judgement epoch (no week or month of the period has started or ended
    since). A view read by a transaction that itself wrote is not kept: it could still roll back.
    """
    cache = getattr(uow, "view_cache", None)
    if cache is None:
        return await _build_view(uow, config, root, period, now)
    stamp = await uow.view_stamp()
    key = (root.id if root is not None else None, period)
    kept = cache.get(key, stamp)
    if kept is not None:
        kept_config, epoch, view = kept
        if kept_config is config and epoch == judgement_epoch(view.tl, now):
            return replace(view, root=root, now=now)
    view = await _build_view(uow, config, root, period, now)
    if len(view.people) >= CACHED_FROM_PEOPLE and not await uow.writes_views():
        cache.put(key, stamp, (config, judgement_epoch(view.tl, now), _kept(view)), weight=len(view.people))
    return view


def _kept(view: SubtreeView) -> SubtreeView:
    """The view with its units copied out of the session: a rollback expires the session's
    objects, and a kept view outlives its transaction (units have no relationships to lose)."""
    columns = [c.key for c in Unit.__mapper__.column_attrs]
    units = {uid: Unit(**{k: getattr(u, k) for k in columns}) for uid, u in view.units.items()}
    return replace(view, units=units, root=None)


async def _build_view(uow: UnitOfWork, config: Config, root: Unit | None, period: Period,
                      now: datetime) -> SubtreeView:
    rules = rules_of(config)
    tl = build_timeline(period, config.bot.tz, config.calendar, rules.party_monthly)
    snap = await uow.tallies.snapshot(root, tl)
    units = {u.id: u for u in snap.units}
    children: dict[int | None, list[int]] = defaultdict(list)
    for u in snap.units:
        if root is not None and u.id == root.id:
            continue
        children[u.parent_id if u.parent_id in units else None].append(u.id)
    for ids in children.values():
        ids.sort(key=lambda i: name_key(units[i].name))
    results = {pid: judge(f, tl, rules, now) for pid, f in snap.facts.items()}
    by_unit: dict[int, list[PersonResult]] = defaultdict(list)
    party: set[int] = set()
    known: dict[int, int] = defaultdict(int)
    for pid, row in snap.people.items():
        by_unit[row.unit_id].append(results[pid])
        known[row.unit_id] += 1
        if row.party_member:
            party.add(pid)
    weeks = tl.working_weeks
    own: dict[int, UnitFigures] = {}
    for uid, u in units.items():
        unit_type = config.unit_types.get(u.type)
        target = (unit_type.weekly_page_posts if unit_type else 0) * weeks
        own[uid] = unit_figures(by_unit.get(uid, []), party, known=known.get(uid, 0),
                                page_posts=snap.page_posts.get(uid, 0), page_target=target)
        if snap.anonymous_links.get(uid):
            from dataclasses import replace as _replace

            # Links of people erased on request still count for their unit (SPEC §3.4).
            own[uid] = _replace(own[uid], links=own[uid].links + snap.anonymous_links[uid])
    rollup: dict[int, UnitFigures] = {}
    # Deepest first, so each unit adds its children's finished roll-ups.
    for uid in sorted(units, key=lambda i: -units[i].depth):
        fig = own[uid]
        for child in children.get(uid, []):
            fig = fig.plus_people(rollup[child])
        rollup[uid] = fig
    groups: dict[int, list[GroupRow]] = defaultdict(list)
    for g in snap.groups:
        groups[g.unit_id].append(g)
    people_by_unit: dict[int, list[PersonRow]] = defaultdict(list)
    for row in snap.people.values():
        people_by_unit[row.unit_id].append(row)
    with_group_below: set[int] = set()
    for uid in groups:
        # Up the tree until a unit already marked: its ancestors are marked too.
        while uid in units and uid not in with_group_below:
            with_group_below.add(uid)
            uid = units[uid].parent_id
    focus_own, focus_rollup, focus_people = focus_figures(units, children, snap.people, results,
                                                         await uow.tallies.focus(root, tl))
    return SubtreeView(root, tl, now, units, children, snap.people, results, own, rollup, groups, rules,
                       focus_own, focus_rollup, focus_people, dict(people_by_unit), with_group_below)


def mention_list(people: list[PersonRow], platform: str, limit: int = 30,
                 *, mention: bool = True) -> list[Segment]:
    """Names, at most ``limit``, then "và N người khác": mentions on the chat's own platform
    (which notify without a username); plain names elsewhere."""
    parts: list[Segment] = []
    for i, person in enumerate(people[:limit]):
        if i:
            parts.append(", ")
        account = person.account_on(platform) if mention else None
        parts.append(Mention(account) if account is not None else person.name)
    if len(people) > limit:
        parts.append(texts_vi.and_more(len(people) - limit))
    return parts
