"""What the web dashboard shows (SPEC §3.8), platform- and HTML-neutral: who may see which unit,
and a unit's page — the same figures as /tinhhinh (handlers.views.build_view), its children
ranked, a 12-week trend per child from one set of week tallies (storage.trends), its laggards
for admins of the unit or above, party members' names only for the unit's own admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sqlalchemy import select

from bot.config import Config
from bot.domain.quotas import UnitFigures, on_leave, weeks_back
from bot.domain.periods import is_holiday_week
from bot.domain.ranking import name_key
from bot.domain.types import Period
from handlers.views import SubtreeView, build_view
from handlers.web_login import dashboard_roots, own_admin_of
from storage.models import Unit
from storage.tallies import PersonRow
from storage.trends import WeeklyPerson, weekly_links
from storage.uow import UnitOfWork

TREND_WEEKS = 12
SORTS = ("hoanthanh", "trang", "thamgia")


@dataclass(frozen=True)
class TrendPoint:
    week: Period
    met: int
    expected: int
    holiday: bool

    @property
    def share(self) -> float | None:
        return None if self.holiday or not self.expected else self.met / self.expected


@dataclass
class ChildRow:
    unit: Unit
    figures: UnitFigures
    rank: int | None
    empty: str | None  # "no_group" | "no_people": shown as "—", sorted last
    trend: list[TrendPoint]


@dataclass
class UnitPage:
    unit: Unit
    view: SubtreeView
    own_admin: bool
    trail: list[Unit]  # the visible units above it, outermost first
    children: list[ChildRow]
    trend: list[TrendPoint]  # the unit's whole subtree
    laggards: list[PersonRow]
    party_names: list[str] | None  # None: not this viewer's to see


async def visible_unit(uow: UnitOfWork, config: Config, person_id: int, code: str) -> tuple[Unit, list[Unit]] | None:
    """The unit of that code when the person may see it (their units and everything below),
    with their roots; None for anything else and for codes that do not exist alike."""
    if not code or len(code) > 64:
        return None
    unit = await uow.units.by_code(code)
    if unit is None:
        return None
    roots = await dashboard_roots(uow, config, person_id)
    if not any(unit.path.startswith(r.path) for r in roots):
        return None
    return unit, roots


def _sort_children(rows: list[ChildRow], sort: str) -> list[ChildRow]:
    ranked = [r for r in rows if r.empty is None]
    rest = [r for r in rows if r.empty is not None]
    if sort == "trang":
        ranked.sort(key=lambda r: (-_page_ratio(r.figures), r.rank or 0, name_key(r.unit.name)))
    elif sort == "thamgia":
        ranked.sort(key=lambda r: (-Fraction(r.figures.shared, r.figures.expected or 1), r.rank or 0,
                                   name_key(r.unit.name)))
    return ranked + rest


def _page_ratio(f: UnitFigures) -> Fraction:
    if f.page_target <= 0:
        return Fraction(1)
    return Fraction(min(f.page_posts, f.page_target), f.page_target)


def trend_of(people: list[WeeklyPerson], weeks: list[Period], holidays: list[bool], staff_weekly: int,
             now: datetime) -> list[TrendPoint]:
    """Per week: the people it was held against, and those who met the staff quota (the public
    rule of /tinhhinh); with no staff quota, those who shared at all."""
    target = max(staff_weekly, 1)
    points = []
    for i, week in enumerate(weeks):
        met = expected = 0
        if not holidays[i]:
            for p in people:
                if week.end <= p.joined or week.start > now or any(on_leave(week, lo, hi) for lo, hi in p.leaves):
                    continue
                expected += 1
                met += p.week_links[i] >= target
        points.append(TrendPoint(week, met, expected, holidays[i]))
    return points


async def unit_page(uow: UnitOfWork, config: Config, person_id: int, unit: Unit, roots: list[Unit],
                    period: Period, now: datetime, sort: str = "hoanthanh") -> UnitPage:
    view = await build_view(uow, config, unit, period, now)
    own = await own_admin_of(uow, config, person_id, unit)
    weeks = list(reversed(weeks_back(now, config.bot.tz, TREND_WEEKS)))
    holidays = [is_holiday_week(w, config.calendar) for w in weeks]
    weekly = await weekly_links(uow.session, unit, weeks)

    # Each person's top child of this unit (or the unit itself), from the materialised paths.
    kid_of: dict[int, int | None] = {}
    for uid, u in view.units.items():
        parts = u.path.strip("/").split("/")
        at = parts.index(str(unit.id)) if str(unit.id) in parts else len(parts)
        kid_of[uid] = int(parts[at + 1]) if at + 1 < len(parts) else None
    by_kid: dict[int | None, list[WeeklyPerson]] = {}
    for p in weekly.values():
        by_kid.setdefault(kid_of.get(p.unit_id), []).append(p)
    staff = view.rules.staff_weekly

    rows = []
    for r in view.ranked_children(unit.id):
        empty = None
        if r.rank is None:
            empty = "no_group" if not view.has_group_below(r.item.id) else "no_people"
        rows.append(ChildRow(r.item, r.figures, r.rank, empty,
                             trend_of(by_kid.get(r.item.id, []), weeks, holidays, staff, now)))

    ancestor_ids = [int(x) for x in unit.path.strip("/").split("/")[:-1] if x]
    trail: list[Unit] = []
    if ancestor_ids:
        above = {u.id: u for u in (await uow.session.execute(select(Unit).where(Unit.id.in_(ancestor_ids)))).scalars()}
        trail = [above[i] for i in ancestor_ids
                 if i in above and any(above[i].path.startswith(r.path) for r in roots)]

    show_people = not view.holiday and staff > 0
    return UnitPage(
        unit=unit, view=view, own_admin=own, trail=trail,
        children=_sort_children(rows, sort if sort in SORTS else "hoanthanh"),
        trend=trend_of(list(weekly.values()), weeks, holidays, staff, now),
        laggards=view.laggards(unit.id) if show_people else [],
        party_names=([p.name for p in view.party_shortfalls(unit.id)] if own and not view.holiday else None),
    )


def report_builder():
    """The unit page's report download (the same .xlsx as /baocao, SPEC §3.5), or None while
    this installation has no report module."""
    try:
        from handlers.reports import report_bytes, report_filename
    except ImportError:  # pragma: no cover - reports ship with the dashboard's release
        return None
    from handlers.web_login import is_super_admin

    async def build(uow: UnitOfWork, config: Config, unit: Unit, period: Period, person_id: int,
                    now: datetime) -> tuple[str, bytes]:
        # The per-member party column covers only the requester's own units (SPEC §3.5).
        data = await report_bytes(uow, config, unit, period, now, requester_person_id=person_id,
                                  super_admin=await is_super_admin(uow, config, person_id))
        return report_filename(unit, period), data

    return build
