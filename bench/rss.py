"""Memory of the running bot with the province database (SPEC §5: ≤ 150 MB RSS).

    .venv/bin/python bench/generate.py            # once: /tmp/province.db
    .venv/bin/python bench/rss.py [--db /tmp/province.db] [--messages 5000]

``python -m bot run`` is started as its own process on a copy of the province (the shared file
is never written to), polling the local fake Bot API (``tests/fake_telegram/server.py``) served
from this process. A day of Friday traffic is replayed through it: ``--messages`` messages with
links from the province's own teachers in their schools' groups, every twentieth a
/tinhhinh from a school's admin, and every hundredth a question of the department's or an
office's admin in their private chat (/tinhhinh, /tinhhinh thang, /xephang thang, /xephang hocky
in turn: the large views the bot keeps between calls, handlers.views). The figure is the bot's peak RSS (VmHWM) and its RSS after the
day; the reference, in the same run, is the same bot started on an empty database. Then what each
heavy import would cost, and whether the running bot's modules pulled any of them in (openpyxl,
matplotlib and XlsxWriter must stay lazy).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate import DEFAULT_OUT  # noqa: E402
from tests.fake_telegram import builders as b  # noqa: E402
from tests.fake_telegram.server import FAKE_TOKEN, FakeTelegramServer  # noqa: E402

GOAL_MB = 150.0
LARGE_VIEWS = ("/tinhhinh", "/tinhhinh thang", "/xephang thang", "/xephang hocky")
HEAVY = ("openpyxl", "matplotlib", "xlsxwriter")
# What the running bot imports (the composition root and everything it starts).
BOT_MODULES = ("bot.app", "bot.platforms.telegram", "bot.scheduler", "bot.web", "handlers.dispatch",
               "handlers.jobs", "handlers.rhythm", "handlers.views", "storage.tallies")


class ShortPollServer(FakeTelegramServer):
    """The fake Bot API with long polls of at most a second, so that the bot stops at once when
    asked (it finishes the poll in flight first; the bot's own poll is 50 s)."""

    async def _api_getUpdates(self, params, files):  # noqa: N802 - the Bot API's method name
        return await super()._api_getUpdates(dict(params, timeout=min(params.get("timeout") or 0, 1)), files)


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def write_config(folder: Path, db: Path, base_url: str) -> Path:
    cfg = folder / "config.toml"
    cfg.write_text(
        "[database]\n"
        f'url = "sqlite+aiosqlite:///{db}"\n'
        "[telegram]\n"
        "enabled = true\n"
        f'token = "{FAKE_TOKEN}"\n'
        f'base_url = "{base_url}"\n', encoding="utf-8")
    return cfg


async def run_bot(server: FakeTelegramServer, folder: Path, db: Path, traffic: list[dict]) -> dict:
    """Start the bot on ``db``, replay ``traffic``, stop it; its memory over the run."""
    cfg = write_config(folder, db, server.base_url)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("LANTOA_TELEGRAM_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "-c", str(cfg)], cwd=folder, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first_call = len(server.calls)
    try:
        await server.wait_for("getUpdates", timeout=60, since=first_call)
        started = rss_mb(proc.pid)[0]
        start = time.perf_counter()
        for i in range(0, len(traffic), 200):
            server.push_updates(*traffic[i:i + 200])
            await server.wait_confirmed(timeout=300)
        # The replies and reactions of the day go out behind the rate limiter: wait for them.
        def sends() -> int:
            return sum(1 for c in server.calls if c.method != "getUpdates")

        previous, current = -1, sends()
        while current != previous:
            await asyncio.sleep(1.0)
            previous, current = current, sends()
        elapsed = time.perf_counter() - start
        rss, hwm = rss_mb(proc.pid)
        return {"started": started, "after": rss, "peak": hwm, "seconds": elapsed, "updates": len(traffic)}
    finally:
        proc.terminate()
        # Waited for in a thread: the fake Bot API in this event loop must keep answering while
        # the bot drains its outbox on the way out.
        try:
            _, err = await asyncio.to_thread(proc.communicate, timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = await asyncio.to_thread(proc.communicate)
        problems = [line for line in err.decode(errors="replace").splitlines() if "WARNING" in line or "ERROR" in line]
        if problems:
            print(f"  ({len(problems)} warnings from the bot; the last: {problems[-1][:200]})", file=sys.stderr)


def traffic_from(db: Path, messages: int, seed: int = 7) -> tuple[list[dict], list[tuple[int, str]]]:
    """A Friday's messages: teachers sharing links in their school's group, admins asking."""
    rng = random.Random(seed)
    with sqlite3.connect(db) as c:
        chats = c.execute("SELECT chat_id, title, unit_id FROM groups WHERE active").fetchall()
        people = c.execute(
            "SELECT m.user_id, m.display_name, p.home_unit_id FROM members m JOIN persons p ON p.id = m.person_id "
            "WHERE m.platform = 'telegram' AND m.active").fetchall()
        admins = dict(c.execute(
            "SELECT r.unit_id, m.user_id FROM unit_roles r JOIN members m ON m.person_id = r.person_id "
            "WHERE r.role = 'admin' AND m.platform = 'telegram'").fetchall())
        officers = [int(user_id) for (user_id,) in c.execute(
            "SELECT m.user_id FROM unit_roles r JOIN members m ON m.person_id = r.person_id "
            "JOIN units u ON u.id = r.unit_id WHERE r.role = 'admin' AND m.platform = 'telegram' "
            "AND u.type IN ('department', 'office') ORDER BY u.depth, u.id").fetchall()]
    by_unit: dict[int, list[tuple[str, str]]] = {}
    for user_id, name, unit in people:
        by_unit.setdefault(unit, []).append((user_id, name))
    chats = [c for c in chats if by_unit.get(c[2])]
    updates = []
    for i in range(messages):
        chat_id, title, unit = rng.choice(chats)
        chat = b.group(int(chat_id), title)
        if i % 100 == 49 and officers:
            # the department's admin every other time, an office's otherwise
            sender = b.user(officers[0] if i % 200 == 49 else rng.choice(officers), "Chuyên viên")
            chat = b.private_chat(sender)
            text = LARGE_VIEWS[(i // 100) % len(LARGE_VIEWS)]
        elif i % 20 == 19 and unit in admins:
            sender = b.user(int(admins[unit]), "Hiệu trưởng")
            text = "/tinhhinh"
        else:
            user_id, name = rng.choice(by_unit[unit])
            sender = b.user(int(user_id), name.split()[-1], " ".join(name.split()[:-1]))
            text = f"Em đã chia sẻ ạ https://www.facebook.com/truong{unit}/posts/{900_000_000 + i}"
        updates.append(b.message(chat, sender, text))
    return updates, [(int(c[0]), c[1]) for c in chats]


def import_costs() -> list[str]:
    """RSS of a fresh interpreter with the bot's modules, then with each heavy library on top."""
    code = (
        "import importlib, sys\n"
        "def rss():\n"
        "    for l in open('/proc/self/status'):\n"
        "        if l.startswith('VmRSS:'): return int(l.split()[1]) / 1024\n"
        f"for m in {BOT_MODULES!r}: importlib.import_module(m)\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "base = rss()\n"
        "print(f'bot modules: {base:.1f} MB RSS; heavy libraries already imported: {heavy or \"none\"}')\n"
        f"for m in {HEAVY!r}:\n"
        "    before = rss()\n"
        "    try:\n"
        "        importlib.import_module(m if m != 'matplotlib' else 'matplotlib.pyplot')\n"
        "        print(f'import {m}: +{rss() - before:.1f} MB')\n"
        "    except ImportError:\n"
        "        print(f'import {m}: not installed')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg"), timeout=300)
    return (out.stdout + out.stderr).strip().splitlines()


async def run(db: str, messages: int = 5000, *, out=print) -> dict:
    source = Path(db)
    with tempfile.TemporaryDirectory(prefix="lantoa-rss-") as tmp:
        folder = Path(tmp)
        copy = folder / "province.db"
        with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)  # the benchmark writes a day of links; the shared file stays as it is
        traffic, chats = traffic_from(copy, messages)
        server = ShortPollServer(FAKE_TOKEN)
        await server.start()
        try:
            for chat_id, title in chats:
                server.add_chat(b.group(chat_id, title))
            empty_dir = folder / "empty"
            empty_dir.mkdir()
            reference = await run_bot(server, empty_dir, empty_dir / "empty.db", [])
            result = await run_bot(server, folder, copy, traffic)
        finally:
            await server.stop()
    verdict = "met" if result["peak"] <= GOAL_MB else "MISSED"
    out(f"rss: the bot on the province: {result['started']:.1f} MB at start, peak {result['peak']:.1f} MB, "
        f"{result['after']:.1f} MB after {result['updates']:,} updates in {result['seconds']:.1f} s — "
        f"goal ≤ {GOAL_MB:.0f} MB: {verdict} ({result['peak'] / GOAL_MB:.0%} of it)")
    out(f"reference: the same bot on an empty database: {reference['started']:.1f} MB at start, "
        f"peak {reference['peak']:.1f} MB")
    for line in import_costs():
        out(f"  {line}")
    result["reference"] = reference
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=DEFAULT_OUT)
    p.add_argument("--messages", type=int, default=5000)
    a = p.parse_args(argv)
    if not Path(a.db).exists():
        print(f"{a.db} does not exist: run bench/generate.py first", file=sys.stderr)
        return 2
    asyncio.run(run(a.db, a.messages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
