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
from bot.domain.types import Clock
from bot.platforms.console import ConsoleMessenger, ConsoleSession, SimulatedClock, run_lines
from bot.unitfile import read_demo_units
from handlers.dispatch import Dispatcher
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
                print("console> Chưa có đơn vị nào: hãy nhập danh sách bằng `python -m bot units import TỆP`.",
                      file=stdout)
                return 2

            def write(line: str) -> None:
                print(line, file=stdout, flush=True)

            dispatcher = Dispatcher(storage.uow, config, clock, instance="console")
            session = ConsoleSession(dispatcher, clock, write, first.code)
            dispatcher.attach(ConsoleMessenger(session), inline=True)
            await session.start()
            interactive = stdin.isatty()
            if interactive:
                write(f"console> Lan Tỏa — nhóm mô phỏng {first.code}, đang nói với tư cách {session.member}. "
                      "Dán link để thử; :as, :group, :private, :reply, :edit, :time, :admin; Ctrl-D để thoát.")
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


def system_clock() -> Clock:
    return SystemClock()


async def run_bot(config: Config) -> int:
    """`run`: start every enabled platform; with none enabled, say so and exit 2."""
    enabled = [name for name in ("telegram",) if getattr(config, name).enabled]
    if not enabled:
        print(
            "Chưa bật nền tảng nào (cần [telegram] với token trong config.toml). "
            "Để thử bot không cần token: python -m bot console",
            file=sys.stderr,
        )
        return 2
    raise NotImplementedError
