"""Weeks, months, semesters and school years in the configured time zone (SPEC §2 Periods).

PURE: standard library only and no clock reads — every function is given the moment or the date
it works on. A ``Period`` (``bot.domain.types``) is a span of local dates [first_day, last_day]
together with its UTC bounds [start, end), so storage can filter on stored UTC times while
humans see local dates.

Conventions shared by every function here:

- A ``datetime`` argument should be timezone-aware. A naive one is taken to be UTC, because that
  is how times are stored (SQLite hands them back naive); it is never read as the machine's
  local time, so the host's ``TZ`` never changes a result.
- Local days start at local midnight. Where a DST change skips midnight (a few zones do), the
  day starts at the instant the clocks jump, which ``zoneinfo``'s fold=0 rule gives for free.
- The school year cycle is: school_year_start → semester 2 start → school_year_end, then the
  summer until the next school_year_start. The summer belongs to no semester; for "the current
  one" it counts as part of the school year (and semester 2) that has just ended, so that a
  report asked for in July is the report of the year just finished. Such a period does not
  ``contains()`` the moment it was asked for.
"""

from __future__ import annotations

import calendar as _calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from bot.domain.types import Period, PeriodKind

__all__ = [
    "SchoolCalendar",
    "local_date",
    "to_utc",
    "format_date",
    "format_day_month",
    "week_of",
    "week_by_key",
    "previous_week",
    "month_of",
    "month_by_key",
    "semester_of",
    "semester_by_key",
    "school_year_of",
    "school_year_by_key",
    "custom_period",
    "period_by_key",
    "parse_period",
    "weeks_belonging_to",
    "is_holiday",
    "is_holiday_week",
    "party_monthly_target",
]

_ONE_DAY = timedelta(days=1)

_USAGE = "hãy dùng tuan, thang, hocky, namhoc, YYYY-MM, YYYY-Www hoặc YYYY-MM-DD..YYYY-MM-DD"


def _quote(text: str, limit: int = 40) -> str:
    """User input echoed on one line, shortened: error messages must stay one line."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return f"“{flat}”"


def _invalid(text: str, detail: str) -> ValueError:
    """The one-line Vietnamese error every period parser raises."""
    return ValueError(f"Kỳ không hợp lệ: {_quote(text)} — {detail}.")


# ---------------------------------------------------------------------------------------------
# The school calendar


def _month_day_problem(md: object) -> str | None:
    """Why ``md`` is not a usable (month, day) of every year, or None when it is."""
    if (
        not isinstance(md, tuple)
        or len(md) != 2
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in md)
    ):
        return "phải là (tháng, ngày)"
    month, day = md
    if not 1 <= month <= 12:
        return f"tháng {month} không tồn tại"
    # 29 February exists one year in four: a school year must start and end every year.
    if month == 2 and day == 29:
        return "ngày 29/02 không có ở mọi năm"
    if not 1 <= day <= _calendar.monthrange(2001, month)[1]:
        return f"ngày {day:02d}/{month:02d} không tồn tại"
    return None


def _days_after(start: tuple[int, int], md: tuple[int, int]) -> int:
    """Days from ``start`` to the next ``md`` strictly after it (1..365) in a common year."""
    a = date(2001, *start)
    b = date(2001, *md)
    if b <= a:
        b = date(2002, *md)
    return (b - a).days


@dataclass(frozen=True)
class SchoolCalendar:
    """School year and semester dates (month, day) and the holiday ranges (inclusive)."""

    school_year_start: tuple[int, int] = (9, 1)
    semester2_start: tuple[int, int] = (1, 15)
    school_year_end: tuple[int, int] = (5, 31)
    holidays: tuple[tuple[date, date], ...] = ()
    # The plan's deadline for groups and fanpages (SPEC §3.5): reminders three days before it.
    setup_deadline: date | None = None

    def __post_init__(self) -> None:
        # Fail at construction so that every SchoolCalendar in the program is a usable one;
        # the message starts with the field's name so the config loader can name the key.
        for name in ("school_year_start", "semester2_start", "school_year_end"):
            problem = _month_day_problem(getattr(self, name))
            if problem:
                raise ValueError(f"{name}: {problem}")
        if self.semester2_start == self.school_year_start:
            raise ValueError("semester2_start: học kỳ 2 phải bắt đầu sau ngày khai giảng")
        if self.school_year_end == self.school_year_start:
            # The year would end on the first day of the next one: two years sharing a day.
            raise ValueError("school_year_end: năm học phải kết thúc trước năm học sau bắt đầu")
        sem2 = _days_after(self.school_year_start, self.semester2_start)
        end = _days_after(self.school_year_start, self.school_year_end)
        if end < sem2:
            raise ValueError(
                "school_year_end: ngày kết thúc năm học phải sau ngày bắt đầu học kỳ 2"
            )
        for i, pair in enumerate(self.holidays):
            if (
                not isinstance(pair, tuple)
                or len(pair) != 2
                or not all(isinstance(d, date) and not isinstance(d, datetime) for d in pair)
            ):
                raise ValueError(f"holidays[{i}]: phải là (ngày đầu, ngày cuối)")
            if pair[1] < pair[0]:
                raise ValueError(
                    f"holidays[{i}]: ngày cuối {format_date(pair[1])} "
                    f"trước ngày đầu {format_date(pair[0])}"
                )

    def year_dates(self, start_year: int) -> tuple[date, date, date]:
        """First day, semester 2's first day and last day of the school year begun in that year."""
        first = date(start_year, *self.school_year_start)
        sem2 = date(first.year, *self.semester2_start)
        if sem2 <= first:
            sem2 = date(first.year + 1, *self.semester2_start)
        end = date(first.year, *self.school_year_end)
        if end <= first:
            end = date(first.year + 1, *self.school_year_end)
        return first, sem2, end

    def start_year_of(self, day: date) -> int:
        """The calendar year in which the school year holding ``day`` (or its summer) began."""
        if day >= date(day.year, *self.school_year_start):
            return day.year
        return day.year - 1


