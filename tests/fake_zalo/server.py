"""A fake Zalo Bot Platform on aiohttp, over real HTTP, behaving as the platform documents:

- ``POST /bot<token>/<method>`` with JSON; answers ``{ok, result}`` or HTTP 200 with
  ``{ok: false, error_code, description}``; a wrong token gets 401 that way;
- ``getUpdates`` hands out ONE update per call (no list, no offset: once handed out it is gone)
  and, when none comes within the asked timeout, ``error_code`` 408;
- ``sendMessage`` accepts 1–2,000 characters; a chat in ``refusing`` is refused (error 403);
- ``setWebhook`` needs a secret of 8–256 characters; ``deleteWebhook``, ``getMe``;
- ``fail_next[method]``: canned failures, e.g. an HTML 502 page from a gateway.
"""

from __future__ import annotations

import asyncio
import itertools

import socket
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

FAKE_ZALO_TOKEN = "1459232241454765289:FAKEzaloTOKENabcdefghijklmnopqrstuvwxyz"
BOT_ID = "1459232241454765289"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Sent:
    chat_id: str
    text: str
    message_id: str


@dataclass
class FakeZaloServer:
    token: str = FAKE_ZALO_TOKEN
    max_wait: float = 0.5  # a long poll waits at most this long here, whatever it asks
    updates: asyncio.Queue = field(default_factory=asyncio.Queue)
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    refusing: set[str] = field(default_factory=set)
    fail_next: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)  # method -> (status, type, body)
    webhook: dict | None = None
    handed_out: int = 0
    internal_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._changed = asyncio.Condition()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{path:bot[^/]*}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests use ---------------------------------------------------------------------------

    def push(self, update: dict) -> None:
        self.updates.put_nowait(update)

    def fail(self, method: str, status: int, body: str, content_type: str = "text/html") -> None:
        self.fail_next.setdefault(method, []).append((status, content_type, body))

    async def wait_sent(self, count: int, timeout: float = 10.0) -> list[Sent]:
        """Wait until at least ``count`` messages were sent in all (bounded; no fixed sleeps)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.sent) >= count), timeout)
        return list(self.sent)

    async def wait_drained(self, timeout: float = 10.0) -> None:
        """Wait until every pushed update was handed out to the bot."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.updates.empty()), timeout)

    def texts(self, chat_id: str | None = None) -> list[str]:
        return [s.text for s in self.sent if chat_id is None or s.chat_id == chat_id]

    # --- the API ------------------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            return await self._answer(request)
        except Exception as exc:  # noqa: BLE001 - reported by the fixture
            self.internal_errors.append(repr(exc))
            return web.Response(status=500, text="fake server error")

    async def _answer(self, request: web.Request) -> web.Response:
        path, method = request.match_info["path"], request.match_info["method"]
        try:
            payload = await request.json()
        except ValueError:
            payload = {}
        self.calls.append((method, payload if isinstance(payload, dict) else {}))
        if path != f"bot{self.token}":
            return self._error(401, "Unauthorized")
        canned = self.fail_next.get(method)
        if canned:
            status, ctype, body = canned.pop(0)
            return web.Response(status=status, text=body, content_type=ctype)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found")
        return await handler(payload if isinstance(payload, dict) else {})

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str) -> web.Response:
        # Business errors come as HTTP 200 with ok: false.
        return web.json_response({"ok": False, "error_code": code, "description": description})

    async def _m_getMe(self, payload: dict) -> web.Response:
        return self._ok({"id": BOT_ID, "account_name": "bot.LanToa", "account_type": "BASIC",
                         "can_join_groups": False})

    async def _m_getUpdates(self, payload: dict) -> web.Response:
        try:
            wait = min(float(payload.get("timeout", 30)), self.max_wait)
        except (TypeError, ValueError):
            wait = self.max_wait
        try:
            update = await asyncio.wait_for(self.updates.get(), wait)
        except asyncio.TimeoutError:
            return self._error(408, "Request timeout")
        self.handed_out += 1
        await self._notify()
        return self._ok(update)

    async def _m_sendMessage(self, payload: dict) -> web.Response:
        chat_id, text = str(payload.get("chat_id", "")), payload.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= 2000:
            return self._error(400, "text must be 1-2000 characters")
        if chat_id in self.refusing:
            return self._error(403, "The user has not interacted with the bot recently")
        message_id = f"{next(self._ids):020x}"
        self.sent.append(Sent(chat_id, text, message_id))
        await self._notify()
        return self._ok({"message_id": message_id, "date": 1764212400000})

    async def _m_setWebhook(self, payload: dict) -> web.Response:
        secret = payload.get("secret_token")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256 or not payload.get("url"):
            return self._error(400, "url and an 8-256 character secret_token are required")
        self.webhook = {"url": payload["url"], "secret_token": secret}
        return self._ok({"url": payload["url"], "updated_at": 1764212400000})

    async def _m_deleteWebhook(self, payload: dict) -> web.Response:
        self.webhook = None
        return self._ok({"url": "", "updated_at": 1764212400000})

    async def _m_sendChatAction(self, payload: dict) -> web.Response:
        return self._ok(None)


_message_ids = itertools.count(0xA000)


def text_update(chat_id: str, text: str, *, user_id: str | None = None, name: str = "Nguyễn Thị Lan",
                message_id: str | None = None, date_ms: int = 1764212400000, group: bool = False) -> dict:
    """An update as the platform sends it (``message.text.received``)."""
    return {
        "event_name": "message.text.received",
        "message": {
            "message_id": message_id or f"{next(_message_ids):020x}",
            "from": {"id": user_id or chat_id, "display_name": name, "is_bot": False},
            "chat": {"id": chat_id, "chat_type": "GROUP" if group else "PRIVATE"},
            "date": date_ms,
            "text": text,
        },
    }


def html_page(status: int) -> str:
    return f"<html><head><title>{status}</title></head><body><center>{status} Bad Gateway</center></body></html>"


__all__ = ["BOT_ID", "FAKE_ZALO_TOKEN", "FakeZaloServer", "Sent", "free_port", "html_page", "text_update"]

