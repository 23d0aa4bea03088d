"""The weekly rhythm's timing with an injected clock: due, once, catch-up, grace, claims, sweeper.

Content is not tested here (handlers.rhythm.compose is replaced by a fake that says one line per
chat); what is tested is that each (chat, kind, period) is sent exactly once, whatever restarts,
second instances, dead instances and failing sends happen around it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from bot.config import ScheduleSection
from bot.domain.periods import month_of, previous_week, week_of
from bot.domain.types import ChatKind, ChatRef, Delivery, DeliveryStatus, Mention, Outbound, SendText, UserRef
from handlers.context import CLAIM_MAX_RETRIES
from handlers.dispatch import Dispatcher
from handlers.jobs import Jobs
from handlers.rhythm import PlannedSend
from tests.conftest import FakeMessenger

UTC = timezone.utc


def local(y, mo, d, h, mi=0) -> datetime:
    """A Hà Nội wall time (UTC+7) as aware UTC."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - timedelta(hours=7)


FRI_1500 = local(2026, 11, 27, 15)  # the default weekly reminder, week 2026-W48
CHATS = [ChatRef("test", f"g{i}", ChatKind.GROUP, title=f"g{i}") for i in range(3)]
LAN = UserRef("test", "lan", "Nguyễn Thị Lan")


class FakeComposer:
    """One message per chat, naming the job and its period (as compose would set it)."""

    def __init__(self, chats=CHATS) -> None:
        self.chats = list(chats)
        self.calls: list[tuple[str, datetime]] = []

    async def __call__(self, uow, config, kind, now, *, subtree=None, groups_only=False):
        self.calls.append((kind, now))
        tz = config.bot.tz
        period = {
            "reminder": week_of(now, tz).key,
            "leaderboard": previous_week(week_of(now, tz), tz).key,
            "monthly": month_of(now, tz).key,
        }[kind]
        return [PlannedSend(chat, kind, period, (SendText(chat, ("⏰ ", Mention(LAN), f" {kind} {period}")),))
                for chat in self.chats]


@dataclass
class ScriptedMessenger(FakeMessenger):
    """Answers with the scripted statuses first (then SENT); records only what was sent."""

    script: list[DeliveryStatus] = field(default_factory=list)
    attempts: int = 0

    async def deliver(self, action: Outbound) -> Delivery:
        self.attempts += 1
        if self.script:
            status = self.script.pop(0)
            if status is not DeliveryStatus.SENT:
                return Delivery(status, error=f"scripted {status.value}")
        return await super().deliver(action)


@dataclass
class Instance:
    dispatcher: Dispatcher
    messenger: FakeMessenger
    jobs: Jobs


def instance(harness, name: str, composer=None, messenger=None, *, inline: bool = True) -> Instance:
    """Another running bot on the same database (own dispatcher, outbox and instance name)."""
    messenger = messenger or FakeMessenger()
    dispatcher = Dispatcher(harness.storage.uow, harness.dispatcher.config, harness.clock, instance=name)
    dispatcher.attach(messenger, inline=inline)
    return Instance(dispatcher, messenger, Jobs(dispatcher, composer=composer or FakeComposer()))


def sent_counts(*messengers: FakeMessenger) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in messengers:
        for action in m.transcript:
            counts[action.chat.chat_id] = counts.get(action.chat.chat_id, 0) + 1
    return counts


async def rows(harness) -> list[tuple]:
    async with harness.storage.engine.connect() as conn:
        result = await conn.execute(text(
            "select chat_id, kind, period, status, attempts, instance from sent_messages "
            "where kind in ('reminder', 'leaderboard', 'monthly', 'manual') order by chat_id"))
        return [tuple(r) for r in result]


