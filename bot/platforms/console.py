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
from typing import Any, Awaitable, Callable, Iterable, Protocol

from bot.domain import texts_vi
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
    SendPhoto,
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
# The simulated clock stays within years a real chat could send: date maths far outside them
# (year 9999) has no next week to compute.
MIN_YEAR, MAX_YEAR = 2000, 2100
# Characters that print as nothing: a name made only of them names no one anyone could see.
_INVISIBLE_NAME_CHARS = frozenset("\u115f\u1160\u3164\uffa0\u2800")

# Why a ":" line is refused, after "không hiểu: <the line> — " (SPEC §4.3).
WHY_UNKNOWN_DIRECTIVE = "các lệnh điều khiển: :as, :admin, :group, :private, :reply, :edit, :time, :run"
WHY_NAME_EMPTY = "tên trống (sau khi bỏ các ký tự vô hình)"
WHY_NAME_TOO_LONG = f"tên dài quá {MAX_NAME} ký tự"
WHY_ADMIN_SYNTAX = "viết :admin on hoặc :admin off"
WHY_ADMIN_PRIVATE = "cuộc trò chuyện riêng không có quản trị viên; hãy :group <mã đơn vị> trước"
WHY_GROUP_SYNTAX = "viết :group <mã đơn vị>, ví dụ :group THCS-KIMBOI"
WHY_PRIVATE_SYNTAX = ":private không nhận thêm gì"
WHY_REPLY_SYNTAX = "viết :reply <số tin nhắn> <nội dung>"
WHY_EDIT_SYNTAX = "viết :edit <số tin nhắn> <nội dung mới>"
WHY_TIME_SYNTAX = "viết :time YYYY-MM-DD HH:MM, ví dụ :time 2026-11-27 15:00"
WHY_TIME_RANGE = f"chỉ nhận năm từ {MIN_YEAR} đến {MAX_YEAR}"


def why_unknown_unit(code: str) -> str:
    return f"không có đơn vị mã {code}"


def why_no_message(number: str) -> str:
    return f"không có tin nhắn #{number} trong lần chạy này"


def why_other_chat(number: str) -> str:
    return f"tin nhắn #{number} ở cuộc trò chuyện khác; chỉ trả lời được tin nhắn trong cuộc trò chuyện đang nói"


def why_not_author(number: str) -> str:
    return f"tin nhắn #{number} không phải của người đang nói; chỉ người gửi sửa được tin nhắn của mình"


def clean_name(text: str) -> str:
    """A member's name as shown: NFC, without invisible characters (zero-width, bidi controls,
    fillers), inner runs of spaces made one."""
    text = unicodedata.normalize("NFC", text)
    kept = "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Cc", "Co", "Cs")
                   and c not in _INVISIBLE_NAME_CHARS)
    return " ".join(kept.split())


class Core(Protocol):
    """What the console needs from the application (given by bot.app, not imported)."""

    async def handle(self, event: Incoming) -> None: ...

    async def bind_group(self, chat: ChatRef, unit_code: str, now: datetime) -> bool: ...


class JobRunner(Protocol):
    """The scheduled jobs (handlers.jobs.Jobs, given by bot.app): ``:run`` fires one of them."""

    async def run_now(self, kind: str, now: datetime) -> Any: ...


# The jobs `:run` knows (SPEC §4.3), and why another word is refused.
RUNNABLE_JOBS = ("reminder", "leaderboard", "monthly", "setup")
WHY_RUN_SYNTAX = "viết :run reminder, :run leaderboard, :run monthly hoặc :run setup"


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
            size = f"{len(action.data):,}".replace(",", ".")
            s.write(f"bot> {prefix}[tệp {action.filename}, {size} byte]")
            if action.caption:
                s.write(f"bot> {prefix}{action.caption}")
        elif isinstance(action, SendPhoto):
            size = f"{len(action.data):,}".replace(",", ".")
            s.write(f"bot> {prefix}[ảnh {action.filename}, {size} byte]")
            if action.caption:
                s.write(f"bot> {prefix}{action.caption}")
        return Delivery(DeliveryStatus.SENT)

    async def chat_admin_ids(self, chat: ChatRef) -> frozenset[str]:
        return frozenset(self.session.admins.get(chat.chat_id, set()))


