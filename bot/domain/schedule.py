"""The schedule syntax of SPEC §3.3 and the moments it names, in the configured time zone.

PURE: no clock reads. The scheduler only *triggers*; what is due is decided by comparing
``latest_occurrence(spec, now, tz)`` with what was already sent, so catching up after downtime
and moving a test clock need nothing more than these two functions.

Syntax (any case, any amount of white space between the parts):

- weekly  ``<day> HH:MM``  with day ``mon``…``sun`` or Vietnamese ``t2``…``t7``, ``cn``;
- monthly ``last HH:MM`` (last day of the month) or ``<1-28> HH:MM`` (days 29–31 are refused:
  they do not exist every month);
- ``off`` disables the job (``parse_schedule`` returns None).

Wall times are local to the configured zone. A wall time that a DST change skips or repeats is
resolved with ``zoneinfo``'s fold=0 rule (the earlier offset), which Vietnam never needs.
"""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

__all__ = [
    "WeeklyAt",
    "MonthlyAt",
    "Schedule",
    "parse_schedule",
    "format_schedule",
    "latest_occurrence",
    "next_occurrence",
]

_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Vietnamese counts the days from Sunday: thứ hai (t2) is Monday, chủ nhật (cn) is Sunday.
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAYS: dict[str, int] = {
    **{name: i for i, name in enumerate(_WEEKDAY_NAMES)},
    **{name: i for i, name in enumerate(_FULL_NAMES)},
    **{f"t{i + 2}": i for i in range(6)},
    "cn": 6,
}


@dataclass(frozen=True)
class WeeklyAt:
    """Every week on ``weekday`` (0 = Monday) at local time ``at``."""

    weekday: int
    at: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, got {self.weekday}")

    def __str__(self) -> str:
        return f"{_WEEKDAY_NAMES[self.weekday]} {self.at:%H:%M}"


@dataclass(frozen=True)
class MonthlyAt:
    """Every month on ``day`` (None = the last day of the month) at local time ``at``."""

    day: int | None
    at: time

    def __post_init__(self) -> None:
        if self.day is not None and not 1 <= self.day <= 28:
            raise ValueError(f"day must be 1..28 or None, got {self.day}")

    def __str__(self) -> str:
        return f"{'last' if self.day is None else self.day} {self.at:%H:%M}"


Schedule = WeeklyAt | MonthlyAt

_SYNTAX = re.compile(r"(\S+)\s+(\d{1,2}):(\d{2})")
_HINT = "dạng “fri 15:00”, “t6 15:00”, “last 15:00”, “1 08:00” hoặc “off”"


def _bad(text: str, detail: str | None = None) -> ValueError:
    flat = " ".join(text.split())
    if len(flat) > 40:
        flat = flat[:39] + "…"
    explained = f" — {detail}" if detail else f" ({_HINT})"
    return ValueError(f"lịch không hợp lệ: “{flat}”{explained}")


def parse_schedule(text: str) -> Schedule | None:
    """``WeeklyAt`` / ``MonthlyAt`` for a schedule string, None for ``off``, else ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"lịch phải là chuỗi ({_HINT})")
    stripped = text.strip().lower()
    if stripped == "off":
        return None
    m = _SYNTAX.fullmatch(stripped)
    if not m:
        raise _bad(text)
    word, hour, minute = m[1], int(m[2]), int(m[3])
    if hour > 23 or minute > 59:
        raise _bad(text, f"giờ {m[2]}:{m[3]} không tồn tại")
    at = time(hour, minute)
    if word == "last":
        return MonthlyAt(day=None, at=at)
    if word.isdigit():
        day = int(word)
        if not 1 <= day <= 28:
            raise _bad(text, "ngày trong tháng phải từ 1 đến 28, hoặc “last” cho ngày cuối tháng")
        return MonthlyAt(day=day, at=at)
    if word in _DAYS:
        return WeeklyAt(weekday=_DAYS[word], at=at)
    raise _bad(text)


def format_schedule(spec: Schedule | None) -> str:
    """The schedule in the syntax ``parse_schedule`` reads back (``off`` for None)."""
    return "off" if spec is None else str(spec)


# ---------------------------------------------------------------------------------------------
# Occurrences


def _as_utc(moment: datetime) -> datetime:
    # Naive means UTC, as in bot.domain.periods: never the machine's own zone.
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _at(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz).astimezone(timezone.utc)


def _monthly_day(spec: MonthlyAt, year: int, month: int) -> date:
    last = _calendar.monthrange(year, month)[1]
    return date(year, month, last if spec.day is None else spec.day)


def _shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def latest_occurrence(spec: Schedule, at_or_before: datetime, tz: tzinfo) -> datetime:
    """The most recent scheduled moment <= ``at_or_before``, as an aware UTC datetime."""
    moment = _as_utc(at_or_before)
    today = moment.astimezone(tz).date()
    if isinstance(spec, WeeklyAt):
        day = today - timedelta(days=(today.weekday() - spec.weekday) % 7)
        candidate = _at(day, spec.at, tz)
        if candidate > moment:
            candidate = _at(day - timedelta(days=7), spec.at, tz)
        return candidate
    if isinstance(spec, MonthlyAt):
        year, month = today.year, today.month
        candidate = _at(_monthly_day(spec, year, month), spec.at, tz)
        if candidate > moment:
            year, month = _shift_month(year, month, -1)
            candidate = _at(_monthly_day(spec, year, month), spec.at, tz)
        return candidate
    raise TypeError(f"not a schedule: {spec!r}")


def next_occurrence(spec: Schedule, after: datetime, tz: tzinfo) -> datetime:
    """The first scheduled moment strictly after ``after``, as an aware UTC datetime."""
    moment = _as_utc(after)
    today = moment.astimezone(tz).date()
    if isinstance(spec, WeeklyAt):
        day = today + timedelta(days=(spec.weekday - today.weekday()) % 7)
        candidate = _at(day, spec.at, tz)
        if candidate <= moment:
            candidate = _at(day + timedelta(days=7), spec.at, tz)
        return candidate
    if isinstance(spec, MonthlyAt):
        year, month = today.year, today.month
        candidate = _at(_monthly_day(spec, year, month), spec.at, tz)
        if candidate <= moment:
            year, month = _shift_month(year, month, 1)
            candidate = _at(_monthly_day(spec, year, month), spec.at, tz)
        return candidate
    raise TypeError(f"not a schedule: {spec!r}")
