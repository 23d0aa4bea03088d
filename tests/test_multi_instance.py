"""Two live instances on one database behave as one (SPEC §3.3, §3.6, issue 18).

Two TelegramApp objects in webhook mode, each with its own engine and web server, on one
database (SQLite by default, PostgreSQL with LANTOA_TEST_POSTGRES), driven by the fake Bot API
through a small round-robin balancer. The clocks are fixed, so the wall clock adds nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text

from bot.app import Storage, TelegramApp, load_demo_units, open_storage
from bot.config import TelegramSection, WebSection
from bot.domain.types import ChatKind, ChatRef, Mention, SendText, UserRef
from bot.web import SECRET_HEADER, WEBHOOK_PATH, build_app
from handlers import rhythm
from handlers.rhythm import PlannedSend
from tests.fake_telegram import builders as b
from tests.fake_telegram.fixtures import FAKE_TOKEN
from tests.fake_telegram.server import FakeTelegramServer

SECRET = "multi-Instance_s3cret"
# Wednesday 25/11/2026 10:00 in Hà Nội: nothing is due, the start-up catch-up sends nothing.
WEDNESDAY = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
# Friday 27/11/2026 15:05 in Hà Nội: the weekly reminder (fri 15:00) is due at start-up.
FRIDAY_1505 = datetime(2026, 11, 27, 8, 5, tzinfo=timezone.utc)

GROUP_ID = -1001987650001
GROUP = b.group(GROUP_ID, "Truyền thông THCS Kim Bôi")
PRINCIPAL = b.user(6200000009, "Hùng", "Trần Văn", username="thayhung")
TEACHERS = [b.user(6200000100 + i, f"Giáo viên {i}", "Nguyễn") for i in range(12)]
FANOUT_GROUPS = [-1002100000000 - i for i in range(50)]
LAN = UserRef("telegram", "6200000001", "Nguyễn Thị Lan")


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def compose_fanout(uow, config, kind, now, *, subtree=None, groups_only=False):
    """The weekly reminder for 50 groups, without needing 50 bound units."""
    plans = []
    for chat_id in FANOUT_GROUPS:
        chat = ChatRef("telegram", str(chat_id), ChatKind.GROUP)
        parts = ("⏰ Tuần 48: còn ", Mention(LAN), " chưa chia sẻ bài nào.")
        plans.append(PlannedSend(chat, kind, "2026-W48", (SendText(chat, parts),)))
    return plans


class Balancer:
    """nginx in miniature: each POST goes to the next instance in turn; its answer is returned."""

    def __init__(self, targets: list[str]) -> None:
        self.targets = targets
        self._turn = itertools.count()
        self.routed: list[int] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> str:
        async def forward(request: web.Request) -> web.Response:
            index = next(self._turn) % len(self.targets)
            self.routed.append(index)
            headers = {k: v for k, v in request.headers.items() if k in (SECRET_HEADER, "Content-Type")}
            async with aiohttp.ClientSession() as session:
                async with session.post(self.targets[index] + request.path, data=await request.read(),
                                        headers=headers) as response:
                    return web.Response(status=response.status, body=await response.read())

        app = web.Application()
        app.router.add_post(WEBHOOK_PATH, forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class Instance:
    """One bot process: its own engine, dispatcher, outbox, scheduler and web server."""

    def __init__(self, name: str, config, clock: FixedClock) -> None:
        self.name, self.config, self.clock = name, config, clock
        self.storage: Storage | None = None
        self.app: TelegramApp | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.config.web.port}"

    async def open(self) -> None:
        self.storage = await open_storage(self.config)

    async def start(self) -> None:
        if self.storage is None:
            await self.open()
        self.app = TelegramApp(self.config, self.storage, poll_timeout=1, retry_delay=0.05,
                               clock=self.clock, instance=self.name)
        await self.app.start()

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None
        if self.storage is not None:
            await self.storage.close()
            self.storage = None

    async def kill(self) -> None:
        """As SIGKILL would: no drain, no settling; what the outbox still holds is lost."""
        app = self.app
        assert app is not None
        await app.scheduler.stop()
        tasks = [*app.outbox._tasks, *([app.outbox._renewer] if app.outbox._renewer else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if app._runner is not None:
            await app._runner.cleanup()
        if app.platform.application.running:
            await app.platform.application.stop()
        await app.platform.application.shutdown()
        self.app = None
        await self.storage.close()
        self.storage = None


def instance_config(config, fake: FakeTelegramServer, public_url: str):
    return replace(
        config,
        telegram=TelegramSection(enabled=True, token=FAKE_TOKEN, base_url=fake.base_url, mode="webhook",
                                 secret=SECRET),
        web=WebSection(listen="127.0.0.1", port=free_port(), public_url=public_url),
    )


class Pair:
    def __init__(self, a: Instance, b_: Instance, balancer: Balancer) -> None:
        self.a, self.b, self.balancer = a, b_, balancer

    @property
    def both(self) -> tuple[Instance, Instance]:
        return self.a, self.b

    async def scalar(self, sql: str, **params):
        engine = (self.a.storage or self.b.storage).engine
        async with engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()

    async def drain(self) -> None:
        for inst in self.both:
            if inst.app is not None:
                await asyncio.wait_for(inst.app.outbox.drain(), 60)


async def start_pair(config, fake: FakeTelegramServer, clock_now: datetime) -> Pair:
    balancer = Balancer([])
    public_url = await balancer.start()
    a = Instance("bot-a", instance_config(config, fake, public_url), FixedClock(clock_now))
    b_ = Instance("bot-b", instance_config(config, fake, public_url), FixedClock(clock_now))
    balancer.targets[:] = [a.url, b_.url]
    # Both open the database at once: on PostgreSQL the advisory lock makes one of them migrate.
    await asyncio.gather(a.open(), b_.open())
    await load_demo_units(a.storage, a.config, clock_now)
    return Pair(a, b_, balancer)


@pytest.fixture
async def pair(config, fake_telegram):
    p = await start_pair(config, fake_telegram, WEDNESDAY)
    await asyncio.gather(p.a.start(), p.b.start())
    try:
        yield p
    finally:
        for inst in p.both:
            await inst.stop()
        await p.balancer.stop()


async def post(url: str, update: dict, secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with aiohttp.ClientSession() as session:
        async with session.post(url + WEBHOOK_PATH, data=json.dumps(update), headers=headers) as response:
            await response.read()
            return response.status


async def bind_group(p: Pair, fake: FakeTelegramServer) -> None:
    fake.add_chat(GROUP)
    fake.set_admins(GROUP_ID, [b.owner(PRINCIPAL)])
    async with p.a.storage.uow() as uow:
        code = (await uow.units.by_code("THCS-KIMBOI")).join_code
    fake.push_update(b.message(GROUP, PRINCIPAL, f"/dangky {code}"))
    assert [s for _, s in await fake.deliver_webhook()] == [200]
    await fake.wait_for(lambda c: c.method == "sendMessage" and "Đã gắn nhóm" in c.params.get("text", ""))


# --- updates --------------------------------------------------------------------------------------


async def test_both_register_the_webhook_and_refuse_a_wrong_secret(pair, fake_telegram):
    calls = [c for c in fake_telegram.calls if c.method == "setWebhook"]
    assert len(calls) == 2  # every instance calls setWebhook at start-up
    assert fake_telegram.webhook.url == f"http://127.0.0.1:{pair.balancer.port}{WEBHOOK_PATH}"
    assert fake_telegram.webhook.secret_token == SECRET
    update = b.message(GROUP, PRINCIPAL, "/huongdan", update_id=910001)
    for inst in pair.both:
        assert await post(inst.url, update, secret=None) == 403
        assert await post(inst.url, update, secret="wrong") == 403
    assert await pair.scalar("select count(*) from members") == 0  # nothing was processed


async def test_updates_spread_over_both_and_the_same_update_sent_to_both_is_credited_once(pair, fake_telegram):
    await bind_group(pair, fake_telegram)
    updates = [b.message(GROUP, teacher, f"Em chia sẻ https://www.facebook.com/thcskimboi/posts/{900 + i}")
               for i, teacher in enumerate(TEACHERS)]
    ids = fake_telegram.push_updates(*updates)
    results = await fake_telegram.deliver_webhook()
    assert [s for _, s in results] == [200] * len(ids)
    assert set(pair.balancer.routed) == {0, 1}  # the balancer used both instances
    # Telegram retries an update whose answer was lost; a balancer may hand it to either or both.
    pending = [dict(u, update_id=i) for u, i in zip(updates, ids)]
    statuses = await asyncio.gather(*[post(inst.url, u) for u in pending for inst in pair.both])
    assert set(statuses) == {200}
    await pair.drain()

    assert await pair.scalar("select count(*) from submissions") == len(TEACHERS)
    assert await pair.scalar("select count(distinct person_id) from submissions") == len(TEACHERS)
    assert await pair.scalar("select count(*) from members where user_id like '62000001%'") == len(TEACHERS)
    assert await pair.scalar("select count(*) from audit_log where action = 'credit'") == len(TEACHERS)
    reacted = [r.message_id for r in fake_telegram.reactions()]
    assert sorted(reacted) == sorted({int(u["message"]["message_id"]) for u in updates})  # one 👍 each


# --- scheduled sends ------------------------------------------------------------------------------


async def test_a_reminder_run_by_both_instances_reaches_each_of_50_groups_once(config, fake_telegram, monkeypatch):
    monkeypatch.setattr(rhythm, "compose", compose_fanout)
    for i, chat_id in enumerate(FANOUT_GROUPS):
        fake_telegram.add_chat(b.group(chat_id, f"Truyền thông trường {i}"))
    p = await start_pair(config, fake_telegram, FRIDAY_1505)
    try:
        # Both start together at Friday 15:05: each one's start-up catch-up runs the reminder.
        await asyncio.gather(p.a.start(), p.b.start())
        # And each one's trigger fires too, at the same moment.
        runs = await asyncio.gather(*[inst.app.jobs.run_due("reminder", FRIDAY_1505) for inst in p.both])
        assert all(r.outcome == "already" for r in runs)
        await p.drain()
        for chat_id in FANOUT_GROUPS:
            [message] = fake_telegram.sent_messages(chat_id)
            assert message.mentioned_ids == [6200000001]
        assert await p.scalar("select count(*) from sent_messages where kind = 'reminder' and status = 'sent'") == 50
        assert await p.scalar("select count(distinct instance) from sent_messages") >= 1
    finally:
        for inst in p.both:
            await inst.stop()
        await p.balancer.stop()


async def expire_leases(p: Pair, minutes: int = 11) -> None:
    """As if ``minutes`` had passed on the database server's clock."""
    engine = (p.a.storage or p.b.storage).engine
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text(f"update sent_messages set lease_until = lease_until - interval '{minutes} minutes'"))
        else:
            await conn.execute(text(
                "update sent_messages set lease_until = "
                f"strftime('%Y-%m-%d %H:%M:%f000', lease_until, '-{minutes} minutes')"))


