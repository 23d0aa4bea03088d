"""The weekly rhythm's timing (SPEC §3.3): what is due, the claims, the catch-up, the sweeper.

Every function here takes the time as an argument and never sleeps: APScheduler (bot.scheduler)
only triggers them with the system clock, the console with its simulated clock, tests with
whatever moment they need. What each message says is ``handlers.rhythm.compose``'s business.

Exactly once per (chat, kind, period): every planned send is claimed (a ``sent_messages`` row,
committed before anything is sent, holding the composed message as its payload), marked sent
once the platform accepts it, failed for good or released for a retry otherwise. A claim whose
instance died keeps its row; once its lease runs out the sweeper takes it over and sends the
stored payload, so nothing is composed twice and nothing is lost. A run claims in chunks, each
committed before its sends are handed on, so the first sends leave while the rest are claimed; a
send not yet claimed when an instance dies is nobody's, as if the run had not reached it: the
catch-up at the next start (or another instance's run of the same occurrence) claims and sends it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Awaitable, Protocol

from bot.domain.outbound_json import PayloadError, dump_actions, load_actions
from bot.domain.schedule import Schedule, latest_occurrence
from handlers import rhythm
from handlers.context import CLAIM_LEASE, CLAIM_MAX_RETRIES, Claim
from handlers.rhythm import JobKind, PlannedSend

if TYPE_CHECKING:
    from handlers.dispatch import Dispatcher

logger = logging.getLogger(__name__)

# Delivery ids are kept this long to recognise a redelivered webhook (Zalo retries within
# minutes); then the hourly housekeeping forgets them.
DELIVERIES_KEPT = timedelta(days=7)

# The scheduled jobs, in the order the start-up catch-up runs them.
SCHEDULED = (JobKind.REMINDER, JobKind.LEADERBOARD, JobKind.MONTHLY)
# A run's first claim transaction holds about the first second of sends at Telegram's 30 a second
# (≈ 60 ms of claiming on SQLite), so sending starts almost at once; the rest are claimed in
# larger chunks while those go out (claiming, ≈ 2 ms a send, stays far ahead of 30 sends a second).
FIRST_CHUNK = 30
CHUNK = 100


class Composer(Protocol):
    """``handlers.rhythm.compose``: what each chat should hear for a job at a moment."""

    def __call__(self, uow, config, kind: str, now: datetime, *, subtree=None,
                 groups_only: bool = False) -> Awaitable[list[PlannedSend]]: ...


def _default_composer(uow, config, kind, now, **kw):
    # Looked up at call time: tests replace rhythm.compose, and the module may grow it later.
    return rhythm.compose(uow, config, kind, now, **kw)


@dataclass(frozen=True)
class JobRun:
    """What one run of a job did; ``outcome`` is one of:

    ``sent`` (``claimed`` sends handed to the platforms), ``already`` (every planned send was
    claimed before: nothing new), ``nothing`` (nobody to tell: a holiday week, everyone done),
    ``missed`` (the occurrence is older than the grace period: skipped), ``off`` (not scheduled).
    """

    kind: str
    outcome: str
    occurrence: datetime | None = None
    planned: int = 0
    claimed: int = 0


class Jobs:
    """The scheduled jobs of one running instance, sent through its dispatcher's platforms."""

    def __init__(self, dispatcher: "Dispatcher", *, composer: Composer | None = None) -> None:
        self.dispatcher = dispatcher
        self.config = dispatcher.config
        self.compose: Composer = composer or _default_composer

    @property
    def instance(self) -> str:
        return self.dispatcher.instance

    def schedule_of(self, kind: str) -> Schedule | None:
        """The weekly or monthly schedule of a job; None when off. The setup reminder has none:
        it is due once, at ``setup_due`` (the scheduler asks daily)."""
        s = self.config.schedule
        if kind == JobKind.SETUP:
            return None
        return {
            JobKind.REMINDER: s.weekly_reminder,
            JobKind.LEADERBOARD: s.weekly_leaderboard,
            JobKind.MONTHLY: s.monthly_check,
        }[kind]

    # --- due, catch-up, run ---------------------------------------------------------------------

    async def run_due(self, kind: str, now: datetime) -> JobRun:
        """Run the latest occurrence of ``kind`` at or before ``now`` if it is within the grace
        period (as of that occurrence, so its period is the occurrence's); skip it, with a log
        line, when it is older. Sends already claimed are not repeated, so calling this again —
        at a restart, from a second instance — sends nothing twice."""
        if kind == JobKind.SETUP:
            occurrence = self.setup_due()
            if occurrence is None:
                return JobRun(kind, "off")
            if now < occurrence:
                return JobRun(kind, "nothing")
        else:
            spec = self.schedule_of(kind)
            if spec is None:
                return JobRun(kind, "off")
            occurrence = latest_occurrence(spec, now, self.config.bot.tz)
        late = now - occurrence
        if late > timedelta(hours=self.config.schedule.grace_hours):
            logger.info("%s of %s missed (%s late, grace %sh): skipped", kind,
                        occurrence.astimezone(self.config.bot.tz).strftime("%d/%m/%Y %H:%M"),
                        _hours(late), self.config.schedule.grace_hours)
            return JobRun(kind, "missed", occurrence)
        return await self.fire(kind, occurrence)

    async def catch_up(self, now: datetime) -> list[JobRun]:
        """At start-up: make up what was missed while the bot was down (within the grace)."""
        runs = []
        # The setup reminder only when a deadline is configured (it has no weekly schedule).
        for kind in SCHEDULED + ((JobKind.SETUP,) if self.setup_due() is not None else ()):
            try:
                runs.append(await self.run_due(kind, now))
            except Exception:  # one job's bug must not keep the others, or the bot, from starting
                logger.exception("catch-up of %s failed", kind)
        return runs

    async def run_now(self, kind: str, now: datetime) -> JobRun:
        """The console's ``:run``: the job fires at ``now`` as the scheduler's trigger would
        fire it at its time (same composition, claims and sends); an ``off`` job does not run."""
        if self.schedule_of(kind) is None and not (kind == JobKind.SETUP and self.setup_due() is not None):
            return JobRun(kind, "off")
        return await self.fire(kind, now)

    def setup_due(self) -> datetime | None:
        """When the setup deadline's reminder is due ([calendar] setup_deadline); None: no deadline."""
        from handlers.reports import setup_reminder_at

        return setup_reminder_at(self.config)

    async def fire(self, kind: str, at: datetime) -> JobRun:
        """Compose the job as of ``at``, then, chunk by chunk (``FIRST_CHUNK``, then ``CHUNK``),
        claim the planned sends in one transaction (those already claimed by anyone are skipped),
        commit, and hand the claimed ones to the platforms' outboxes. An error in a later chunk
        leaves the earlier chunks' sends going and the rest unclaimed (see the module docstring)."""
        async with self.dispatcher.uow_factory() as uow:
            planned = await self.compose(uow, self.config, kind, at)
        # Chats of a platform this instance does not run are left to an instance that does
        # (the console on a live database must never message real groups).
        planned = [p for p in planned if p.chat.platform in self.dispatcher.platforms]
        if not planned:
            logger.info("%s at %s: nothing to send", kind, at.isoformat())
            return JobRun(kind, "nothing", at)
        claimed = 0
        start, size = 0, FIRST_CHUNK
        while start < len(planned):
            won = await self.claim_all(planned[start:start + size])
            for claim, send in won:
                await self.dispatcher.platforms[claim.platform].outbox.put_claimed(claim, send.actions)
            claimed += len(won)
            start, size = start + size, CHUNK
        logger.info("%s at %s: %d planned, %d claimed here", kind, at.isoformat(), len(planned), claimed)
        return JobRun(kind, "sent" if claimed else "already", at, len(planned), claimed)

    async def claim_all(self, planned: list[PlannedSend]) -> list[tuple[Claim, PlannedSend]]:
        """Claim the sends in one transaction; only those this instance won are returned."""
        won: list[tuple[Claim, PlannedSend]] = []

        async def work(uow) -> None:
            won.clear()  # a retried transaction starts over
            for send in planned:
                claim = Claim(send.chat.platform, send.chat.chat_id, send.kind, send.period)
                if await uow.sent.claim(*claim.key, self.instance, CLAIM_LEASE, payload=dump_actions(send.actions)):
                    won.append((claim, send))

        await self.dispatcher._in_transaction(work, describe=f"claim {len(planned)} sends")
        return won

    # --- the sweeper ----------------------------------------------------------------------------

    async def sweep(self) -> int:
        """Take over claims whose lease ran out (their instance died) and released ones whose
        back-off is over, and send their stored payload. Returns how many were handed on."""
        platforms = list(self.dispatcher.platforms)
        taken = []

        async def work(uow) -> None:
            taken[:] = await uow.sent.take_over(self.instance, platforms, CLAIM_LEASE,
                                                max_retries=CLAIM_MAX_RETRIES)

        await self.dispatcher._in_transaction(work, describe="sweep claims")
        handed = 0
        for row in taken:
            claim = Claim(row.platform, row.chat_id, row.kind, row.period)
            outbox = self.dispatcher.platforms[row.platform].outbox
            if claim in outbox.held_claims:
                continue  # our own send, still queued: the take-over only renewed its lease
            try:
                if row.payload is None:
                    raise PayloadError("no payload stored")
                actions = load_actions(row.payload)
            except PayloadError as exc:
                logger.error("claim %s cannot be finished (%s): marked failed", claim.key, exc)
                await self._mark_failed(claim, f"sweeper: {exc}")
                continue
            logger.info("sweeper: sending %s/%s to %s (claim of %s, %d earlier failures)",
                        row.kind, row.period, row.chat_id, row.previous_instance, row.attempts)
            await outbox.put_claimed(claim, actions)
            handed += 1
        return handed

    async def housekeep(self, now: datetime) -> int:
        """Forget delivery ids older than ``DELIVERIES_KEPT``; returns how many. Several instances
        may do it at once: deleting what is already gone changes nothing."""
        from storage.accounts import forget_old_deliveries

        forgotten = [0]

        async def work(uow) -> None:
            forgotten[0] = await forget_old_deliveries(uow.session, now - DELIVERIES_KEPT)

        await self.dispatcher._in_transaction(work, describe="forget old deliveries")
        if forgotten[0]:
            logger.info("housekeeping: forgot %d delivery ids older than %s", forgotten[0], DELIVERIES_KEPT)
        return forgotten[0]

    async def _mark_failed(self, claim: Claim, detail: str) -> None:
        async def work(uow) -> None:
            await uow.sent.mark_failed(*claim.key, detail)

        await self.dispatcher._in_transaction(work, describe=f"fail {claim}")


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f}h"

