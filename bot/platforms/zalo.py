"""Zalo through the Zalo Bot Platform's HTTP API (aiohttp): update JSON -> neutral events;
neutral actions -> API calls.

What this module relies on (from the platform's public documentation at bot.zaloplatforms.com
and its SDKs; see README "Zalo" for the sources):
- every call is ``POST <base_url><token>/<method>`` with a JSON body, answered
  ``{"ok": true, "result": …}`` or, for a business error, HTTP 200 with
  ``{"ok": false, "error_code": n, "description": …}``; gateways in front of it answer HTML pages
  with 429/502/504;
- ``getUpdates`` long-polls and hands out ONE update (not a list) or ``error_code`` 408 when none
  came within the timeout; there is no offset: the platform forgets an update once handed out, so
  polling is at most once (SPEC §3.6) and idempotency rests on the message id;
- an update is ``{event_name, message: {message_id, from: {id, display_name, is_bot}, chat: {id,
  chat_type: PRIVATE|GROUP}, date (milliseconds), text, photo_url, caption}}``; webhook bodies come
  with or without a ``result`` wrapper;
- ``sendMessage`` takes 1–2,000 characters of plain text (no mentions, no reply, no reactions,
  no files); ``setWebhook`` takes ``url`` and ``secret_token`` (8–256 characters), sent back on
  every webhook call as ``X-Bot-Api-Secret-Token``.

The token is part of every URL: no error text made here contains a URL, exceptions from aiohttp
are replaced (``from None``) by ones naming only the method, and the caller registers the token
with ``bot.logs.register_secret`` before the first request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Iterable, Protocol
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from bot.domain import texts_vi
from bot.domain.types import (
    ChatKind,
    ChatRef,
    DeleteMessage,
    Delivery,
    DeliveryStatus,
    Incoming,
    IncomingMessage,
    Outbound,
    PlatformRefused,
    React,
    Segment,
    SendDocument,
    SendText,
    SenderKind,
    UserRef,
)

logger = logging.getLogger(__name__)

PLATFORM = "zalo"
TEXT_LIMIT = 2000
NO_UPDATE = 408  # getUpdates' "nothing came within the timeout"
UNAUTHORIZED = 401
# Ids and message ids are short hex strings; anything longer is not one (and would not fit).
ID_MAX = 64
# A send that failed for a passing reason (429, 5xx, network) is tried this many times here before
# it is reported as transient (the claim is then released and retried later, SPEC §3.3).
SEND_ATTEMPTS = 3


class Core(Protocol):
    async def handle(self, event: Incoming) -> None: ...


class ZaloApiError(Exception):
    """``ok: false`` from the API. The text names the method and the platform's description only."""

    def __init__(self, method: str, code: int, description: str) -> None:
        super().__init__(f"{method}: {code} {description}")
        self.method, self.code, self.description = method, code, description