async def expire_leases(harness, minutes: int = 11) -> None:
    """As if ``minutes`` had passed on the database server: every lease and back-off ran out."""
    async with harness.storage.engine.begin() as conn:
        if harness.storage.engine.dialect.name == "postgresql":
            await conn.execute(text(f"update sent_messages set lease_until = lease_until - interval '{minutes} minutes'"))
        else:
            rows_ = (await conn.execute(text("select id, lease_until from sent_messages"))).all()
            for row_id, lease in rows_:
                moved = datetime.fromisoformat(lease) - timedelta(minutes=minutes)
                await conn.execute(text("update sent_messages set lease_until = :l where id = :i"),
                                   dict(l=moved.strftime("%Y-%m-%d %H:%M:%S.%f"), i=row_id))


# --- due, once, catch-up, grace -----------------------------------------------------------------------


async def test_the_reminder_fires_once_at_friday_1500_local(harness):
    a = instance(harness, "a")
    run = await a.jobs.run_due("reminder", FRI_1500)
    assert run.outcome == "sent" and run.claimed == 3
    assert a.jobs.compose.calls == [("reminder", FRI_1500)]
    assert sent_counts(a.messenger) == {"g0": 1, "g1": 1, "g2": 1}
    assert [r[:4] for r in await rows(harness)] == [
        ("g0", "reminder", "2026-W48", "sent"), ("g1", "reminder", "2026-W48", "sent"),
        ("g2", "reminder", "2026-W48", "sent")]
    # The trigger firing again (a second call in the same minute) sends nothing more.
    assert (await a.jobs.run_due("reminder", FRI_1500 + timedelta(seconds=20))).outcome == "already"
    assert sent_counts(a.messenger) == {"g0": 1, "g1": 1, "g2": 1}


async def test_a_restart_at_1501_does_not_repeat_it(harness):
    a = instance(harness, "a")
    await a.jobs.run_due("reminder", FRI_1500)
    restarted = instance(harness, "a-restarted")
    runs = await restarted.jobs.catch_up(FRI_1500 + timedelta(minutes=1))
    assert {r.kind: r.outcome for r in runs}["reminder"] == "already"
    assert restarted.messenger.transcript == []
    assert sent_counts(a.messenger) == {"g0": 1, "g1": 1, "g2": 1}


async def test_down_from_1400_to_1600_is_made_up_at_start_up_for_the_1500_period(harness):
    a = instance(harness, "a")
    runs = await a.jobs.catch_up(local(2026, 11, 27, 16))
    assert {r.kind: r.outcome for r in runs} == {"reminder": "sent", "leaderboard": "missed", "monthly": "missed"}
    # Composed as of the occurrence, so it is the 15:00 run, with the 15:00 period.
    assert a.jobs.compose.calls == [("reminder", FRI_1500)]
    assert sent_counts(a.messenger) == {"g0": 1, "g1": 1, "g2": 1}


async def test_down_until_saturday_skips_it_with_one_log_line(harness, caplog):
    a = instance(harness, "a")
    with caplog.at_level(logging.INFO, logger="handlers.jobs"):
        runs = await a.jobs.catch_up(local(2026, 11, 28, 9))  # 18 h late, grace 6 h
    assert {r.kind: r.outcome for r in runs}["reminder"] == "missed"
    assert a.jobs.compose.calls == [] and a.messenger.transcript == []
    missed = [r.getMessage() for r in caplog.records if "reminder of 27/11/2026 15:00 missed" in r.getMessage()]
    assert len(missed) == 1 and "skipped" in missed[0]


async def test_just_inside_and_just_outside_the_grace_period(harness):
    a = instance(harness, "a")
    assert (await a.jobs.run_due("reminder", FRI_1500 + timedelta(hours=6, seconds=1))).outcome == "missed"
    assert (await a.jobs.run_due("reminder", FRI_1500 + timedelta(hours=6))).outcome == "sent"


