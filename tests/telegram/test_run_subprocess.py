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
