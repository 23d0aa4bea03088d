"""Edges of weeks, months, semesters, school years, holidays and period keys (SPEC §2, §4.1)."""

from __future__ import annotations

import time as time_module
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.periods import (
    SchoolCalendar,
    custom_period,
    format_date,
    format_day_month,
    is_holiday_week,
    local_date,
    month_by_key,
    month_of,
    parse_period,
    party_monthly_target,
    period_by_key,
    previous_week,
    school_year_by_key,
    school_year_of,
    semester_by_key,
    semester_of,
    week_by_key,
    week_of,
    weeks_belonging_to,
)
from bot.domain.types import PeriodKind

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NY = ZoneInfo("America/New_York")
UTC = timezone.utc
CAL = SchoolCalendar()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Weeks


@pytest.mark.parametrize(
    "moment, key",
    [
        # Sunday 23:59:59 local (UTC+7) is still the old week; Monday 00:00 local starts the new.
        (utc(2026, 11, 29, 16, 59, 59), "2026-W48"),
        (utc(2026, 11, 29, 17, 0, 0), "2026-W49"),
        (datetime(2026, 11, 29, 23, 59, 59, tzinfo=VN), "2026-W48"),
        (datetime(2026, 11, 30, 0, 0, tzinfo=VN), "2026-W49"),
        # 30 December 2024 (a Monday) is in week 1 of ISO year 2025.
        (datetime(2024, 12, 30, 0, 0, tzinfo=VN), "2025-W01"),
        (datetime(2024, 12, 29, 23, 59, tzinfo=VN), "2024-W52"),
        # 2026 starts on a Thursday, so it has 53 weeks, the last spilling into 2027.
        (datetime(2027, 1, 3, 12, 0, tzinfo=VN), "2026-W53"),
        (datetime(2027, 1, 4, 0, 0, tzinfo=VN), "2027-W01"),
        # Naive datetimes are UTC (as stored), never the machine's zone.
        (datetime(2026, 11, 29, 17, 0, 0), "2026-W49"),
    ],
)
def test_week_of_edges(moment: datetime, key: str) -> None:
    week = week_of(moment, VN)
    assert week.key == key
    assert week.kind is PeriodKind.WEEK
    assert week.contains(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def test_week_bounds_are_local_midnights_in_utc() -> None:
    week = week_of(date(2026, 11, 25), VN)
    assert (week.first_day, week.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week.start == utc(2026, 11, 22, 17)
    assert week.end == utc(2026, 11, 29, 17)
    assert week.end - week.start == timedelta(days=7)
    assert week.contains(utc(2026, 11, 29, 16, 59, 59))
    assert not week.contains(utc(2026, 11, 29, 17))
    assert not week.contains(utc(2026, 11, 22, 16, 59, 59))


@pytest.mark.parametrize(
    "key, monday",
    [
        ("2025-W01", date(2024, 12, 30)),
        ("2026-W53", date(2026, 12, 28)),
        ("2020-W53", date(2020, 12, 28)),
        ("2026-w48", date(2026, 11, 23)),
        ("2026-W1", date(2025, 12, 29)),
    ],
)
def test_week_by_key(key: str, monday: date) -> None:
    week = week_by_key(key, VN)
    assert week.first_day == monday
    assert week == week_of(monday, VN)


@pytest.mark.parametrize("key", ["2025-W53", "2026-W54", "2026-W00", "2026-48", "W48", "2026-W"])
def test_week_by_key_refuses(key: str) -> None:
    with pytest.raises(ValueError, match="Kỳ không hợp lệ"):
        week_by_key(key, VN)


def test_previous_week_crosses_the_year() -> None:
    assert previous_week(week_by_key("2027-W01", VN), VN).key == "2026-W53"
    assert previous_week(week_by_key("2026-W49", VN), VN).key == "2026-W48"


def test_week_across_a_dst_change_is_an_hour_short() -> None:
    # The week of the US spring change is an hour short: bounds are local midnights, not +7 days.
    week = week_of(date(2026, 3, 8), NY)
    assert week.start == datetime(2026, 3, 2, tzinfo=NY).astimezone(UTC)
    assert week.end - week.start == timedelta(days=7, hours=-1)


# ---------------------------------------------------------------------------------------------
# Months


@pytest.mark.parametrize(
    "moment, key, first, last",
    [
        (utc(2026, 10, 31, 16, 59, 59), "2026-10", date(2026, 10, 1), date(2026, 10, 31)),
        (utc(2026, 10, 31, 17, 0, 0), "2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        (utc(2028, 2, 15), "2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        (utc(2027, 2, 15), "2027-02", date(2027, 2, 1), date(2027, 2, 28)),
        (utc(2026, 12, 31, 17), "2027-01", date(2027, 1, 1), date(2027, 1, 31)),
    ],
)
def test_month_of(moment: datetime, key: str, first: date, last: date) -> None:
    month = month_of(moment, VN)
    assert (month.key, month.first_day, month.last_day) == (key, first, last)
    assert month.kind is PeriodKind.MONTH
    assert month.contains(moment)
    assert month_by_key(key, VN) == month


def test_month_bounds() -> None:
    month = month_by_key("2026-11", VN)
    assert month.start == utc(2026, 10, 31, 17)
    assert month.end == utc(2026, 11, 30, 17)


@pytest.mark.parametrize("key", ["2026-13", "2026-00", "2026-1-1", "26-11", "2026/11", "9999-12"])
def test_month_by_key_refuses(key: str) -> None:
    with pytest.raises(ValueError, match="Kỳ không hợp lệ"):
        month_by_key(key, VN)


# ---------------------------------------------------------------------------------------------
# Semesters and school years


@pytest.mark.parametrize(
    "day, year_key, semester_key",
    [
        (date(2026, 9, 1), "2026-2027", "2026-2027-HK1"),  # first day of the school year
        (date(2027, 1, 14), "2026-2027", "2026-2027-HK1"),  # last day of semester 1
        (date(2027, 1, 15), "2026-2027", "2026-2027-HK2"),  # first day of semester 2
        (date(2027, 5, 31), "2026-2027", "2026-2027-HK2"),  # last day of the school year
        # Summer: the school year (and semester 2) just ended.
        (date(2027, 6, 1), "2026-2027", "2026-2027-HK2"),
        (date(2027, 8, 31), "2026-2027", "2026-2027-HK2"),
        (date(2027, 9, 1), "2027-2028", "2027-2028-HK1"),
        (date(2026, 12, 31), "2026-2027", "2026-2027-HK1"),
        (date(2027, 1, 1), "2026-2027", "2026-2027-HK1"),
    ],
)
def test_school_year_and_semester(day: date, year_key: str, semester_key: str) -> None:
    assert school_year_of(day, VN, CAL).key == year_key
    assert semester_of(day, VN, CAL).key == semester_key


def test_school_year_bounds_and_moments() -> None:
    year = school_year_of(utc(2026, 8, 31, 17), VN, CAL)  # 1 Sep 00:00 local
    assert year.key == "2026-2027"
    assert year.kind is PeriodKind.SCHOOL_YEAR
    assert (year.first_day, year.last_day) == (date(2026, 9, 1), date(2027, 5, 31))
    assert (year.start, year.end) == (utc(2026, 8, 31, 17), utc(2027, 5, 31, 17))
    # One second earlier (31 Aug 23:59:59 local) is the summer of the previous school year.
    assert school_year_of(utc(2026, 8, 31, 16, 59, 59), VN, CAL).key == "2025-2026"
    assert school_year_by_key("2026-2027", VN, CAL) == year


def test_semesters_split_the_school_year() -> None:
    hk1 = semester_by_key("2026-2027-HK1", VN, CAL)
    hk2 = semester_by_key("2026-2027-hk2", VN, CAL)
    assert (hk1.first_day, hk1.last_day) == (date(2026, 9, 1), date(2027, 1, 14))
    assert (hk2.first_day, hk2.last_day) == (date(2027, 1, 15), date(2027, 5, 31))
    assert hk1.end == hk2.start == utc(2027, 1, 14, 17)
    assert hk1.kind is hk2.kind is PeriodKind.SEMESTER


def test_summer_period_does_not_contain_the_moment() -> None:
    moment = utc(2027, 7, 1)
    assert not semester_of(moment, VN, CAL).contains(moment)
    assert not school_year_of(moment, VN, CAL).contains(moment)


def test_configured_calendar() -> None:
    cal = SchoolCalendar(school_year_start=(8, 15), semester2_start=(1, 1), school_year_end=(6, 15))
    assert semester_of(date(2026, 12, 31), VN, cal).last_day == date(2026, 12, 31)
    assert semester_of(date(2027, 1, 1), VN, cal).key == "2026-2027-HK2"
    assert school_year_of(date(2027, 6, 15), VN, cal).last_day == date(2027, 6, 15)
    assert school_year_of(date(2026, 8, 14), VN, cal).key == "2025-2026"
    assert school_year_of(date(2026, 8, 15), VN, cal).key == "2026-2027"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(semester2_start=(9, 1)), "semester2_start"),
        (dict(school_year_end=(1, 10)), "school_year_end"),  # ends before semester 2 starts
        (dict(school_year_end=(9, 1)), "school_year_end"),  # would share a day with the next
        (dict(school_year_start=(2, 29)), "school_year_start"),
        (dict(semester2_start=(13, 1)), "semester2_start"),
        (dict(school_year_end=(4, 31)), "school_year_end"),
        (dict(holidays=((date(2027, 2, 14), date(2027, 2, 1)),)), "holidays[0]"),
    ],
)
def test_school_calendar_refuses(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError) as e:
        SchoolCalendar(**kwargs)
    assert str(e.value).startswith(field + ": ")