async def test_the_leaderboard_and_the_monthly_check_take_their_periods_from_their_occurrence(harness):
    a = instance(harness, "a", FakeComposer(CHATS[:1]))
    await a.jobs.run_due("leaderboard", local(2026, 11, 30, 8, 5))
    await a.jobs.run_due("monthly", local(2026, 11, 30, 15, 30))
    assert a.jobs.compose.calls == [("leaderboard", local(2026, 11, 30, 8)), ("monthly", local(2026, 11, 30, 15))]
    assert [r[1:3] for r in await rows(harness)] == [("leaderboard", "2026-W48"), ("monthly", "2026-11")]


async def test_a_job_that_is_off_never_runs(harness):
    cfg = harness.dispatcher.config
    harness.dispatcher.config = replace(cfg, schedule=ScheduleSection(weekly_reminder=None))
    a = instance(harness, "a")
    assert (await a.jobs.run_due("reminder", FRI_1500)).outcome == "off"
    assert (await a.jobs.run_now("reminder", FRI_1500)).outcome == "off"
    assert a.jobs.compose.calls == []


async def test_nothing_to_say_claims_nothing(harness):
    a = instance(harness, "a", FakeComposer([]))
    assert (await a.jobs.run_due("reminder", FRI_1500)).outcome == "nothing"
    assert await rows(harness) == []


async def test_chats_of_a_platform_this_instance_does_not_run_are_left_alone(harness):
    other = ChatRef("telegram", "-100", ChatKind.GROUP)
    a = instance(harness, "a", FakeComposer([CHATS[0], other]))
    run = await a.jobs.run_due("reminder", FRI_1500)
    assert run.claimed == 1
    assert [r[0] for r in await rows(harness)] == ["g0"]


# --- several instances ------------------------------------------------------------------------------


async def test_two_schedulers_on_one_database_send_each_message_once(harness):
    a, b = instance(harness, "a"), instance(harness, "b")
    runs = await asyncio.gather(a.jobs.run_due("reminder", FRI_1500),
                                b.jobs.run_due("reminder", FRI_1500 + timedelta(seconds=1)))
    assert sum(r.claimed for r in runs) == 3
    assert sent_counts(a.messenger, b.messenger) == {"g0": 1, "g1": 1, "g2": 1}
    # Then both restart and catch up: still once.
    await asyncio.gather(a.jobs.catch_up(FRI_1500 + timedelta(minutes=5)),
                         b.jobs.catch_up(FRI_1500 + timedelta(minutes=5)))
    assert sent_counts(a.messenger, b.messenger) == {"g0": 1, "g1": 1, "g2": 1}


async def test_a_claim_whose_instance_died_is_finished_by_the_sweeper_exactly_once(harness, caplog):
    dead = instance(harness, "dead")
    # It claimed (committed) and died before sending anything.
    planned = await dead.jobs.compose(None, harness.dispatcher.config, "reminder", FRI_1500)
    assert len(await dead.jobs.claim_all(planned)) == 3
    b, c = instance(harness, "b"), instance(harness, "c")
    # Within the lease, nobody touches it.
    assert await b.jobs.sweep() == 0
    await expire_leases(harness)
    with caplog.at_level(logging.INFO, logger="handlers.jobs"):
        handed = await asyncio.gather(b.jobs.sweep(), c.jobs.sweep())
    assert sum(handed) == 3
    assert sent_counts(b.messenger, c.messenger) == {"g0": 1, "g1": 1, "g2": 1}
    # The stored payload is what goes out: nothing is composed again.
    assert b.jobs.compose.calls == [] and c.jobs.compose.calls == []
    assert [a.plain for a in b.messenger.transcript + c.messenger.transcript].count("⏰ @Nguyễn Thị Lan reminder 2026-W48") == 3
    assert {r[3] for r in await rows(harness)} == {"sent"}
    assert any("claim of dead" in r.getMessage() for r in caplog.records)
    await expire_leases(harness)
    assert await b.jobs.sweep() == 0 and await c.jobs.sweep() == 0