class ConsoleSession:
    """The simulation's state and its line interpreter."""

    def __init__(self, core: Core, clock: SimulatedClock, write: Callable[[str], None], default_unit: str,
                 *, jobs: JobRunner | None = None) -> None:
        self.core = core
        self.jobs = jobs
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
        # By identity, not title: a job composes its chats from the stored groups.
        if chat.key == self.chat.key:
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
        """Run a ``:`` line. A handler returns None or True when done, a reason (shown after the
        repeated line) or False when the line is refused."""
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
            ":run": self._run_job,
        }.get(word.lower())
        result = await handler(rest) if handler is not None else WHY_UNKNOWN_DIRECTIVE
        if result is False:
            self.say(f"không hiểu: {line}")
        elif isinstance(result, str):
            self.say(f"không hiểu: {line} — {result}")

    async def _as(self, rest: str) -> str | None:
        name = clean_name(rest)
        if not name:
            return WHY_NAME_EMPTY
        if len(name) > MAX_NAME:
            return WHY_NAME_TOO_LONG
        was_private = not self.chat.is_group
        self.member = name
        if was_private:
            self.chat = ChatRef(PLATFORM, self.member, ChatKind.PRIVATE, title=self.member)
        return None

    async def _admin(self, rest: str) -> str | None:
        if rest.lower() not in ("on", "off"):
            return WHY_ADMIN_SYNTAX
        if not self.chat.is_group:
            return WHY_ADMIN_PRIVATE
        admins = self.admins.setdefault(self.chat.chat_id, set())
        (admins.add if rest.lower() == "on" else admins.discard)(self.member)
        return None

    async def _group(self, rest: str) -> str | None:
        if not rest or " " in rest:
            return WHY_GROUP_SYNTAX
        # Unit codes are unique whatever their case (the import refuses two that differ only in
        # case); they are written in capitals by convention, so a typed code is tried as it is,
        # then in capitals, then in small letters.
        for code in dict.fromkeys((rest, rest.upper(), rest.lower())):
            chat = self._group_chat(code)
            if await self._ensure_bound(chat):
                self.chat = chat
                return None
        return why_unknown_unit(rest)

    async def _private(self, rest: str) -> str | None:
        if rest:
            return WHY_PRIVATE_SYNTAX
        self.chat = ChatRef(PLATFORM, self.member, ChatKind.PRIVATE, title=self.member)
        return None

    async def _reply(self, rest: str) -> str | None:
        number, _, text = rest.partition(" ")
        if not number or not text.strip():
            return WHY_REPLY_SYNTAX
        target = self._typed(number)
        if target is None:
            return why_no_message(number)
        if target.chat != self.chat:
            return why_other_chat(number)  # a reply lives in the chat of the message it answers
        await self._send(text.strip(), reply_to=target)
        return None

    async def _edit(self, rest: str) -> str | None:
        number, _, text = rest.partition(" ")
        if not number:
            return WHY_EDIT_SYNTAX
        target = self._typed(number)
        if target is None:
            return why_no_message(number)
        if target.sender != self.user:
            return why_not_author(number)  # only the author edits a message, as on every platform
        await self.core.handle(IncomingMessage(
            chat=target.chat,
            message_id=target.message_id,
            sender=self.user,
            date=self.clock.now(),
            text=text.strip(),
            edited=True,
        ))
        return None

    async def _run_job(self, rest: str) -> str | None:
        """Fire a scheduled job now, at the simulated clock, exactly as its trigger would; the
        outbox is inline, so every message it causes is printed before the next line is read."""
        kind = rest.lower()
        if kind not in RUNNABLE_JOBS or self.jobs is None:
            return WHY_RUN_SYNTAX
        run = await self.jobs.run_now(kind, self.clock.now())
        self.say(texts_vi.console_run_summary(kind, run.outcome, run.claimed))
        return None

    async def _time(self, rest: str) -> str | None:
        rest = " ".join(rest.split())
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                moment = datetime.strptime(rest, fmt)
            except ValueError:
                continue
            if not MIN_YEAR <= moment.year <= MAX_YEAR:
                return WHY_TIME_RANGE
            self.clock.pin(moment)
            return None
        return WHY_TIME_SYNTAX


async def run_lines(session: ConsoleSession, lines: Iterable[str] | Callable[[], Awaitable[str | None]]) -> None:
    """Feed lines until the end of input."""
    if callable(lines):
        while (line := await lines()) is not None:
            await session.feed(line)
    else:
        for line in lines:
            await session.feed(line)
