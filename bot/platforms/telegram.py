"""Telegram through python-telegram-bot 22: Update -> neutral events; neutral actions -> Bot API.

Three promises shape this module (SPEC §3.6):
- an update is confirmed to Telegram (the next getUpdates offset, or the webhook's 2xx) only after
  the dispatcher has committed it, so our own loop drives getUpdates — PTB's Updater confirms a
  batch as soon as it fetches it. Only an unavailable database holds confirmation back: an update
  that cannot be read or whose handling hits a bug is logged and confirmed, or it would come back
  forever and block every chat behind it;
- every send leaves through PTB's AIORateLimiter with retries, so a 429 is waited out, not dropped;
- reads (administrators, member counts) skip the send limiter and are bounded in time, because the
  inbound loop waits for them: one busy group must never stall ingestion for everyone.
Nothing Telegram-specific goes further than this file.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Generic, Iterable, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from telegram import (
    Bot,
    BotCommand,
    ChatMember,
    ChatMemberUpdated,
    InputFile,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReactionTypeEmoji,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatType, MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated as ChatMigratedError,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBUserWarning

from bot.domain import texts_vi
from bot.domain.links import extract_links
from bot.domain.types import (
    BotMembershipChanged,
    ChatKind,
    ChatMigrated,
    ChatRef,
    DeleteMessage,
    Delivery,
    DeliveryStatus,
    Incoming,
    IncomingMessage,
    MemberLeft,
    MembersJoined,
    Mention,
    Outbound,
    PlatformRefused,
    React,
    ReplyTarget,
    Segment,
    SendDocument,
    SendPhoto,
    SendText,
    SenderKind,
    UserRef,
)

logger = logging.getLogger(__name__)

PLATFORM = "telegram"
# Every kind of update the bot uses; chat_member must be asked for by name (SPEC §3.6).
ALLOWED_UPDATES = ("message", "edited_message", "my_chat_member", "chat_member")
# How long a chat's administrator list (and member count) is trusted before it is fetched again.
ADMIN_CACHE_SECONDS = 300.0
# How long the inbound loop waits for a read such as getChatAdministrators before it goes on
# without the answer (the last known one, or the admins known by code).
READ_TIMEOUT_SECONDS = 3.0
# After a read failed, the same read in that chat is not tried again for this long, so a chat whose
# reads hang costs the loop one timeout, not one per command.
READ_BACKOFF_SECONDS = 30.0
# A 429 is waited out this many times before a send is given up as transient (and retried later).
MAX_RETRIES = 8
# Webhook POSTs that arrive within this window (or until this many) are handled as one batch.
WEBHOOK_WINDOW_SECONDS = 0.005
WEBHOOK_BATCH_MAX = 100
PRESENT = {ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER, ChatMember.RESTRICTED}


class Core(Protocol):
    """What the adapter needs from the application (passed in by bot.app, never imported).

    A core may also offer ``handle_batch(events)``: the events of updates that arrived together,
    handled in one transaction; a ``retry_later`` exception from it may carry ``handled``, the
    number of leading events committed before the database went away. Without it, the adapter
    hands over one event at a time."""

    async def handle(self, event: Incoming) -> None: ...


# --- Update -> neutral events ---------------------------------------------------------------------


@dataclass(frozen=True)
class BotIdentity:
    id: int
    username: str | None
    can_read_all_group_messages: bool


def user_ref(user: User) -> UserRef:
    name = unicodedata.normalize("NFC", user.full_name or user.username or str(user.id))
    return UserRef(PLATFORM, str(user.id), name, user.username, user.is_bot)


def chat_ref(chat) -> ChatRef | None:
    if chat.type == ChatType.PRIVATE:
        return ChatRef(PLATFORM, str(chat.id), ChatKind.PRIVATE, title=None)
    if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        return ChatRef(PLATFORM, str(chat.id), ChatKind.GROUP, title=chat.title)
    return None  # channels: the bot does not work there


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def message_links(message: Message) -> tuple[str, ...]:
    """Links Telegram itself marked, in order: `url` entities (the text) and `text_link`
    entities (the hidden URL), in the text or in a caption. PTB turns the UTF-16 offsets
    into Python strings for us."""
    kinds = [MessageEntity.URL, MessageEntity.TEXT_LINK]
    entities = message.parse_entities(kinds) if message.text is not None else message.parse_caption_entities(kinds)
    source = message.text if message.text is not None else (message.caption or "")
    found: list[str] = []
    bidi = _BIDI.search(source) is not None
    for entity, text in sorted(entities.items(), key=lambda item: item[0].offset):
        if entity.type == MessageEntity.TEXT_LINK and entity.url:
            found.append(entity.url)
        elif not bidi:
            found.append(text)
    if bidi:
        # Telegram may cut a link at a bidi control and mark the rest ("book.com/…") as a link of
        # its own; our extraction reads such a link whole, so that it is refused whole (SPEC §4.4).
        found.extend(extract_links(source))
    return tuple(found)


_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _sender(message: Message) -> tuple[UserRef | None, SenderKind]:
    if message.sender_chat is not None:
        # An admin posting as the group itself, or a channel (incl. a linked channel's
        # automatic forward): no person to credit (SPEC §3.1 item 6).
        if message.sender_chat.id == message.chat.id:
            return None, SenderKind.ANONYMOUS_ADMIN
        return None, SenderKind.CHANNEL
    if message.from_user is None:
        return None, SenderKind.CHANNEL
    user = user_ref(message.from_user)
    return user, SenderKind.BOT if message.from_user.is_bot else SenderKind.USER


def _message_events(message: Message, edited: bool, bot: BotIdentity, update_id: int) -> list[Incoming]:
    chat = chat_ref(message.chat)
    if chat is None:
        return []
    date = _utc(message.edit_date if edited and message.edit_date else message.date)
    events: list[Incoming] = []
    if message.migrate_to_chat_id:
        events.append(ChatMigrated(PLATFORM, str(message.chat.id), str(message.migrate_to_chat_id), date))
    if message.migrate_from_chat_id:
        events.append(ChatMigrated(PLATFORM, str(message.migrate_from_chat_id), str(message.chat.id), date))
    if message.new_chat_members:
        people = tuple(user_ref(u) for u in message.new_chat_members if u.id != bot.id)
        if people:
            events.append(MembersJoined(chat, people, date))
    if message.left_chat_member and message.left_chat_member.id != bot.id:
        events.append(MemberLeft(chat, user_ref(message.left_chat_member), date))
    text = message.text if message.text is not None else message.caption
    if text is None:
        return events  # a service message, a sticker, a photo without caption…
    sender, kind = _sender(message)
    reply_to = None
    if message.reply_to_message is not None:
        replied_sender, replied_kind = _sender(message.reply_to_message)
        reply_to = ReplyTarget(str(message.reply_to_message.message_id), replied_sender, replied_kind)
    events.append(IncomingMessage(
        chat=chat,
        message_id=str(message.message_id),
        sender=sender,
        date=date,
        text=text,
        links=message_links(message),
        sender_kind=kind,
        edited=edited,
        reply_to=reply_to,
        forwarded=message.forward_origin is not None,
        update_id=str(update_id),
    ))
    return events


def _bot_membership(change: ChatMemberUpdated, bot: BotIdentity) -> list[Incoming]:
    chat = chat_ref(change.chat)
    if chat is None or chat.kind is ChatKind.PRIVATE:
        return []
    status = change.new_chat_member.status
    present = status in PRESENT
    if status == ChatMember.RESTRICTED:
        present = bool(getattr(change.new_chat_member, "is_member", True))
    # The bot reads every group message if it is an admin or its privacy mode is off.
    can_read = status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER) or bot.can_read_all_group_messages
    return [BotMembershipChanged(chat, present=present, can_read_messages=can_read,
                                 by=user_ref(change.from_user) if change.from_user else None, date=_utc(change.date))]


def _member_change(change: ChatMemberUpdated) -> list[Incoming]:
    chat = chat_ref(change.chat)
    if chat is None or chat.kind is ChatKind.PRIVATE:
        return []
    member = change.new_chat_member
    date = _utc(change.date)
    if member.user.is_bot:
        return []
    present = member.status in PRESENT and bool(getattr(member, "is_member", True))
    if present:
        return [MembersJoined(chat, (user_ref(member.user),), date)]
    return [MemberLeft(chat, user_ref(member.user), date)]


def translate(update: Update, bot: BotIdentity) -> list[Incoming]:
    """One Telegram update -> the neutral events it carries (often one, sometimes none)."""
    if update.message is not None:
        return _message_events(update.message, False, bot, update.update_id)
    if update.edited_message is not None:
        return _message_events(update.edited_message, True, bot, update.update_id)
    if update.my_chat_member is not None:
        return _bot_membership(update.my_chat_member, bot)
    if update.chat_member is not None:
        return _member_change(update.chat_member)
    return []


# --- neutral actions -> Bot API ---------------------------------------------------------------------


def render_html(parts: Iterable[Segment]) -> str:
    """Plain text with mentions as tg://user links, which notify people without a username."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, Mention):
            out.append(f'<a href="tg://user?id={html.escape(part.user.user_id)}">{html.escape(part.user.display_name)}</a>')
        else:
            out.append(html.escape(part, quote=False))
    return "".join(out)