class ZaloUnavailable(Exception):
    """Nothing usable came back: the network failed, or a gateway answered a non-JSON page."""

    def __init__(self, method: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{method}: {reason}")
        self.method, self.reason, self.status = method, reason, status


def shown_url(base_url: str) -> str:
    """The base URL as the operator may see it: scheme, host and port only."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], "", "", ""))


class ZaloClient:
    """A thin client: one method per call, errors as ZaloApiError / ZaloUnavailable."""

    def __init__(self, token: str, base_url: str) -> None:
        self._token = token
        self._base = base_url
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(raise_for_status=False)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, payload: dict[str, Any] | None = None, *, timeout: float = 30.0) -> Any:
        await self.open()
        assert self._session is not None
        url = f"{self._base}{self._token}/{method}"
        try:
            async with self._session.post(url, json=payload or {},
                                          timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                status = resp.status
                body = await resp.read()
        except asyncio.TimeoutError:
            raise ZaloUnavailable(method, "no answer in time") from None
        except aiohttp.ClientError as exc:
            # aiohttp's texts may quote the URL, and the URL holds the token: keep the type only.
            raise ZaloUnavailable(method, type(exc).__name__) from None
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ZaloUnavailable(method, f"HTTP {status}, not JSON", status) from None
        if not isinstance(data, dict):
            raise ZaloUnavailable(method, f"HTTP {status}, unexpected JSON", status)
        if data.get("ok") is True:
            return data.get("result")
        code = data.get("error_code")
        code = code if isinstance(code, int) else status
        description = str(data.get("description") or "")[:200]
        raise ZaloApiError(method, code, description)


# --- update JSON -> neutral events ------------------------------------------------------------------


def _text_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text if 0 < len(text) <= ID_MAX else None


def _date(value: Any) -> datetime:
    """Zalo dates are milliseconds since the epoch; seconds are accepted too."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds, timezone.utc)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now(timezone.utc)


def unwrap(data: Any) -> list[dict]:
    """The updates of a getUpdates answer or a webhook body: one update, a ``result`` wrapper
    around one, or a list of them."""
    if isinstance(data, dict) and "event_name" not in data and "message" not in data and "result" in data:
        data = data["result"]
    if isinstance(data, list):
        return [u for u in data if isinstance(u, dict)]
    return [data] if isinstance(data, dict) else []


def translate(update: dict) -> list[Incoming]:
    """One update -> the neutral events (none for stickers, photos without caption, garbage)."""
    message = update.get("message")
    if not isinstance(message, dict):
        return []
    chat, sender = message.get("chat"), message.get("from")
    if not isinstance(chat, dict):
        return []
    chat_id, message_id = _text_id(chat.get("id")), _text_id(message.get("message_id"))
    if chat_id is None or message_id is None:
        return []
    text = message.get("text")
    if not isinstance(text, str) or not text:
        text = message.get("caption")
    if not isinstance(text, str) or not text:
        return []
    kind = ChatKind.GROUP if str(chat.get("chat_type", "")).upper() == "GROUP" else ChatKind.PRIVATE
    chat_ref = ChatRef(PLATFORM, chat_id, kind)
    user: UserRef | None = None
    sender_kind = SenderKind.CHANNEL
    if isinstance(sender, dict) and _text_id(sender.get("id")) is not None:
        user_id = _text_id(sender.get("id"))
        assert user_id is not None
        name = next((sender[k] for k in ("display_name", "name", "first_name")
                     if isinstance(sender.get(k), str) and sender[k].strip()), user_id)
        is_bot = sender.get("is_bot") is True
        user = UserRef(PLATFORM, user_id, unicodedata.normalize("NFC", name).strip()[:200], None, is_bot)
        sender_kind = SenderKind.BOT if is_bot else SenderKind.USER
    return [IncomingMessage(
        chat=chat_ref,
        message_id=message_id,
        sender=user,
        date=_date(message.get("date")),
        text=text,
        links=None,  # Zalo marks no links: the handlers extract them from the text
        sender_kind=sender_kind,
        update_id=message_id,
        # No offset: a webhook may come again; the database remembers what was handled.
        delivery_id=f"{chat_id}/{message_id}",
    )]


# --- neutral actions -> API calls ---------------------------------------------------------------------


def render(parts: Iterable[Segment]) -> str:
    """Plain text; a mention becomes the person's name (Zalo has no mentions)."""
    return "".join(p if isinstance(p, str) else p.user.display_name for p in parts)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line breaks (inside a line only when one
    line alone is too long)."""
    text = text.strip("\n") or text
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return [p for p in pieces if p.strip()]


class DirectPace:
    """At most ``per_second`` direct messages a second (Zalo publishes no limit: go carefully)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            loop = asyncio.get_running_loop()
            delay = self._next - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next = max(self._next, loop.time()) + self.interval


Refused = Callable[[ChatRef, str], Awaitable[None]]


class ZaloMessenger:
    """What the outbox calls: send, with the pace of direct messages and bounded retries."""

    platform = PLATFORM

    def __init__(self, client: ZaloClient, *, dm_per_second: float = 5.0, retry_delay: float = 1.0,
                 on_refused: Refused | None = None) -> None:
        self.client = client
        self.pace = DirectPace(dm_per_second)
        self.retry_delay = retry_delay
        self.on_refused = on_refused

    async def chat_admin_ids(self, chat: ChatRef) -> frozenset[str]:
        return frozenset()  # the platform names no group administrators: admins come by code

    async def chat_member_count(self, chat: ChatRef) -> int | None:
        return None

    async def deliver(self, action: Outbound) -> Delivery:
        if isinstance(action, SendText):
            # Unasked-for messages to a person (reminders, pushes) keep the cautious pace; an
            # answer to what the person just wrote does not wait behind a fan-out.
            direct = not action.chat.is_group and action.reply_to is None
            return await self._send_text(action.chat, render(action.parts), direct=direct)
        if isinstance(action, React):
            # No reactions on Zalo: the short text reply stands in for the 👍 (SPEC §3.1 item 4).
            if not action.fallback:
                return Delivery(DeliveryStatus.SENT)
            return await self._send_text(action.chat, action.fallback, direct=False)
        if isinstance(action, SendDocument):
            text = texts_vi.ZALO_NO_FILES
            if action.caption:
                text = f"{action.caption}\n{text}"
            return await self._send_text(action.chat, text, direct=False)
        if isinstance(action, DeleteMessage):
            return Delivery(DeliveryStatus.FAILED_FOR_GOOD, error="Zalo cannot delete messages")
        return Delivery(DeliveryStatus.FAILED_FOR_GOOD, error=f"unsupported {type(action).__name__}")

    async def _send_text(self, chat: ChatRef, text: str, *, direct: bool) -> Delivery:
        last: Delivery = Delivery(DeliveryStatus.SENT)
        for piece in split_text(text):
            if direct:
                await self.pace.wait()
            last = await self._send_piece(chat, piece)
            if last.status is not DeliveryStatus.SENT:
                return last
        return last

    async def _send_piece(self, chat: ChatRef, text: str) -> Delivery:
        error = ""
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                result = await self.client.call("sendMessage", {"chat_id": chat.chat_id, "text": text})
            except ZaloApiError as exc:
                if exc.code == 429 or exc.code >= 500 or exc.code == NO_UPDATE:
                    error = str(exc)
                else:
                    return await self._refused(chat, exc)
            except ZaloUnavailable as exc:
                error = str(exc)
            else:
                message_id = result.get("message_id") if isinstance(result, dict) else None
                return Delivery(DeliveryStatus.SENT, str(message_id) if message_id else None)
            if attempt < SEND_ATTEMPTS:
                await asyncio.sleep(self.retry_delay * attempt)
        return Delivery(DeliveryStatus.TRANSIENT, error=error[:300])

    async def _refused(self, chat: ChatRef, exc: ZaloApiError) -> Delivery:
        """A send the platform refuses for good: logged, never retried in a loop; a person's
        private chat that refuses is recorded as unreachable (their admins see it)."""
        if exc.code != UNAUTHORIZED and not chat.is_group and self.on_refused is not None:
            try:
                await self.on_refused(chat, str(exc))
            except Exception:  # noqa: BLE001 - the record is a courtesy; the send result stands
                logger.warning("zalo: could not record %s as unreachable", chat.chat_id, exc_info=True)
        return Delivery(DeliveryStatus.FAILED_FOR_GOOD, error=str(exc)[:300])


# --- the platform: lifecycle, polling, webhook --------------------------------------------------------


@dataclass(frozen=True)
class ZaloIdentity:
    id: str
    name: str | None


class ZaloPlatform:
    """Feeds updates to the core; polling or webhook (SPEC §3.6)."""

    def __init__(self, *, token: str, base_url: str, core: Core, retry_later: tuple[type[BaseException], ...],
                 mode: str = "polling", webhook_url: str | None = None, secret: str = "",
                 poll_timeout: int = 30, retry_delay: float = 5.0, dm_per_second: float = 5.0,
                 on_refused: Refused | None = None) -> None:
        self.core = core
        self.retry_later = retry_later
        self.mode = mode
        self.webhook_url = webhook_url
        self.secret = secret
        self.poll_timeout = poll_timeout
        self.retry_delay = retry_delay
        self.shown_base_url = shown_url(base_url)
        self.client = ZaloClient(token, base_url)
        self.messenger = ZaloMessenger(self.client, dm_per_second=dm_per_second,
                                       retry_delay=min(retry_delay, 1.0), on_refused=on_refused)
        self.identity: ZaloIdentity | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> ZaloIdentity:
        """getMe, then the webhook set (webhook mode) or removed (polling: getUpdates needs that)."""
        try:
            me = await self.client.call("getMe", timeout=15)
            if self.mode == "webhook":
                await self.client.call("setWebhook", {"url": self.webhook_url, "secret_token": self.secret}, timeout=15)
            else:
                try:
                    await self.client.call("deleteWebhook", timeout=15)
                except ZaloApiError as exc:  # none was set: nothing to remove
                    logger.info("zalo: deleteWebhook: %s", exc)
        except ZaloApiError as exc:
            await self.client.close()
            if exc.code == UNAUTHORIZED:
                raise PlatformRefused(texts_vi.ZALO_TOKEN_REFUSED) from None
            raise PlatformRefused(texts_vi.zalo_refused(str(exc))) from None
        except ZaloUnavailable as exc:
            await self.client.close()
            raise PlatformRefused(texts_vi.zalo_unreachable(self.shown_base_url, exc.reason)) from None
        me = me if isinstance(me, dict) else {}
        self.identity = ZaloIdentity(str(me.get("id", "")), me.get("account_name") or me.get("name"))
        logger.info("zalo: %s ready (%s)", self.identity.name or self.identity.id, self.mode)
        return self.identity

    def request_stop(self) -> None:
        self._stopping.set()

    async def stop(self) -> None:
        # The webhook is never deleted on the way out: other instances still serve it.
        self._stopping.set()
        await self.client.close()

    async def process_json(self, data: Any) -> bool:
        """A webhook body: True -> 200 (handled, or never going to be), False -> 5xx."""
        for update in unwrap(data) or [data]:
            if not await self._process(update, hold=False):
                return False
        return True

    async def _process(self, update: Any, *, hold: bool) -> bool:
        """Handle one update. An unavailable database keeps it: in polling (``hold``) it is tried
        again here until it goes through or the bot stops, since the platform will not send it
        again; from a webhook the 5xx asks the platform to."""
        try:
            events = translate(update) if isinstance(update, dict) else []
        except Exception:  # noqa: BLE001 - a body we cannot read will not read better later
            logger.exception("zalo: an update could not be read; skipped")
            return True
        if not events:
            logger.debug("zalo: an update without a message we use; skipped")
        for event in events:
            while True:
                try:
                    await self.core.handle(event)
                    break
                except self.retry_later as exc:
                    if not hold or self._stopping.is_set():
                        logger.warning("zalo: message %s not handled (%s)", getattr(event, "message_id", "?"),
                                       type(exc).__name__)
                        return False
                    await self._pause()
                except Exception:  # noqa: BLE001
                    logger.exception("zalo: handling message %s failed", getattr(event, "message_id", "?"))
                    break
        return True

    async def poll(self) -> None:
        """The getUpdates loop: one update per call; 408 means none came; a gateway or network
        error is waited out (``retry_delay``, about 5 s) and polling goes on."""
        while not self._stopping.is_set():
            try:
                result = await self.client.call("getUpdates", {"timeout": str(self.poll_timeout)},
                                                timeout=self.poll_timeout + 10)
            except ZaloApiError as exc:
                if exc.code == NO_UPDATE:
                    continue
                if exc.code == UNAUTHORIZED:
                    raise PlatformRefused(texts_vi.ZALO_TOKEN_REFUSED) from None
                logger.warning("zalo: getUpdates refused (%s); retrying", exc)
                await self._pause()
                continue
            except ZaloUnavailable as exc:
                logger.warning("zalo: getUpdates failed (%s); retrying", exc.reason)
                await self._pause()
                continue
            for update in unwrap(result):
                await self._process(update, hold=True)

    async def _pause(self) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), self.retry_delay)
        except asyncio.TimeoutError:
            pass
