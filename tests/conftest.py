"""Shared fixtures: a real SQLite file with the demo tree, a dispatcher, a fake messenger."""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

import pytest

from bot.app import Storage, load_demo_units, open_storage
from bot.config import default_config
from bot.domain.types import (
    ChatKind,
    ChatRef,
    Delivery,
    DeliveryStatus,
    IncomingMessage,
    Outbound,
    React,
    ReplyTarget,
    SendText,
    UserRef,
)
from handlers.dispatch import Dispatcher
from tests.fake_telegram.fixtures import *  # noqa: F401,F403  (the fake Bot API server)

# Friday 27/11/2026 10:00 in Hà Nội.
T0 = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


@dataclass
class FakeMessenger:
    """Keeps a transcript of everything the bot sent."""

    platform: str = "test"
    transcript: list[Outbound] = field(default_factory=list)
    admins: dict[str, set[str]] = field(default_factory=dict)

    async def deliver(self, action: Outbound) -> Delivery:
        self.transcript.append(action)
        return Delivery(DeliveryStatus.SENT, message_id=str(len(self.transcript)))

    async def chat_admin_ids(self, chat: ChatRef) -> frozenset[str]:
        return frozenset(self.admins.get(chat.chat_id, set()))

    def texts(self, chat_id: str | None = None) -> list[str]:
        return [a.plain for a in self.transcript if isinstance(a, SendText) and (chat_id is None or a.chat.chat_id == chat_id)]

    def reactions(self) -> list[React]:
        return [a for a in self.transcript if isinstance(a, React)]

    def clear(self) -> None:
        self.transcript.clear()


class Harness:
    """Drives the dispatcher the way an adapter would."""

    def __init__(self, storage: Storage, dispatcher: Dispatcher, messenger: FakeMessenger, clock: FakeClock):
        self.storage = storage
        self.dispatcher = dispatcher
        self.messenger = messenger
        self.clock = clock
        self._ids = itertools.count(1)

    def user(self, name: str, user_id: str | None = None, username: str | None = None) -> UserRef:
        return UserRef("test", user_id or name, name, username)

    def group(self, chat_id: str = "g-thcs") -> ChatRef:
        return ChatRef("test", chat_id, ChatKind.GROUP, title=chat_id)

    def private(self, user: UserRef) -> ChatRef:
        return ChatRef("test", user.user_id, ChatKind.PRIVATE)

    async def send(self, chat: ChatRef, user: UserRef | None, text: str, *, message_id: str | None = None,
                   edited: bool = False, reply_to: IncomingMessage | None = None, links=None, **kw) -> IncomingMessage:
        msg = IncomingMessage(
            chat=chat, message_id=message_id or str(next(self._ids)), sender=user, date=self.clock.now(),
            text=text, edited=edited, links=links,
            reply_to=ReplyTarget(reply_to.message_id, reply_to.sender) if reply_to else None, **kw,
        )
        await self.dispatcher.handle(msg)
        return msg

    async def bind(self, chat: ChatRef, unit_code: str) -> None:
        assert await self.dispatcher.bind_group(chat, unit_code, self.clock.now())

    def advance(self, **delta) -> None:
        self.clock.current += timedelta(**delta)

    async def scalar(self, sql: str, **params):
        from sqlalchemy import text

        async with self.storage.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()

    async def codes(self, unit_code: str) -> tuple[str, str]:
        async with self.storage.uow() as uow:
            unit = await uow.units.by_code(unit_code)
            return unit.join_code, unit.admin_code


# With LANTOA_TEST_POSTGRES set to an admin DSN (postgresql://user:pass@host/postgres), every test
# that takes `config` runs on a fresh PostgreSQL database instead of a SQLite file (.ci/run does
# this for the storage, handler and Telegram tests): PostgreSQL enforces what SQLite does not.
POSTGRES_ADMIN = os.environ.get("LANTOA_TEST_POSTGRES", "")


@pytest.fixture
async def config(tmp_path):
    cfg = default_config()
    if not POSTGRES_ADMIN:
        yield replace(cfg, database=replace(cfg.database, url=f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"))
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"lantoa_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(POSTGRES_ADMIN).set(drivername="postgresql+asyncpg", database=name)
    yield replace(cfg, database=replace(cfg.database, url=url.render_as_string(hide_password=False)))
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        for attempt in range(10):  # a backend of the closed engine may take a moment to exit
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                break
            except asyncpg.PostgresError:
                if attempt == 9:
                    raise
                await asyncio.sleep(0.2)
    finally:
        await admin.close()


def on_sqlite(config) -> bool:
    return config.database.url.startswith("sqlite")


@pytest.fixture
async def harness(config):
    clock = FakeClock()
    storage = await open_storage(config)
    await load_demo_units(storage, config, clock.now())
    messenger = FakeMessenger()
    dispatcher = Dispatcher(storage.uow, config, clock, instance="test")
    dispatcher.attach(messenger, inline=True)
    yield Harness(storage, dispatcher, messenger, clock)
    await storage.close()