async def test_an_instance_killed_holding_claims_is_finished_by_the_other_after_the_lease(pair, fake_telegram,
                                                                                         monkeypatch):
    for i, chat_id in enumerate(FANOUT_GROUPS):
        fake_telegram.add_chat(b.group(chat_id, f"Truyền thông trường {i}"))
    async with pair.a.storage.uow() as uow:
        planned = await compose_fanout(uow, pair.a.config, "reminder", FRIDAY_1505)
    # Instance A commits its claims for the fan-out, then dies before sending anything.
    won = await pair.a.app.jobs.claim_all(planned)
    assert len(won) == 50
    await pair.a.kill()
    assert fake_telegram.sent_messages() == []
    assert await pair.scalar("select count(*) from sent_messages where status = 'claimed' and instance = 'bot-a'") == 50

    # B's sweeper leaves them alone while A's lease holds; B's own scheduler cannot claim them either.
    assert await pair.b.app.jobs.sweep() == 0
    monkeypatch.setattr(rhythm, "compose", compose_fanout)
    assert (await pair.b.app.jobs.fire("reminder", FRIDAY_1505)).outcome == "already"
    await expire_leases(pair)
    assert await pair.b.app.jobs.sweep() == 50
    await pair.drain()
    for chat_id in FANOUT_GROUPS:
        assert len(fake_telegram.sent_messages(chat_id)) == 1
    assert await pair.scalar("select count(*) from sent_messages where status = 'sent' and instance = 'bot-b'") == 50
    # A second sweep (or A restarted) finds nothing left to finish.
    assert await pair.b.app.jobs.sweep() == 0
    assert len(fake_telegram.sent_messages()) == 50


