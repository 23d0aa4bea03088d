"""APScheduler 3 as the trigger only (ARCHITECTURE: "Time, injected").

APScheduler reads the wall clock and its memory job store forgets runs missed while the bot was
down, so it decides nothing: at each ``[schedule]`` time it calls ``Jobs.run_due`` with the
clock's time, and every minute ``Jobs.sweep``. What is due, the claims, the catch-up after
downtime and the grace period live in ``handlers.jobs``, as functions of the time they are given.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import tzinfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.domain.schedule import MonthlyAt, Schedule, WeeklyAt
from bot.domain.types import Clock
from handlers.jobs import SCHEDULED, Jobs

logger = logging.getLogger(__name__)

# SPEC §3.3: the sweeper looks for claims whose instance died every minute.
SWEEP_EVERY = 60.0


def sweep_every_from_env(environ=os.environ) -> float:
    """LANTOA_SWEEP_EVERY (seconds) shortens the sweep for the process-level tests, which cannot
    wait minutes for a dead instance's claims to be finished; anything else keeps the minute."""
    try:
        seconds = float(environ.get("LANTOA_SWEEP_EVERY", ""))
    except ValueError:
        return SWEEP_EVERY
    return seconds if 0.5 <= seconds <= SWEEP_EVERY else SWEEP_EVERY

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_trigger(spec: Schedule, tz: tzinfo) -> CronTrigger:
    """The APScheduler trigger of a ``[schedule]`` entry, in the configured time zone."""
    if isinstance(spec, WeeklyAt):
        return CronTrigger(day_of_week=_DAY_NAMES[spec.weekday], hour=spec.at.hour, minute=spec.at.minute,
                           second=0, timezone=tz)
    if isinstance(spec, MonthlyAt):
        day = "last" if spec.day is None else str(spec.day)
        return CronTrigger(day=day, hour=spec.at.hour, minute=spec.at.minute, second=0, timezone=tz)
    raise TypeError(f"not a schedule: {spec!r}")


class Scheduler:
    """Triggers the jobs of one running instance; started and stopped with the bot."""

    def __init__(self, jobs: Jobs, clock: Clock, *, sweep_every: float | None = None) -> None:
        self.jobs = jobs
        self.clock = clock
        if sweep_every is None:
            sweep_every = sweep_every_from_env()
        config = jobs.config
        self.tz = config.bot.tz
        # A trigger that fires late (a busy loop, a suspended machine) still calls run_due, which
        # applies the grace period itself; coalesce: several missed fire times make one call.
        grace = max(1, int(config.schedule.grace_hours * 3600))
        self.aps = AsyncIOScheduler(timezone=self.tz)
        for kind in SCHEDULED:
            spec = jobs.schedule_of(kind)
            if spec is None:
                logger.info("schedule: %s is off", kind)
                continue
            self.aps.add_job(self.run_job, cron_trigger(spec, self.tz), args=[kind], id=kind, name=kind,
                             coalesce=True, max_instances=1, misfire_grace_time=grace)
        # The setup deadline's reminder is due once ([calendar] setup_deadline): asked every
        # morning, Jobs.run_due decides (and applies the grace).
        setup_due = getattr(jobs, "setup_due", None)
        if setup_due is not None and setup_due() is not None:
            self.aps.add_job(self.run_job, CronTrigger(hour=8, minute=5, second=0, timezone=self.tz),
                             args=["setup"], id="setup", name="setup", coalesce=True, max_instances=1,
                             misfire_grace_time=grace)
        self.aps.add_job(self.sweep, IntervalTrigger(seconds=sweep_every, timezone=self.tz), id="sweeper",
                         name="sweeper", coalesce=True, max_instances=1,
                         misfire_grace_time=max(1, int(sweep_every)))
        self.aps.add_job(self.housekeep, IntervalTrigger(hours=1, timezone=self.tz), id="housekeeping",
                         name="housekeeping", coalesce=True, max_instances=1, misfire_grace_time=3600)

    async def start(self, *, catch_up: bool = True) -> None:
        """Start triggering; then make up what was missed while the bot was down (SPEC §3.3)."""
        self.aps.start()
        for job in self.aps.get_jobs():
            logger.info("schedule: %s next at %s", job.id, job.next_run_time)
        if catch_up:
            await self.jobs.catch_up(self.clock.now())
            await self.sweep()

    async def stop(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn

    async def run_job(self, kind: str) -> None:
        """What a cron trigger calls: run the job if due, as of the injected clock."""
        try:
            await self.jobs.run_due(kind, self.clock.now())
        except Exception:  # logged; the next occurrence, the catch-up or the sweeper try again
            logger.exception("scheduled %s failed", kind)

    async def sweep(self) -> None:
        try:
            await self.jobs.sweep()
        except Exception:
            logger.exception("the claim sweeper failed")

    async def housekeep(self) -> None:
        try:
            await self.jobs.housekeep(self.clock.now())
        except Exception:
            logger.exception("housekeeping failed")
