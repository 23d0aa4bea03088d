"""bot.scheduler: APScheduler only triggers; the triggers match [schedule] in the configured zone,
and what they call runs the jobs with the injected clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.config import ScheduleSection, default_config
from bot.domain.schedule import MonthlyAt, WeeklyAt
from bot.scheduler import Scheduler, cron_trigger

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def hanoi(y, mo, d, h=0, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=HANOI)


@pytest.mark.parametrize("spec, after, expected", [
    (WeeklyAt(4, time(15, 0)), hanoi(2026, 11, 26, 9), hanoi(2026, 11, 27, 15)),  # Thu → Fri 15:00
    (WeeklyAt(4, time(15, 0)), hanoi(2026, 11, 27, 15, 1), hanoi(2026, 12, 4, 15)),  # just after → next week
    (WeeklyAt(0, time(8, 0)), hanoi(2026, 11, 27, 16), hanoi(2026, 11, 30, 8)),  # Mon 08:00
    (MonthlyAt(None, time(15, 0)), hanoi(2026, 11, 2), hanoi(2026, 11, 30, 15)),  # last day
    (MonthlyAt(None, time(15, 0)), hanoi(2027, 2, 1), hanoi(2027, 2, 28, 15)),
    (MonthlyAt(None, time(15, 0)), hanoi(2028, 2, 1), hanoi(2028, 2, 29, 15)),  # leap year
    (MonthlyAt(1, time(8, 0)), hanoi(2026, 11, 27), hanoi(2026, 12, 1, 8)),
])
def test_triggers_fire_at_the_configured_local_times(spec, after, expected):
    fire = cron_trigger(spec, HANOI).get_next_fire_time(None, after)
    assert fire == expected
    assert fire.utcoffset() == timedelta(hours=7)


class FakeJobs:
    def __init__(self, config) -> None:
        self.config = config
        self.calls: list[tuple] = []

    def schedule_of(self, kind):
        s = self.config.schedule
        return {"reminder": s.weekly_reminder, "leaderboard": s.weekly_leaderboard, "monthly": s.monthly_check}[kind]

    async def run_due(self, kind, now):
        self.calls.append(("run_due", kind, now))
        if kind == "monthly":
            raise RuntimeError("a bug in one job")

    async def catch_up(self, now):
        self.calls.append(("catch_up", now))

    async def sweep(self):
        self.calls.append(("sweep",))
        return 0

    async def housekeep(self, now):
        self.calls.append(("housekeep", now))
        raise RuntimeError("a bug in the housekeeping")


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


NOW = datetime(2026, 11, 27, 8, 0, 30, tzinfo=timezone.utc)  # 15:00:30 in Hà Nội


async def test_one_job_per_scheduled_entry_plus_the_sweeper_coalesced_with_the_grace():
    jobs = FakeJobs(default_config())
    scheduler = Scheduler(jobs, FixedClock(NOW))
    by_id = {job.id: job for job in scheduler.aps.get_jobs()}
    assert set(by_id) == {"reminder", "leaderboard", "monthly", "sweeper", "housekeeping"}
    for kind in ("reminder", "leaderboard", "monthly"):
        assert by_id[kind].coalesce is True
        assert by_id[kind].misfire_grace_time == 6 * 3600
        assert by_id[kind].max_instances == 1
    assert by_id["sweeper"].trigger.interval == timedelta(minutes=1)
    assert by_id["housekeeping"].trigger.interval == timedelta(hours=1)
    assert by_id["reminder"].trigger.get_next_fire_time(None, hanoi(2026, 11, 26)) == hanoi(2026, 11, 27, 15)


async def test_an_off_entry_has_no_job():
    cfg = default_config()
    cfg = replace(cfg, schedule=ScheduleSection(weekly_leaderboard=None, monthly_check=None))
    scheduler = Scheduler(FakeJobs(cfg), FixedClock(NOW))
    assert {job.id for job in scheduler.aps.get_jobs()} == {"reminder", "sweeper", "housekeeping"}


async def test_a_trigger_runs_the_job_with_the_injected_clock_and_survives_its_errors(caplog):
    jobs = FakeJobs(default_config())
    scheduler = Scheduler(jobs, FixedClock(NOW))
    job = scheduler.aps.get_job("reminder")
    await job.func(*job.args)
    await scheduler.aps.get_job("monthly").func(*scheduler.aps.get_job("monthly").args)  # raises inside
    await scheduler.aps.get_job("sweeper").func()
    await scheduler.aps.get_job("housekeeping").func()  # raises inside
    assert jobs.calls == [("run_due", "reminder", NOW), ("run_due", "monthly", NOW), ("sweep",), ("housekeep", NOW)]
    assert "scheduled monthly failed" in caplog.text and "housekeeping failed" in caplog.text


async def test_start_catches_up_and_sweeps_then_stop_ends_the_triggers():
    jobs = FakeJobs(default_config())
    scheduler = Scheduler(jobs, FixedClock(NOW))
    await scheduler.start()
    try:
        assert scheduler.aps.running
        assert jobs.calls == [("catch_up", NOW), ("sweep",)]
    finally:
        await scheduler.stop()
    assert not scheduler.aps.running