# ---------------------------------------------------------------------------------------------
# Custom periods and weeks belonging to a period


def test_custom_period() -> None:
    p = custom_period(date(2026, 11, 1), date(2026, 11, 15), VN)
    assert p.key == "2026-11-01..2026-11-15"
    assert p.kind is PeriodKind.CUSTOM
    assert (p.start, p.end) == (utc(2026, 10, 31, 17), utc(2026, 11, 15, 17))
    one_day = custom_period(date(2026, 11, 1), date(2026, 11, 1), VN)
    assert one_day.end - one_day.start == timedelta(days=1)
    with pytest.raises(ValueError, match="Kỳ không hợp lệ"):
        custom_period(date(2026, 11, 15), date(2026, 11, 1), VN)


@pytest.mark.parametrize(
    "month_key, week_keys",
    [
        # Sunday 1 Nov: the week of 26 Oct–1 Nov has its Thursday (29 Oct) in October.
        ("2026-11", ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]),
        # Thursday 3 Dec: W49 belongs to December although it starts in November; W53 ends in 2027.
        ("2026-12", ["2026-W49", "2026-W50", "2026-W51", "2026-W52", "2026-W53"]),
        ("2027-01", ["2027-W01", "2027-W02", "2027-W03", "2027-W04"]),
        ("2027-02", ["2027-W05", "2027-W06", "2027-W07", "2027-W08"]),
    ],
)
def test_weeks_belonging_to_month(month_key: str, week_keys: list[str]) -> None:
    assert [w.key for w in weeks_belonging_to(month_by_key(month_key, VN), VN)] == week_keys