async def test_a_transient_failure_releases_the_claim_and_it_is_retried(harness):
    flaky = ScriptedMessenger(script=[DeliveryStatus.TRANSIENT])
    a = instance(harness, "a", FakeComposer(CHATS[:1]), flaky)
    await a.jobs.run_due("reminder", FRI_1500)
    assert [r[3:5] for r in await rows(harness)] == [("released", 1)]
    assert flaky.transcript == []
    # A minute of back-off first.
    assert await a.jobs.sweep() == 0
    await expire_leases(harness, minutes=2)
    assert await a.jobs.sweep() == 1
    assert sent_counts(flaky) == {"g0": 1}
    assert [r[3:5] for r in await rows(harness)] == [("sent", 1)]


async def test_a_released_claim_is_taken_again_by_a_new_run_but_only_once(harness):
    flaky = ScriptedMessenger(script=[DeliveryStatus.TRANSIENT])
    a = instance(harness, "a", FakeComposer(CHATS[:1]), flaky)
    await a.jobs.run_due("reminder", FRI_1500)
    b, c = instance(harness, "b", FakeComposer(CHATS[:1])), instance(harness, "c", FakeComposer(CHATS[:1]))
    runs = await asyncio.gather(b.jobs.catch_up(FRI_1500 + timedelta(minutes=1)),
                                c.jobs.catch_up(FRI_1500 + timedelta(minutes=1)))
    assert sum(r.claimed for pair in runs for r in pair) == 1
    assert sent_counts(b.messenger, c.messenger) == {"g0": 1}


async def test_a_permanent_failure_is_logged_and_never_retried(harness, caplog):
    removed = ScriptedMessenger(script=[DeliveryStatus.FAILED_FOR_GOOD])
    a = instance(harness, "a", FakeComposer(CHATS[:1]), removed)
    with caplog.at_level(logging.WARNING):
        await a.jobs.run_due("reminder", FRI_1500)
    assert [r[3] for r in await rows(harness)] == ["failed"]
    assert any("failed for good" in r.getMessage() for r in caplog.records)
    await expire_leases(harness, minutes=600)
    assert await a.jobs.sweep() == 0
    assert (await a.jobs.run_due("reminder", FRI_1500)).outcome == "already"
    assert removed.attempts == 1


async def test_a_send_that_keeps_failing_is_given_up_after_the_retry_limit(harness, caplog):
    down = ScriptedMessenger(script=[DeliveryStatus.TRANSIENT] * 20)
    a = instance(harness, "a", FakeComposer(CHATS[:1]), down)
    await a.jobs.run_due("reminder", FRI_1500)
    with caplog.at_level(logging.WARNING):
        for _ in range(CLAIM_MAX_RETRIES + 3):
            await expire_leases(harness, minutes=600)
            await a.jobs.sweep()
    assert down.attempts == 1 + CLAIM_MAX_RETRIES
    assert [r[3:5] for r in await rows(harness)] == [("failed", CLAIM_MAX_RETRIES + 1)]
    assert any("given up after" in r.getMessage() for r in caplog.records)


async def test_the_lease_is_renewed_while_the_send_waits_in_the_outbox(harness):
    gate = asyncio.Event()

    @dataclass
    class Throttled(FakeMessenger):
        async def deliver(self, action):
            await gate.wait()  # held back by the platform's rate limiter
            return await super().deliver(action)

    a = instance(harness, "a", FakeComposer(CHATS[:1]), Throttled(), inline=False)
    a.dispatcher.platforms["test"].outbox.renew_every = 3600  # renewed by hand below
    await a.jobs.run_due("reminder", FRI_1500)
    assert a.messenger.transcript == []
    # Ten minutes pass on the database server while the send waits…
    await expire_leases(harness)
    # …but the outbox renews the leases of what it holds (every minute in production).
    await a.dispatcher.platforms["test"].outbox.renew_leases()
    b = instance(harness, "b")
    assert await b.jobs.sweep() == 0
    lease_left = await harness.scalar(
        "select (julianday(lease_until) - julianday('now')) * 1440 from sent_messages"
        if harness.storage.engine.dialect.name == "sqlite" else
        "select extract(epoch from lease_until - now()) / 60 from sent_messages")
    assert 9 < float(lease_left) <= 10
    gate.set()
    await a.dispatcher.platforms["test"].outbox.drain()
    assert sent_counts(a.messenger, b.messenger) == {"g0": 1}
    assert [r[3] for r in await rows(harness)] == ["sent"]
    await a.dispatcher.platforms["test"].outbox.stop()


