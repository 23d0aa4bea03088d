"""The schedule syntax of SPEC §3.3 and the moments it names."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.schedule import (
    MonthlyAt,
    WeeklyAt,
    format_schedule,
    latest_occurrence,
    next_occurrence,
    parse_schedule,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NY = ZoneInfo("America/New_York")
UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, spec",
    [
        ("fri 15:00", WeeklyAt(4, time(15, 0))),
        ("mon 08:00", WeeklyAt(0, time(8, 0))),
        ("SUN 23:59", WeeklyAt(6, time(23, 59))),
        ("  Thu   7:05 ", WeeklyAt(3, time(7, 5))),
        ("t2 08:00", WeeklyAt(0, time(8, 0))),
        ("T6 15:00", WeeklyAt(4, time(15, 0))),
        ("t7 00:00", WeeklyAt(5, time(0, 0))),
        ("cn 20:30", WeeklyAt(6, time(20, 30))),
        ("CN 20:30", WeeklyAt(6, time(20, 30))),
        ("friday 15:00", WeeklyAt(4, time(15, 0))),
        ("last 15:00", MonthlyAt(None, time(15, 0))),
        ("LAST 15:00", MonthlyAt(None, time(15, 0))),
        ("1 08:00", MonthlyAt(1, time(8, 0))),
        ("28 23:00", MonthlyAt(28, time(23, 0))),
        ("off", None),
        (" OFF ", None),
    ],
)
def test_parse_schedule(text: str, spec: WeeklyAt | MonthlyAt | None) -> None:
    assert parse_schedule(text) == spec


@pytest.mark.parametrize(
    "text",
    [
        "",
        "fri",
        "15:00",
        "fri 24:00",
        "fri 15:60",
        "fri 15",
        "fri 3pm",
        "t8 15:00",
        "t1 15:00",
        "29 15:00",
        "31 15:00",
        "0 15:00",
        "every fri 15:00",
        "fri 15:00 extra",
        "friday, 15:00",
        "on",
        "x" * 300,
    ],
)
def test_parse_schedule_refuses(text: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_schedule(text)
    assert str(e.value).startswith("lịch không hợp lệ")
    assert "\n" not in str(e.value) and len(str(e.value)) < 200


@pytest.mark.parametrize(
    "text", ["fri 15:00", "mon 08:00", "cn 07:30", "last 15:00", "3 09:00", "off"]
)
def test_format_round_trips(text: str) -> None:
    spec = parse_schedule(text)
    assert parse_schedule(format_schedule(spec)) == spec


FRI_15 = WeeklyAt(4, time(15, 0))
LAST_15 = MonthlyAt(None, time(15, 0))


@pytest.mark.parametrize(
    "spec, moment, latest, following",
    [
        # Friday 27 Nov 2026 15:00 in Vietnam is 08:00Z.
        (FRI_15, utc(2026, 11, 27, 8), utc(2026, 11, 27, 8), utc(2026, 12, 4, 8)),
        (FRI_15, utc(2026, 11, 27, 7, 59, 59), utc(2026, 11, 20, 8), utc(2026, 11, 27, 8)),
        (FRI_15, utc(2026, 11, 29, 20), utc(2026, 11, 27, 8), utc(2026, 12, 4, 8)),
        # Monday 08:00 local is Monday 01:00Z.
        (WeeklyAt(0, time(8)), utc(2026, 11, 30, 1), utc(2026, 11, 30, 1), utc(2026, 12, 7, 1)),
        (
            WeeklyAt(0, time(8)),
            utc(2026, 11, 30, 0, 59),
            utc(2026, 11, 23, 1),
            utc(2026, 11, 30, 1),
        ),
        # Sunday 23:30 local is Sunday 16:30Z; at 17:00Z (Monday local) it is still the latest.
        (WeeklyAt(6, time(23, 30)), utc(2026, 11, 29, 17), utc(2026, 11, 29, 16, 30),
         utc(2026, 12, 6, 16, 30)),
        # Last day of the month: 30 Nov, 31 Dec, 28 Feb, 29 Feb in a leap year.
        (LAST_15, utc(2026, 11, 30, 8), utc(2026, 11, 30, 8), utc(2026, 12, 31, 8)),
        (LAST_15, utc(2026, 11, 30, 7, 59), utc(2026, 10, 31, 8), utc(2026, 11, 30, 8)),
        (LAST_15, utc(2027, 3, 1), utc(2027, 2, 28, 8), utc(2027, 3, 31, 8)),
        (LAST_15, utc(2028, 3, 1), utc(2028, 2, 29, 8), utc(2028, 3, 31, 8)),
        (LAST_15, utc(2027, 1, 15), utc(2026, 12, 31, 8), utc(2027, 1, 31, 8)),
        (MonthlyAt(1, time(0)), utc(2026, 12, 31, 17), utc(2026, 12, 31, 17), utc(2027, 1, 31, 17)),
        (MonthlyAt(1, time(0)), utc(2026, 12, 31, 16, 59), utc(2026, 11, 30, 17),
         utc(2026, 12, 31, 17)),
    ],
)
def test_occurrences(spec, moment: datetime, latest: datetime, following: datetime) -> None:
    assert latest_occurrence(spec, moment, VN) == latest
    assert next_occurrence(spec, moment, VN) == following
    assert latest_occurrence(spec, moment, VN).tzinfo is UTC


def test_naive_moment_is_utc() -> None:
    assert latest_occurrence(FRI_15, datetime(2026, 11, 27, 8), VN) == utc(2026, 11, 27, 8)


def test_dst_zone_keeps_wall_time() -> None:
    # The US springs forward on Sunday 8 Mar 2026: Friday 15:00 stays 15:00 local on both sides.
    before = next_occurrence(FRI_15, utc(2026, 3, 1), NY)
    after = next_occurrence(FRI_15, before, NY)
    assert before.astimezone(NY).hour == after.astimezone(NY).hour == 15
    assert after - before == timedelta(days=7, hours=-1)


schedules = st.one_of(
    st.builds(WeeklyAt, st.integers(0, 6), st.times()),
    st.builds(MonthlyAt, st.one_of(st.none(), st.integers(1, 28)), st.times()),
)
moments = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
)
zones = st.sampled_from([VN, NY, ZoneInfo("UTC"), ZoneInfo("Australia/Lord_Howe")])


@given(schedules, moments, zones)
def test_latest_and_next_bracket_the_moment(spec, moment: datetime, tz: ZoneInfo) -> None:
    latest = latest_occurrence(spec, moment, tz)
    following = next_occurrence(spec, moment, tz)
    assert latest <= moment < following
    # Nothing is scheduled in between: the next after the latest is the next after the moment.
    assert next_occurrence(spec, latest, tz) == following
    assert latest_occurrence(spec, following, tz) == following