# ---------------------------------------------------------------------------------------------
# Local dates and formatting


def _as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC (how storage keeps times)."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def local_date(moment: datetime, tz: tzinfo) -> date:
    """The calendar date of ``moment`` in ``tz``."""
    return _as_utc(moment).astimezone(tz).date()


def to_utc(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant of wall time ``at`` on ``day`` in ``tz`` (fold=0 across DST changes)."""
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz).astimezone(timezone.utc)


def _day_start(day: date, tz: tzinfo) -> datetime:
    return to_utc(day, time(0, 0), tz)


def format_date(d: date) -> str:
    """Vietnamese style date: dd/mm/yyyy."""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def format_day_month(d: date) -> str:
    """Vietnamese style day and month: dd/mm."""
    return f"{d.day:02d}/{d.month:02d}"


def _the_date(moment_or_date: datetime | date, tz: tzinfo) -> date:
    # datetime is a subclass of date: test for it first.
    if isinstance(moment_or_date, datetime):
        return local_date(moment_or_date, tz)
    if isinstance(moment_or_date, date):
        return moment_or_date
    raise TypeError(f"expected a date or datetime, got {type(moment_or_date).__name__}")


def _period(kind: PeriodKind, key: str, first: date, last: date, tz: tzinfo) -> Period:
    try:
        start, end = _day_start(first, tz), _day_start(last + _ONE_DAY, tz)
    except OverflowError:
        # Years 1 and 9999 cannot hold both bounds; nobody reports on them, but a typed
        # "9999-12" must still be refused politely rather than crash.
        raise _invalid(key, "ngoài phạm vi") from None
    return Period(kind=kind, key=key, first_day=first, last_day=last, start=start, end=end)


# ---------------------------------------------------------------------------------------------
# Weeks and months


def _iso_weeks_in(year: int) -> int:
    # 28 December always lies in the last ISO week of its year.
    return date(year, 12, 28).isocalendar().week


def week_of(moment_or_date: datetime | date, tz: tzinfo) -> Period:
    """The ISO week (Monday 00:00 to next Monday 00:00 local) holding the moment or date."""
    day = _the_date(moment_or_date, tz)
    monday = day - timedelta(days=day.weekday())
    iso = monday.isocalendar()
    return _period(
        PeriodKind.WEEK, f"{iso.year:04d}-W{iso.week:02d}", monday, monday + timedelta(days=6), tz
    )


_WEEK_KEY = re.compile(r"(\d{4})-[Ww](\d{1,2})")


def week_by_key(key: str, tz: tzinfo) -> Period:
    """The week named by an ISO key such as "2025-W01" (ValueError when it does not exist)."""
    m = _WEEK_KEY.fullmatch(key.strip())
    if not m:
        raise _invalid(key, "tuần viết dạng YYYY-Www, ví dụ 2026-W48")
    year, week = int(m[1]), int(m[2])
    if year < 1 or not 1 <= week <= _iso_weeks_in(year):
        raise _invalid(key, f"năm {year} chỉ có {_iso_weeks_in(max(year, 1))} tuần")
    return week_of(date.fromisocalendar(year, week, 1), tz)


def previous_week(week: Period, tz: tzinfo) -> Period:
    """The week before ``week`` (what the Monday leaderboard reports on)."""
    return week_of(week.first_day - _ONE_DAY, tz)


def month_of(moment_or_date: datetime | date, tz: tzinfo) -> Period:
    """The calendar month holding the moment or date."""
    day = _the_date(moment_or_date, tz)
    last = _calendar.monthrange(day.year, day.month)[1]
    return _period(
        PeriodKind.MONTH,
        f"{day.year:04d}-{day.month:02d}",
        day.replace(day=1),
        day.replace(day=last),
        tz,
    )


_MONTH_KEY = re.compile(r"(\d{4})-(\d{1,2})")


def month_by_key(key: str, tz: tzinfo) -> Period:
    """The month named by a key such as "2026-11"."""
    m = _MONTH_KEY.fullmatch(key.strip())
    if not m or not 1 <= int(m[2]) <= 12 or int(m[1]) < 1:
        raise _invalid(key, "tháng viết dạng YYYY-MM, ví dụ 2026-11")
    return month_of(date(int(m[1]), int(m[2]), 1), tz)


# ---------------------------------------------------------------------------------------------
# Semesters and school years


def _school_year_key(first: date, end: date) -> str:
    # Vietnamese school years span two calendar years ("2026-2027"); a calendar configured to
    # start and end in the same year is named by that year alone.
    return f"{first.year:04d}-{end.year:04d}" if end.year != first.year else f"{first.year:04d}"


def _school_year(start_year: int, tz: tzinfo, cal: SchoolCalendar) -> Period:
    first, _, end = cal.year_dates(start_year)
    return _period(PeriodKind.SCHOOL_YEAR, _school_year_key(first, end), first, end, tz)


def _semester(start_year: int, number: int, tz: tzinfo, cal: SchoolCalendar) -> Period:
    first, sem2, end = cal.year_dates(start_year)
    key = f"{_school_year_key(first, end)}-HK{number}"
    if number == 1:
        return _period(PeriodKind.SEMESTER, key, first, sem2 - _ONE_DAY, tz)
    return _period(PeriodKind.SEMESTER, key, sem2, end, tz)


def school_year_of(
    moment_or_date: datetime | date, tz: tzinfo, cal: SchoolCalendar = SchoolCalendar()
) -> Period:
    """The school year holding the moment; in the summer, the school year that has just ended."""
    day = _the_date(moment_or_date, tz)
    return _school_year(cal.start_year_of(day), tz, cal)


def semester_of(
    moment_or_date: datetime | date, tz: tzinfo, cal: SchoolCalendar = SchoolCalendar()
) -> Period:
    """The semester holding the moment; in the summer, semester 2 of the year just ended."""
    day = _the_date(moment_or_date, tz)
    start_year = cal.start_year_of(day)
    _, sem2, _ = cal.year_dates(start_year)
    return _semester(start_year, 1 if day < sem2 else 2, tz, cal)


_SCHOOL_YEAR_KEY = re.compile(r"(\d{4})(?:-(\d{4}))?")
_SEMESTER_KEY = re.compile(r"(\d{4}(?:-\d{4})?)-[Hh][Kk]([12])")


def school_year_by_key(key: str, tz: tzinfo, cal: SchoolCalendar = SchoolCalendar()) -> Period:
    """The school year named by a key such as "2026-2027"."""
    m = _SCHOOL_YEAR_KEY.fullmatch(key.strip())
    if m and int(m[1]) >= 1:
        period = _school_year(int(m[1]), tz, cal)
        if period.key == key.strip():
            return period
    raise _invalid(key, "năm học viết dạng YYYY-YYYY, ví dụ 2026-2027")


def semester_by_key(key: str, tz: tzinfo, cal: SchoolCalendar = SchoolCalendar()) -> Period:
    """The semester named by a key such as "2026-2027-HK1"."""
    m = _SEMESTER_KEY.fullmatch(key.strip())
    if m:
        year = school_year_by_key(m[1], tz, cal)
        return _semester(year.first_day.year, int(m[2]), tz, cal)
    raise _invalid(key, "học kỳ viết dạng 2026-2027-HK1 hoặc 2026-2027-HK2")


# ---------------------------------------------------------------------------------------------
# Custom periods and parsing


def custom_period(first: date, last: date, tz: tzinfo) -> Period:
    """The local dates first..last inclusive, keyed "YYYY-MM-DD..YYYY-MM-DD"."""
    if last < first:
        raise _invalid(
            f"{first.isoformat()}..{last.isoformat()}",
            f"ngày đầu {format_date(first)} sau ngày cuối {format_date(last)}",
        )
    return _period(PeriodKind.CUSTOM, f"{first.isoformat()}..{last.isoformat()}", first, last, tz)


_DATE = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_RANGE = re.compile(_DATE + r"\s*\.\.\s*" + _DATE)



def _make_date(y: str, m: str, d: str, original: str) -> date:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        raise _invalid(original, "ngày không tồn tại") from None


def period_by_key(key: str, tz: tzinfo, cal: SchoolCalendar = SchoolCalendar()) -> Period:
    """The period named by any ``Period.key`` (week, month, semester, school year or range)."""
    text = unicodedata.normalize("NFC", key).strip()
    if _WEEK_KEY.fullmatch(text):
        return week_by_key(text, tz)
    if _SEMESTER_KEY.fullmatch(text):
        return semester_by_key(text, tz, cal)
    m = re.fullmatch(r"(\d{4})-(\d{4})", text)
    if m:
        return school_year_by_key(text, tz, cal)
    if _MONTH_KEY.fullmatch(text):
        return month_by_key(text, tz)
    m = _RANGE.fullmatch(text)
    if m:
        first = _make_date(m[1], m[2], m[3], text)
        last = _make_date(m[4], m[5], m[6], text)
        return custom_period(first, last, tz)
    raise _invalid(key, _USAGE)


def _fold(text: str) -> str:
    """Lower case, no diacritics, no spaces: "Học Kỳ" -> "hocky", so people may type either."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(bare.split())


# The words people type for "the current one", folded by _fold. "kì" is a common spelling of
# "kỳ"; the English names match the English command aliases.
_CURRENT = {
    "tuan": PeriodKind.WEEK,
    "week": PeriodKind.WEEK,
    "thang": PeriodKind.MONTH,
    "month": PeriodKind.MONTH,
    "hocky": PeriodKind.SEMESTER,
    "hocki": PeriodKind.SEMESTER,
    "hk": PeriodKind.SEMESTER,
    "semester": PeriodKind.SEMESTER,
    "namhoc": PeriodKind.SCHOOL_YEAR,
    "schoolyear": PeriodKind.SCHOOL_YEAR,
    "year": PeriodKind.SCHOOL_YEAR,
}


def parse_period(
    text: str, now: datetime, tz: tzinfo, cal: SchoolCalendar = SchoolCalendar()
) -> Period:
    """The period a command or CLI argument names (SPEC §4.1 P); ValueError in Vietnamese."""
    if not isinstance(text, str) or not text.strip():
        raise _invalid("", _USAGE)
    folded = _fold(text)
    # "tuần này" (this week) means the same as "tuần".
    if folded.endswith("nay") and folded[:-3] in _CURRENT:
        folded = folded[:-3]
    kind = _CURRENT.get(folded)
    if kind is PeriodKind.WEEK:
        return week_of(now, tz)
    if kind is PeriodKind.MONTH:
        return month_of(now, tz)
    if kind is PeriodKind.SEMESTER:
        return semester_of(now, tz, cal)
    if kind is PeriodKind.SCHOOL_YEAR:
        return school_year_of(now, tz, cal)
    return period_by_key(text, tz, cal)


# ---------------------------------------------------------------------------------------------
# Weeks of a period, holidays


def weeks_belonging_to(period: Period, tz: tzinfo) -> list[Period]:
    """The ISO weeks whose Thursday lies inside the period, in order (SPEC §2 Met)."""
    thursday = period.first_day + timedelta(days=(3 - period.first_day.weekday()) % 7)
    weeks: list[Period] = []
    while thursday <= period.last_day:
        weeks.append(week_of(thursday, tz))
        thursday += timedelta(days=7)
    return weeks


def is_holiday(day: date, cal: SchoolCalendar) -> bool:
    """Whether ``day`` lies inside one of the configured holiday ranges (inclusive)."""
    return any(first <= day <= last for first, last in cal.holidays)


def is_holiday_week(week: Period, cal: SchoolCalendar) -> bool:
    """Whether every day Monday–Friday of the week is a holiday: such a week carries no quota."""
    if week.kind is not PeriodKind.WEEK:
        raise ValueError(f"not a week: {week.key}")
    if not cal.holidays:
        return False
    return all(is_holiday(week.first_day + timedelta(days=i), cal) for i in range(5))


def party_monthly_target(base: int, month: Period, tz: tzinfo, cal: SchoolCalendar) -> int:
    """``party_monthly`` for the month, shrunk to its share of non-holiday weeks, rounded up."""
    weeks = weeks_belonging_to(month, tz)
    if not weeks:
        return 0
    working = sum(1 for w in weeks if not is_holiday_week(w, cal))
    # Ceiling division in integers: no float rounding surprises at exact multiples.
    return -(-base * working // len(weeks))