def test_week_belongs_to_exactly_one_month() -> None:
    nov = {w.key for w in weeks_belonging_to(month_by_key("2026-11", VN), VN)}
    dec = {w.key for w in weeks_belonging_to(month_by_key("2026-12", VN), VN)}
    assert not nov & dec
    assert "2026-W49" in dec  # Thursday 3 Dec


def test_weeks_belonging_to_a_week_and_a_school_year() -> None:
    week = week_by_key("2026-W48", VN)
    assert weeks_belonging_to(week, VN) == [week]
    weeks = weeks_belonging_to(school_year_by_key("2026-2027", VN, CAL), VN)
    assert weeks[0].key == "2026-W36"  # Thursday 3 Sep 2026
    assert weeks[-1].key == "2027-W21"  # Thursday 27 May 2027
    assert len(weeks) == len({w.key for w in weeks}) == 39


# ---------------------------------------------------------------------------------------------
# Holidays


TET = SchoolCalendar(
    holidays=((date(2027, 2, 1), date(2027, 2, 14)), (date(2027, 2, 22), date(2027, 2, 26)))
)


@pytest.mark.parametrize(
    "key, holiday",
    [
        ("2027-W05", True),  # Mon 1 – Sun 7 Feb, all inside the range
        ("2027-W06", True),  # Mon 8 – Sun 14 Feb
        ("2027-W07", False),  # 15–19 Feb: outside
        ("2027-W08", True),  # Mon 22 – Fri 26 Feb exactly (range ends on the Friday)
        ("2027-W04", False),  # 25–29 Jan
    ],
)
def test_is_holiday_week(key: str, holiday: bool) -> None:
    assert is_holiday_week(week_by_key(key, VN), TET) is holiday


