"""`backup --out FILE` (SPEC §4.1): SQLite's online backup, consistent while the bot writes."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.backup import BackupError, ProgressBar, backup_file, sqlite_path
from tests.conftest import on_sqlite


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "lantoa.toml"
    path.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    return path


def db_file(harness) -> Path:
    return sqlite_path(harness.dispatcher.config.database.url)


@pytest.fixture
async def busy(harness):
    """The demo units, a bound group and a few hundred credited links."""
    if not on_sqlite(harness.dispatcher.config):
        pytest.skip("the online backup is SQLite's; PostgreSQL is backed up with pg_dump")
    group = harness.group()
    await harness.bind(group, "THCS-KIMBOI")
    for i in range(300):
        await harness.send(group, harness.user(f"Giáo viên {i % 30}", f"u{i % 30}"),
                           f"https://www.facebook.com/thcskimboi/posts/{10_000 + i}")
    return harness


async def test_a_backup_taken_while_the_bot_writes_is_one_consistent_moment(busy, tmp_path):
    source, out = db_file(busy), tmp_path / "copy.db"
    before = await busy.scalar("select count(*) from submissions")
    steps = []

    def bot_writes_meanwhile():
        # Another connection (the running bot) commits in the middle of the copy.
        conn = sqlite3.connect(source, timeout=30)
        with conn:
            conn.execute("update units set name = name || ' (mới)'")
            conn.execute("delete from submissions where id % 2 = 0")
        conn.close()

    size = await asyncio.to_thread(backup_file, source, out, step_pages=4,
                                   progress=lambda done, total: steps.append((done, total)),
                                   after_first_step=bot_writes_meanwhile)
    assert size == out.stat().st_size > 0
    assert len(steps) > 2 and steps[-1][0] == steps[-1][1]
    assert [d for d, _ in steps] == sorted(d for d, _ in steps)  # never restarted
    copy = sqlite3.connect(out)
    try:
        assert copy.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert copy.execute("select count(*) from submissions").fetchone()[0] == before
        assert copy.execute("select count(*) from units where name like '%(mới)'").fetchone()[0] == 0
        assert copy.execute("select version_num from alembic_version").fetchone()[0]
    finally:
        copy.close()
    assert await busy.scalar("select count(*) from submissions") < before  # the bot's write did happen
    assert not list(tmp_path.glob(".*partial"))


async def test_cli_backup_is_one_line_and_no_progress_bar_when_piped(busy, tmp_path, capsys):
    cfg = write_config(tmp_path, busy.dispatcher.config.database.url)
    out = tmp_path / "sao-luu" / "lantoa-2026-11-27.db"
    out.parent.mkdir()
    code = await asyncio.to_thread(main, ["backup", "--out", str(out), "-c", str(cfg)])
    stdout, stderr = capsys.readouterr()
    assert code == 0 and stderr == ""
    assert stdout.startswith(f"Đã sao lưu cơ sở dữ liệu vào {out} (") and stdout.count("\n") == 1
    copy = sqlite3.connect(out)
    try:
        assert copy.execute("select count(*) from submissions").fetchone()[0] == 300
    finally:
        copy.close()
    # Again over the same file: replaced whole, never half-written.
    assert await asyncio.to_thread(main, ["backup", "--out", str(out), "-c", str(cfg)]) == 0


def test_progress_bar_draws_in_place_and_ends_the_line():
    stream = io.StringIO()
    bar = ProgressBar(stream, width=10)
    bar(0, 4)
    bar(2, 4)
    bar(4, 4)
    drawn = stream.getvalue()
    assert drawn.count("\r") == 3 and drawn.endswith("[##########] 100%\n")
    assert "[#####.....]  50%" in drawn


def test_postgresql_is_one_line_pointing_to_pg_dump_and_exit_2(tmp_path, capsys):
    cfg = write_config(tmp_path, "postgresql+asyncpg://lantoa:bí-mật@db.example.vn/lantoa")
    code = main(["backup", "--out", str(tmp_path / "x.db"), "-c", str(cfg)])
    stdout, stderr = capsys.readouterr()
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and "pg_dump" in stderr and "bí-mật" not in stderr
    assert not (tmp_path / "x.db").exists()


def test_no_database_file_or_no_folder_is_one_line_and_exit_2(tmp_path, capsys):
    cfg = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'none.db'}")
    assert main(["backup", "--out", str(tmp_path / "x.db"), "-c", str(cfg)]) == 2
    _, stderr = capsys.readouterr()
    assert stderr.count("\n") == 1 and "none.db" in stderr
    assert not (tmp_path / "none.db").exists()  # a backup never creates the database it copies

    sqlite3.connect(tmp_path / "real.db").close()
    cfg = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'real.db'}")
    assert main(["backup", "--out", str(tmp_path / "no" / "such" / "x.db"), "-c", str(cfg)]) == 2
    _, stderr = capsys.readouterr()
    assert stderr.count("\n") == 1 and "không có thư mục" in stderr


def test_the_database_itself_is_not_a_backup_target(tmp_path):
    sqlite3.connect(tmp_path / "a.db").close()
    with pytest.raises(BackupError):
        backup_file(tmp_path / "a.db", tmp_path / "a.db")
