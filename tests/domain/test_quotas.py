"""Quota evaluation at every edge of SPEC §2 (Quotas, Laggard, Met, Holidays, Who is expected).

Each case is one person judged over one period as of one moment. Links are written as local
dates (10:00 in Hà Nội) or exact local times; they are stored in UTC and counted per segment of
the period's timeline exactly as storage's CASE expression does, then judged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.periods import (
    SchoolCalendar,
    custom_period,
    month_of,
    school_year_by_key,
    semester_by_key,
    week_of,
)
from bot.domain.quotas import (
    PersonFacts,
    PersonResult,
    Rules,
    Timeline,
    WeekTally,
    build_timeline,
    judge,
    judgement_epoch,
    on_leave,
    streak,
    unit_figures,
)
from bot.domain.types import Period

VN = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = timezone.utc
CAL = SchoolCalendar()
RULES = Rules()  # staff_weekly 1, party_weekly 1, party_monthly 4
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """A local wall time in Hà Nội, as storage keeps it (UTC)."""
    return datetime(y, m, d, hh, mm, tzinfo=VN).astimezone(UTC)


def as_time(x: date | datetime) -> datetime:
    return x if isinstance(x, datetime) else local(x.year, x.month, x.day)


def segment_counts(tl: Timeline, times) -> tuple[tuple[int, int], ...]:
    """Storage's count: only times in [start, end); segment i is the first i with
    t < boundaries[i + 1] (the CASE's WHEN order), i.e. [boundaries[i], boundaries[i + 1])."""
    counts: Counter[int] = Counter()
    for t in times:
        if not tl.start <= t < tl.end:
            continue
        counts[next(i for i in range(len(tl.boundaries) - 1) if t < tl.boundaries[i + 1])] += 1
    return tuple(sorted(counts.items()))


def wednesdays(first: date, last: date, skip: tuple[date, ...] = ()) -> tuple[date, ...]:
    """One link every Wednesday from ``first`` to ``last``, except the listed ones."""
    day = first + timedelta(days=(2 - first.weekday()) % 7)
    out = []
    while day <= last:
        if day not in skip:
            out.append(day)
        day += timedelta(days=7)
    return tuple(out)


def holidays(*spans: tuple[date, date]) -> SchoolCalendar:
    return SchoolCalendar(holidays=tuple(spans))


# Periods used below (calendars are printed where the Thursday rule matters).
W48 = week_of(date(2026, 11, 23), VN)  # Mon 23/11 – Sun 29/11/2026
# May 2026: Fri 1 – Sun 31. 1–3 May lie in the week of Thu 30/04, which belongs to April;
# May's weeks are 4/5 – 31/5 (four of them).
MAY = month_of(date(2026, 5, 1), VN)
# April 2026: Wed 1 – Thu 30. Its weeks are 30/03 – 03/05 (five: Thu 2, 9, 16, 23, 30 April).
APRIL = month_of(date(2026, 4, 1), VN)
# February 2026: Sun 1 – Sat 28. 1/2 lies in January's last week; Feb's weeks: 2/2 – 1/3.
FEB = month_of(date(2026, 2, 1), VN)
HK1 = semester_by_key("2026-2027-HK1", VN)  # 01/09/2026 – 14/01/2027, weeks 31/08 – 17/01
YEAR = school_year_by_key("2026-2027", VN)  # 01/09/2026 – 31/05/2027, weeks 31/08 – 30/05

FRI_1500_W48 = local(2026, 11, 27, 15, 0)  # the Friday reminder
AFTER_W48 = local(2026, 12, 1)
AFTER_MAY = local(2026, 6, 2)
AFTER_APRIL = local(2026, 5, 5)
AFTER_FEB = local(2026, 3, 3)
AFTER_HK1 = local(2027, 1, 20)
AFTER_YEAR = local(2027, 6, 2)

MAY_WEEKLY = (date(2026, 5, 6), date(2026, 5, 13), date(2026, 5, 20), date(2026, 5, 27))


@dataclass(frozen=True)
class Case:
    id: str
    period: Period
    now: datetime
    links: tuple = ()
    party: bool = False
    joined: datetime = LONG_AGO
    leaves: tuple[tuple[date, date], ...] = ()
    rules: Rules = RULES
    cal: SchoolCalendar = CAL
    # what the person is judged to be
    exempt: bool = False
    staff_met: bool = True
    party_met: bool | None = None
    links_in_period: int | None = None


def run(case: Case, *, party: bool | None = None) -> PersonResult:
    tl = build_timeline(case.period, VN, case.cal, case.rules.party_monthly)
    facts = PersonFacts(
        person_id=1,
        party_member=case.party if party is None else party,
        joined=case.joined,
        leaves=case.leaves,
        segment_counts=segment_counts(tl, [as_time(x) for x in case.links]),
    )
    return judge(facts, tl, case.rules, case.now)


CASES = [
    # --- one week: staff quota for everyone, party quotas on top -------------------------------
    Case("week: no link is a laggard", W48, AFTER_W48, staff_met=False),
    Case("week: one link meets the staff quota", W48, AFTER_W48, links=(date(2026, 11, 25),)),
    Case("week: party member with one link meets both", W48, AFTER_W48, links=(date(2026, 11, 25),),
         party=True, party_met=True),
    Case("week: party member with no link lags on both", W48, AFTER_W48, party=True,
         staff_met=False, party_met=False),
    Case("week: party_weekly 2 above staff 1: a party-only shortfall stays private", W48, AFTER_W48,
         links=(date(2026, 11, 25),), party=True, rules=Rules(1, 2, 4), staff_met=True, party_met=False),
    Case("week: party_weekly 2 reached", W48, AFTER_W48, links=(date(2026, 11, 24), date(2026, 11, 25)),
         party=True, rules=Rules(1, 2, 4), party_met=True),
    Case("week: staff 2 above party 1: a party member needs max(2, 1)", W48, AFTER_W48,
         links=(date(2026, 11, 25),), party=True, rules=Rules(2, 1, 4), staff_met=False, party_met=False),
    Case("week: staff 2, two links", W48, AFTER_W48, links=(date(2026, 11, 23), date(2026, 11, 29)),
         rules=Rules(2, 1, 4)),
    # --- staff_weekly = 0 -------------------------------------------------------------------------
    Case("staff 0: nobody who is not a party member lags", W48, AFTER_W48, rules=Rules(0, 1, 4)),
    Case("staff 0: a party member without links is met publicly, not privately", W48, AFTER_W48,
         party=True, rules=Rules(0, 1, 4), staff_met=True, party_met=False),
    Case("staff 0 over a month: nobody lags", MAY, AFTER_MAY, rules=Rules(0, 1, 4)),
    # --- the week still running --------------------------------------------------------------------
    Case("week so far: Friday 15:00 without a link lags (the reminder)", W48, FRI_1500_W48, staff_met=False),
    Case("week so far: a link on Monday is enough", W48, FRI_1500_W48, links=(date(2026, 11, 23),)),
    Case("week not begun: nobody is expected", W48, local(2026, 11, 22, 23, 0), exempt=True),
    Case("month so far: the running week is not held against anyone", MAY, local(2026, 5, 28),
         links=MAY_WEEKLY[:3]),
    Case("month so far: a past week missed is", MAY, local(2026, 5, 28),
         links=MAY_WEEKLY[:2], staff_met=False),
    Case("month so far: weeks not begun are not held", MAY, local(2026, 5, 12), links=MAY_WEEKLY[:1]),
    Case("month so far, first week: nobody lags yet", MAY, local(2026, 5, 5)),
    # --- time zone edges (Asia/Ho_Chi_Minh, UTC+7; stored in UTC) ----------------------------------
    Case("tz: Sunday 23:30 local belongs to that week", W48, AFTER_W48, links=(local(2026, 11, 29, 23, 30),)),
    Case("tz: Monday 00:00 local starts the week", W48, AFTER_W48, links=(local(2026, 11, 23, 0, 0),)),
    Case("tz: Sunday 23:59 local before the week is not in it", W48, AFTER_W48,
         links=(local(2026, 11, 22, 23, 59),), staff_met=False, links_in_period=0),
    Case("tz: Monday 00:30 local after the week is not in it", W48, AFTER_W48,
         links=(local(2026, 11, 30, 0, 30),), staff_met=False, links_in_period=0),
    Case("tz: 23:30 local on 31 May is in May's last week and in May", MAY, AFTER_MAY,
         links=MAY_WEEKLY[:3] + (local(2026, 5, 31, 23, 30),), party=True, party_met=True,
         rules=Rules(1, 1, 4)),
    # --- who is expected: first seen mid-week ---------------------------------------------------
    Case("joined Wednesday: expected that week", W48, AFTER_W48, joined=local(2026, 11, 25, 9, 0),
         staff_met=False),
    Case("joined Sunday 23:00: still expected that week", W48, AFTER_W48, joined=local(2026, 11, 29, 23, 0),
         staff_met=False),
    Case("joined as the week ended: not expected", W48, AFTER_W48, joined=local(2026, 11, 30, 0, 0),
         exempt=True),
    Case("joined in May's third week: the first two are not held", MAY, AFTER_MAY,
         joined=local(2026, 5, 20), links=MAY_WEEKLY[2:]),
    Case("joined in May's third week: the later ones are", MAY, AFTER_MAY,
         joined=local(2026, 5, 20), links=MAY_WEEKLY[2:3], staff_met=False),
    # --- leave, inclusive of its last day ------------------------------------------------------------
    Case("leave ending on the week's Monday exempts the week", W48, AFTER_W48,
         leaves=((date(2026, 11, 10), date(2026, 11, 23)),), exempt=True),
    Case("leave ending the Sunday before does not", W48, AFTER_W48,
         leaves=((date(2026, 11, 10), date(2026, 11, 22)),), staff_met=False),
    Case("leave starting on the week's Sunday exempts it", W48, AFTER_W48,
         leaves=((date(2026, 11, 29), date(2026, 12, 5)),), exempt=True),
    Case("leave starting the Monday after does not", W48, AFTER_W48,
         leaves=((date(2026, 11, 30), date(2026, 12, 5)),), staff_met=False),
    Case("leave of one day exempts the week, for party members too", W48, AFTER_W48, party=True,
         leaves=((date(2026, 11, 25), date(2026, 11, 25)),), exempt=True, party_met=None),
    Case("leave in May's 2nd week: that week is not held, the others are", MAY, AFTER_MAY,
         links=(MAY_WEEKLY[0],) + MAY_WEEKLY[2:], leaves=((date(2026, 5, 12), date(2026, 5, 12)),)),
    Case("leave in May's 2nd week exempts the month: 3 links are enough", MAY, AFTER_MAY, party=True,
         links=(MAY_WEEKLY[0],) + MAY_WEEKLY[2:], leaves=((date(2026, 5, 12), date(2026, 5, 12)),),
         party_met=True),
    Case("without that leave the same links fail the week and the month", MAY, AFTER_MAY, party=True,
         links=(MAY_WEEKLY[0],) + MAY_WEEKLY[2:], staff_met=False, party_met=False),
    Case("leave ending Sun 3 May overlaps May: the month is exempt, its weeks are not", MAY, AFTER_MAY,
         party=True, rules=Rules(1, 1, 5), links=MAY_WEEKLY,
         leaves=((date(2026, 4, 27), date(2026, 5, 3)),), party_met=True),
    Case("leave for the whole month: exempt", MAY, AFTER_MAY, party=True,
         leaves=((date(2026, 4, 20), date(2026, 6, 10)),), exempt=True),
    # --- a week belongs to the month of its Thursday ---------------------------------------------
    Case("May: one link in each of its four weeks", MAY, AFTER_MAY, links=MAY_WEEKLY, links_in_period=4),
    Case("May: links on 1–3 May fall in April's week, May's first week is missed", MAY, AFTER_MAY,
         links=(date(2026, 5, 2),) + MAY_WEEKLY[1:], staff_met=False, links_in_period=4),
    Case("May: 1–3 May count for the calendar month (party_monthly 5)", MAY, AFTER_MAY, party=True,
         rules=Rules(1, 1, 5), links=(date(2026, 5, 2),) + MAY_WEEKLY, party_met=True, links_in_period=5),
    Case("May: without them, 4 of 5", MAY, AFTER_MAY, party=True, rules=Rules(1, 1, 5), links=MAY_WEEKLY,
         party_met=False),
    Case("May: four links in one week meet the month's count but not its weeks", MAY, AFTER_MAY,
         party=True, links=(date(2026, 5, 12),) * 4, staff_met=False, party_met=False),
    Case("April: its first week starts Mon 30 March, its last ends Sun 3 May", APRIL, AFTER_APRIL,
         links=(date(2026, 3, 31), date(2026, 4, 7), date(2026, 4, 14), date(2026, 4, 21), date(2026, 5, 2)),
         links_in_period=3),
    Case("April: those links meet every week but give 3 of 4 in the calendar month", APRIL, AFTER_APRIL,
         party=True,
         links=(date(2026, 3, 31), date(2026, 4, 7), date(2026, 4, 14), date(2026, 4, 21), date(2026, 5, 2)),
         party_met=False),
    Case("April: one more on 28/04 makes 4", APRIL, AFTER_APRIL, party=True,
         links=(date(2026, 3, 31), date(2026, 4, 7), date(2026, 4, 14), date(2026, 4, 21), date(2026, 4, 28),
                date(2026, 5, 2)),
         party_met=True),
    Case("Feb: a link on Sun 1/2 is inside the month but in January's week", FEB, AFTER_FEB,
         links=(date(2026, 2, 1),), staff_met=False, links_in_period=1),
    Case("Feb: a link on Sun 1/3 is in Feb's last week but not in the month", FEB, AFTER_FEB,
         links=(date(2026, 2, 4), date(2026, 2, 11), date(2026, 2, 18), date(2026, 3, 1)), links_in_period=3),
    # --- the monthly check (last day 15:00): the running week is not held ------------------------
    Case("check on 31 May: a party member 3 of 4, last week running", MAY, local(2026, 5, 31, 15, 0),
         party=True, links=MAY_WEEKLY[:3], staff_met=True, party_met=False),
    Case("check on 31 May: 4 of 4", MAY, local(2026, 5, 31, 15, 0), party=True, links=MAY_WEEKLY,
         party_met=True),
    Case("check on 31 May: 4 links, one week missed", MAY, local(2026, 5, 31, 15, 0), party=True,
         links=(MAY_WEEKLY[0],) * 2 + MAY_WEEKLY[2:], staff_met=False, party_met=False),
    Case("joined on 5 May: held to the month's count", MAY, AFTER_MAY, party=True, rules=Rules(1, 1, 5),
         joined=local(2026, 5, 5), links=MAY_WEEKLY, party_met=False),
    Case("joined on 20 May: not held to the month's count, only to its weeks", MAY, AFTER_MAY, party=True,
         rules=Rules(1, 1, 5), joined=local(2026, 5, 20), links=MAY_WEEKLY[2:], party_met=True),
    # --- holidays ------------------------------------------------------------------------------------
    Case("holiday week: nobody lags", W48, AFTER_W48, cal=holidays((date(2026, 11, 23), date(2026, 11, 27))),
         exempt=True),
    Case("four holidays of five are no holiday week", W48, AFTER_W48,
         cal=holidays((date(2026, 11, 23), date(2026, 11, 26))), staff_met=False),
    Case("May with one holiday week: party_monthly 4 × 3/4 = 3", MAY, AFTER_MAY, party=True,
         cal=holidays((date(2026, 5, 18), date(2026, 5, 22))),
         links=(MAY_WEEKLY[0], MAY_WEEKLY[1], MAY_WEEKLY[3]), party_met=True),
    Case("May with one holiday week: a working week missed still fails", MAY, AFTER_MAY, party=True,
         cal=holidays((date(2026, 5, 18), date(2026, 5, 22))),
         links=(MAY_WEEKLY[0], MAY_WEEKLY[3], MAY_WEEKLY[3]), staff_met=False, party_met=False),
    Case("May with one holiday week: party_monthly 5 × 3/4 rounds up to 4, 3 are not enough", MAY, AFTER_MAY,
         party=True, rules=Rules(1, 1, 5), cal=holidays((date(2026, 5, 18), date(2026, 5, 22))),
         links=(MAY_WEEKLY[0], MAY_WEEKLY[1], MAY_WEEKLY[3]), party_met=False),
    Case("May with one holiday week: 4 are", MAY, AFTER_MAY,
         party=True, rules=Rules(1, 1, 5), cal=holidays((date(2026, 5, 18), date(2026, 5, 22))),
         links=(MAY_WEEKLY[0], MAY_WEEKLY[1], MAY_WEEKLY[3], date(2026, 5, 1)), party_met=True),
    Case("April with 4 holiday weeks of 5: 4 × 1/5 rounds up to 1", APRIL, AFTER_APRIL, party=True,
         cal=holidays((date(2026, 4, 6), date(2026, 5, 1))), links=(date(2026, 4, 2),), party_met=True),
    Case("April with 4 holiday weeks of 5: the one link must be in April", APRIL, AFTER_APRIL, party=True,
         cal=holidays((date(2026, 4, 6), date(2026, 5, 1))), links=(date(2026, 3, 31),), party_met=False),
    # --- semester and school year ----------------------------------------------------------------
    Case("HK1: a link every Wednesday", HK1, AFTER_HK1, party=True,
         links=wednesdays(date(2026, 8, 31), date(2027, 1, 17)), party_met=True),
    Case("HK1: one Wednesday missed", HK1, AFTER_HK1, party=True,
         links=wednesdays(date(2026, 8, 31), date(2027, 1, 17), skip=(date(2026, 10, 7),)),
         staff_met=False, party_met=False),
    Case("HK1: the missed week is a holiday week, but October still needs ⌈4 × 4/5⌉ = 4", HK1, AFTER_HK1,
         party=True, cal=holidays((date(2026, 10, 5), date(2026, 10, 9))),
         links=wednesdays(date(2026, 8, 31), date(2027, 1, 17), skip=(date(2026, 10, 7),)),
         staff_met=True, party_met=False),
    Case("HK1: the missed week is a holiday week, October has 4", HK1, AFTER_HK1,
         party=True, cal=holidays((date(2026, 10, 5), date(2026, 10, 9))),
         links=wednesdays(date(2026, 8, 31), date(2027, 1, 17), skip=(date(2026, 10, 7),)) + (date(2026, 10, 2),),
         party_met=True),
    Case("HK1: every week met but October has 3 links in the calendar month", HK1, AFTER_HK1, party=True,
         links=tuple(d for d in wednesdays(date(2026, 8, 31), date(2027, 1, 17))
                     if d not in (date(2026, 9, 30), date(2026, 10, 28)))
         + (date(2026, 9, 29), date(2026, 11, 1)),
         staff_met=True, party_met=False),
    Case("HK1: January is not wholly inside, so its count is not asked", HK1, AFTER_HK1, party=True,
         links=wednesdays(date(2026, 8, 31), date(2026, 12, 31)) + (date(2027, 1, 4), date(2027, 1, 11)),
         party_met=True),
    Case("HK1 so far (a Thursday): the running week and running month are not held", HK1,
         local(2026, 10, 15), party=True, links=wednesdays(date(2026, 8, 31), date(2026, 10, 11)),
         party_met=True),
    Case("HK1 so far: a past month short is held", HK1, local(2026, 10, 15), party=True,
         links=(date(2026, 8, 31), date(2026, 9, 9), date(2026, 9, 16), date(2026, 9, 23), date(2026, 10, 1),
                date(2026, 10, 7)),
         staff_met=True, party_met=False),
    Case("May so far (the month is the period): judged on what it has", MAY, local(2026, 5, 12), party=True,
         links=MAY_WEEKLY[:1], party_met=False),
    Case("range 1–31/5 so far is May itself", custom_period(date(2026, 5, 1), date(2026, 5, 31), VN),
         local(2026, 5, 31, 15, 0), party=True, links=MAY_WEEKLY[:3], party_met=False),
    Case("HK1 so far: a past week missed is held", HK1, local(2026, 10, 15), party=True,
         links=wednesdays(date(2026, 8, 31), date(2026, 10, 4)), staff_met=False, party_met=False),
    Case("school year with Tết (8–19/02/2027): two weeks carry no quota, Feb needs 4 × 2/4", YEAR, AFTER_YEAR,
         party=True, cal=holidays((date(2027, 2, 8), date(2027, 2, 19))),
         links=wednesdays(date(2026, 8, 31), date(2027, 5, 30), skip=(date(2027, 2, 10), date(2027, 2, 17))),
         party_met=True),
    Case("school year: a week missed in May", YEAR, AFTER_YEAR,
         links=wednesdays(date(2026, 8, 31), date(2027, 5, 30), skip=(date(2027, 5, 19),)), staff_met=False),
    # --- any range -------------------------------------------------------------------------------
    Case("range 23–25/11 (no Thursday): judged as its week so far", custom_period(date(2026, 11, 23),
         date(2026, 11, 25), VN), local(2026, 11, 25, 20, 0), staff_met=False),
    Case("range 1–30/11: its weeks and November as a whole", custom_period(date(2026, 11, 1),
         date(2026, 11, 30), VN), local(2026, 12, 10), party=True,
         links=wednesdays(date(2026, 11, 1), date(2026, 11, 29)), party_met=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_judge(case: Case) -> None:
    r = run(case)
    got = {"exempt": r.exempt, "staff_met": r.staff_met, "party_met": r.party_met,
           "public_laggard": r.public_laggard}
    want = {"exempt": case.exempt, "staff_met": case.staff_met, "party_met": case.party_met,
            "public_laggard": not case.exempt and not case.staff_met}
    if case.links_in_period is not None:
        got["links"], want["links"] = r.links, case.links_in_period
    assert got == want
    if not case.party:
        assert r.party_met is None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_public_judgement_ignores_party_membership(case: Case) -> None:
    """The same person as a party member and not: every public figure is the same."""
    a, b = run(case, party=True), run(case, party=False)
    assert (a.exempt, a.staff_met, a.public_laggard, a.links, a.week_links, a.shared) == (
        b.exempt, b.staff_met, b.public_laggard, b.links, b.week_links, b.shared)


# ---------------------------------------------------------------------------------------------
# The timeline itself


@pytest.mark.parametrize(
    "period, cal, weeks, months, party_monthly",
    [
        (W48, CAL, [(date(2026, 11, 23), date(2026, 11, 29))], [], ()),
        (MAY, CAL, [(date(2026, 5, 4 + 7 * i), date(2026, 5, 10 + 7 * i)) for i in range(4)], ["2026-05"], (4,)),
        (APRIL, CAL, [(date(2026, 3, 30) + timedelta(weeks=i), date(2026, 4, 5) + timedelta(weeks=i))
                      for i in range(5)], ["2026-04"], (4,)),
        (MAY, holidays((date(2026, 5, 18), date(2026, 5, 22))), 4, ["2026-05"], (3,)),
        (APRIL, holidays((date(2026, 4, 6), date(2026, 5, 1))), 5, ["2026-04"], (1,)),
        # Holidays of every working day: nothing is asked at all.
        (MAY, holidays((date(2026, 5, 1), date(2026, 5, 31))), 4, ["2026-05"], (0,)),
        (HK1, CAL, 20, ["2026-09", "2026-10", "2026-11", "2026-12"], (4, 4, 4, 4)),
        (YEAR, holidays((date(2027, 2, 8), date(2027, 2, 19))), 39,
         ["2026-09", "2026-10", "2026-11", "2026-12", "2027-01", "2027-02", "2027-03", "2027-04", "2027-05"],
         (4, 4, 4, 4, 4, 2, 4, 4, 4)),
    ],
)
def test_timeline(period, cal, weeks, months, party_monthly) -> None:
    tl = build_timeline(period, VN, cal, 4)
    if isinstance(weeks, int):
        assert len(tl.weeks) == weeks
    else:
        assert [(w.first_day, w.last_day) for w in tl.weeks] == weeks
    assert [m.key for m in tl.months] == months
    assert tl.party_monthly == party_monthly
    assert tl.working_weeks == sum(1 for h in tl.holiday if not h)
    # Segments tile the timeline; each lies in at most one week and one month.
    assert list(tl.boundaries) == sorted(set(tl.boundaries))
    assert tl.start == min(tl.weeks[0].start, period.start)
    assert tl.end == max(tl.weeks[-1].end, period.end)
    for i, (lo, hi) in enumerate(zip(tl.boundaries, tl.boundaries[1:])):
        w, m = tl.segment_week[i], tl.segment_month[i]
        if w is not None:
            assert tl.weeks[w].start <= lo and hi <= tl.weeks[w].end
        if m is not None:
            assert tl.months[m].start <= lo and hi <= tl.months[m].end
        assert tl.segment_in_period[i] == (period.start <= lo and hi <= period.end)


def test_week_links_and_period_links_are_counted_apart() -> None:
    """February 2026: Sun 1/2 is in the month but January's week; Sun 1/3 is the reverse."""
    tl = build_timeline(FEB, VN, CAL, 4)
    times = [local(2026, 2, 1), local(2026, 2, 3), local(2026, 2, 3), local(2026, 3, 1, 23, 59)]
    r = judge(PersonFacts(1, False, LONG_AGO, (), segment_counts(tl, times)), tl, RULES, AFTER_FEB)
    assert r.week_links == (2, 0, 0, 1)
    assert r.links == 3


# ---------------------------------------------------------------------------------------------
# A unit's figures: counts only


def test_unit_figures() -> None:
    def result(pid, *, exempt=False, staff=True, party=None, links=0) -> PersonResult:
        return PersonResult(pid, links, (links,), exempt, staff, party)

    results = [
        result(1, links=2),  # met
        result(2, staff=False),  # laggard
        result(3, links=1, party=True),  # party member, met
        result(4, links=1, party=False),  # party member, met publicly, not privately
        result(5, exempt=True, links=3),  # on leave: in no denominator, their links still count
        result(6, exempt=True),  # party member on leave
    ]
    f = unit_figures(results, {3, 4, 6}, known=6, page_posts=2, page_target=1)
    assert (f.expected, f.shared, f.met, f.party_expected, f.party_met, f.links, f.known) == (4, 3, 3, 2, 1, 7, 6)
    assert f.pages_met


# ---------------------------------------------------------------------------------------------
# Property: party membership never changes the public judgement


PERIODS = [W48, MAY, APRIL, FEB, HK1, custom_period(date(2026, 11, 3), date(2026, 11, 20), VN)]
SPAN_START = local(2026, 1, 20)
SPAN_DAYS = 400


@settings(max_examples=200, deadline=None)
@given(
    period=st.sampled_from(PERIODS),
    offsets=st.lists(st.integers(0, SPAN_DAYS * 24 * 60), max_size=25),
    joined_days=st.integers(0, SPAN_DAYS),
    now_days=st.integers(0, SPAN_DAYS),
    leave=st.one_of(st.none(), st.tuples(st.integers(0, SPAN_DAYS), st.integers(0, 20))),
    holiday=st.one_of(st.none(), st.tuples(st.integers(0, SPAN_DAYS), st.integers(0, 20))),
    quotas=st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 6)),
)
def test_flipping_party_member_changes_nothing_public(period, offsets, joined_days, now_days, leave, holiday,
                                                      quotas) -> None:
    day0 = date(2026, 1, 20)
    cal = CAL if holiday is None else holidays(
        (day0 + timedelta(days=holiday[0]), day0 + timedelta(days=holiday[0] + holiday[1])))
    leaves = () if leave is None else (
        (day0 + timedelta(days=leave[0]), day0 + timedelta(days=leave[0] + leave[1])),)
    case = Case(
        "property", period, SPAN_START + timedelta(days=now_days),
        links=tuple(SPAN_START + timedelta(minutes=m) for m in offsets),
        joined=SPAN_START + timedelta(days=joined_days), leaves=leaves, rules=Rules(*quotas), cal=cal,
    )
    a, b = run(case, party=True), run(case, party=False)
    assert (a.exempt, a.staff_met, a.public_laggard, a.links, a.week_links) == (
        b.exempt, b.staff_met, b.public_laggard, b.links, b.week_links)
    assert b.party_met is None
    # A party member meets the private judgement only if they meet the public one too.
    if a.party_met:
        assert a.staff_met
    # The unit's public figures are the same whoever is a party member.
    fa = unit_figures([a], {1}, known=1, page_posts=0, page_target=0)
    fb = unit_figures([b], set(), known=1, page_posts=0, page_target=0)
    assert (fa.expected, fa.shared, fa.met, fa.links) == (fb.expected, fb.shared, fb.met, fb.links)


@settings(max_examples=300, deadline=None)
@given(
    period=st.sampled_from(PERIODS),
    offsets=st.lists(st.integers(0, SPAN_DAYS * 24 * 60), max_size=25),
    joined_days=st.integers(0, SPAN_DAYS),
    minutes=st.tuples(st.integers(0, SPAN_DAYS * 24 * 60), st.integers(0, 10 * 24 * 60)),
    party=st.booleans(),
    leave=st.one_of(st.none(), st.tuples(st.integers(0, SPAN_DAYS), st.integers(0, 20))),
)
def test_moments_of_one_judgement_epoch_judge_alike(period, offsets, joined_days, minutes, party, leave) -> None:
    """Views are kept per judgement epoch (handlers.views): two moments of one epoch must judge
    every person the same, and moments that judge differently must be in different epochs."""
    day0 = date(2026, 1, 20)
    leaves = () if leave is None else (
        (day0 + timedelta(days=leave[0]), day0 + timedelta(days=leave[0] + leave[1])),)
    tl = build_timeline(period, VN, CAL, RULES.party_monthly)
    facts = PersonFacts(1, party, SPAN_START + timedelta(days=joined_days), leaves,
                        segment_counts(tl, [SPAN_START + timedelta(minutes=m) for m in offsets]))
    a = SPAN_START + timedelta(minutes=minutes[0])
    b = a + timedelta(minutes=minutes[1])  # close moments: a week's or a month's end between them
    if judge(facts, tl, RULES, a) != judge(facts, tl, RULES, b):
        assert judgement_epoch(tl, a) != judgement_epoch(tl, b)


def test_a_month_ending_mid_week_starts_a_new_judgement_epoch() -> None:
    """30/09/2026 is a Wednesday: in the semester, a party member with one link a week falls
    short of six a month when September ends, not at the next week's end."""
    rules = Rules(1, 1, 6)
    tl = build_timeline(HK1, VN, CAL, rules.party_monthly)
    links = [local(2026, 9, 2) + timedelta(weeks=k) for k in range(4)]
    facts = PersonFacts(1, True, LONG_AGO, (), segment_counts(tl, links))
    before, after = local(2026, 9, 30, 23, 0), local(2026, 10, 1, 1, 0)
    assert judge(facts, tl, rules, before).party_met is True
    assert judge(facts, tl, rules, after).party_met is False
    assert judgement_epoch(tl, before) != judgement_epoch(tl, after)
    assert judgement_epoch(tl, before) == judgement_epoch(tl, local(2026, 9, 30, 8, 0))


# ---------------------------------------------------------------------------------------------
# /toi's helpers: leave overlap and the streak of weeks met


@pytest.mark.parametrize(
    "leave, exempt",
    [
        ((date(2026, 11, 10), date(2026, 11, 23)), True),  # ends on the week's Monday
        ((date(2026, 11, 10), date(2026, 11, 22)), False),  # ends the Sunday before
        ((date(2026, 11, 29), date(2026, 12, 3)), True),  # starts on its Sunday
        ((date(2026, 11, 30), date(2026, 12, 3)), False),  # starts the Monday after
        ((date(2026, 11, 25), date(2026, 11, 25)), True),  # one day inside
        ((date(2026, 11, 1), date(2026, 12, 31)), True),  # covers it
    ],
)
def test_on_leave(leave, exempt) -> None:
    assert on_leave(W48, *leave) is exempt


def _tallies(*weeks: tuple[int, bool]) -> list[WeekTally]:
    """(count, holiday) per week, newest first, ending with W48 (the current week)."""
    return [WeekTally(week_of(W48.first_day - timedelta(weeks=i), VN), n, h) for i, (n, h) in enumerate(weeks)]


@pytest.mark.parametrize(
    "tallies, target, leaves, want",
    [
        (_tallies((1, False), (1, False), (0, False), (1, False)), 1, (), 2),
        # The current week not met yet does not break it.
        (_tallies((0, False), (1, False), (1, False)), 1, (), 2),
        # A past week not met does.
        (_tallies((1, False), (0, False), (1, False)), 1, (), 1),
        # Holiday weeks and weeks of leave neither count nor break it.
        (_tallies((1, False), (0, True), (1, False)), 1, (), 2),
        (_tallies((1, False), (0, False), (1, False)), 1, ((date(2026, 11, 20), date(2026, 11, 20)),), 2),
        # A party member's weekly target.
        (_tallies((1, False), (2, False), (2, False)), 2, (), 2),
        (_tallies((5, False), (5, False)), 0, (), 0),
    ],
)
def test_streak(tallies, target, leaves, want) -> None:
    assert streak(tallies, target, W48.key, leaves) == want