def test_partly_covered_week_is_not_a_holiday_week() -> None:
    cal = SchoolCalendar(holidays=((date(2027, 2, 2), date(2027, 2, 14)),))  # Tuesday onwards
    assert not is_holiday_week(week_by_key("2027-W05", VN), cal)
    # Two ranges that together cover Monday–Friday make a holiday week.
    cal = SchoolCalendar(
        holidays=((date(2027, 2, 1), date(2027, 2, 2)), (date(2027, 2, 3), date(2027, 2, 5)))
    )
    assert is_holiday_week(week_by_key("2027-W05", VN), cal)
    assert not is_holiday_week(week_by_key("2027-W05", VN), CAL)


def test_is_holiday_week_wants_a_week() -> None:
    with pytest.raises(ValueError):
        is_holiday_week(month_by_key("2027-02", VN), TET)


@pytest.mark.parametrize(
    "base, month_key, cal, expected",
    [
        (4, "2027-02", CAL, 4),  # no holidays
        (4, "2027-02", TET, 1),  # 4 weeks (W05–W08), 3 holiday: ceil(4 × 1/4)
        (4, "2027-01", TET, 4),
        (
            4,
            "2026-12",  # 5 weeks, 1 holiday: ceil(4 × 4/5) = ceil(3.2) = 4
            SchoolCalendar(holidays=((date(2026, 12, 21), date(2026, 12, 25)),)),
            4,
        ),
        (
            4,
            "2026-12",  # 5 weeks, 2 holidays: ceil(4 × 3/5) = ceil(2.4) = 3
            SchoolCalendar(holidays=((date(2026, 12, 21), date(2027, 1, 1)),)),
            3,
        ),
        (
            4,
            "2027-02",  # every week a holiday: no monthly minimum
            SchoolCalendar(holidays=((date(2027, 2, 1), date(2027, 2, 28)),)),
            0,
        ),
        (0, "2027-02", TET, 0),
    ],
)
def test_party_monthly_target(
    base: int, month_key: str, cal: SchoolCalendar, expected: int
) -> None:
    assert party_monthly_target(base, month_by_key(month_key, VN), VN, cal) == expected


# ---------------------------------------------------------------------------------------------
# parse_period


NOW = utc(2026, 11, 27, 8)  # Friday 27 Nov 2026, 15:00 in Vietnam


@pytest.mark.parametrize(
    "text, key",
    [
        ("tuan", "2026-W48"),
        ("tuần", "2026-W48"),
        ("TUẦN", "2026-W48"),
        (" Tuần này ", "2026-W48"),
        ("week", "2026-W48"),
        ("thang", "2026-11"),
        ("tháng", "2026-11"),
        ("Tháng", "2026-11"),
        ("hocky", "2026-2027-HK1"),
        ("học kỳ", "2026-2027-HK1"),
        ("Học Kì", "2026-2027-HK1"),
        ("hk", "2026-2027-HK1"),
        ("HK", "2026-2027-HK1"),
        ("namhoc", "2026-2027"),
        ("năm học", "2026-2027"),
        ("NĂM HỌC", "2026-2027"),
        ("2026-10", "2026-10"),
        ("2027-01", "2027-01"),
        ("2025-W01", "2025-W01"),
        ("2026-w53", "2026-W53"),
        ("2026-11-01..2026-11-15", "2026-11-01..2026-11-15"),
        ("2026-11-01 .. 2026-11-15", "2026-11-01..2026-11-15"),
        ("2026-11-01..2026-11-01", "2026-11-01..2026-11-01"),
        ("2025-2026", "2025-2026"),
        ("2025-2026-HK2", "2025-2026-HK2"),
    ],
)
def test_parse_period(text: str, key: str) -> None:
    assert parse_period(text, NOW, VN, CAL).key == key


