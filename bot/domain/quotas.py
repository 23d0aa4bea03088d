"""Who met what, from counts and targets (SPEC §2 Quotas, Met, Holidays). Pure functions."""

from __future__ import annotations

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
    leave_from: date | None = None,
    leave_until: date | None = None,
) -> int:
    """Consecutive weeks met, newest first, ending with the current week if it is already met
    (an unfinished week does not break the streak). Holiday weeks and weeks of leave neither
    count nor break it; a target of 0 means there is no streak to speak of (0)."""
    if target <= 0:
        return 0
    n = 0
    for tally in tallies:
        if tally.holiday or on_leave(tally.week, leave_from, leave_until):
            continue
        if met(tally.count, target):
            n += 1
        elif tally.week.key == current_week_key:
            continue
        else:
            break
    return n
