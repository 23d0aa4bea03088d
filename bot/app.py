"""Composition root: the engine, the dispatcher, the platforms; started and stopped in order."""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Config
from bot.domain import texts_vi
from bot.domain.types import Clock
from bot.platforms.console import BOT_USERNAME as CONSOLE_BOT_USERNAME
from bot.platforms.console import ConsoleMessenger, ConsoleSession, SimulatedClock, run_lines
from bot.scheduler import Scheduler
from bot.unitfile import read_demo_units
from bot.web import WEBHOOK_PATH, build_app, serve
from handlers.dispatch import Dispatcher
from handlers.jobs import Jobs
from handlers.units import import_units
from storage.db import create_engine, create_sessionmaker
from storage.migrate import migrate
from storage.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)

# The demo database's join and admin codes come from a fixed seed so that a piped demo script
# (and the README) can use them; real databases get codes from the system's secure source.
DEMO_SEED = 2024


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class Storage:
    engine: AsyncEngine
    uow: UnitOfWorkFactory

    async def close(self) -> None:
        await self.engine.dispose()


async def open_storage(config: Config) -> Storage:
    """Connect and bring the schema up to date (every command that touches the database does)."""
    engine = create_engine(config.database.url)
    await migrate(engine)
    return Storage(engine, UnitOfWorkFactory(create_sessionmaker(engine)))


async def load_demo_units(storage: Storage, config: Config, now: datetime) -> None:
    async with storage.uow() as uow:
        result = await import_units(uow, read_demo_units(), config.unit_types.keys(), now, random.Random(DEMO_SEED))
        if result.errors:  # the shipped file is tested; this would be a packaging fault
            raise RuntimeError("; ".join(e.message for e in result.errors))