def _utf16(text: str) -> int:
    """Telegram measures text in UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def _width(part: Segment) -> int:
    return _utf16(part.user.display_name if isinstance(part, Mention) else part)


def _fit(text: str, room: int) -> int:
    """How many characters of ``text`` fit in ``room`` UTF-16 units: at the last space that
    fits when there is one (a word is not cut in two), else as many as fit."""
    used = 0
    end = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > room:
            break
        end = i + 1
    if end < len(text):
        space = text.rfind(" ", 0, end)
        if space > 0:
            return space + 1
    return end


def _cut_line(line: list[Segment], limit: int) -> list[list[Segment]]:
    """An over-long line in pieces of at most ``limit`` units; a mention is never cut."""
    pieces: list[list[Segment]] = [[]]
    size = 0
    for part in line:
        if isinstance(part, Mention):
            if size and size + _width(part) > limit:
                pieces.append([])
                size = 0
            pieces[-1].append(part)
            size += _width(part)
            continue
        text = part
        while text:
            room = limit - size
            n = _fit(text, room) if room > 0 else 0
            if n == 0 and size == 0:
                n = 1  # a single character wider than the whole limit: nothing else can be done
            if n:
                pieces[-1].append(text[:n])
                size += _utf16(text[:n])
                text = text[n:]
            if text:
                pieces.append([])
                size = 0
    return [p for p in pieces if p]


def split_parts(parts: tuple[Segment, ...], limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[tuple[Segment, ...]]:
    """Cut a long message into messages of at most ``limit`` visible characters (UTF-16 units,
    as Telegram counts them), at line breaks; a single over-long line is cut between words, and a
    mention is never cut, so every name in a long reminder still notifies its person."""
    lines: list[list[Segment]] = [[]]
    for part in parts:
        if isinstance(part, Mention):
            lines[-1].append(part)
            continue
        pieces = part.split("\n")
        for i, piece in enumerate(pieces):
            if i:
                lines.append([])
            if piece:
                lines[-1].append(piece)

    chunks: list[list[Segment]] = []
    current: list[Segment] = []
    size = 0
    for line in lines:
        w = sum(_width(p) for p in line)
        if w > limit:
            if current:
                chunks.append(current)
            *whole, current = _cut_line(line, limit)
            chunks.extend(whole)
            size = sum(_width(p) for p in current)
            continue
        extra = w + (1 if current else 0)
        if current and size + extra > limit:
            chunks.append(current)
            current, size = [], 0
            extra = w
        if current:
            current.append("\n")
        current.extend(line)
        size += extra
    if current or not chunks:
        chunks.append(current)
    return [tuple(c) for c in chunks]


REACTIONS_IN_FLIGHT = 8


class SendRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter, for sends only.

    AIORateLimiter puts every call that names a ``chat_id`` through that chat's 20-a-minute bucket
    and stops every call while a 429 is waited out. Those limits are Telegram's limits on
    *messages*; reads (getChatAdministrators, getChatMemberCount, getChat…) are not counted by
    Telegram, and the inbound loop waits for some of them. Every Bot API read starts with ``get``
    (getUpdates already bypasses the limiter in PTB's ExtBot).

    Sends go through ``bot.platforms.pacing.SendWindow``: at most ``per_second`` in flight or
    answered within the last second, spaced 1/``per_second`` s apart. PTB's default overall limiter
    is a bucket of 30 a second: after a pause it lets 30 through at once and then refills, so a
    window of any one second saw 31 and Telegram answered 429, which stops every send for
    ``retry_after`` (bench/fanout.py: 223 × 429 in a 530-group fan-out). Spacing evenly by the
    time a send leaves was not enough either: at 29 a second a request delayed on its way let two
    arrive close enough to make 31 (79 × 429), so evenly spaced sends had to stay at 28 a second.
    The window counts a send until a second after its answer, which no delay can get round, and
    so runs at 30 per (1 s + the round trip).
    """

    __slots__ = ()

    def __init__(self, *, per_second: int = 30, **kwargs) -> None:
        super().__init__(**kwargs)
        if per_second:
            from bot.platforms.pacing import SendWindow

            self._base_limiter = SendWindow(per_second, 1.0, hold_unanswered=_may_still_arrive)

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        if endpoint.startswith("get"):
            return await callback(*args, **kwargs)
        if endpoint == "setMessageReaction":
            return await self._react(callback, args, kwargs)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)

    async def _react(self, callback, args, kwargs):
        """A 👍 is not a message: it is kept out of the message pacing (SPEC §5 asks ≥ 500 a second
        drained), and a 429 on it is waited out for that reaction alone, never stopping the sends."""
        for attempt in range(self._max_retries + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self._max_retries:
                    raise
                await asyncio.sleep(_retry_seconds(exc) + 0.1)
        raise AssertionError("unreachable")  # pragma: no cover


def _may_still_arrive(exc: BaseException) -> bool:
    """A send that ended without Telegram's answer (a timeout, a broken connection, a cancel) may
    still reach Telegram later, so the send window counts it a while longer."""
    return not isinstance(exc, TelegramError) or (isinstance(exc, NetworkError) and not isinstance(exc, BadRequest))


def _retry_seconds(exc: RetryAfter) -> float:
    value = getattr(exc, "_retry_after", None)
    if value is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


class ReadUnavailable(Exception):
    """A platform read failed or took too long, and nothing older is known to answer with."""


T = TypeVar("T")


class _BoundedReads(Generic[T]):
    """One kind of read per chat: cached for ``ttl``; bounded by ``timeout``; after a failure the
    last known answer (however old) is used, and the read is not tried again for ``backoff``."""

    def __init__(self, what: str, *, ttl: float, timeout: float, backoff: float,
                 monotonic: Callable[[], float]) -> None:
        self.what = what
        self.ttl = ttl
        self.timeout = timeout
        self.backoff = backoff
        self._monotonic = monotonic
        self._known: dict[str, tuple[float, T]] = {}  # chat -> (when fetched, answer)
        self._down_until: dict[str, float] = {}

    async def get(self, chat_id: str, fetch: Callable[[], Awaitable[T]]) -> T:
        now = self._monotonic()
        known = self._known.get(chat_id)
        if known is not None and known[0] + self.ttl > now:
            return known[1]
        if self._down_until.get(chat_id, 0.0) > now:
            if known is not None:
                return known[1]
            raise ReadUnavailable(f"{self.what} of {chat_id}: failed recently, not asked again yet")
        try:
            value = await asyncio.wait_for(fetch(), self.timeout)
        except (TelegramError, asyncio.TimeoutError) as exc:
            reason = "no answer within %.1f s" % self.timeout if isinstance(exc, asyncio.TimeoutError) \
                else f"{type(exc).__name__}: {exc.message}"
            self._down_until[chat_id] = self._monotonic() + self.backoff
            if known is not None:
                logger.warning("telegram: %s of %s failed (%s); using the last known answer", self.what,
                               chat_id, reason)
                return known[1]
            logger.warning("telegram: %s of %s failed (%s); going on without it", self.what, chat_id, reason)
            raise ReadUnavailable(f"{self.what} of {chat_id}: {reason}") from None
        self._known[chat_id] = (self._monotonic(), value)
        self._down_until.pop(chat_id, None)
        return value


class TelegramMessenger:
    """Carries neutral actions out through the Bot API; reads chat facts, cached and bounded."""

    platform = PLATFORM

    def __init__(self, bot: Bot, *, admin_ttl: float = ADMIN_CACHE_SECONDS,
                 read_timeout: float = READ_TIMEOUT_SECONDS, read_backoff: float = READ_BACKOFF_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.bot = bot
        self._admins: _BoundedReads[frozenset[str]] = _BoundedReads(
            "getChatAdministrators", ttl=admin_ttl, timeout=read_timeout, backoff=read_backoff, monotonic=monotonic)
        self._member_counts: _BoundedReads[int] = _BoundedReads(
            "getChatMemberCount", ttl=admin_ttl, timeout=read_timeout, backoff=read_backoff, monotonic=monotonic)
        # Reactions skip the message pacing, so hundreds of chats' lanes may send at once; httpx's
        # pool then spends more time assigning connections than sending (bench/acks.py: 126/s with
        # 100 chats at once, 660/s with 10). A few in flight drain faster. Messages keep their
        # own pacing and are not held here: a throttled group must never hold up a 👍.
        self._reactions_in_flight = asyncio.Semaphore(REACTIONS_IN_FLIGHT)

    def set_read_limits(self, *, timeout: float | None = None, ttl: float | None = None,
                        backoff: float | None = None) -> None:
        """Tune the reads' bounds (tests make them short)."""
        for reads in (self._admins, self._member_counts):
            reads.timeout = reads.timeout if timeout is None else timeout
            reads.ttl = reads.ttl if ttl is None else ttl
            reads.backoff = reads.backoff if backoff is None else backoff

    async def chat_admin_ids(self, chat: ChatRef) -> frozenset[str]:
        """Raises ReadUnavailable when Telegram did not answer in time and nothing is known."""
        if not chat.is_group:
            return frozenset()

        async def fetch() -> frozenset[str]:
            admins = await self.bot.get_chat_administrators(int(chat.chat_id))
            return frozenset(str(m.user.id) for m in admins)

        return await self._admins.get(chat.chat_id, fetch)

    async def chat_member_count(self, chat: ChatRef) -> int | None:
        """Telegram's member count (bots included: the caller subtracts those it knows), or None
        when it cannot be had in time."""

        async def fetch() -> int:
            return await self.bot.get_chat_member_count(int(chat.chat_id))

        try:
            return await self._member_counts.get(chat.chat_id, fetch)
        except Exception:  # noqa: BLE001 - a figure in a report is not worth failing a command for
            logger.debug("telegram: no member count for %s", chat.chat_id, exc_info=True)
            return None

    async def deliver(self, action: Outbound) -> Delivery:
        try:
            return await self._call(action, int(action.chat.chat_id))
        except ChatMigratedError as exc:
            # The group became a supergroup since the action was queued: follow it once.
            try:
                return await self._call(action, exc.new_chat_id)
            except TelegramError as again:
                return _failure(again)
        except TelegramError as exc:
            return _failure(exc)

    async def _call(self, action: Outbound, chat_id: int) -> Delivery:
        if isinstance(action, SendText):
            last: Message | None = None
            for i, chunk in enumerate(split_parts(action.parts)):
                last = await self.bot.send_message(
                    chat_id,
                    render_html(chunk) or ".",
                    parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=action.disable_preview),
                    reply_parameters=ReplyParameters(int(action.reply_to), allow_sending_without_reply=True)
                    if action.reply_to and i == 0 else None,
                )
            return Delivery(DeliveryStatus.SENT, str(last.message_id) if last else None)
        if isinstance(action, React):
            try:
                async with self._reactions_in_flight:
                    await self.bot.set_message_reaction(chat_id, int(action.message_id),
                                                        [ReactionTypeEmoji(action.emoji)])
                return Delivery(DeliveryStatus.SENT)
            except (BadRequest, Forbidden) as exc:
                # Reactions can be switched off in a chat: say it in one short reply instead.
                if not action.fallback:
                    return _failure(exc)
                logger.info("reaction refused in %s (%s); replying instead", chat_id, exc.message)
                sent = await self.bot.send_message(
                    chat_id, action.fallback,
                    reply_parameters=ReplyParameters(int(action.message_id), allow_sending_without_reply=True),
                )
                return Delivery(DeliveryStatus.SENT, str(sent.message_id))
        if isinstance(action, SendDocument):
            sent = await self.bot.send_document(
                chat_id, InputFile(action.data, filename=action.filename), caption=action.caption or None,
                reply_parameters=ReplyParameters(int(action.reply_to), allow_sending_without_reply=True)
                if action.reply_to else None,
            )
            return Delivery(DeliveryStatus.SENT, str(sent.message_id))
        if isinstance(action, SendPhoto):
            sent = await self.bot.send_photo(
                chat_id, InputFile(action.data, filename=action.filename), caption=action.caption or None,
                reply_parameters=ReplyParameters(int(action.reply_to), allow_sending_without_reply=True)
                if action.reply_to else None,
            )
            return Delivery(DeliveryStatus.SENT, str(sent.message_id))
        if isinstance(action, DeleteMessage):
            await self.bot.delete_message(chat_id, int(action.message_id))
            return Delivery(DeliveryStatus.SENT)
        raise TypeError(f"unknown action {type(action).__name__}")


def _shown_url(url: str, token: str) -> str:
    """The base URL as it may be shown to the operator: no token, no password."""
    if token:
        url = url.replace(token, "<token>")
    try:
        parts = urlsplit(url)
        if parts.password is not None:
            host = parts.netloc.rsplit("@", 1)[1]
            url = urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    except ValueError:
        pass
    return url


def _unreachable_reason(exc: NetworkError) -> str:
    """What went wrong, in the operator's words, from PTB's wrapping of the httpx error."""
    text = str(exc.message).lower()
    if isinstance(exc, TimedOut) or "timeout" in text:
        return texts_vi.UNREACHABLE_TIMEOUT
    if any(hint in text for hint in ("name or service", "nodename", "name resolution", "getaddrinfo",
                                     "no address associated")):
        return texts_vi.UNREACHABLE_NO_HOST
    if "connect" in text or "refused" in text:
        return texts_vi.UNREACHABLE_REFUSED
    return texts_vi.UNREACHABLE_OTHER


def _failure(exc: TelegramError) -> Delivery:
    """Forbidden (removed, blocked) and BadRequest are final; the rest may succeed later."""
    if isinstance(exc, (Forbidden, BadRequest, InvalidToken)):
        return Delivery(DeliveryStatus.FAILED_FOR_GOOD, error=f"{type(exc).__name__}: {exc.message}")
    return Delivery(DeliveryStatus.TRANSIENT, error=f"{type(exc).__name__}: {exc.message}")


# --- the platform: lifecycle, polling, webhook --------------------------------------------------------


class TelegramPlatform:
    """Owns the PTB Application; feeds updates to the core and confirms them after commit."""

    def __init__(self, *, token: str, base_url: str, core: Core, menu: list[tuple[str, str]],
                 retry_later: tuple[type[BaseException], ...],
                 mode: str = "polling", webhook_url: str | None = None, secret: str = "",
                 poll_timeout: int = 50, retry_delay: float = 5.0,
                 webhook_window: float = WEBHOOK_WINDOW_SECONDS) -> None:
        """``retry_later``: the exceptions from ``core.handle`` that mean "not now" (the database
        is unavailable), after which the update is not confirmed and comes again; any other
        exception is a bug, logged, and the update confirmed."""
        self.core = core
        self.retry_later = retry_later
        self.shown_base_url = _shown_url(base_url, token)
        self.menu = menu
        self.mode = mode
        self.webhook_url = webhook_url
        self.secret = secret
        self.poll_timeout = poll_timeout
        self.retry_delay = retry_delay
        base_file_url = base_url.replace("/bot", "/file/bot", 1) if base_url.endswith("/bot") else base_url
        self.application: Application = (
            ApplicationBuilder()
            .token(token)
            .base_url(base_url)
            .base_file_url(base_file_url)
            .rate_limiter(SendRateLimiter(max_retries=MAX_RETRIES))
            .updater(None)  # we confirm updates ourselves, after the commit
            .job_queue(None)  # scheduling is ours (bot.scheduler), with an injected clock
            .get_updates_read_timeout(poll_timeout + 10)
            .build()
        )
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.messenger = TelegramMessenger(self.application.bot)
        self.identity: BotIdentity | None = None
        self._offset: int | None = None
        self._stopping = asyncio.Event()
        self._failures: dict[int, BaseException] = {}
        # While a batch is read through PTB, _on_update collects each update's events here.
        self._collected: dict[int, list[Incoming]] | None = None
        self.webhook_window = webhook_window
        self._waiting: list[tuple[Update, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None
        self._batches: set[asyncio.Task] = set()
        self._batch_lock = asyncio.Lock()  # one batch at a time: a chat's messages keep their order

    @property
    def bot(self) -> Bot:
        return self.application.bot

    async def start(self) -> BotIdentity:
        """getMe, the command menu, and the webhook (or its removal, for polling)."""
        try:
            return await self._start()
        except InvalidToken:
            # PTB's message quotes the token itself: replace it, and drop the chain.
            raise PlatformRefused(texts_vi.TOKEN_REFUSED) from None
        except NetworkError as exc:
            if isinstance(exc, BadRequest):  # PTB files "Bad Request" under network errors
                raise
            # Nothing answered at base_url (refused, no such host, no answer in time): the
            # operator must fix the address or the network, so say which and stop.
            raise PlatformRefused(texts_vi.telegram_unreachable(self.shown_base_url, _unreachable_reason(exc))) from None

    async def _start(self) -> BotIdentity:
        await self.application.initialize()
        me = self.bot.bot
        self.identity = BotIdentity(me.id, me.username, bool(me.can_read_all_group_messages))
        await self.bot.set_my_commands([BotCommand(name, desc) for name, desc in self.menu])
        await self.bot.set_my_commands([BotCommand(name, desc) for name, desc in self.menu], language_code="vi")
        if self.mode == "webhook":
            await self.bot.set_webhook(self.webhook_url, secret_token=self.secret or None,
                                       allowed_updates=list(ALLOWED_UPDATES))
        else:
            await self.bot.delete_webhook(drop_pending_updates=False)
        await self.application.start()
        logger.info("telegram: @%s ready (%s)", me.username, self.mode)
        return self.identity

    def request_stop(self) -> None:
        """Ask the polling loop to end after the update it is handling."""
        self._stopping.set()

    async def stop(self) -> None:
        self._stopping.set()
        if self.mode == "polling" and self._offset is not None:
            # Confirm what was handled, so a restart does not see it again (harmless if it did).
            try:
                await self.bot.get_updates(offset=self._offset, timeout=0, allowed_updates=list(ALLOWED_UPDATES))
            except TelegramError:
                logger.info("telegram: could not confirm the last updates on shutdown", exc_info=True)
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def process(self, update: Update) -> bool:
        """Handle one update; False only when it must come again (the database was away),
        True once it is committed or known never to succeed (then it may be confirmed)."""
        await self.application.process_update(update)
        failure = self._failures.pop(update.update_id, None)
        if failure is not None:
            logger.warning("telegram: update %s not handled (%s); it will come again",
                           update.update_id, type(failure).__name__)
            return False
        return True

    async def process_json(self, data: dict[str, Any]) -> bool:
        """The webhook's update: True -> 200 (done, or a bug that retrying cannot fix),
        False -> 5xx so that Telegram sends it again later."""
        try:
            update = Update.de_json(data, self.bot)
        except Exception:  # noqa: BLE001 - a body PTB cannot read will not read better next time
            logger.exception("telegram: webhook update %s could not be read; confirmed without handling",
                             data.get("update_id"))
            return True
        if getattr(self.core, "handle_batch", None) is None:
            return await self.process(update)
        # Gathered with the POSTs arriving in the next few ms; answered once their batch commits.
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        self._waiting.append((update, done))
        if len(self._waiting) >= WEBHOOK_BATCH_MAX:
            self._take_waiting()
        elif self._flusher is None:
            self._flusher = asyncio.create_task(self._window(), name="telegram-webhook-window")
        return await asyncio.shield(done)

    async def _window(self) -> None:
        await asyncio.sleep(self.webhook_window)
        self._flusher = None
        self._take_waiting()

    def _take_waiting(self) -> None:
        """Everything waiting becomes one batch; batches run in the order they were taken."""
        waiting, self._waiting = self._waiting, []
        if waiting:
            task = asyncio.create_task(self._flush(waiting), name="telegram-webhook-batch")
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _flush(self, waiting: list[tuple[Update, asyncio.Future]]) -> None:
        confirmed = 0
        try:
            confirmed = await self.process_batch([update for update, _ in waiting])
        except Exception:  # noqa: BLE001 - each POST must be answered whatever happened
            logger.exception("telegram: a webhook batch failed")
        finally:
            for n, (_, done) in enumerate(waiting):
                if not done.done():
                    done.set_result(n < confirmed)

    async def process_batch(self, updates: list[Update]) -> int:
        """Handle updates that arrived together, in one transaction when the core can; returns
        how many leading updates may be confirmed (all, unless the database was away)."""
        async with self._batch_lock:
            handle_batch = getattr(self.core, "handle_batch", None)
            if handle_batch is None or len(updates) == 1:
                for n, update in enumerate(updates):
                    if not await self.process(update):
                        return n
                return len(updates)
            self._collected = {}
            try:
                for update in updates:
                    await self.application.process_update(update)  # PTB's handlers fill _collected
                collected = self._collected
            finally:
                self._collected = None
            events: list[Incoming] = []
            ends: list[int] = []  # after update i, this many events
            for update in updates:
                events.extend(collected.get(update.update_id, ()))
                ends.append(len(events))
            try:
                await handle_batch(events)
            except self.retry_later as exc:
                handled = getattr(exc, "handled", 0) or 0
                confirmed = sum(1 for end in ends if end <= handled)
                logger.warning("telegram: updates from %s not handled (%s); they will come again",
                               updates[confirmed].update_id if confirmed < len(updates) else "?",
                               type(exc).__name__)
                return confirmed
            except Exception:  # noqa: BLE001 - outside any transaction: try each update on its own
                logger.exception("telegram: handling a batch of %d updates failed; one by one now", len(updates))
                for n, update in enumerate(updates):
                    if not await self._process_events(update.update_id, collected.get(update.update_id, [])):
                        return n
            return len(updates)

    async def _process_events(self, update_id: int, events: list[Incoming]) -> bool:
        try:
            for event in events:
                await self.core.handle(event)
        except self.retry_later:
            return False
        except Exception:  # noqa: BLE001
            logger.exception("telegram: handling update %s failed; confirmed so that it does not come back",
                             update_id)
        return True

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """PTB calls this for every update. Only ``retry_later`` failures are kept (the update is
        then not confirmed); a bug is logged and the update confirmed, never retried forever."""
        assert self.identity is not None
        try:
            events = translate(update, self.identity)
        except Exception:  # noqa: BLE001
            logger.exception("telegram: update %s could not be translated; confirmed without handling",
                             update.update_id)
            return
        if self._collected is not None:
            self._collected[update.update_id] = events
            return
        try:
            for event in events:
                await self.core.handle(event)
        except self.retry_later as exc:
            self._failures[update.update_id] = exc
        except Exception:  # noqa: BLE001
            logger.exception("telegram: handling update %s failed; confirmed so that it does not come back",
                             update.update_id)

    async def poll(self) -> None:
        """The getUpdates loop: fetch, handle in order, confirm only what was committed."""
        while not self._stopping.is_set():
            try:
                updates = await self.bot.get_updates(
                    offset=self._offset, timeout=self.poll_timeout, allowed_updates=list(ALLOWED_UPDATES))
            except InvalidToken:
                raise PlatformRefused(texts_vi.TOKEN_REFUSED) from None
            except Conflict:
                raise PlatformRefused(texts_vi.POLLING_CONFLICT) from None
            except (TimedOut, NetworkError, RetryAfter) as exc:
                logger.warning("telegram: getUpdates failed (%s); retrying", type(exc).__name__)
                await self._pause()
                continue
            except TelegramError:
                raise
            except Exception:  # noqa: BLE001 - PTB could not read the batch: read it update by update
                try:
                    updates = await self._read_batch_leniently()
                except TelegramError as exc:
                    logger.warning("telegram: getUpdates failed (%s); retrying", type(exc).__name__)
                    await self._pause()
                    continue
            if self._stopping.is_set():
                return
            # The whole answer is one batch: one transaction, then one confirmation (SPEC §3.7).
            readable = [u for u in updates if not isinstance(u, int)]
            confirmed = await self.process_batch(readable) if readable else 0
            for update in updates:
                if isinstance(update, int):  # unreadable: logged, and confirmed so it does not return
                    self._offset = update + 1
                    continue
                if confirmed == 0:
                    await self._pause()
                    break  # the next getUpdates brings it (and what follows) again
                confirmed -= 1
                self._offset = update.update_id + 1

    async def _read_batch_leniently(self) -> list[Update | int]:
        """The pending batch as raw JSON, each update parsed on its own; an update PTB cannot
        parse stands as its bare ``update_id``, so the loop confirms it and goes on."""
        params: dict[str, Any] = {"timeout": 0, "allowed_updates": list(ALLOWED_UPDATES)}
        if self._offset is not None:
            params["offset"] = self._offset
        with warnings.catch_warnings():
            # PTB suggests get_updates, which is what could not parse this batch.
            warnings.simplefilter("ignore", PTBUserWarning)
            raw = await self.bot.do_api_request("getUpdates", api_kwargs=params)
        batch: list[Update | int] = []
        for data in raw if isinstance(raw, list) else []:
            try:
                batch.append(Update.de_json(data, self.bot))
            except Exception:  # noqa: BLE001
                update_id = data.get("update_id") if isinstance(data, dict) else None
                logger.exception("telegram: update %s could not be read; confirmed without handling", update_id)
                if isinstance(update_id, int):
                    batch.append(update_id)
        return batch

    async def _pause(self) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), self.retry_delay)
        except asyncio.TimeoutError:
            pass
