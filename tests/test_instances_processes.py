"""Two real `python -m bot run` processes in webhook mode on one database (SPEC §3.3, §3.6, issue 18).

tests/test_multi_instance.py proves the promises with two TelegramApp objects in one event loop;
this file starts the processes an operator starts (`python -m bot run -c instance-N.toml`), each
with its own [web] port, on one database (SQLite file, or PostgreSQL with LANTOA_TEST_POSTGRES),
both talking to the in-process fake Bot API. One of them is SIGKILLed while its claims are still
open, and the survivor's sweeper (LANTOA_SWEEP_EVERY=1 instead of the minute) finishes them.
Every wait is bounded; both processes are stopped in `finally`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
from sqlalchemy import text

from bot.app import open_storage
from bot.domain.outbound_json import dump_actions
from bot.domain.types import ChatKind, ChatRef, Mention, SendText, UserRef
from handlers.context import CLAIM_LEASE
from tests.fake_telegram import builders as b
from tests.fake_telegram.fixtures import FAKE_TOKEN
from tests.test_multi_instance import SECRET, Balancer, free_port, post

ROOT = Path(__file__).resolve().parents[1]
GROUP_ID = -1001987660001
GROUP = b.group(GROUP_ID, "Truyền thông THCS Kim Bôi")
PRINCIPAL = b.user(6300000009, "Hùng", "Trần Văn", username="thayhung")
TEACHERS = [b.user(6300000100 + i, f"Giáo viên {i}", "Nguyễn") for i in range(6)]
DEAD_GROUPS = [-1002300000000 - i for i in range(5)]
LAN = UserRef("telegram", "6300000001", "Nguyễn Thị Lan")
KILLED_NAME = "bot-a-killed"
DEADLINE = 30.0  # seconds: any single wait below; the whole test stays well under a minute


def env_for_bot() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANTOA_")}
    env.update(PYTHONPATH=str(ROOT), LANTOA_TELEGRAM_TOKEN=FAKE_TOKEN, LANTOA_SWEEP_EVERY="1")
    return env


def write_config(path: Path, db_url: str, base_url: str, port: int, public_url: str) -> None:
    path.write_text(
        f'[database]\nurl = "{db_url}"\n'
        f'[telegram]\nenabled = true\nmode = "webhook"\nsecret = "{SECRET}"\nbase_url = "{base_url}"\n'
        f'[web]\nlisten = "127.0.0.1"\nport = {port}\npublic_url = "{public_url}"\n',
        encoding="utf-8",
    )


async def cli(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env=env_for_bot(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def until(what: str, check, timeout: float = DEADLINE, logs: list[Path] = ()) -> None:
    """Poll ``check`` (an async predicate) until it holds; fail with the processes' logs if not."""
    deadline = time.monotonic() + timeout
    while True:
        if await check():
            return
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in logs if p.exists())
            raise AssertionError(f"timed out waiting for {what}\n{tails}")
        await asyncio.sleep(0.1)


async def healthz(port: int) -> int:
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                return response.status
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return 0


