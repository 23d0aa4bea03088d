"""Pytest fixtures for the fake Telegram Bot API; a conftest can ``from … import *`` them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
import telegram

from tests.fake_telegram.server import FAKE_TOKEN, FakeTelegramServer

__all__ = ["FAKE_TOKEN", "UPDATES_DIR", "fake_bot", "fake_telegram", "load_update"]

UPDATES_DIR = Path(__file__).resolve().parent.parent / "data" / "telegram_updates"


def load_update(name: str) -> dict[str, Any]:
    """Load a recorded update from ``tests/data/telegram_updates/<name>.json``."""
    return json.loads((UPDATES_DIR / f"{name.removesuffix('.json')}.json").read_text("utf-8"))


@pytest_asyncio.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramServer]:
    """Run a fake Bot API server (token ``FAKE_TOKEN``) for a test; fail if the fake broke."""
    server = FakeTelegramServer(FAKE_TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    assert not server.internal_errors, f"the fake Telegram server failed: {server.internal_errors}"


@pytest_asyncio.fixture
async def fake_bot(fake_telegram: FakeTelegramServer) -> AsyncIterator[telegram.Bot]:
    """Yield an initialised PTB ``Bot`` talking to the fake server."""
    bot = telegram.Bot(
        FAKE_TOKEN, base_url=fake_telegram.base_url, base_file_url=fake_telegram.base_file_url
    )
    async with bot:
        yield bot
