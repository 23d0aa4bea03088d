"""`python -m bot backup --out FILE` (SPEC §4.1): SQLite's online backup, while the bot runs.

The copy is one consistent moment of the database: the source connection holds one read
transaction for the whole copy, so (in WAL mode) the bot keeps writing meanwhile and the backup
neither blocks it nor restarts because of it. The copy is written beside FILE and renamed over
it only when complete, so FILE is never a half-written database. PostgreSQL: pg_dump (README).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path
from typing import Callable, TextIO

# Pages per step: small enough for a progress bar that moves, large enough to be quick.
STEP_PAGES = 1024


class BackupError(Exception):
    """Something the operator can fix (no database file, an output that cannot be written)."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for any other database."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:":
        raise BackupError("cơ sở dữ liệu nằm trong bộ nhớ, không có tệp để sao lưu")
    return Path(database).expanduser()


class ProgressBar:
    """A one-line bar on a terminal, redrawn in place."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream, self.width = stream, width

    def __call__(self, done: int, total: int) -> None:
        total = max(total, 1)
        filled = self.width * done // total
        self.stream.write(f"\rSao lưu [{'#' * filled}{'.' * (self.width - filled)}] {100 * done // total:3d}%")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def backup_file(source: Path, out: Path, *, step_pages: int = STEP_PAGES,
                progress: Callable[[int, int], None] | None = None,
                after_first_step: Callable[[], None] | None = None) -> int:
    """Copy ``source`` to ``out`` consistently; returns the size in bytes of the copy.

    ``after_first_step`` lets a test write to the source in the middle of the copy."""
    if not source.is_file():
        raise BackupError(f"không có tệp cơ sở dữ liệu {source}")
    out = out.expanduser()
    if out.exists() and out.resolve() == source.resolve():
        raise BackupError("tệp sao lưu trùng với tệp cơ sở dữ liệu")
    if not out.parent.is_dir():
        raise BackupError(f"không có thư mục {out.parent}")
    partial = out.with_name(f".{out.name}.partial")
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30,
                              isolation_level=None)
    except sqlite3.Error as exc:
        raise BackupError(str(exc)) from exc
    try:
        partial.unlink(missing_ok=True)
        dst = sqlite3.connect(partial, isolation_level=None)
        try:
            # One read transaction across every step: the copy is this moment's database,
            # whatever the bot commits meanwhile.
            src.execute("BEGIN")
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
            first = [True]

            def on_step(_status: int, remaining: int, total: int) -> None:
                if progress is not None:
                    progress(total - remaining, total)
                if first[0] and after_first_step is not None:
                    first[0] = False
                    after_first_step()

            src.backup(dst, pages=step_pages, progress=on_step)
            src.execute("COMMIT")
            check = dst.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise BackupError(f"bản sao không toàn vẹn ({check[0] if check else '?'})")
        finally:
            dst.close()
        with open(partial, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(partial, out)
    except sqlite3.Error as exc:
        raise BackupError(str(exc)) from exc
    except OSError as exc:
        raise BackupError(exc.strerror or str(exc)) from exc
    finally:
        src.close()
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
    return out.stat().st_size


async def backup_sqlite(source: Path, out: Path, *, progress: bool = False) -> int:
    """The backup in a worker thread (the copy of a large file takes a while)."""
    bar = ProgressBar(sys.stderr) if progress else None
    return await asyncio.to_thread(backup_file, source, out, progress=bar)
