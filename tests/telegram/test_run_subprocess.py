"""`python -m bot run` as the operator starts it: a subprocess polling the fake Bot API."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fake_telegram import builders as b
from tests.fake_telegram.fixtures import FAKE_TOKEN

ROOT = Path(__file__).resolve().parents[2]


async def test_run_credits_a_link_and_stops_cleanly_on_sigterm(fake_telegram, tmp_path):
    db = tmp_path / "run.db"
    (tmp_path / "config.toml").write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{db}"\n'
        f'[telegram]\nenabled = true\nbase_url = "{fake_telegram.base_url}"\n',
        encoding="utf-8",
    )
    units = tmp_path / "units.csv"
    units.write_text("code,name,type,parent\nTHCS-A,Trường THCS A,school,\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANTOA_")}
    env.update(PYTHONPATH=str(ROOT), LANTOA_TELEGRAM_TOKEN=FAKE_TOKEN)

    async def cli(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        return proc.returncode, out.decode(), err.decode()

    assert (await cli("units", "import", str(units)))[0] == 0
    _, codes, _ = await cli("units", "codes")
    join_code = codes.splitlines()[1].split(",")[2]

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        group = b.group(-1005550001, "Truyền thông THCS A")
        boss, teacher = b.user(71, "Hiệu", "Trưởng"), b.user(72, "Lan", "Nguyễn")
        fake_telegram.add_chat(group)
        fake_telegram.set_admins(-1005550001, [b.owner(boss)])
        fake_telegram.push_update(b.message(group, boss, f"/dangky {join_code}"))
        fake_telegram.push_update(b.message(group, teacher, "https://youtu.be/dQw4w9WgXcQ?si=abc"))
        await fake_telegram.wait_for("setMessageReaction", timeout=30)
        await fake_telegram.wait_confirmed(timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert FAKE_TOKEN.split(":")[1] not in err.decode() + out.decode()


async def _run_against(tmp_path: Path, base_url: str) -> tuple[int, str, str]:
    (tmp_path / "config.toml").write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "run.db"}"\n'
        f'[telegram]\nenabled = true\nbase_url = "{base_url}"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANTOA_")}
    env.update(PYTHONPATH=str(ROOT), LANTOA_TELEGRAM_TOKEN=FAKE_TOKEN)
    # The schema first, so that the run's stderr holds nothing but what it says about Telegram
    # (a first run also logs the schema it created, which is not an error).
    migrate = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert (await migrate.wait()) == 0
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def test_an_unreachable_base_url_is_one_vietnamese_line_and_exit_2(tmp_path):
    # Nothing listens on a port just released; ".invalid" never resolves (RFC 2606); a server that
    # accepts and never answers makes getMe time out.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    silent_connections = []

    async def accept_and_say_nothing(reader, writer):
        silent_connections.append(writer)

    silent = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    silent_port = silent.sockets[0].getsockname()[1]
    cases = {
        "refused": (f"http://127.0.0.1:{closed_port}/bot", "từ chối kết nối"),
        "no-such-host": ("http://api.telegram.invalid/bot", "không tìm thấy tên máy chủ"),
        "silent": (f"http://127.0.0.1:{silent_port}/bot", "thời gian chờ"),
    }
    for name in cases:
        (tmp_path / name).mkdir()
    try:
        results = await asyncio.gather(*(_run_against(tmp_path / name, url) for name, (url, _) in cases.items()))
    finally:
        for writer in silent_connections:
            writer.close()
        silent.close()
        await silent.wait_closed()
    for (name, (url, reason)), (code, out, err) in zip(cases.items(), results):
        assert code == 2, (name, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1, (name, err)
        [line] = lines
        assert "[telegram] base_url" in line and url in line and reason in line, (name, line)
        assert line.startswith("Không kết nối được tới Telegram")
        assert "Traceback" not in err and FAKE_TOKEN.split(":")[1] not in err + out