def test_parse_period_uses_local_now() -> None:
    # Sunday 29 Nov 23:30 local is still week 48 and November; Monday 00:00 local is not.
    assert parse_period("tuan", utc(2026, 11, 29, 16, 30), VN, CAL).key == "2026-W48"
    assert parse_period("tuan", utc(2026, 11, 29, 17), VN, CAL).key == "2026-W49"
    assert parse_period("thang", utc(2026, 11, 30, 16, 59), VN, CAL).key == "2026-11"
    assert parse_period("thang", utc(2026, 11, 30, 17), VN, CAL).key == "2026-12"
    assert parse_period("hocky", utc(2027, 7, 1), VN, CAL).key == "2026-2027-HK2"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "tuan sau",
        "tuần trước nữa",
        "2026-13",
        "2026-00",
        "2025-W53",
        "2026-W54",
        "2026-02-30..2026-03-01",
        "2026-11-15..2026-11-01",
        "2026-11-01..",
        "2026-11-01",
        "01/11/2026..15/11/2026",
        "2026-2028",
        "2026-2027-HK3",
        "tháng 11",
        "x" * 500,
        "tuan\nthang",
        "0000-01",
        "9999-12",
    ],
)
def test_parse_period_refuses_with_one_vietnamese_line(text: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_period(text, NOW, VN, CAL)
    message = str(e.value)
    assert message.startswith("Kỳ không hợp lệ: ")
    assert "\n" not in message
    assert len(message) < 200


def test_period_by_key_round_trips() -> None:
    periods = [
        week_of(NOW, VN),
        month_of(NOW, VN),
        semester_of(NOW, VN, CAL),
        school_year_of(NOW, VN, CAL),
        custom_period(date(2026, 11, 1), date(2026, 11, 15), VN),
    ]
    for p in periods:
        assert period_by_key(p.key, VN, CAL) == p


def test_format_dates() -> None:
    assert format_date(date(2026, 3, 5)) == "05/03/2026"
    assert format_day_month(date(2026, 3, 5)) == "05/03"


# ---------------------------------------------------------------------------------------------
# The machine's own time zone must not matter


@pytest.fixture
def machine_in_new_york(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time_module.tzset()
    yield
    monkeypatch.undo()
    time_module.tzset()


@pytest.mark.usefixtures("machine_in_new_york")
def test_machine_time_zone_does_not_matter() -> None:
    assert time_module.localtime(0).tm_hour == 19  # the fixture took effect
    assert week_of(utc(2026, 11, 29, 16, 59, 59), VN).key == "2026-W48"
    assert week_of(utc(2026, 11, 29, 17), VN).key == "2026-W49"
    # A naive datetime is UTC, not New York time.
    assert week_of(datetime(2026, 11, 29, 17), VN).key == "2026-W49"
    assert local_date(datetime(2026, 11, 29, 17), VN) == date(2026, 11, 30)
    assert month_by_key("2026-11", VN).start == utc(2026, 10, 31, 17)
    assert parse_period("thang", utc(2026, 11, 30, 17), VN, CAL).key == "2026-12"
    assert school_year_of(utc(2026, 8, 31, 17), VN, CAL).key == "2026-2027"


# ---------------------------------------------------------------------------------------------
# Properties


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
zones = st.sampled_from(
    [VN, NY, ZoneInfo("UTC"), ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Europe/Berlin")]
)


@given(moments, zones)
def test_week_and_month_contain_their_moment(moment: datetime, tz: ZoneInfo) -> None:
    week = week_of(moment, tz)
    month = month_of(moment, tz)
    assert week.contains(moment) and month.contains(moment)
    assert week.first_day.weekday() == 0 and week.last_day.weekday() == 6
    assert week_by_key(week.key, tz) == week
    assert month_by_key(month.key, tz) == month
    # The next period starts exactly where this one ends.
    assert week_of(week.end, tz).start == week.end
    assert month_of(month.end, tz).start == month.end


@given(moments)
def test_school_year_holds_its_semesters(moment: datetime) -> None:
    year = school_year_of(moment, VN, CAL)
    sem = semester_of(moment, VN, CAL)
    assert year.first_day <= sem.first_day <= sem.last_day <= year.last_day
    assert sem.key.startswith(year.key + "-HK")
    day = local_date(moment, VN)
    assert year.first_day <= day
    assert year.contains(moment) or day > year.last_day  # only the summer lies outside


@given(moments)
def test_every_week_belongs_to_exactly_one_month(moment: datetime) -> None:
    week = week_of(moment, VN)
    owners = [
        m
        for m in (month_of(week.first_day, VN), month_of(week.last_day, VN))
        if week in weeks_belonging_to(m, VN)
    ]
    assert len({m.key for m in owners}) == 1
