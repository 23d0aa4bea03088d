"""Engine and session factory from a database URL; SQLite is tuned for a chat bot's writes."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

logger = logging.getLogger(__name__)


def create_engine(url: str) -> AsyncEngine:
    """An async engine; on SQLite with WAL, foreign keys on and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _tune_sqlite(engine)
        _make_parent_dir(url)
    else:
        engine = create_async_engine(url, pool_pre_ping=True)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: replies are rendered from objects after the commit.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
        # aiosqlite's adapter starts transactions itself; pragmas must run outside one.
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if ":memory:" not in str(engine.url):
            # WAL lets the reports and /tinhhinh read while messages are being written.
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL, not WAL's usual NORMAL: NORMAL may lose the last commits on power loss, after
            # their 👍 went out (SPEC §3.7). Group commit keeps the extra fsync per batch cheap.
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def _make_parent_dir(url: str) -> None:
    """Create the folder of a file database so a fresh path just works."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix):
        path = url[len(prefix):].split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