async def test_the_outbox_renews_leases_by_itself_on_its_interval(harness):
    gate = asyncio.Event()
    renewed: list[int] = []

    @dataclass
    class Throttled(FakeMessenger):
        async def deliver(self, action):
            await gate.wait()
            return await super().deliver(action)

    a = instance(harness, "a", FakeComposer(CHATS[:2]), Throttled(), inline=False)
    outbox = a.dispatcher.platforms["test"].outbox
    outbox.renew_every = 0  # every loop turn: the test must not wait a minute

    async def record(claims):
        renewed.append(len(claims))
        if len(renewed) >= 3:
            gate.set()

    outbox._renew = record
    await a.jobs.run_due("reminder", FRI_1500)
    await outbox.drain()
    assert renewed[:3] == [2, 2, 2]
    assert sent_counts(a.messenger) == {"g0": 1, "g1": 1}
    await outbox.stop()


# --- the claims themselves --------------------------------------------------------------------------------


async def test_claim_times_come_from_the_database_server_in_the_stored_format(harness):
    # The harness clock says 27/11/2026; the claim must carry the server's time, not that.
    a = instance(harness, "a", FakeComposer(CHATS[:1]))
    await a.jobs.run_due("reminder", FRI_1500)
    async with harness.storage.uow() as uow:
        row = await uow.sent.get("test", "g0", "reminder", "2026-W48")
    now = datetime.now(UTC)
    assert abs(row.claimed_at - now) < timedelta(minutes=1)
    assert timedelta(minutes=9) < row.lease_until - row.claimed_at <= timedelta(minutes=10, seconds=1)
    assert abs(row.sent_at - now) < timedelta(minutes=1)
    if harness.storage.engine.dialect.name == "sqlite":
        raw = await harness.scalar("select claimed_at || '|' || lease_until from sent_messages")
        for part in raw.split("|"):
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", part), raw


async def test_a_released_row_goes_to_one_claimer_only(harness):
    from datetime import timedelta as td

    async with harness.storage.uow() as uow:
        assert await uow.sent.claim("test", "g", "manual", "2026-11-27", "a", td(minutes=10), payload="{}")
        assert await uow.sent.release("test", "g", "manual", "2026-11-27", "boom", backoff=td(minutes=1),
                                      max_retries=5) == "released"
    async with harness.storage.uow() as uow:
        assert await uow.sent.claim("test", "g", "manual", "2026-11-27", "b", td(minutes=10))
        assert not await uow.sent.claim("test", "g", "manual", "2026-11-27", "c", td(minutes=10))
        row = await uow.sent.get("test", "g", "manual", "2026-11-27")
        assert (row.status, row.instance, row.attempts, row.payload) == ("claimed", "b", 1, "{}")


async def test_the_daily_unbound_group_hint_is_still_said_once_a_day(harness):
    chat = harness.group("unbound")
    for _ in range(2):
        await harness.send(chat, harness.user("Lan"), "https://www.facebook.com/thcs/posts/1")
    assert len([t for t in harness.messenger.texts() if "chưa được gắn" in t]) == 1
    assert await harness.scalar("select status from sent_messages where kind = 'hint'") == "sent"
    assert await harness.scalar("select payload is not null from sent_messages where kind = 'hint'")
