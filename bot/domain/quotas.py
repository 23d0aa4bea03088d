"""Who met what, from counts and targets (SPEC §2 Quotas, Met, Holidays). Pure functions."""

from __future__ import annotations

from bisect import bisect_right

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Iterable

from bot.domain.periods import SchoolCalendar, is_holiday_week, week_of
from bot.domain.types import Period


def met(count: int, target: int) -> bool:
    """A target of 0 is always met (a disabled quota or a holiday week)."""
    return count >= target


@dataclass(frozen=True)
class WeekTally:
    week: Period
    count: int
    holiday: bool


def weekly_tallies(credit_times: Iterable[datetime], weeks: list[Period], cal: SchoolCalendar) -> list[WeekTally]:
    """Bucket credit times into the given weeks (times outside every week are ignored)."""
    counts = [0] * len(weeks)
    for moment in credit_times:
        for i, week in enumerate(weeks):
            if week.contains(moment):
                counts[i] += 1
                break
    return [WeekTally(w, c, is_holiday_week(w, cal)) for w, c in zip(weeks, counts)]


def weeks_back(now: datetime, tz: tzinfo, n: int) -> list[Period]:
    """The week containing ``now`` and the n-1 weeks before it, newest first."""
    current = week_of(now, tz)
    return [week_of(current.first_day - timedelta(weeks=i), tz) for i in range(n)]


def on_leave(period: Period, leave_from: date | None, leave_until: date | None) -> bool:
    """Leave is inclusive of its last day and exempts every period it overlaps (SPEC §2)."""
    if leave_until is None:
        return False
    return period.first_day <= leave_until and (leave_from is None or leave_from <= period.last_day)


def streak(
    tallies: list[WeekTally],
    target: int,
    current_week_key: str,
    leaves: Iterable[tuple[date, date]] = (),
) -> int:
    """Consecutive weeks met, newest first, ending with the current week if it is already met
    (an unfinished week does not break the streak). Holiday weeks and weeks of leave neither
    count nor break it; a target of 0 means there is no streak to speak of (0)."""
    if target <= 0:
        return 0
    leaves = tuple(leaves)
    n = 0
    for tally in tallies:
        if tally.holiday or any(on_leave(tally.week, lo, hi) for lo, hi in leaves):
            continue
        if met(tally.count, target):
            n += 1
        elif tally.week.key == current_week_key:
            continue
        else:
            break
    return n


# ---------------------------------------------------------------------------------------------
# A period's timeline: its weeks, its calendar months, and the segments they cut time into.
#
# Storage counts links per segment with one CASE expression (no time-zone arithmetic in SQL);
# these functions turn segment counts back into weeks and months. A segment lies inside exactly
# one week and at most one calendar month, so both can be summed from the same counts.


@dataclass(frozen=True)
class Timeline:
    period: Period
    weeks: tuple[Period, ...]  # the weeks belonging to the period (Thursday rule); a week: itself
    holiday: tuple[bool, ...]  # per week
    months: tuple[Period, ...]  # calendar months wholly inside the period (a month: itself)
    party_monthly: tuple[int, ...]  # per month, shrunk for holiday weeks
    boundaries: tuple[datetime, ...]  # UTC, sorted: segment i is [boundaries[i], boundaries[i+1])
    segment_week: tuple[int | None, ...]
    segment_month: tuple[int | None, ...]
    segment_in_period: tuple[bool, ...]  # inside the period's own dates (links shown for it)

    @property
    def start(self) -> datetime:
        return self.boundaries[0]

    @property
    def end(self) -> datetime:
        return self.boundaries[-1]

    @property
    def working_weeks(self) -> int:
        return sum(1 for h in self.holiday if not h)


def build_timeline(period: Period, tz: tzinfo, cal: SchoolCalendar, party_monthly: int) -> Timeline:
    from bot.domain.periods import month_of, party_monthly_target, weeks_belonging_to

    weeks = [period] if period.kind.value == "week" else weeks_belonging_to(period, tz)
    if not weeks:  # a custom span of a few days holds no Thursday: it is judged as its own week
        weeks = [week_of(period.first_day, tz)]
    months: list[Period] = []
    day = period.first_day.replace(day=1)
    while day <= period.last_day:
        month = month_of(day, tz)
        if period.first_day <= month.first_day and month.last_day <= period.last_day:
            months.append(month)
        day = month.last_day + timedelta(days=1)
    edges = {period.start, period.end}
    for p in (*weeks, *months):
        edges.update((p.start, p.end))
    bounds = sorted(edges)
    seg_week: list[int | None] = []
    seg_month: list[int | None] = []
    seg_in: list[bool] = []
    for lo in bounds[:-1]:
        seg_week.append(next((i for i, w in enumerate(weeks) if w.start <= lo < w.end), None))
        seg_month.append(next((i for i, m in enumerate(months) if m.start <= lo < m.end), None))
        seg_in.append(period.start <= lo < period.end)
    return Timeline(
        period=period,
        weeks=tuple(weeks),
        holiday=tuple(is_holiday_week(w, cal) for w in weeks),
        months=tuple(months),
        party_monthly=tuple(party_monthly_target(party_monthly, m, tz, cal) for m in months),
        boundaries=tuple(bounds),
        segment_week=tuple(seg_week),
        segment_month=tuple(seg_month),
        segment_in_period=tuple(seg_in),
    )


