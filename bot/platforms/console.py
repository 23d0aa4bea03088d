"""The console: a chat simulator on the terminal (SPEC §4.3).

It runs the same dispatcher, handlers and storage as the real platforms; only the messenger is
simulated. Lines come from the terminal or a pipe; ``:`` lines drive the simulation.
"""

from __future__ import annotations

import logging
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Awaitable, Callable, Iterable, Protocol

from bot.domain.types import (
    ChatKind,
    ChatRef,
    DeleteMessage,
    Delivery,
    DeliveryStatus,
    Incoming,
    IncomingMessage,
    Mention,
    Outbound,
    React,
    ReplyTarget,
    SendDocument,
    SendText,
    UserRef,
)

logger = logging.getLogger(__name__)

PLATFORM = "console"
# The simulated bot's username, so `/cmd@OtherBot` is recognised as another bot's, as on Telegram.
BOT_USERNAME = "LanToaBot"
DEFAULT_MEMBER = "Nguyễn Văn An"
# A console member's name is their user id, and ids are stored in 64 characters.
MAX_NAME = 64


class Core(Protocol):
    """What the console needs from the application (given by bot.app, not imported)."""

    async def handle(self, event: Incoming) -> None: ...

    async def bind_group(self, chat: ChatRef, unit_code: str, now: datetime) -> bool: ...


