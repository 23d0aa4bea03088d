"""Neutral types that cross the seams: adapters build them, handlers read and return them.

Nothing here knows a platform. An adapter turns its platform's update into one of the
``Incoming*`` events and turns the ``Outbound`` actions that handlers return back into API calls.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol, Union


class ChatKind(str, enum.Enum):
    GROUP = "group"
    PRIVATE = "private"


class SenderKind(str, enum.Enum):
    """Who wrote a message. Only ``USER`` messages credit anyone (SPEC §3.1 item 6)."""

    USER = "user"
    BOT = "bot"
    CHANNEL = "channel"  # a channel posting into a group, or an automatic forward
    ANONYMOUS_ADMIN = "anonymous_admin"  # an admin posting as the group itself


@dataclass(frozen=True, slots=True)
class UserRef:
    """One account on one platform. ``user_id`` is text: Zalo ids are hex strings."""

    platform: str
    user_id: str
    display_name: str
    username: str | None = None
    is_bot: bool = False

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class ChatRef:
    """One chat on one platform: a group, or a person's private chat with the bot."""

    platform: str
    chat_id: str
    kind: ChatKind
    title: str | None = None

    @property
    def is_group(self) -> bool:
        return self.kind is ChatKind.GROUP

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.chat_id}"


@dataclass(frozen=True)
class ReplyTarget:
    """The message a message replies to (for /huy, /dangvien, /nghi)."""

    message_id: str
    sender: UserRef | None
    sender_kind: SenderKind = SenderKind.USER


@dataclass(frozen=True)
class IncomingMessage:
    """A message or an edit of one, in a group or a private chat.

    ``links`` holds the links the platform itself marked (Telegram entities of type ``url`` and
    ``text_link``, in text and captions); ``None`` means the platform marks none and the handler
    extracts them from ``text`` (Zalo, console).
    """

    chat: ChatRef
    message_id: str
    sender: UserRef | None
    date: datetime  # timezone-aware UTC; for an edit, the time of the edit
    text: str = ""
    links: tuple[str, ...] | None = None
    sender_kind: SenderKind = SenderKind.USER
    edited: bool = False
    reply_to: ReplyTarget | None = None
    forwarded: bool = False
    update_id: str | None = None  # the platform's delivery id, for logs only
    # Set by platforms that may deliver a message again with nothing to tell it apart (Zalo's
    # webhook has no offset): the dispatcher records it in the handling transaction
    # (``seen_deliveries``) and handles a delivery id it has seen once only.
    delivery_id: str | None = None


@dataclass(frozen=True)
class MembersJoined:
    """People joined a group (Telegram ``new_chat_members`` or a ``chat_member`` update)."""

    chat: ChatRef
    members: tuple[UserRef, ...]
    date: datetime


@dataclass(frozen=True)
class MemberLeft:
    chat: ChatRef
    member: UserRef
    date: datetime


@dataclass(frozen=True)
class ChatMigrated:
    """A group became a supergroup: Telegram gives it a new chat id; the binding follows."""

    platform: str
    old_chat_id: str
    new_chat_id: str
    date: datetime


@dataclass(frozen=True)
class BotMembershipChanged:
    """The bot itself was added to or removed from a chat, or its rights changed."""

    chat: ChatRef
    present: bool  # False: removed, kicked or left
    can_read_messages: bool = True  # False: privacy mode on and not an admin
    by: UserRef | None = None
    date: datetime | None = None


Incoming = Union[IncomingMessage, MembersJoined, MemberLeft, ChatMigrated, BotMembershipChanged]


# ---------------------------------------------------------------------------------------------
# Outbound


@dataclass(frozen=True)
class Mention:
    """A person named in a message so that the platform notifies them, username or not."""

    user: UserRef


Segment = Union[str, Mention]


@dataclass(frozen=True)
class SendText:
    """A text message. ``parts`` is plain text with mentions in between."""

    chat: ChatRef
    parts: tuple[Segment, ...]
    reply_to: str | None = None
    disable_preview: bool = True

    @classmethod
    def of(cls, chat: ChatRef, text: str, reply_to: str | None = None) -> "SendText":
        return cls(chat=chat, parts=(text,), reply_to=reply_to)

    @property
    def plain(self) -> str:
        return "".join(p if isinstance(p, str) else "@" + p.user.display_name for p in self.parts)


@dataclass(frozen=True)
class React:
    """A reaction on a message; where the platform cannot react, ``fallback`` is sent as a reply."""

    chat: ChatRef
    message_id: str
    emoji: str = "👍"
    fallback: str = ""


@dataclass(frozen=True)
class SendDocument:
    chat: ChatRef
    filename: str
    data: bytes = field(repr=False)
    caption: str = ""
    reply_to: str | None = None


@dataclass(frozen=True)
class SendPhoto:
    """A picture (a PNG chart) with an optional short caption."""

    chat: ChatRef
    data: bytes = field(repr=False)
    filename: str = "chart.png"
    caption: str = ""
    reply_to: str | None = None


@dataclass(frozen=True)
class DeleteMessage:
    chat: ChatRef
    message_id: str


Outbound = Union[SendText, React, SendDocument, SendPhoto, DeleteMessage]


class DeliveryStatus(str, enum.Enum):
    SENT = "sent"
    FAILED_FOR_GOOD = "failed"  # the bot was removed, a 400: log, never retry
    TRANSIENT = "transient"  # network, 5xx, 429 after retries: may be retried later


@dataclass(frozen=True)
class Delivery:
    status: DeliveryStatus
    message_id: str | None = None
    error: str | None = None


class Messenger(Protocol):
    """What a platform adapter offers the rest of the bot."""

    platform: str

    async def deliver(self, action: Outbound) -> Delivery:
        """Carry one action out now (rate limits and retries are the adapter's business)."""

    async def chat_admin_ids(self, chat: ChatRef) -> frozenset[str]:
        """User ids of the chat's administrators, from the platform (cached by the adapter)."""

    async def chat_member_count(self, chat: ChatRef) -> int | None:
        """How many members the platform counts in the chat, bots included (the caller subtracts
        the bots it knows); None when the platform cannot tell in time. Cached, bounded in time."""


class PlatformRefused(Exception):
    """The platform refuses to work with us (a wrong or revoked token, another instance polling):
    retrying cannot help; the operator must act. The message is one Vietnamese line, no secrets."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


# ---------------------------------------------------------------------------------------------
# Periods and tallies


class PeriodKind(str, enum.Enum):
    WEEK = "week"
    MONTH = "month"
    SEMESTER = "semester"
    SCHOOL_YEAR = "school_year"
    CUSTOM = "custom"


@dataclass(frozen=True)
class Period:
    """A half-open span of local dates [first, last] with its UTC bounds [start, end)."""

    kind: PeriodKind
    key: str  # "2026-W48", "2026-11", "2026-2027-HK1", "2026-2027", "2026-11-01..2026-11-15"
    first_day: date  # local, inclusive
    last_day: date  # local, inclusive
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end