async def run_console(config: Config, *, demo: bool, stdin: TextIO | None = None,
                      stdout: TextIO | None = None) -> int:
    """The console simulator (SPEC §4.3). ``demo``: a fresh temporary database with demo units."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    clock = SimulatedClock(config.bot.tz)
    with tempfile.TemporaryDirectory(prefix="lantoa-console-") as tmp:
        if demo:
            config = replace(config, database=replace(config.database, url=f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"))
        storage = await open_storage(config)
        try:
            if demo:
                await load_demo_units(storage, config, clock.now())
            async with storage.uow() as uow:
                first = await uow.units.first_leaf()
            if first is None:
                print(f"console> {texts_vi.NO_UNITS_YET}", file=stdout)
                return 2

            def write(line: str) -> None:
                print(line, file=stdout, flush=True)

            dispatcher = Dispatcher(storage.uow, config, clock, instance="console")
            # No scheduler and no sweeper: the console runs a job only on `:run` (SPEC §4.3).
            session = ConsoleSession(dispatcher, clock, write, first.code, jobs=Jobs(dispatcher))
            dispatcher.attach(ConsoleMessenger(session), inline=True, bot_username=CONSOLE_BOT_USERNAME)
            await session.start()
            interactive = stdin.isatty()
            if interactive:
                write(f"console> {texts_vi.console_banner(first.code, session.member)}")
            await run_lines(session, _line_reader(stdin, interactive))
            return 0
        finally:
            await storage.close()


def _line_reader(stdin: TextIO, interactive: bool):
    loop = asyncio.get_running_loop()

    async def read() -> str | None:
        if interactive:
            try:
                return await loop.run_in_executor(None, input, "")
            except EOFError:
                return None
        line = await loop.run_in_executor(None, stdin.readline)
        return line if line else None

    return read


async def run_bot(config: Config, *, stop: asyncio.Event | None = None) -> int:
    """`run`: start every enabled platform (Telegram, Zalo, or both sharing one dispatcher,
    scheduler and web server); with none, say so and exit 2."""
    if not config.enabled_platforms:
        print(texts_vi.NO_PLATFORM, file=sys.stderr)
        return 2
    stop = stop or _stop_on_signals()
    storage = await open_storage(config)
    apps: list = []
    try:
        telegram = TelegramApp(config, storage) if config.telegram.enabled else None
        zalo = ZaloApp(config, storage, host=telegram) if config.zalo.enabled else None
        # Zalo first: beside Telegram its outbox must be attached before Telegram's start-up
        # starts the shared scheduler, whose catch-up may already send to Zalo.
        for app in (zalo, telegram):
            if app is not None:
                await app.start()
                apps.append(app)
        waiters = [asyncio.create_task(app.run_until(stop)) for app in apps]
        done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if task.exception() is not None:
                raise task.exception()
    finally:
        for app in reversed(apps):  # Telegram (the scheduler's owner) stops first
            await app.stop()
        await storage.close()
    return 0


class TelegramApp:
    """The running bot on Telegram: dispatcher, platform, outbox, and the web server if needed.

    Order matters: the dispatcher exists before the platform (which feeds it); the outbox starts
    after getMe (sends need the bot initialised); on the way out polling stops first, then the
    queued replies drain, then the platform and the database close.
    """

    def __init__(self, config: Config, storage: Storage, *, poll_timeout: int = 50, retry_delay: float = 5.0,
                 clock: Clock | None = None, instance: str | None = None):
        from bot.logs import register_secret
        from bot.platforms.telegram import TelegramPlatform
        from handlers.dispatch import DatabaseUnavailable

        # Before the first request: httpx and PTB put the token in URLs and error texts.
        register_secret(config.telegram.token)
        register_secret(config.telegram.secret)
        self.config = config
        self.storage = storage
        self.dispatcher = Dispatcher(storage.uow, config, clock or SystemClock(), instance=instance or instance_name())
        tg = config.telegram
        self.platform = TelegramPlatform(
            token=tg.token, base_url=tg.base_url, core=self.dispatcher, menu=self.dispatcher.command_menu(),
            mode=tg.mode, webhook_url=f"{config.web.public_url.rstrip('/')}{WEBHOOK_PATH}", secret=tg.secret,
            retry_later=(DatabaseUnavailable,),  # only an absent database holds an update back
            poll_timeout=poll_timeout, retry_delay=retry_delay,
        )
        self.outbox = self.dispatcher.attach(self.platform.messenger)
        self.jobs = Jobs(self.dispatcher)
        self.scheduler: Scheduler | None = None
        self.web_extra: dict = {}  # more routes on the same web server (Zalo's webhook: ZaloApp)
        self._runner = None
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        identity = await self.platform.start()
        self.dispatcher.set_bot_username("telegram", identity.username)
        # [web] is served in both modes: the dashboard (SPEC §3.8) and /healthz work when polling too.
        webhook = self.config.telegram.mode == "webhook"
        from bot.dashboard import build_dashboard

        app = build_app(health=self.health, telegram=self.platform.process_json if webhook else None,
                        secret=self.config.telegram.secret,
                        dashboard=build_dashboard(self.storage.uow, self.config, self.dispatcher.clock),
                        **self.web_extra)
        self._runner = await serve_web(app, self.config, required=webhook)
        if not webhook:
            self._tasks.append(asyncio.create_task(self.platform.poll(), name="telegram-poll"))
        # Last: the outbox can send now. Start-up makes up what was missed while down (SPEC §3.3).
        self.scheduler = Scheduler(self.jobs, self.dispatcher.clock)
        await self.scheduler.start()

    async def run_until(self, stop: asyncio.Event) -> None:
        await run_until(stop, self._tasks)

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()  # no new sends; claims left unsent are swept after a restart
        self.platform.request_stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        await self.outbox.stop()
        await self.platform.stop()

    async def health(self) -> bool:
        return await database_answers(self.storage)


class ZaloApp:
    """The running bot on Zalo: alone (its own dispatcher, scheduler and web server) or beside
    Telegram (``host``: the TelegramApp whose dispatcher, scheduler and web server it shares, so
    one scheduler plans for both platforms and one port serves both webhooks).

    Polling is at most once (SPEC §3.6: getUpdates has no offset); a webhook delivery is answered
    2xx only after its commit, and a repeated one is recognised by its message id.
    """

    def __init__(self, config: Config, storage: Storage, *, host: TelegramApp | None = None,
                 poll_timeout: int = 30, retry_delay: float = 5.0, clock: Clock | None = None,
                 instance: str | None = None):
        from bot.logs import register_secret
        from bot.platforms.zalo import ZaloPlatform
        from bot.web import ZALO_WEBHOOK_PATH
        from handlers.dispatch import DatabaseUnavailable

        # Before the first request: the token is part of every Zalo URL.
        register_secret(config.zalo.token)
        register_secret(config.zalo.secret)
        self.config = config
        self.storage = storage
        self.host = host
        self.dispatcher = host.dispatcher if host is not None else Dispatcher(
            storage.uow, config, clock or SystemClock(), instance=instance or instance_name())
        z = config.zalo
        self.platform = ZaloPlatform(
            token=z.token, base_url=z.base_url, core=self.dispatcher, retry_later=(DatabaseUnavailable,),
            mode=z.mode, webhook_url=f"{config.web.public_url.rstrip('/')}{ZALO_WEBHOOK_PATH}", secret=z.secret,
            poll_timeout=poll_timeout, retry_delay=retry_delay, dm_per_second=z.dm_per_second,
            on_refused=self.record_unreachable,
        )
        self.outbox = self.dispatcher.attach(self.platform.messenger)
        self.jobs = host.jobs if host is not None else Jobs(self.dispatcher)
        if host is not None and z.mode == "webhook":
            host.web_extra.update(zalo=self.platform.process_json, zalo_secret=z.secret)
        self.scheduler: Scheduler | None = None
        self._runner = None
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        await self.platform.start()
        webhook = self.config.zalo.mode == "webhook"
        if self.host is None:
            app = build_app(health=self.health, zalo=self.platform.process_json if webhook else None,
                            zalo_secret=self.config.zalo.secret, **self._dashboard())
            self._runner = await serve_web(app, self.config, required=webhook)
        if not webhook:
            self._tasks.append(asyncio.create_task(self.platform.poll(), name="zalo-poll"))
        if self.host is None:
            self.scheduler = Scheduler(self.jobs, self.dispatcher.clock)
            await self.scheduler.start()

    def _dashboard(self) -> dict:
        try:
            from bot.dashboard import build_dashboard
        except ImportError:  # pragma: no cover - the dashboard ships with the bot
            return {}
        return {"dashboard": build_dashboard(self.storage.uow, self.config, self.dispatcher.clock)}

    async def run_until(self, stop: asyncio.Event) -> None:
        await run_until(stop, self._tasks)

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        self.platform.request_stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        await self.outbox.stop()
        await self.platform.stop()

    async def record_unreachable(self, chat, reason: str) -> None:
        """Zalo refused a direct message: the account is marked unreachable (SPEC §3.6)."""
        from handlers.direct import record_unreachable

        async def work(uow) -> None:
            await record_unreachable(uow, chat, reason)

        await self.dispatcher._in_transaction(work, describe=f"unreachable {chat.key}")

    async def health(self) -> bool:
        return await database_answers(self.storage)


async def serve_web(app, config: Config, *, required: bool):
    """Serve [web]; in polling mode a taken port costs the dashboard and /healthz, not the bot."""
    try:
        return await serve(app, config.web.listen, config.web.port)
    except OSError as exc:
        if required:
            raise
        logger.warning("web server not started on %s:%d (%s): the dashboard and /healthz are off",
                       config.web.listen, config.web.port, exc.strerror or exc)
        return None


async def run_until(stop: asyncio.Event, tasks: list[asyncio.Task]) -> None:
    """Until asked to stop, or until a platform's loop ends (its error is raised here)."""
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    for task in done:
        if task is not waiter and task.exception() is not None:
            raise task.exception()


async def database_answers(storage: Storage) -> bool:
    """The database answers with our schema (a SQLite file swapped for an empty one does not;
    web.py bounds the wait, so a PostgreSQL server that is gone gives 503, not a hang)."""
    from sqlalchemy import text

    async with storage.engine.connect() as conn:
        await conn.execute(text("SELECT version_num FROM alembic_version"))
    return True


def instance_name() -> str:
    """Names this process in claims, so a stale claim shows whose it was."""
    import os
    import socket

    # A random tail: containers all run as pid 1, and a restarted process must not pass for the
    # dead one whose claims its sweeper is about to take over.
    return f"{socket.gethostname()[:48]}:{os.getpid()}:{os.urandom(3).hex()}"


def _stop_on_signals() -> asyncio.Event:
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
            pass
    return stop