class SimulatedClock:
    """The console's clock: real time until ``:time`` pins it (local time of the config's zone)."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._pinned: datetime | None = None

    def now(self) -> datetime:
        return self._pinned if self._pinned is not None else datetime.now(timezone.utc)

    def pin(self, local: datetime) -> None:
        self._pinned = local.replace(tzinfo=self.tz).astimezone(timezone.utc)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


@dataclass(frozen=True)
class Typed:
    """A message typed in this run, by its number."""

    chat: ChatRef
    message_id: str
    sender: UserRef


class ConsoleMessenger:
    """Prints what the bot says; knows who is an admin of which simulated group."""

    platform = PLATFORM

    def __init__(self, session: "ConsoleSession") -> None:
        self.session = session

    async def deliver(self, action: Outbound) -> Delivery:
        s = self.session
        prefix = s.chat_prefix(action.chat)
        if isinstance(action, SendText):
            text = "".join(p if isinstance(p, str) else "@" + p.user.display_name for p in action.parts)
            for line in text.split("\n"):
                s.write(f"bot> {prefix}{line}".rstrip())
        elif isinstance(action, React):
            s.write(f"bot> {prefix}[{action.emoji} on #{s.number_of(action.message_id)}]")
        elif isinstance(action, DeleteMessage):
            s.write(f"bot> {prefix}[đã xóa #{s.number_of(action.message_id)}]")
        elif isinstance(action, SendDocument):
            s.write(f"bot> {prefix}[tệp {action.filename}, {len(action.data):,} byte]".replace(",", "."))
            if action.caption:
                s.write(f"bot> {prefix}{action.caption}")
        return Delivery(DeliveryStatus.SENT)

    async def chat_admin_ids(self, chat: ChatRef) -> frozenset[str]:
        return frozenset(self.session.admins.get(chat.chat_id, set()))


class ConsoleSession:
    """The simulation's state and its line interpreter."""

    def __init__(self, core: Core, clock: SimulatedClock, write: Callable[[str], None], default_unit: str) -> None:
        self.core = core
        self.clock = clock
        self.write = write
        self.member = DEFAULT_MEMBER
        self.chat = self._group_chat(default_unit)
        self.default_unit = default_unit
        self.admins: dict[str, set[str]] = {}
        self.typed: list[Typed] = []
        self._ids: dict[str, int] = {}
        # Internal ids stay unique on a persistent database, so a new run never looks like a
        # redelivery of an old one; the numbers people see restart at 1.
        self._run = uuid.uuid4().hex[:10]
        self._bound: set[str] = set()

    # --- output helpers --------------------------------------------------------------------------

    def chat_prefix(self, chat: ChatRef) -> str:
        if chat == self.chat:
            return ""
        if chat.is_group:
            return f"[{chat.chat_id}] "
        return f"[riêng: {chat.chat_id}] "

    def number_of(self, message_id: str) -> str:
        return str(self._ids.get(message_id, "?"))

    def say(self, line: str) -> None:
        self.write(f"console> {line}")

    # --- input -----------------------------------------------------------------------------------

    @property
    def user(self) -> UserRef:
        return UserRef(PLATFORM, self.member, self.member)

    def _group_chat(self, code: str) -> ChatRef:
        return ChatRef(PLATFORM, code, ChatKind.GROUP, title=code)

    async def start(self) -> None:
        await self._ensure_bound(self.chat)

    async def _ensure_bound(self, chat: ChatRef) -> bool:
        if chat.chat_id in self._bound:
            return True
        if await self.core.bind_group(chat, chat.chat_id, self.clock.now()):
            self._bound.add(chat.chat_id)
            return True
        return False

    async def feed(self, line: str) -> None:
        """Interpret one typed line."""
        line = nfc(line.rstrip("\r\n"))
        if not line:
            return
        if line.startswith(":"):
            await self._directive(line)
        else:
            await self._send(line)

    async def _send(self, text: str, reply_to: Typed | None = None) -> None:
        number = len(self.typed) + 1
        message_id = f"{self._run}-{number}"
        self._ids[message_id] = number
        self.typed.append(Typed(self.chat, message_id, self.user))
        await self.core.handle(IncomingMessage(
            chat=self.chat,
            message_id=message_id,
            sender=self.user,
            date=self.clock.now(),
            text=text,
            reply_to=ReplyTarget(reply_to.message_id, reply_to.sender) if reply_to else None,
        ))

    def _typed(self, number: str) -> Typed | None:
        if not number.isdigit() or not 1 <= int(number) <= len(self.typed):
            return None
        return self.typed[int(number) - 1]

    async def _directive(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        handler = {
            ":as": self._as,
            ":admin": self._admin,
            ":group": self._group,
            ":private": self._private,
            ":reply": self._reply,
            ":edit": self._edit,
            ":time": self._time,
        }.get(word.lower())
        if handler is None or not await handler(rest):
            self.say(f"không hiểu: {line}")

    async def _as(self, rest: str) -> bool:
        if not rest or len(rest) > MAX_NAME:
            return False
        was_private = not self.chat.is_group
        self.member = rest
        if was_private:
            self.chat = ChatRef(PLATFORM, self.member, ChatKind.PRIVATE, title=self.member)
        return True

    async def _admin(self, rest: str) -> bool:
        if rest.lower() not in ("on", "off") or not self.chat.is_group:
            return False
        admins = self.admins.setdefault(self.chat.chat_id, set())
        (admins.add if rest.lower() == "on" else admins.discard)(self.member)
        return True

    async def _group(self, rest: str) -> bool:
        if not rest or " " in rest:
            return False
        chat = self._group_chat(rest)
        if not await self._ensure_bound(chat):
            return False
        self.chat = chat
        return True

    async def _private(self, rest: str) -> bool:
        if rest:
            return False
        self.chat = ChatRef(PLATFORM, self.member, ChatKind.PRIVATE, title=self.member)
        return True

    async def _reply(self, rest: str) -> bool:
        number, _, text = rest.partition(" ")
        target = self._typed(number)
        if target is None or not text.strip():
            return False
        await self._send(text.strip(), reply_to=target)
        return True

    async def _edit(self, rest: str) -> bool:
        number, _, text = rest.partition(" ")
        target = self._typed(number)
        if target is None or target.sender != self.user:
            return False  # only the author edits a message, as on every platform
        await self.core.handle(IncomingMessage(
            chat=target.chat,
            message_id=target.message_id,
            sender=self.user,
            date=self.clock.now(),
            text=text.strip(),
            edited=True,
        ))
        return True

    async def _time(self, rest: str) -> bool:
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                self.clock.pin(datetime.strptime(rest, fmt))
                return True
            except ValueError:
                continue
        return False


async def run_lines(session: ConsoleSession, lines: Iterable[str] | Callable[[], Awaitable[str | None]]) -> None:
    """Feed lines until the end of input."""
    if callable(lines):
        while (line := await lines()) is not None:
            await session.feed(line)
    else:
        for line in lines:
            await session.feed(line)
