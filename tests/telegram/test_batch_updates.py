"""Batches through the real PTB and the fake Bot API (issue 15): one getUpdates answer is one
batch, confirmed only after its commit; webhook POSTs arriving together are one batch, each
answered 200 after that commit; an absent database confirms only what was committed."""

from __future__ import annotations

import asyncio

import aiohttp

from handlers.dispatch import DatabaseUnavailable
from tests.fake_telegram import builders as b
from tests.telegram.test_ingest_never_stalls import hook  # noqa: F401 - a fixture
from tests.telegram.test_telegram_app import (  # noqa: F401 - tg is a fixture
    BINH,
    GROUP,
    LAN,
    PRINCIPAL,
    bind_group,
    tg,
)


def posts(n: int, start: int = 0) -> list[str]:
    return [f"https://www.facebook.com/thcskimboi/posts/{31_000 + start + k}" for k in range(n)]


class Recording:
    """The dispatcher, with a record of the batches it was handed."""

    def __init__(self, real, fail_once_after: int | None = None) -> None:
        self.real = real
        self.batches: list[int] = []
        self.fail_once_after = fail_once_after

    async def handle(self, event) -> None:
        await self.real.handle(event)

    async def handle_batch(self, events) -> None:
        self.batches.append(len(events))
        if self.fail_once_after is not None and len(events) > self.fail_once_after:
            # The database goes away after this many events were committed one by one.
            keep, self.fail_once_after = self.fail_once_after, None
            for event in events[:keep]:
                await self.real.handle(event)
            exc = DatabaseUnavailable("connection refused")
            exc.handled = keep
            raise exc
        await self.real.handle_batch(events)


async def test_one_getupdates_answer_is_one_batch_confirmed_after_its_commit(tg, fake_telegram):
    await bind_group(tg, fake_telegram)
    await fake_telegram.wait_confirmed()
    recording = Recording(tg.app.platform.core)
    tg.app.platform.core = recording
    ids = [fake_telegram.push_update(b.message(GROUP, who, f"Em chia sẻ {url}"))
           for who, url in zip([LAN, BINH, PRINCIPAL, LAN, BINH], posts(5))]
    await fake_telegram.wait_confirmed(ids[-1])
    assert recording.batches == [5]
    assert await tg.scalar("select count(*) from submissions") == 5
    await fake_telegram.wait_for_count("setMessageReaction", 5)
    assert all(fake_telegram.deliveries[i] == 1 for i in ids)


async def test_an_absent_database_confirms_only_the_updates_committed_before(tg, fake_telegram):
    await bind_group(tg, fake_telegram)
    await fake_telegram.wait_confirmed()
    recording = Recording(tg.app.platform.core, fail_once_after=2)
    tg.app.platform.core = recording
    ids = [fake_telegram.push_update(b.message(GROUP, LAN, f"Bài {url}")) for url in posts(5, start=100)]
    await fake_telegram.wait_confirmed(ids[-1], timeout=15)
    assert [fake_telegram.deliveries[i] for i in ids[:2]] == [1, 1]  # committed: never sent again
    assert all(fake_telegram.deliveries[i] == 2 for i in ids[2:])  # held back, then sent again
    assert recording.batches == [5, 3]
    assert await tg.scalar("select count(*) from submissions") == 5
    assert await tg.scalar("select count(*) from audit_log where action = 'credit'") == 5


async def test_webhook_posts_arriving_together_are_one_batch_each_answered_after_its_commit(
        hook, fake_telegram):  # noqa: F811
    fake_telegram.add_chat(GROUP)
    fake_telegram.set_admins(GROUP["id"], [b.owner(PRINCIPAL)])
    fake_telegram.push_update(b.message(GROUP, PRINCIPAL, f"/dangky {await hook.join_code('THCS-KIMBOI')}"))
    assert [s for _, s in await fake_telegram.deliver_webhook()] == [200]
    platform = hook.app.platform
    recording = Recording(platform.core)
    platform.core = recording
    platform.webhook_window = 1.0  # wide enough that a loaded test machine still gathers all four
    updates = [b.message(GROUP, LAN, f"Bài {url}", update_id=700_000 + k) for k, url in enumerate(posts(4, 200))]
    answered_with: list[int] = []

    async with aiohttp.ClientSession() as session:
        async def post(update) -> int:
            async with session.post(fake_telegram.webhook.url, json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}) as response:
                # By the time a POST is answered, its update is committed.
                answered_with.append(await hook.scalar("select count(*) from submissions"))
                return response.status

        statuses = await asyncio.gather(*(post(u) for u in updates))
    assert statuses == [200] * 4
    assert recording.batches == [4]
    assert answered_with == [4] * 4


async def test_a_webhook_batch_held_back_by_the_database_answers_503_to_what_did_not_commit(
        hook, fake_telegram):  # noqa: F811
    fake_telegram.add_chat(GROUP)
    fake_telegram.set_admins(GROUP["id"], [b.owner(PRINCIPAL)])
    fake_telegram.push_update(b.message(GROUP, PRINCIPAL, f"/dangky {await hook.join_code('THCS-KIMBOI')}"))
    assert [s for _, s in await fake_telegram.deliver_webhook()] == [200]
    platform = hook.app.platform
    platform.core = Recording(platform.core, fail_once_after=1)
    platform.webhook_window = 1.0
    updates = [b.message(GROUP, BINH, f"Bài {url}", update_id=710_000 + k) for k, url in enumerate(posts(3, 300))]
    async with aiohttp.ClientSession() as session:
        async def post(update) -> int:
            async with session.post(fake_telegram.webhook.url, json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}) as response:
                return response.status

        statuses = await asyncio.gather(*(post(u) for u in updates))
    assert sorted(statuses) == [200, 503, 503]  # the first of the batch committed, then the database went
    assert await hook.scalar("select count(*) from submissions") == 1


async def test_a_crash_after_a_batch_commits_counts_nothing_twice(tg, fake_telegram):
    """The process dies after the batch's commit, before the next getUpdates confirms it: the
    whole batch comes again and changes nothing (SPEC §3.7)."""
    await bind_group(tg, fake_telegram)
    await fake_telegram.wait_confirmed()
    real = tg.app.platform.core
    committed = asyncio.Event()

    class CommitThenDie(Recording):
        async def handle_batch(self, events) -> None:
            await real.handle_batch(events)
            committed.set()
            await asyncio.Event().wait()  # killed here

    tg.app.platform.core = CommitThenDie(real)
    ids = [fake_telegram.push_update(b.message(GROUP, who, f"Bài {url}"))
           for who, url in zip([LAN, BINH, LAN], posts(3, 400))]
    await asyncio.wait_for(committed.wait(), 10)
    await fake_telegram.wait_for_count("setMessageReaction", 3)
    await tg.crash()
    assert fake_telegram.confirmed_offset <= ids[0]  # Telegram will send the batch again
    await tg.start()
    await fake_telegram.wait_confirmed(ids[-1])
    assert all(fake_telegram.deliveries[i] >= 2 for i in ids)
    assert await tg.scalar("select count(*) from submissions") == 3
    assert await tg.scalar("select count(*) from audit_log where action = 'credit'") == 3
    assert len(fake_telegram.reactions()) == 3
