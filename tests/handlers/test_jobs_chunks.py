"""A run claims its sends in chunks (handlers.jobs.FIRST_CHUNK, CHUNK), each committed before
its sends are handed on, so that the first sends leave while the rest are still being claimed.
Exactly once must hold whatever happens between chunks: an instance dying there, a second
instance running the same occurrence at the same moment."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.domain.types import ChatKind, ChatRef
from handlers import jobs as jobs_module
from tests.handlers.test_jobs import FRI_1500, FakeComposer, expire_leases, instance, rows, sent_counts
from tests.conftest import FakeMessenger

CHATS = [ChatRef("test", f"g{i:02d}", ChatKind.GROUP, title=f"g{i:02d}") for i in range(8)]
EVERY_CHAT_ONCE = {c.chat_id: 1 for c in CHATS}


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    # 8 sends in chunks of 2, 3 and 3.
    monkeypatch.setattr(jobs_module, "FIRST_CHUNK", 2)
    monkeypatch.setattr(jobs_module, "CHUNK", 3)


class Died(Exception):
    """The instance's process ended here (a crash, a kill)."""


def dies_at_chunk(jobs, n: int, seen: list[int] | None = None):
    """Make ``jobs.claim_all`` end the instance when it starts its ``n``-th chunk."""
    real = jobs.claim_all
    calls = []

    async def claim_all(planned):
        calls.append(len(planned))
        if seen is not None:
            seen.append(len(jobs.dispatcher.platforms["test"].outbox.messenger.transcript))
        if len(calls) == n:
            raise Died()
        return await real(planned)

    jobs.claim_all = claim_all
    return calls


async def test_the_first_chunk_is_sent_before_the_next_is_claimed(harness):
    a = instance(harness, "a", FakeComposer(CHATS))
    sent_before_each_claim: list[int] = []
    calls = dies_at_chunk(a.jobs, 0, sent_before_each_claim)  # never dies: only watches
    run = await a.jobs.fire("reminder", FRI_1500)
    assert (run.planned, run.claimed, calls) == (8, 8, [2, 3, 3])
    assert sent_before_each_claim == [0, 2, 5]  # (an inline outbox sends as it is handed on)
    assert sent_counts(a.messenger) == EVERY_CHAT_ONCE


async def test_an_instance_dying_between_chunks_leaves_the_rest_to_the_catch_up_exactly_once(harness):
    dead = instance(harness, "dead", FakeComposer(CHATS))
    dies_at_chunk(dead.jobs, 2)
    with pytest.raises(Died):
        await dead.jobs.fire("reminder", FRI_1500)
    # Its first chunk was claimed, committed and sent; the rest were never claimed.
    assert sent_counts(dead.messenger) == {"g00": 1, "g01": 1}
    assert [r[0] for r in await rows(harness)] == ["g00", "g01"]
    # It (or another instance) starts again within the grace: the catch-up sends the rest only.
    b = instance(harness, "b", FakeComposer(CHATS))
    [reminder] = [r for r in await b.jobs.catch_up(FRI_1500 + timedelta(minutes=3)) if r.kind == "reminder"]
    assert (reminder.outcome, reminder.claimed) == ("sent", 6)
    assert sent_counts(dead.messenger, b.messenger) == EVERY_CHAT_ONCE
    assert {(r[3], r[5]) for r in await rows(harness)} == {("sent", "dead"), ("sent", "b")}
    await expire_leases(harness)
    assert await b.jobs.sweep() == 0
    assert sent_counts(dead.messenger, b.messenger) == EVERY_CHAT_ONCE


class Stuck(FakeMessenger):
    """A messenger whose sends never come back: its instance is as good as dead."""

    async def deliver(self, action):
        await asyncio.Event().wait()


async def test_claims_of_the_chunks_before_the_death_are_finished_by_the_sweeper(harness):
    dead = instance(harness, "dead", FakeComposer(CHATS), Stuck(), inline=False)
    dies_at_chunk(dead.jobs, 3)
    try:
        with pytest.raises(Died):
            await dead.jobs.fire("reminder", FRI_1500)
        await asyncio.sleep(0)  # its lanes start and hang
        assert len(await rows(harness)) == 5 and not dead.messenger.transcript
        b = instance(harness, "b", FakeComposer(CHATS))
        # b starts: its catch-up claims the 3 never claimed; the 5 claimed wait for their lease.
        await b.jobs.catch_up(FRI_1500 + timedelta(minutes=1))
        assert sent_counts(b.messenger) == {"g05": 1, "g06": 1, "g07": 1}
        assert await b.jobs.sweep() == 0
        await expire_leases(harness)
        assert await b.jobs.sweep() == 5
        assert sent_counts(b.messenger) == EVERY_CHAT_ONCE
        assert {r[3] for r in await rows(harness)} == {"sent"}
    finally:
        await dead.dispatcher.platforms["test"].outbox.stop(timeout=0)


async def test_two_instances_claiming_chunk_by_chunk_at_once_send_each_message_once(harness):
    a = instance(harness, "a", FakeComposer(CHATS))
    b = instance(harness, "b", FakeComposer(list(reversed(CHATS))))  # from the other end
    runs = await asyncio.gather(a.jobs.fire("reminder", FRI_1500), b.jobs.fire("reminder", FRI_1500))
    assert sum(r.claimed for r in runs) == 8
    assert sent_counts(a.messenger, b.messenger) == EVERY_CHAT_ONCE
