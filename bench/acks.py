"""Acknowledgements drained (SPEC §5: ≥ 500 reactions/s to a fake Bot API without flood control).

    .venv/bin/python bench/acks.py [--reactions 3000] [--chats 100]

The real bot's send path — the outbox with one lane per chat, the Telegram messenger, PTB with our
send rate limiter, HTTP — drains ``--reactions`` 👍 spread over ``--chats`` groups to the local fake
Bot API (``tests/fake_telegram/server.py``) with flood control off. The reference, in the same run,
is the same number of ``setMessageReaction`` POSTs made directly with one aiohttp session and the
same concurrency: what the fake server and the loopback allow on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402

from bot.app import TelegramApp, open_storage  # noqa: E402
from bot.config import ScheduleSection, TelegramSection, default_config  # noqa: E402
from bot.domain.types import ChatKind, ChatRef, React  # noqa: E402
from tests.fake_telegram import builders as b  # noqa: E402
from tests.fake_telegram.server import FAKE_TOKEN, FakeTelegramServer  # noqa: E402

GOAL = 500
FIRST_CHAT = -1_001_000_000_000


async def raw_reference(server: FakeTelegramServer, reactions: int, chats: int) -> float:
    """The same POSTs, one session, one request in flight per chat (as the outbox's lanes)."""
    url = f"{server.base_url}{FAKE_TOKEN}/setMessageReaction"
    per_chat = reactions // chats
    async with aiohttp.ClientSession() as http:
        async def lane(chat: int) -> None:
            for i in range(per_chat):
                payload = {"chat_id": chat, "message_id": i + 1, "reaction": [{"type": "emoji", "emoji": "👍"}]}
                async with http.post(url, json=payload) as response:
                    await response.read()

        start = time.perf_counter()
        await asyncio.gather(*(lane(FIRST_CHAT - c) for c in range(chats)))
        return per_chat * chats / (time.perf_counter() - start)


async def run(reactions: int = 3000, chats: int = 100, *, db: str | None = None, out=print) -> dict:
    logging.getLogger("telegram").setLevel(logging.ERROR)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lantoa-acks-") as tmp:
        server = FakeTelegramServer(FAKE_TOKEN)
        await server.start()
        try:
            per_chat = reactions // chats
            for c in range(chats):
                chat = b.group(FIRST_CHAT - c, f"Nhóm {c}")
                state = server.add_chat(chat)
                for i in range(1, per_chat + 1):  # the messages the 👍 go on
                    state.messages[i] = {"message_id": i, "date": 0, "chat": chat, "text": "link"}
            base = default_config()
            cfg = replace(base, database=replace(base.database, url=f"sqlite+aiosqlite:///{db or Path(tmp) / 'acks.db'}"),
                          telegram=TelegramSection(enabled=True, token=FAKE_TOKEN, base_url=server.base_url),
                          schedule=ScheduleSection(None, None, None, 6))
            storage = await open_storage(cfg)
            app = TelegramApp(cfg, storage, poll_timeout=1, retry_delay=0.05, instance="bench-acks")
            await app.start()
            try:
                actions = [React(ChatRef("telegram", str(FIRST_CHAT - c), ChatKind.GROUP), str(i + 1))
                           for i in range(per_chat) for c in range(chats)]
                before = len(server.calls_to("setMessageReaction"))
                start = time.perf_counter()
                await app.outbox.put(actions)
                await asyncio.wait_for(app.outbox.drain(), 600)
                seconds = time.perf_counter() - start
                sent = len([c for c in server.calls_to("setMessageReaction")[before:] if c.ok])
                assert sent, "the fake server refused every reaction: the benchmark is broken"
            finally:
                await app.stop()
                await storage.close()
            reference = await raw_reference(server, reactions, chats)
        finally:
            await server.stop()
    rate = sent / seconds if seconds else 0.0
    verdict = "met" if rate >= GOAL and sent == len(actions) else "MISSED"
    out(f"acks: {sent} of {len(actions)} reactions drained to {chats} groups in {seconds:.2f} s = {rate:,.0f}/s "
        f"— goal ≥ {GOAL}/s, none lost: {verdict}")
    out(f"reference: {reference:,.0f} raw setMessageReaction POSTs/s to the same fake server (aiohttp, "
        f"one in flight per chat); ratio {rate / reference:.0%}")
    return {"rate": rate, "sent": sent, "queued": len(actions), "reference": reference}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reactions", type=int, default=3000)
    p.add_argument("--chats", type=int, default=100)
    a = p.parse_args(argv)
    asyncio.run(run(a.reactions, a.chats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