@dataclass(frozen=True)
class Rules:
    """The quotas of [quotas] that decide who met what."""

    staff_weekly: int = 1
    party_weekly: int = 1
    party_monthly: int = 4

    def weekly_target(self, party_member: bool) -> int:
        return max(self.staff_weekly, self.party_weekly) if party_member else self.staff_weekly


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What storage knows of one expected person for one timeline."""

    person_id: int
    party_member: bool
    joined: datetime  # first seen: weeks that ended before it are not held against them
    leaves: tuple[tuple[date, date], ...] = ()
    segment_counts: tuple[tuple[int, int], ...] = ()  # (segment index, links)


@dataclass(frozen=True, slots=True)
class PersonResult:
    """One person judged over one period.

    ``staff_met`` is the public judgement (the staff quota alone, the same rule for everyone:
    SPEC §2 Laggard); ``party_met`` is private (None for people who are not party members or
    who are exempt from the party quota for the whole period)."""

    person_id: int
    links: int  # links dated inside the period
    week_links: tuple[int, ...]  # per week of the timeline
    exempt: bool  # on leave, or not yet here, for every week that counts: in no denominator
    staff_met: bool
    party_met: bool | None

    @property
    def shared(self) -> bool:
        return self.links > 0

    @property
    def met(self) -> bool:
        return self.staff_met and self.party_met is not False

    @property
    def public_laggard(self) -> bool:
        return not self.exempt and not self.staff_met


def _leave_overlaps(period: Period, leaves: tuple[tuple[date, date], ...]) -> bool:
    return any(on_leave(period, first, last) for first, last in leaves)


def judge(facts: PersonFacts, tl: Timeline, rules: Rules, now: datetime) -> PersonResult:
    """SPEC §2 Met, for one person and one period, as of ``now``.

    A week is held against the person when it carries a quota (not a holiday week), they were
    not on leave in it, it had not ended before they were first seen, and it has started; a week
    still running counts only once met (a single-week period is always judged "so far", which is
    what /tinhhinh and the Friday reminder ask). Party members also need ``party_monthly`` links
    in each calendar month wholly inside the period that has ended (or, when the month is the
    period, has begun) and that no leave touches.
    """
    week_links = [0] * len(tl.weeks)
    month_links = [0] * len(tl.months)
    links = 0
    for seg, n in facts.segment_counts:
        w, m = tl.segment_week[seg], tl.segment_month[seg]
        if w is not None:
            week_links[w] += n
        if m is not None:
            month_links[m] += n
        if tl.segment_in_period[seg]:
            links += n
    single = len(tl.weeks) == 1
    eligible = [
        i for i, week in enumerate(tl.weeks)
        if not tl.holiday[i] and not _leave_overlaps(week, facts.leaves)
        and week.end > facts.joined and week.start <= now
    ]
    # A week still running is not held against anyone yet, except when it is the whole period.
    held = [i for i in eligible if single or tl.weeks[i].end <= now]
    exempt = not eligible
    staff_met = all(met(week_links[i], rules.staff_weekly) for i in held)
    party_met: bool | None = None
    if facts.party_member and not exempt:
        target = rules.weekly_target(True)
        # Months follow the weeks' rule: one still running is judged "so far" only when it is
        # the period itself (the month-end check); in a semester it waits until it has ended.
        months_ok = all(
            met(month_links[j], tl.party_monthly[j])
            for j, month in enumerate(tl.months)
            if (month.end <= now or (month.start <= now and month.start == tl.period.start
                                     and month.end == tl.period.end))
            and not _leave_overlaps(month, facts.leaves)
            # someone who arrived after the month's first week is not held to its monthly count
            and facts.joined < month.start + timedelta(days=7)
        )
        party_met = months_ok and all(met(week_links[i], target) for i in held)
    return PersonResult(
        person_id=facts.person_id,
        links=links,
        week_links=tuple(week_links),
        exempt=exempt,
        staff_met=staff_met if not exempt else True,
        party_met=party_met,
    )


def judgement_epoch(tl: Timeline, now: datetime) -> int:
    """How many of the timeline's week and month starts and ends have come by ``now``: ``judge``
    compares ``now`` with nothing else, so two moments of the same epoch judge everyone alike."""
    moments = sorted({p.start for p in (*tl.weeks, *tl.months)} | {p.end for p in (*tl.weeks, *tl.months)})
    return bisect_right(moments, now)


@dataclass(frozen=True)
class UnitFigures:
    """A unit's (or a subtree's) figures for one period; counts only, no names."""

    expected: int = 0  # people not exempt for the period
    shared: int = 0  # of them, with at least one link in the period
    met: int = 0  # of them, meeting the staff quota (the public figure)
    party_expected: int = 0
    party_met: int = 0
    links: int = 0
    page_posts: int = 0
    page_target: int = 0
    known: int = 0  # people the bot knows whose home unit this is (exempt or not)

    def plus_people(self, other: "UnitFigures") -> "UnitFigures":
        """Add another unit's people figures (a subtree's roll-up); page posts stay our own."""
        return UnitFigures(
            expected=self.expected + other.expected, shared=self.shared + other.shared,
            met=self.met + other.met, party_expected=self.party_expected + other.party_expected,
            party_met=self.party_met + other.party_met, links=self.links + other.links,
            page_posts=self.page_posts, page_target=self.page_target, known=self.known + other.known,
        )

    @property
    def pages_met(self) -> bool:
        return self.page_posts >= self.page_target


def unit_figures(results: Iterable[PersonResult], party_members: set[int], *, known: int,
                 page_posts: int, page_target: int) -> UnitFigures:
    expected = shared = met_ = party_expected = party_met = links = 0
    for r in results:
        links += r.links
        if r.exempt:
            continue
        expected += 1
        shared += r.shared
        met_ += r.staff_met
        if r.person_id in party_members and r.party_met is not None:
            party_expected += 1
            party_met += r.party_met
    return UnitFigures(expected, shared, met_, party_expected, party_met, links, page_posts, page_target, known)