# --- health ---------------------------------------------------------------------------------------


async def healthz(inst: Instance) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.get(inst.url + "/healthz", timeout=aiohttp.ClientTimeout(total=15)) as response:
            return response.status


async def test_healthz_is_503_while_the_database_is_gone_and_200_when_it_is_back(pair):
    assert [await healthz(inst) for inst in pair.both] == [200, 200]
    url = pair.a.config.database.url
    if url.startswith("sqlite"):
        # The file goes away (a disk unmounted, a file deleted): what is in its place is no database.
        path = Path(url.split("///", 1)[1])
        moved = path.with_name(path.name + ".away")
        for inst in pair.both:
            await inst.storage.engine.dispose()
        os.rename(path, moved)
        path.mkdir()
        try:
            assert [await healthz(inst) for inst in pair.both] == [503, 503]
            path.rmdir()
            path.touch()  # an empty file in its place opens, but holds no schema
            assert [await healthz(inst) for inst in pair.both] == [503, 503]
        finally:
            for inst in pair.both:
                await inst.storage.engine.dispose()
            if path.is_dir():
                path.rmdir()
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
            os.rename(moved, path)
    else:
        import asyncpg
        from sqlalchemy.engine import make_url

        from tests.conftest import POSTGRES_ADMIN

        name = make_url(url).database
        admin = await asyncpg.connect(POSTGRES_ADMIN)
        try:
            # The server refuses the database and drops every connection to it.
            await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            await admin.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1", name)
            try:
                assert [await healthz(inst) for inst in pair.both] == [503, 503]
            finally:
                await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        finally:
            await admin.close()
    assert [await healthz(inst) for inst in pair.both] == [200, 200]


async def test_healthz_gives_up_on_a_database_that_does_not_answer():
    from aiohttp.test_utils import TestClient, TestServer

    async def hangs() -> bool:
        await asyncio.Event().wait()
        return True

    async def fails() -> bool:
        raise OSError("connection refused")

    for check in (hangs, fails):
        async with TestClient(TestServer(build_app(health=check, health_timeout=0.05))) as client:
            response = await client.get("/healthz")
            assert response.status == 503


def test_every_process_has_its_own_instance_name():
    from bot.app import instance_name

    # Containers all run as pid 1: the name must still tell a restarted process from the dead one.
    assert instance_name() != instance_name()
    assert len(instance_name()) <= 64
