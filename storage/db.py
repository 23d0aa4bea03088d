"""Engine and session factory from a database URL; SQLite is tuned for a chat bot's writes."""

from __future__ import annotations

import logging
import re
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
    _watch_view_writes(engine)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: replies are rendered from objects after the commit.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


# Tables no view reads (handlers/views.py builds every view from units, persons, members, leaves,
# submissions, unit pages, groups and focus items): writing only these keeps cached views true.
# Any other table, or a statement not recognised as a read, counts as a write to the views.
NOT_VIEWED = frozenset({
    "sent_messages", "audit_log", "seen_deliveries", "web_tokens", "link_codes", "nominations",
    "group_memberships", "unit_roles", "view_stamp", "alembic_version",
})
# Set on a connection (its info lives as long as the pooled connection) from its transaction's
# first write to a viewed table until the next transaction begins.
VIEW_WRITE = "lantoa_view_write"
_DML = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)', re.I)
_READ = re.compile(r"\s*(?:SELECT|PRAGMA|BEGIN|SAVEPOINT|RELEASE|ROLLBACK|COMMIT|EXPLAIN|SHOW)\b", re.I)


def _watch_view_writes(engine: AsyncEngine) -> None:
    """Mark a transaction that writes a table the views read; the unit of work then adds one to
    the view stamp before it commits (storage.uow), which is how cached views learn of it."""

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:
        conn.info.pop(VIEW_WRITE, None)

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _on_execute(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        if VIEW_WRITE in conn.info:
            return
        dml = _DML.match(statement)
        if dml is not None:
            if dml.group(1).lower() not in NOT_VIEWED:
                conn.info[VIEW_WRITE] = True
        elif _READ.match(statement) is None:
            conn.info[VIEW_WRITE] = True


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