async def test_two_run_processes_credit_once_refuse_a_wrong_secret_and_survive_a_sigkill(
        config, fake_telegram, tmp_path):
    db_url = config.database.url
    balancer = Balancer([])
    public_url = await balancer.start()
    ports = [free_port(), free_port()]
    cfgs = [tmp_path / "instance-1.toml", tmp_path / "instance-2.toml"]
    logs = [tmp_path / "instance-1.log", tmp_path / "instance-2.log"]
    for cfg, port in zip(cfgs, ports):
        write_config(cfg, db_url, fake_telegram.base_url, port, public_url)
    balancer.targets[:] = [f"http://127.0.0.1:{port}" for port in ports]
    units = tmp_path / "units.csv"
    units.write_text("code,name,type,parent\nTHCS-KIMBOI,Trường THCS Kim Bôi,school,\n", encoding="utf-8")
    code, _, err = await cli(tmp_path, "migrate", "-c", str(cfgs[0]))
    assert code == 0, err
    code, _, err = await cli(tmp_path, "units", "import", str(units), "-c", str(cfgs[0]))
    assert code == 0, err
    _, codes, _ = await cli(tmp_path, "units", "codes", "-c", str(cfgs[0]))
    join_code = codes.splitlines()[1].split(",")[2]

    storage = await open_storage(config)

    async def scalar(sql: str):
        async with storage.engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()

    procs: list[asyncio.subprocess.Process] = []
    handles = [log.open("wb") for log in logs]
    try:
        for cfg, handle in zip(cfgs, handles):
            procs.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "-c", str(cfg), cwd=tmp_path, env=env_for_bot(),
                stdout=handle, stderr=handle))

        async def both_up() -> bool:
            return [await healthz(p) for p in ports] == [200, 200] and len(fake_telegram.calls_to("setWebhook")) >= 2

        await until("both instances to answer /healthz and register the webhook", both_up, logs=logs)
        assert fake_telegram.webhook.url == f"{public_url}/telegram/webhook"
        assert fake_telegram.webhook.secret_token == SECRET

        # A wrong or missing secret is refused by both, and nothing is processed.
        probe = b.message(GROUP, PRINCIPAL, "/huongdan", update_id=920001)
        for port in ports:
            assert await post(f"http://127.0.0.1:{port}", probe, secret="wrong") == 403
            assert await post(f"http://127.0.0.1:{port}", probe, secret=None) == 403
        assert await scalar("select count(*) from members") == 0

        # The principal binds the group through the balancer.
        fake_telegram.add_chat(GROUP)
        fake_telegram.set_admins(GROUP_ID, [b.owner(PRINCIPAL)])
        fake_telegram.push_update(b.message(GROUP, PRINCIPAL, f"/dangky {join_code}"))
        assert [s for _, s in await fake_telegram.deliver_webhook()] == [200]
        await fake_telegram.wait_for(
            lambda c: c.method == "sendMessage" and "Đã gắn nhóm" in c.params.get("text", ""), timeout=DEADLINE)

        # Links spread over both by the balancer, then every one of them sent to both as well.
        updates = [b.message(GROUP, t, f"Em chia sẻ https://www.facebook.com/thcskimboi/posts/{700 + i}")
                   for i, t in enumerate(TEACHERS)]
        ids = fake_telegram.push_updates(*updates)
        assert [s for _, s in await fake_telegram.deliver_webhook()] == [200] * len(ids)
        assert set(balancer.routed) == {0, 1}
        again = [dict(u, update_id=i) for u, i in zip(updates, ids)]
        statuses = await asyncio.gather(*[post(f"http://127.0.0.1:{port}", u) for u in again for port in ports])
        assert set(statuses) == {200}
        # A webhook is answered only after its update is committed: the rows are there now.
        assert await scalar("select count(*) from submissions") == len(TEACHERS)
        assert await scalar("select count(distinct person_id) from submissions") == len(TEACHERS)
        assert await scalar("select count(*) from audit_log where action = 'credit'") == len(TEACHERS)
        await fake_telegram.wait_for_count("setMessageReaction", len(TEACHERS), timeout=DEADLINE)

        # Instance 1 holds open claims for 5 groups (committed, payload stored, lease running)…
        for i, chat_id in enumerate(DEAD_GROUPS):
            fake_telegram.add_chat(b.group(chat_id, f"Truyền thông trường {i}"))
        async with storage.uow() as uow:
            for chat_id in DEAD_GROUPS:
                chat = ChatRef("telegram", str(chat_id), ChatKind.GROUP)
                payload = dump_actions([SendText(chat, ("⏰ Tuần 49: còn ", Mention(LAN), " chưa chia sẻ bài nào."))])
                assert await uow.sent.claim("telegram", str(chat_id), "reminder", "2026-W49", KILLED_NAME,
                                            CLAIM_LEASE, payload=payload)
        # …and dies without a word. The survivor's sweeper leaves a claim alone while its lease holds.
        procs[0].send_signal(signal.SIGKILL)
        await asyncio.wait_for(procs[0].wait(), DEADLINE)
        assert procs[0].returncode == -signal.SIGKILL
        async with storage.engine.begin() as conn:  # as if the 10-minute lease ran out
            if storage.engine.dialect.name == "postgresql":
                await conn.execute(text("update sent_messages set lease_until = lease_until - interval '11 minutes'"))
            else:
                await conn.execute(text("update sent_messages set lease_until = "
                                        "strftime('%Y-%m-%d %H:%M:%f000', lease_until, '-11 minutes')"))

        async def all_sent() -> bool:
            return await scalar("select count(*) from sent_messages where kind = 'reminder' "
                                "and period = '2026-W49' and status = 'sent'") == len(DEAD_GROUPS)

        await until("the survivor's sweeper to finish the dead instance's claims", all_sent, logs=logs)
        # Marked sent, so no later sweep can send them again: each group got exactly one.
        for chat_id in DEAD_GROUPS:
            [message] = fake_telegram.sent_messages(chat_id)
            assert message.mentioned_ids == [6300000001]
        assert await scalar("select count(*) from sent_messages where instance = 'bot-a-killed'") == 0
        assert procs[1].returncode is None  # the survivor is still running
        assert await healthz(ports[1]) == 200
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), DEADLINE)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        for handle in handles:
            handle.close()
        await storage.close()
        await balancer.stop()
    survivor_log = logs[1].read_text(errors="replace")
    assert procs[1].returncode == 0, survivor_log[-3000:]
    assert FAKE_TOKEN.split(":")[1] not in survivor_log + logs[0].read_text(errors="replace")


def test_the_sweep_interval_knob_only_shortens_the_minute():
    from bot.scheduler import SWEEP_EVERY, sweep_every_from_env

    assert sweep_every_from_env({}) == SWEEP_EVERY == 60.0
    assert sweep_every_from_env({"LANTOA_SWEEP_EVERY": "1"}) == 1.0
    # Nonsense, a busy-loop value or a longer interval than SPEC's minute: the minute stays.
    for bad in ("", "soon", "0", "-5", "0.01", "600", "nan"):
        assert sweep_every_from_env({"LANTOA_SWEEP_EVERY": bad}) == SWEEP_EVERY, bad
