"""A fake Telegram Bot API server on aiohttp that the real python-telegram-bot talks to over HTTP.

Point ``telegram.Bot(token, base_url=server.base_url, base_file_url=server.base_file_url)`` at it.
It answers like Telegram where a bot can tell the difference: the ``{"ok": …}`` envelope, HTTP
status codes (401, 403, 404, 409, 429 with ``retry_after``, 400 with ``migrate_to_chat_id``),
``getUpdates`` offsets and long polling, HTML parse mode and UTF-16 entities. Every request is
recorded in ``server.calls``; tests inject updates with ``push_update`` and wait with ``wait_for``
(never with sleeps).

Deliberate simplifications: Markdown parse modes are recorded but not parsed; message ids count
per chat; a webhook is only called when a test asks (``deliver_webhook``); file downloads serve
only files uploaded to or registered with this server.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import math
import mimetypes
import re
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from telegram.constants import ReactionEmoji

from tests.fake_telegram import builders
from tests.fake_telegram.entities import (
    EntityParseError,
    auto_entities,
    entity_text,
    parse_html,
    strip_whitespace,
)

__all__ = [
    "FAKE_TOKEN",
    "ApiError",
    "Call",
    "ChatState",
    "FakeTelegramServer",
    "Mention",
    "Reaction",
    "SentDocument",
    "SentMessage",
    "UploadedFile",
    "Webhook",
]

logger = logging.getLogger(__name__)

FAKE_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"

JSON = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
ALL_UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages",
    "message_reaction", "message_reaction_count", "inline_query", "chosen_inline_result",
    "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll",
    "poll_answer", "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
    "removed_chat_boost",
)
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_REACTION_EMOJI = frozenset(emoji.value for emoji in ReactionEmoji)
_MESSAGE_KINDS = ("message", "edited_message", "channel_post", "edited_channel_post")

# How form-encoded values (always strings) are read back, as the Bot API reads each parameter.
_JSON_PARAMS = frozenset({
    "entities", "caption_entities", "reply_parameters", "reply_markup", "link_preview_options",
    "allowed_updates", "reaction", "commands", "scope", "media", "permissions",
})
_INT_PARAMS = frozenset({
    "chat_id", "message_id", "offset", "limit", "user_id", "message_thread_id",
    "reply_to_message_id", "max_connections", "from_chat_id", "until_date",
})
_NUMBER_PARAMS = frozenset({"timeout"})
_BOOL_PARAMS = frozenset({
    "disable_notification", "protect_content", "allow_sending_without_reply", "is_big",
    "drop_pending_updates", "disable_web_page_preview", "revoke_messages",
    "disable_content_type_detection", "only_if_banned", "has_spoiler", "allow_paid_broadcast",
})
_STYLE_ENTITIES = frozenset({
    "bold", "italic", "underline", "strikethrough", "spoiler", "blockquote",
    "expandable_blockquote",
})
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status = ``error_code``."""

    def __init__(self, error_code: int, description: str, parameters: JSON | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        """Return the JSON body Telegram sends for this error."""
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> ApiError:
    """Build a 400 error, prefixing Telegram's ``Bad Request: ``."""
    return ApiError(400, f"Bad Request: {description}")


def _too_many(retry_after: int) -> ApiError:
    """Build the 429 Telegram answers under flood control."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


@dataclass
class UploadedFile:
    """A file part of a multipart/form-data request."""

    field: str
    filename: str | None
    content: bytes
    content_type: str | None = None


@dataclass
class Call:
    """One HTTP request to the Bot API, recorded on arrival; ``status`` is None until answered."""

    method: str
    params: JSON
    files: dict[str, UploadedFile]
    token_ok: bool
    status: int | None = None
    response: JSON = field(default_factory=dict)
    http_method: str = "POST"

    @property
    def ok(self) -> bool:
        """Tell whether Telegram's answer was ``{"ok": true}``."""
        return self.status == 200

    @property
    def result(self) -> Any:
        """Return the ``result`` of a successful answer."""
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        """Return the ``description`` of an error answer."""
        return self.response.get("description")


@dataclass
class Mention:
    """A user mentioned in a sent message: by id (``tg://user?id=``) or by ``@username``."""

    user_id: int | None
    text: str
    username: str | None = None


@dataclass
class SentMessage:
    """A message the bot sent successfully (or the new state of one it edited)."""

    chat_id: int
    message_id: int
    text: str
    raw_text: str
    parse_mode: str | None
    entities: list[JSON]
    mentions: list[Mention]
    reply_to_message_id: int | None
    reply_parameters: JSON | None
    link_preview_options: JSON | None
    reply_markup: JSON | None
    disable_notification: bool | None
    message: JSON
    params: JSON

    @property
    def mentioned_ids(self) -> list[int]:
        """Return the ids of users mentioned by id, in order."""
        return [m.user_id for m in self.mentions if m.user_id is not None]


@dataclass
class Reaction:
    """A reaction the bot set on a message (an empty list removes reactions)."""

    chat_id: int
    message_id: int
    reaction: list[JSON]
    is_big: bool

    @property
    def emojis(self) -> list[str]:
        """Return the emoji of each reaction."""
        return [r.get("emoji") or r.get("custom_emoji_id", "") for r in self.reaction]


@dataclass
class SentDocument:
    """A document the bot uploaded (or re-sent by ``file_id``)."""

    chat_id: int
    message_id: int
    filename: str
    content: bytes
    mime_type: str
    caption: str | None
    caption_entities: list[JSON]
    parse_mode: str | None
    file_id: str
    message: JSON


@dataclass
class Webhook:
    """The webhook as the bot last set it; ``url == ""`` means none (long polling)."""

    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    drop_pending_updates: bool | None = None
    max_connections: int | None = None
    ip_address: str | None = None
    has_certificate: bool = False
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class ChatState:
    """What the fake knows of a chat: the bot's status, members, admins and messages."""

    chat: JSON
    bot_status: str = "member"
    bot_member: JSON | None = None
    administrators: list[JSON] | None = None
    members: dict[int, JSON] = field(default_factory=dict)
    messages: dict[int, JSON] = field(default_factory=dict)
    reactions: dict[int, list[JSON]] = field(default_factory=dict)
    last_message_id: int = 0
    migrated_to: int | None = None
    member_count: int | None = None

    @property
    def id(self) -> int:
        """Return the chat id."""
        return self.chat["id"]


@dataclass
class _StoredFile:
    """A file kept by the fake, downloadable through ``base_file_url``."""

    file_id: str
    file_unique_id: str
    filename: str
    content: bytes
    mime_type: str
    file_path: str


@dataclass
class _Hold:
    """Calls of ``method`` (for ``chat_id``, or any) wait until ``released`` is set."""

    method: str
    chat_id: int | str | None
    released: asyncio.Event


@dataclass
class _Failure:
    """An injected error answered to matching calls (``remaining is None``: forever)."""

    method: str
    error: ApiError
    chat_id: int | str | None
    remaining: int | None


class _FloodLimiter:
    """Sliding-window limits per chat and overall, answering 429 like Telegram's flood control."""

    def __init__(self, per_chat: int, chat_window: float, per_second: int, methods: Iterable[str]):
        self.per_chat = per_chat
        self.chat_window = chat_window
        self.per_second = per_second
        self.methods = {m.lower() for m in methods}
        self._chats: dict[Any, deque[float]] = defaultdict(deque)
        self._all: deque[float] = deque()

    def retry_after(self, chat_id: Any, now: float) -> int | None:
        """Return the seconds to wait if one more message now would exceed a limit."""
        chat = self._chats[chat_id]
        while chat and chat[0] <= now - self.chat_window:
            chat.popleft()
        while self._all and self._all[0] <= now - 1.0:
            self._all.popleft()
        if self.per_chat and len(chat) >= self.per_chat:
            return max(1, math.ceil(chat[0] + self.chat_window - now))
        if self.per_second and len(self._all) >= self.per_second:
            return 1
        return None

    def record(self, chat_id: Any, now: float) -> None:
        """Count a message that went through."""
        self._chats[chat_id].append(now)
        self._all.append(now)


class _Signal:
    """Wakes every waiter on ``notify()``, which needs no ``await`` (sync helpers call it)."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        """Wake all current waiters."""
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, timeout: float) -> bool:
        """Wait for the next ``notify()`` at most ``timeout`` seconds; return whether it came."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)


Handler = Callable[[JSON, dict[str, UploadedFile]], Awaitable[Any]]


class FakeTelegramServer:
    """An in-process Bot API server on 127.0.0.1, ephemeral port; see the module docstring."""

    def __init__(
        self,
        token: str = FAKE_TOKEN,
        *,
        username: str = "LanToaBot",
        first_name: str = "Lan Tỏa",
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = False,
        supports_inline_queries: bool = False,
        first_update_id: int = 100_001,
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.host = host
        self.port: int | None = None
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": can_join_groups,
            "can_read_all_group_messages": can_read_all_group_messages,
            "supports_inline_queries": supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.calls: list[Call] = []
        self.updates: list[JSON] = []
        self.dropped_updates: list[JSON] = []
        self.deliveries: dict[int, int] = defaultdict(int)
        self.confirmed_offset = 0
        self.allowed_updates: list[str] | None = None
        self.webhook = Webhook()
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.chats: dict[int, ChatState] = {}
        self.users: dict[int, JSON] = {}
        self.internal_errors: list[BaseException] = []
        self.clock: Callable[[], float] = time.monotonic
        self._first_update_id = self._next_update_id = first_update_id
        self._sent: list[SentMessage] = []
        self._edits: list[SentMessage] = []
        self._reactions: list[Reaction] = []
        self._documents: list[SentDocument] = []
        self._deleted: list[tuple[int, int]] = []
        self._files: dict[str, _StoredFile] = {}
        self._file_numbers = itertools.count(1)
        self._failures: list[_Failure] = []
        self._flood: _FloodLimiter | None = None
        self._poll_generation = 0
        self._closing = False
        self._updates_changed = _Signal()
        self._calls_changed = _Signal()
        self._confirmed_changed = _Signal()
        self._runner: web.AppRunner | None = None
        self._holds: list[_Hold] = []
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, getattr(self, f"_api_{name}"))
            for name in (
                "getMe", "getUpdates", "sendMessage", "editMessageText", "setMessageReaction",
                "deleteMessage", "sendDocument", "getFile", "sendChatAction", "leaveChat",
                "getChat", "getChatAdministrators", "getChatMember", "getChatMemberCount",
                "setMyCommands",
                "getMyCommands", "deleteMyCommands", "setWebhook", "deleteWebhook",
                "getWebhookInfo",
            )
        }

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Return ``http://127.0.0.1:PORT``."""
        if self.port is None:
            raise RuntimeError("the fake Telegram server is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Return the ``base_url`` for PTB: the token is appended to it."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Return the ``base_file_url`` for PTB."""
        return f"{self.url}/file/bot"

    async def start(self) -> FakeTelegramServer:
        """Listen on an ephemeral port of 127.0.0.1."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # access_log=None: the request path holds the token and must not reach test logs.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._closing = False
        return self

    async def stop(self) -> None:
        """Answer pending long polls and close the server."""
        self._closing = True
        self.release()
        self._updates_changed.notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramServer:
        """Start the server."""
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop the server."""
        await self.stop()

    # --- injecting updates and state ----------------------------------------------------------

    def push_update(self, update: JSON, *, renumber: bool = False) -> int:
        """Queue an update for ``getUpdates``/the webhook; number it if needed and return its id.

        A given ``update_id`` must exceed every earlier one (as on Telegram); pass
        ``renumber=True`` to replace it, e.g. when pushing recorded fixtures in any order.
        """
        update = copy.deepcopy(update)
        builders.update_kind(update)
        given = update.get("update_id")
        if given is None or renumber:
            update_id = self._next_update_id
        elif given < self._next_update_id:
            raise ValueError(
                f"update_id {given} is not above the last one ({self._next_update_id - 1}); "
                "leave it out or pass renumber=True"
            )
        else:
            update_id = given
        self._next_update_id = update_id + 1
        update = {"update_id": update_id, **{k: v for k, v in update.items() if k != "update_id"}}
        self._observe(update)
        self.updates.append(update)
        self._updates_changed.notify()
        return update_id

    def push_updates(self, *updates: JSON) -> list[int]:
        """Queue several updates in order and return their ids."""
        return [self.push_update(u) for u in updates]

    def add_chat(self, chat: JSON, *, bot_status: str = "member", **bot_rights: Any) -> ChatState:
        """Register a chat the bot is in (pushed updates register their chats by themselves)."""
        state = self._ensure_chat(chat)
        state.bot_status = bot_status
        state.bot_member = builders.member_object(self._bot_public(), bot_status, **bot_rights)
        return state

    def chat(self, chat_id: int) -> ChatState:
        """Return the state of a known chat."""
        return self.chats[chat_id]

    def set_admins(self, chat_id: int, admins: Iterable[JSON]) -> None:
        """Set what ``getChatAdministrators`` returns: ChatMember dicts, or users (made admins)."""
        members = [a if "status" in a else builders.administrator(a) for a in admins]
        state = self.chats[chat_id]
        state.administrators = members
        for member in members:
            state.members[member["user"]["id"]] = member
            self.users.setdefault(member["user"]["id"], member["user"])

    def set_member_count(self, chat_id: int, count: int | None) -> None:
        """Set what ``getChatMemberCount`` returns (None: count the members the fake knows)."""
        self.chats[chat_id].member_count = count

    def set_member(self, chat_id: int, member: JSON) -> None:
        """Set what ``getChatMember`` returns for ``member["user"]`` in a chat."""
        self.chats[chat_id].members[member["user"]["id"]] = member
        self.users.setdefault(member["user"]["id"], member["user"])

    def kick_bot(self, chat_id: int, by_user: JSON | None = None) -> JSON:
        """Mark the bot removed from a chat (sends get 403); return the matching update to push."""
        state = self.chats[chat_id]
        old_status = state.bot_status if state.bot_status in builders.STATUSES else "member"
        if by_user is None and state.chat["type"] == "private":
            chat = state.chat
            by_user = builders.user(
                chat["id"], chat.get("first_name", ""), chat.get("last_name"), chat.get("username")
            )
        elif by_user is None:
            by_user = self._some_admin(state)
        update = builders.my_chat_member(
            state.chat, self._bot_public(), old_status, "kicked", by_user
        )
        state.bot_status = "kicked"
        state.bot_member = update["my_chat_member"]["new_chat_member"]
        return update

    def add_file(self, content: bytes, filename: str, mime_type: str | None = None) -> JSON:
        """Store a file users "sent", for ``getFile`` and download; return its Document dict."""
        stored = self._store_file(content, filename, mime_type)
        return self._document_object(stored)

    # --- injecting failures -------------------------------------------------------------------

    def fail(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        chat_id: int | str | None = None,
        times: int | None = None,
        parameters: JSON | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (every call if ``None``) with an error.

        With ``chat_id``, only calls for that chat fail.
        """
        error = ApiError(error_code, description, parameters)
        self._failures.append(_Failure(method.lower(), error, chat_id, times))

    def fail_next(
        self, method: str, n: int = 1, retry_after: int = 1, *, chat_id: int | str | None = None
    ) -> None:
        """Answer the next ``n`` calls of ``method`` with 429 and ``retry_after``."""
        error = _too_many(retry_after)
        self._failures.append(_Failure(method.lower(), error, chat_id, n))

    def fail_reactions(
        self, chat_id: int, description: str = "Bad Request: REACTION_INVALID"
    ) -> None:
        """Make every ``setMessageReaction`` in a chat fail with 400 (reactions disabled there)."""
        self.fail("setMessageReaction", 400, description, chat_id=chat_id)

    def hold(self, method: str, *, chat_id: int | str | None = None) -> None:
        """Leave calls of ``method`` (optionally for one chat) unanswered until ``release()``,
        as a Telegram that hangs; the call is recorded (``include_pending``) as it arrives."""
        self._holds.append(_Hold(method.lower(), chat_id, asyncio.Event()))

    def release(self, method: str | None = None) -> None:
        """Answer the held calls (of ``method``, or all) and stop holding new ones."""
        for held in list(self._holds):
            if method is None or held.method == method.lower():
                held.released.set()
                self._holds.remove(held)

    async def _wait_if_held(self, method: str, params: JSON) -> None:
        """Wait while a matching hold is in place."""
        for held in list(self._holds):
            if held.method == method.lower() and held.chat_id in (None, params.get("chat_id")):
                await held.released.wait()

    def clear_failures(self) -> None:
        """Forget injected failures."""
        self._failures.clear()

    def flood_control(
        self,
        per_chat_per_minute: int = 20,
        global_per_second: int = 30,
        *,
        methods: Iterable[str] = ("sendMessage", "sendDocument"),
        window: float = 60.0,
    ) -> None:
        """Enforce Telegram-like send limits (429 + ``retry_after``); time is ``self.clock()``."""
        self._flood = _FloodLimiter(per_chat_per_minute, window, global_per_second, methods)

    def flood_control_off(self) -> None:
        """Stop enforcing send limits."""
        self._flood = None

    # --- inspecting ---------------------------------------------------------------------------

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Return the messages the bot sent, oldest first, optionally in one chat."""
        return [m for m in self._sent if chat_id is None or m.chat_id == chat_id]

    def edited_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Return the successful ``editMessageText`` calls as the messages' new states."""
        return [m for m in self._edits if chat_id is None or m.chat_id == chat_id]

    def reactions(self, chat_id: int | None = None) -> list[Reaction]:
        """Return the reactions the bot set, oldest first, optionally in one chat."""
        return [r for r in self._reactions if chat_id is None or r.chat_id == chat_id]

    def documents(self, chat_id: int | None = None) -> list[SentDocument]:
        """Return the documents the bot sent."""
        return [d for d in self._documents if chat_id is None or d.chat_id == chat_id]

    def deleted_messages(self, chat_id: int | None = None) -> list[tuple[int, int]]:
        """Return the ``(chat_id, message_id)`` pairs the bot deleted."""
        return [d for d in self._deleted if chat_id is None or d[0] == chat_id]

    def calls_to(self, method: str) -> list[Call]:
        """Return the recorded calls of one method (case-insensitive)."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def errors(self, method: str | None = None) -> list[Call]:
        """Return the answered calls that got an error, optionally of one method."""
        return [
            c for c in self.calls
            if c.status not in (None, 200)
            and (method is None or c.method.lower() == method.lower())
        ]

    def throttled(self, method: str | None = None) -> list[Call]:
        """Return the calls answered 429."""
        return [c for c in self.errors(method) if c.status == 429]

    def my_commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Return the commands set for a scope and language (``[]`` if none)."""
        return self.commands.get((self._scope_key(scope), language_code), [])

    @property
    def pending_updates(self) -> list[JSON]:
        """Return the updates queued and not yet confirmed."""
        return list(self.updates)

    # --- waiting ------------------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: str | Callable[[Call], bool],
        timeout: float = 5.0,
        *,
        since: int = 0,
        include_pending: bool = False,
    ) -> Call:
        """Wait until a call from index ``since`` on matches (method name or predicate); return it.

        Only answered calls match unless ``include_pending`` (e.g. a long poll still waiting).
        """
        test = _as_predicate(predicate)

        def find() -> Call | None:
            """Return the first matching call, if any."""
            for call in self.calls[since:]:
                if (include_pending or call.status is not None) and test(call):
                    return call
            return None

        return await self._wait_until(self._calls_changed, find, timeout, predicate)

    async def wait_for_count(
        self, predicate: str | Callable[[Call], bool], count: int, timeout: float = 5.0,
        *, since: int = 0,
    ) -> list[Call]:
        """Wait until ``count`` answered calls match; return the first ``count`` of them."""
        test = _as_predicate(predicate)

        def find() -> list[Call] | None:
            """Return the matches once there are enough."""
            found = [c for c in self.calls[since:] if c.status is not None and test(c)]
            return found[:count] if len(found) >= count else None

        return await self._wait_until(self._calls_changed, find, timeout, predicate)

    async def wait_confirmed(self, update_id: int | None = None, timeout: float = 5.0) -> None:
        """Wait until the bot confirmed ``update_id`` (default: every update pushed so far)."""
        target = self._next_update_id - 1 if update_id is None else update_id
        if target < self._first_update_id:
            return

        def done() -> bool:
            """Tell whether the offset passed the target."""
            return self.confirmed_offset > target

        await self._wait_until(self._confirmed_changed, done, timeout, f"confirm of {target}")

    async def _wait_until(
        self, signal: _Signal, find: Callable[[], Any], timeout: float, what: object
    ) -> Any:
        """Re-check ``find`` on every signal until it returns something truthy or time runs out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = find()
            if found:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = ", ".join(f"{c.method}->{c.status}" for c in self.calls[-20:])
                raise TimeoutError(f"waited {timeout}s for {what!r}; last calls: {seen}")
            await signal.wait(remaining)

    # --- webhook delivery ---------------------------------------------------------------------

    async def deliver_webhook(
        self, *, limit: int = 100, timeout: float = 10.0
    ) -> list[tuple[int, int]]:
        """POST pending updates to the webhook in order, as Telegram does; return (id, status).

        An update answered 2xx is confirmed; the first failure stops the round and is kept for
        the next (status 0 means the connection failed), like Telegram's retries.
        """
        if not self.webhook.url:
            raise RuntimeError("no webhook is set")
        headers = {"Content-Type": "application/json"}
        if self.webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook.secret_token
        results: list[tuple[int, int]] = []
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(timeout=client_timeout) as session:
            for update in self._deliverable(limit):
                update_id = update["update_id"]
                self.deliveries[update_id] += 1
                try:
                    async with session.post(
                        self.webhook.url, data=json.dumps(update), headers=headers
                    ) as response:
                        await response.read()
                        status, reason = response.status, response.reason
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status, reason = 0, type(exc).__name__
                results.append((update_id, status))
                if not 200 <= status < 300:
                    self.webhook.last_error_date = int(time.time())
                    self.webhook.last_error_message = (
                        f"Wrong response from the webhook: {status} {reason}"
                    )
                    break
                self._confirm(update_id + 1)
        return results

    # --- HTTP plumbing ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Route a request: ``/bot<token>/<method>`` or ``/file/bot<token>/<path>``."""
        tail = request.match_info["tail"]
        file_match = re.fullmatch(r"file/bot([^/]*)/(.+)", tail)
        if file_match:
            return self._serve_file(*file_match.groups())
        match = re.fullmatch(r"bot([^/]*)/([^/]+)/?", tail)
        if not match:
            return _json(ApiError(404, "Not Found").body(), 404)
        token, method_name = match.groups()
        try:
            params, files = await self._read_params(request)
            read_error = None
        except ApiError as exc:
            params, files, read_error = {}, {}, exc
        known = self._methods.get(method_name.lower())
        call = Call(
            method=known[0] if known else method_name,
            params=params,
            files=files,
            token_ok=token == self.token,
            http_method=request.method,
        )
        self.calls.append(call)
        self._calls_changed.notify()
        try:
            if not call.token_ok:
                raise ApiError(401, "Unauthorized")
            if known is None:
                raise ApiError(404, "Not Found")
            if read_error is not None:
                raise read_error
            self._check_injected(call.method, params)
            await self._wait_if_held(call.method, params)
            result = await known[1](params, files)
            body: JSON = {"ok": True, "result": result}
            if isinstance(result, _Described):
                body = {"ok": True, "result": result.result, "description": result.description}
            status = 200
        except ApiError as exc:
            body, status = exc.body(), exc.error_code
        except Exception as exc:  # a bug in the fake: answer 500 and let the fixture fail the test
            logger.exception("fake Telegram server failed on %s", call.method)
            self.internal_errors.append(exc)
            description = f"Internal Server Error: {exc!r}"
            body = {"ok": False, "error_code": 500, "description": description}
            status = 500
        call.status, call.response = status, copy.deepcopy(body)  # later edits must not leak in
        self._calls_changed.notify()
        return _json(body, status)

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
        """Read query, JSON, urlencoded or multipart parameters, typed as the Bot API does."""
        params: JSON = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.body_exists:
            content_type = request.content_type
            if content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise _bad("can't parse JSON request body") from exc
                if not isinstance(body, dict):
                    raise _bad("JSON request body must be an object")
                params.update(body)
            elif content_type == "multipart/form-data":
                reader = await request.multipart()
                async for part in reader:
                    if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                        continue
                    data = bytes(await part.read())
                    if part.filename is not None:
                        files[part.name] = UploadedFile(
                            part.name, part.filename, data, part.headers.get("Content-Type")
                        )
                    else:
                        params[part.name] = data.decode("utf-8")
            else:
                params.update(await request.post())
        return {name: _typed(name, value) for name, value in params.items()}, files

    def _serve_file(self, token: str, path: str) -> web.Response:
        """Serve a stored file by its ``file_path``, as Telegram's file server does."""
        if token != self.token:
            return _json(ApiError(401, "Unauthorized").body(), 401)
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.content, content_type=stored.mime_type)
        return _json(ApiError(404, "Not Found").body(), 404)

    def _check_injected(self, method: str, params: JSON) -> None:
        """Raise an injected failure or a flood-control 429 matching this call."""
        key = method.lower()
        chat_id = params.get("chat_id")
        for failure in list(self._failures):
            if failure.method == key and failure.chat_id in (None, chat_id):
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                raise failure.error
        if self._flood and key in self._flood.methods:
            retry = self._flood.retry_after(chat_id, self.clock())
            if retry is not None:
                raise _too_many(retry)

    def _count_send(self, method: str, chat_id: Any) -> None:
        """Count a successful send against flood limits."""
        if self._flood and method.lower() in self._flood.methods:
            self._flood.record(chat_id, self.clock())

    # --- update queue -------------------------------------------------------------------------

    def _allowed(self) -> frozenset[str]:
        """Return the update kinds currently delivered."""
        if self.allowed_updates:
            return frozenset(self.allowed_updates)
        return frozenset(ALL_UPDATE_TYPES) - OPT_IN_UPDATE_TYPES

    def _deliverable(self, limit: int) -> list[JSON]:
        """Return up to ``limit`` queued updates of allowed kinds; forget others (as Telegram)."""
        allowed = self._allowed()
        batch: list[JSON] = []
        for update in list(self.updates):
            if builders.update_kind(update) not in allowed:
                self.updates.remove(update)
                self.dropped_updates.append(update)
            elif len(batch) < limit:
                batch.append(update)
            else:
                break
        return batch

    def _confirm(self, offset: int | None) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last ``-offset``."""
        if offset is None or offset == 0:
            return
        if offset < 0:
            kept = self.updates[offset:]
            offset = kept[0]["update_id"] if kept else self._next_update_id
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if offset > self.confirmed_offset:
            self.confirmed_offset = offset
            self._confirmed_changed.notify()

    # --- state from updates -------------------------------------------------------------------

    def _bot_public(self) -> JSON:
        """Return the bot as a User inside messages (without the getMe-only fields)."""
        return builders.user(
            self.bot_user["id"], self.bot_user["first_name"],
            username=self.bot_user["username"], is_bot=True,
        )

    def _ensure_chat(self, chat: JSON) -> ChatState:
        """Return the state of a chat, registering it if new."""
        state = self.chats.get(chat["id"])
        if state is None:
            state = self.chats[chat["id"]] = ChatState(chat=dict(chat))
        return state

    def _some_admin(self, state: ChatState) -> JSON:
        """Return a plausible admin of a chat (for a kick nobody was named for)."""
        for member in state.administrators or []:
            if member["status"] == "creator":
                return member["user"]
        if state.administrators:
            return state.administrators[0]["user"]
        return builders.user(1, "Quản trị viên")

    def _remember_user(self, state: ChatState | None, who: JSON | None) -> None:
        """Record a user seen in a chat as a member (unless already known there)."""
        if not who or who["id"] in (builders.GROUP_ANONYMOUS_BOT["id"], 777000):
            return
        self.users[who["id"]] = who
        if state is not None and who["id"] != self.bot_user["id"]:
            state.members.setdefault(who["id"], builders.member_object(who, "member"))

    def _observe(self, update: JSON) -> None:
        """Learn chats, members, messages and the bot's status from an update being pushed."""
        kind = builders.update_kind(update)
        body = update[kind]
        if kind in _MESSAGE_KINDS:
            self._observe_message(body)
        elif kind in ("my_chat_member", "chat_member"):
            state = self._ensure_chat(body["chat"])
            self._remember_user(None, body.get("from"))
            new = body["new_chat_member"]
            if new["user"]["id"] == self.bot_user["id"]:
                state.bot_status, state.bot_member = new["status"], new
            else:
                self.users[new["user"]["id"]] = new["user"]
                state.members[new["user"]["id"]] = new

    def _observe_message(self, body: JSON) -> None:
        """Learn from a message: its chat, sender, reply target, joins, leaves and migrations."""
        state = self._ensure_chat(body["chat"])
        replied = body.get("reply_to_message")
        if replied and replied["message_id"] not in state.messages:
            state.messages[replied["message_id"]] = replied
        state.messages[body["message_id"]] = body
        state.last_message_id = max(state.last_message_id, body["message_id"])
        self._remember_user(state, body.get("from"))
        for joined in body.get("new_chat_members", []):
            if joined["id"] == self.bot_user["id"]:
                state.bot_status = "member"
                state.bot_member = builders.member_object(self._bot_public(), "member")
            else:
                self.users[joined["id"]] = joined
                state.members[joined["id"]] = builders.member_object(joined, "member")
        left = body.get("left_chat_member")
        if left:
            if left["id"] == self.bot_user["id"]:
                state.bot_status = "left"
                state.bot_member = builders.member_object(self._bot_public(), "left")
            else:
                state.members[left["id"]] = builders.member_object(left, "left")
        if "migrate_to_chat_id" in body:
            state.migrated_to = body["migrate_to_chat_id"]
        if "migrate_from_chat_id" in body and body["migrate_from_chat_id"] in self.chats:
            old = self.chats[body["migrate_from_chat_id"]]
            old.migrated_to = state.id
            state.members = {**old.members, **state.members}
            state.bot_status = old.bot_status if old.bot_status != "left" else state.bot_status

    # --- chat checks --------------------------------------------------------------------------

    def _resolve_chat(self, params: JSON) -> ChatState | None:
        """Find the chat named by ``chat_id`` (an id or ``@username``)."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if isinstance(chat_id, str):
            name = chat_id.removeprefix("@").lower()
            for state in self.chats.values():
                if (state.chat.get("username") or "").lower() == name:
                    return state
            return None
        return self.chats.get(chat_id)

    def _known_chat(self, params: JSON) -> ChatState:
        """Return the chat or answer ``chat not found``."""
        state = self._resolve_chat(params)
        if state is None:
            raise _bad("chat not found")
        return state

    def _member_chat(self, params: JSON) -> ChatState:
        """Return a chat the bot is still in, or raise the 403 Telegram gives."""
        state = self._resolve_chat(params)
        chat_id = params.get("chat_id")
        if state is None:
            if isinstance(chat_id, int) and chat_id > 0:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise _bad("chat not found")
        if state.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": state.migrated_to},
            )
        if state.bot_status in ("left", "kicked"):
            kind = state.chat["type"]
            if kind == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if state.bot_status == "kicked":
                raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        return state

    def _writable_chat(self, params: JSON) -> ChatState:
        """Return a chat the bot may send messages to, or raise Telegram's error."""
        state = self._member_chat(params)
        member = state.bot_member or {}
        if state.bot_status == "restricted" and not member.get("can_send_messages", False):
            raise _bad("not enough rights to send text messages to the chat")
        return state

    # --- text and messages --------------------------------------------------------------------

    def _format(
        self, raw: str, parse_mode: str | None, entities: Any, *, limit: int, what: str
    ) -> tuple[str, list[JSON]]:
        """Apply the parse mode or entities, trim, detect links; check emptiness and length."""
        mode = (parse_mode or "").lower()
        if mode == "html":
            try:
                parsed = parse_html(raw, self.users)
            except EntityParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from exc
            text, found = parsed.text, parsed.entities
        elif mode in ("", "markdown", "markdownv2"):
            text = raw
            if entities is not None and not (
                isinstance(entities, list) and all(isinstance(e, dict) for e in entities)
            ):
                raise _bad(f"can't parse {what} entities JSON object")
            found = [dict(e) for e in entities or []] if not mode else []
        else:
            raise _bad("unsupported parse_mode")
        text, found = strip_whitespace(text, found)
        if not text and what == "text":
            raise _bad("message text is empty")
        if len(text) > limit:
            raise _bad("message is too long" if what == "text" else "message caption is too long")
        # Links, commands, @mentions and #tags are detected in bot messages too, except where
        # they would overlap an entity that is not mere styling.
        blocking = [e for e in found if e["type"] not in _STYLE_ENTITIES]
        for detected in auto_entities(text):
            start, end = detected["offset"], detected["offset"] + detected["length"]
            if all(end <= b["offset"] or start >= b["offset"] + b["length"] for b in blocking):
                found.append(detected)
        found.sort(key=lambda e: (e["offset"], -e["length"]))
        return text, found

    def _mentions(self, text: str, entities: list[JSON]) -> list[Mention]:
        """List the mentions among entities, by id or by username."""
        mentions = []
        for entity in entities:
            if entity["type"] == "text_mention":
                mentions.append(Mention(entity["user"]["id"], entity_text(text, entity)))
            elif entity["type"] == "mention":
                label = entity_text(text, entity)
                mentions.append(Mention(None, label, label.removeprefix("@")))
        return mentions

    def _reply_target(self, state: ChatState, params: JSON) -> JSON | None:
        """Return the message being replied to, or raise if it is gone and that is not allowed."""
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        if reply is None:
            return None
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
            raise _bad("can't parse reply parameters JSON object")
        target_state = state
        if reply.get("chat_id") not in (None, state.id):
            target_state = self._known_chat({"chat_id": reply["chat_id"]})
        target = target_state.messages.get(reply["message_id"])
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        target = dict(target)
        target.pop("reply_to_message", None)
        return target

    def _new_message(self, state: ChatState, fields: JSON, reply_to: JSON | None) -> JSON:
        """Create, store and return a message from the bot in a chat (empty fields left out)."""
        state.last_message_id += 1
        message: JSON = {
            "message_id": state.last_message_id,
            "message_thread_id": fields.pop("message_thread_id", None),
        }
        if state.chat["type"] == "channel":
            message["sender_chat"] = state.chat
        else:
            message["from"] = self._bot_public()
        message["chat"] = state.chat
        message["date"] = int(time.time())
        message["reply_to_message"] = reply_to
        message.update(fields)
        message = {k: v for k, v in message.items() if v not in (None, [])}
        state.messages[message["message_id"]] = message
        return message

    def _message_to_edit(self, state: ChatState, params: JSON) -> JSON:
        """Return a message of the bot that may be edited."""
        message = state.messages.get(params.get("message_id"))
        if message is None:
            raise _bad("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise _bad("message can't be edited")
        return message

    # --- files --------------------------------------------------------------------------------

    def _store_file(self, content: bytes, filename: str, mime_type: str | None) -> _StoredFile:
        """Keep an uploaded file and give it Telegram-like identifiers and a download path."""
        n = next(self._file_numbers)
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        suffix = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        stored = _StoredFile(
            file_id=f"BQACAgUAAxkDAAI{n:06d}fake",
            file_unique_id=f"AgAD{n:06d}",
            filename=filename,
            content=content,
            mime_type=mime,
            file_path=f"documents/file_{n}.{suffix}",
        )
        self._files[stored.file_id] = stored
        return stored

    @staticmethod
    def _document_object(stored: _StoredFile) -> JSON:
        """Return the Document dict of a stored file."""
        return {
            "file_name": stored.filename,
            "mime_type": stored.mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }

    # --- Bot API methods ----------------------------------------------------------------------

    async def _api_getMe(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        """Return the bot's User."""
        return dict(self.bot_user)

    async def _api_getUpdates(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        """Confirm below ``offset``, then return queued updates, long-polling up to ``timeout``."""
        if self.webhook.url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = params.get("limit", 100)
        timeout = params.get("timeout", 0)
        if not isinstance(offset, int | None) or not isinstance(limit, int):
            raise _bad("wrong parameter type")
        if not isinstance(timeout, int | float):
            raise _bad("wrong parameter type")
        limit = 100 if limit <= 0 or limit > 100 else limit
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                raise _bad("can't parse allowed updates JSON array")
            self.allowed_updates = allowed
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_changed.notify()  # an older long poll ends with 409, as on Telegram
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0)
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._deliverable(limit)
            if batch or self._closing:
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self._updates_changed.wait(remaining)
        for update in batch:
            self.deliveries[update["update_id"]] += 1
        return copy.deepcopy(batch)

    async def _api_sendMessage(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        """Send a text message; parse mode, reply, limits and membership checked like Telegram."""
        raw = params.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise _bad("message text is empty")
        state = self._writable_chat(params)
        text, entities = self._format(
            raw, params.get("parse_mode"), params.get("entities"),
            limit=MAX_TEXT_LENGTH, what="text",
        )
        reply_to = self._reply_target(state, params)
        message = self._new_message(
            state,
            {
                "message_thread_id": params.get("message_thread_id"),
                "text": text,
                "entities": entities,
                "link_preview_options": params.get("link_preview_options"),
                "reply_markup": _inline_markup(params.get("reply_markup")),
            },
            reply_to,
        )
        self._count_send("sendMessage", params.get("chat_id"))
        self._sent.append(self._record_text(state, message, raw, text, entities, params))
        return message

    def _record_text(
        self,
        state: ChatState,
        message: JSON,
        raw: str,
        text: str,
        entities: list[JSON],
        params: JSON,
    ) -> SentMessage:
        """Build the record of a sent or edited text message."""
        reply = params.get("reply_parameters")
        reply_id = reply.get("message_id") if isinstance(reply, dict) else params.get(
            "reply_to_message_id"
        )
        return SentMessage(
            chat_id=state.id,
            message_id=message["message_id"],
            text=text,
            raw_text=raw,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            mentions=self._mentions(text, entities),
            reply_to_message_id=reply_id,
            reply_parameters=reply if isinstance(reply, dict) else None,
            link_preview_options=params.get("link_preview_options"),
            reply_markup=params.get("reply_markup"),
            disable_notification=params.get("disable_notification"),
            message=copy.deepcopy(message),
            params=params,
        )

    async def _api_editMessageText(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        """Edit the text of one of the bot's messages."""
        raw = params.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise _bad("message text is empty")
        state = self._member_chat(params)
        message = self._message_to_edit(state, params)
        text, entities = self._format(
            raw, params.get("parse_mode"), params.get("entities"),
            limit=MAX_TEXT_LENGTH, what="text",
        )
        if text == message.get("text") and entities == message.get("entities", []):
            raise _bad(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message["text"] = text
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        message["edit_date"] = int(time.time())
        self._edits.append(self._record_text(state, message, raw, text, entities, params))
        return message

    async def _api_setMessageReaction(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        """Set the bot's reaction on a message (bots may set one; only Telegram's emoji list)."""
        state = self._member_chat(params)
        message_id = params.get("message_id")
        if message_id not in state.messages:
            raise _bad("MESSAGE_ID_INVALID")
        reaction = params.get("reaction") or []
        if not isinstance(reaction, list) or not all(isinstance(r, dict) for r in reaction):
            raise _bad("can't parse reaction types JSON object")
        if len(reaction) > 1:
            raise _bad("REACTIONS_TOO_MANY")
        for item in reaction:
            if item.get("type") != "emoji" or item.get("emoji") not in _REACTION_EMOJI:
                raise _bad("REACTION_INVALID")
        state.reactions[message_id] = reaction
        self._reactions.append(
            Reaction(state.id, message_id, reaction, bool(params.get("is_big", False)))
        )
        return True

    async def _api_deleteMessage(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        """Delete a message (someone else's in a group only as an admin)."""
        state = self._member_chat(params)
        message = state.messages.get(params.get("message_id"))
        if message is None:
            raise _bad("message to delete not found")
        own = message.get("from", {}).get("id") == self.bot_user["id"]
        is_group = state.chat["type"] in ("group", "supergroup")
        rights = state.bot_member or {}
        if is_group and not own and not (
            state.bot_status == "creator"
            or state.bot_status == "administrator" and rights.get("can_delete_messages", True)
        ):
            raise _bad("message can't be deleted")
        del state.messages[message["message_id"]]
        self._deleted.append((state.id, message["message_id"]))
        return True

    async def _api_sendDocument(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        """Send a document uploaded as multipart/form-data (or an earlier ``file_id``)."""
        state = self._writable_chat(params)
        document = params.get("document")
        upload = files.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            upload = files.get(document.removeprefix("attach://"))
        if upload is not None:
            if not upload.content:
                raise _bad("file must be non-empty")
            stored = self._store_file(
                upload.content, upload.filename or "file", upload.content_type
            )
        elif isinstance(document, str) and document in self._files:
            stored = self._files[document]
        else:
            raise _bad("wrong file identifier/HTTP URL specified")
        caption, caption_entities = None, []
        if params.get("caption"):
            caption, caption_entities = self._format(
                params["caption"], params.get("parse_mode"), params.get("caption_entities"),
                limit=MAX_CAPTION_LENGTH, what="caption",
            )
        message = self._new_message(
            state,
            {
                "message_thread_id": params.get("message_thread_id"),
                "document": self._document_object(stored),
                "caption": caption,
                "caption_entities": caption_entities,
            },
            self._reply_target(state, params),
        )
        self._count_send("sendDocument", params.get("chat_id"))
        self._documents.append(
            SentDocument(
                chat_id=state.id,
                message_id=message["message_id"],
                filename=stored.filename,
                content=stored.content,
                mime_type=stored.mime_type,
                caption=caption,
                caption_entities=caption_entities,
                parse_mode=params.get("parse_mode"),
                file_id=stored.file_id,
                message=copy.deepcopy(message),
            )
        )
        return message

    async def _api_getFile(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        """Return a File with its ``file_path`` under ``base_file_url``."""
        stored = self._files.get(params.get("file_id", ""))
        if stored is None:
            raise _bad("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    async def _api_sendChatAction(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        """Accept a chat action ("typing…") in a chat the bot is in."""
        self._writable_chat(params)
        return True

    async def _api_leaveChat(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        """Leave a group."""
        state = self._member_chat(params)
        state.bot_status = "left"
        state.bot_member = builders.member_object(self._bot_public(), "left")
        return True

    async def _api_getChat(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        """Return a ChatFullInfo of a known chat."""
        state = self._known_chat(params)
        info = dict(state.chat)
        info.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return info

    async def _api_getChatAdministrators(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> list[JSON]:
        """Return the configured admins (plus the bot when it is one)."""
        state = self._member_chat(params)
        if state.chat["type"] == "private":
            raise _bad("there are no administrators in the private chat")
        admins = list(state.administrators or [])
        if state.bot_status in ("administrator", "creator") and all(
            a["user"]["id"] != self.bot_user["id"] for a in admins
        ):
            admins.append(state.bot_member or builders.administrator(self._bot_public()))
        return admins

    async def _api_getChatMemberCount(self, params: JSON, files: dict[str, UploadedFile]) -> int:
        """Return the set count, else the members present (bots and the bot itself included)."""
        state = self._member_chat(params)
        if state.member_count is not None:
            return state.member_count
        if state.chat["type"] == "private":
            return 2
        present = {"creator", "administrator", "member", "restricted"}
        people = {uid: m for uid, m in state.members.items()}
        for admin in state.administrators or []:
            people[admin["user"]["id"]] = admin
        count = sum(
            1 for m in people.values()
            if m["status"] in present and m.get("is_member", True)
        )
        return count + (1 if state.bot_status in present else 0)

    async def _api_getChatMember(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        """Return a member's status: configured, learnt from updates, or the bot's own."""
        state = self._member_chat(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise _bad("invalid user_id specified")
        if user_id == self.bot_user["id"]:
            return state.bot_member or builders.member_object(self._bot_public(), state.bot_status)
        for admin in state.administrators or []:
            if admin["user"]["id"] == user_id:
                return admin
        if user_id in state.members:
            return state.members[user_id]
        if user_id in self.users:
            return builders.member_object(self.users[user_id], "left")
        raise _bad("user not found")

    @staticmethod
    def _scope_key(scope: Any) -> str:
        """Return a stable key for a BotCommandScope."""
        return json.dumps(scope or {"type": "default"}, sort_keys=True)

    async def _api_setMyCommands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        """Store the command list for a scope and language, validated like Telegram."""
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(isinstance(c, dict) for c in commands):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands specified")
        for command in commands:
            if not _COMMAND_NAME_RE.match(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = (self._scope_key(params.get("scope")), params.get("language_code") or "")
        self.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _api_getMyCommands(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        """Return the commands of a scope and language."""
        key = (self._scope_key(params.get("scope")), params.get("language_code") or "")
        return self.commands.get(key, [])

    async def _api_deleteMyCommands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        """Delete the commands of a scope and language."""
        key = (self._scope_key(params.get("scope")), params.get("language_code") or "")
        self.commands.pop(key, None)
        return True

    async def _api_setWebhook(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        """Set (or, with an empty url, remove) the webhook; http is accepted for local tests."""
        url = params.get("url") or ""
        if url and not re.match(r"(?i)^https?://[^/\s]+", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.match(secret):
            raise _bad("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if allowed is not None and not (
            isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)
        ):
            raise _bad("can't parse allowed updates JSON array")
        if allowed is not None:
            self.allowed_updates = allowed
        if params.get("drop_pending_updates"):
            self._confirm(self._next_update_id)
        was_set = bool(self.webhook.url)
        self.webhook = Webhook(
            url=url,
            secret_token=secret,
            allowed_updates=params.get("allowed_updates"),
            drop_pending_updates=params.get("drop_pending_updates"),
            max_connections=params.get("max_connections"),
            ip_address=params.get("ip_address"),
            has_certificate="certificate" in files,
        )
        if not url:
            deleted = "Webhook was deleted" if was_set else "Webhook is already deleted"
            return _Described(True, deleted)
        return _Described(True, "Webhook was set")

    async def _api_deleteWebhook(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        """Remove the webhook, optionally dropping pending updates."""
        was_set = bool(self.webhook.url)
        if params.get("drop_pending_updates"):
            self._confirm(self._next_update_id)
        self.webhook = Webhook()
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _api_getWebhookInfo(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        """Describe the webhook and the number of pending updates."""
        info: JSON = {
            "url": self.webhook.url,
            "has_custom_certificate": self.webhook.has_certificate,
            "pending_update_count": len(self.updates),
        }
        if self.webhook.url:
            info["max_connections"] = self.webhook.max_connections or 40
            info["ip_address"] = self.webhook.ip_address or self.host
            if self.webhook.last_error_date:
                info["last_error_date"] = self.webhook.last_error_date
                info["last_error_message"] = self.webhook.last_error_message
        if self.allowed_updates:
            info["allowed_updates"] = self.allowed_updates
        return info


@dataclass
class _Described:
    """A successful result that Telegram accompanies with a ``description``."""

    result: Any
    description: str


def _inline_markup(markup: Any) -> JSON | None:
    """Return the markup if it is an inline keyboard (the only kind echoed in a Message)."""
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


def _as_predicate(predicate: str | Callable[[Call], bool]) -> Callable[[Call], bool]:
    """Turn a method name into a predicate on calls."""
    if isinstance(predicate, str):
        name = predicate.lower()
        return lambda call: call.method.lower() == name
    return predicate


def _typed(name: str, value: Any) -> Any:
    """Read a string parameter the way the Bot API reads that parameter (JSON, int, bool)."""
    if not isinstance(value, str):
        return value
    if name in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if name in _INT_PARAMS and re.fullmatch(r"-?\d+", value):
        return int(value)
    if name in _NUMBER_PARAMS:
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    if name in _BOOL_PARAMS:
        return value.lower() in ("true", "1")
    return value


def _json(body: JSON, status: int) -> web.Response:
    """Return a JSON response like Telegram's."""
    return web.json_response(
        body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False)
    )
