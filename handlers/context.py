"""What a handler gets: the message, the open unit of work, the settings, and a reply list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.domain.outbound_json import dump_actions
from bot.domain.periods import local_date
from bot.domain.types import IncomingMessage, Outbound, SendText
from storage.models import Group, Member, Person, Unit
from storage.uow import UnitOfWork

# How long a claim on a send is held before another instance may take it over (SPEC §3.3).
CLAIM_LEASE = timedelta(minutes=10)
# A send that failed for a passing reason (network, 5xx, 429 after PTB's own retries) is retried
# this many times, the first a minute later and each next one after twice the wait (1, 2, 4, 8,
# 16 minutes: about half an hour in all); then it is marked failed and logged.
CLAIM_MAX_RETRIES = 5
CLAIM_RETRY_BACKOFF = timedelta(minutes=1)


@dataclass(frozen=True)
class Claim:
    """A (chat, kind, period) send that the database lets happen once."""

    platform: str
    chat_id: str
    kind: str
    period: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.platform, self.chat_id, self.kind, self.period)


@dataclass
class Context:
    uow: UnitOfWork
    config: Config
    msg: IncomingMessage
    instance: str
    chat_admin: bool = False  # the platform says the sender administers this chat
    bot_username: str | None = None  # for the t.me/<bot>?start= link to a private chat
    chat_member_count: int | None = None  # the group's members as the platform counts them (admins' /tinhhinh)
    out: list[Outbound] = field(default_factory=list)
    # id(action) -> its claim; the actions stay alive in `out` until the outbox has them.
    claims: dict[int, Claim] = field(default_factory=dict)
    member: Member | None = None
    person: Person | None = None
    group: Group | None = None

    @property
    def now(self) -> datetime:
        return self.msg.date

    @property
    def tz(self) -> ZoneInfo:
        return self.config.bot.tz

    @property
    def actor(self) -> str | None:
        return self.msg.sender.key if self.msg.sender else None

    def reply(self, text: str, *, quote: bool = True) -> SendText:
        action = SendText.of(self.msg.chat, text, reply_to=self.msg.message_id if quote else None)
        self.out.append(action)
        return action

    async def reply_once(self, kind: str, text: str, *, period: str | None = None) -> bool:
        """Reply at most once per chat, kind and period (default: the local day, SPEC §3.1
        item 4); the database's unique claim makes a redelivered update say nothing twice."""
        period = period or local_date(self.now, self.tz).isoformat()
        action = SendText.of(self.msg.chat, text, reply_to=self.msg.message_id)
        # The reply is stored with the claim, so the sweeper can finish it if this instance dies.
        claimed = await self.uow.sent.claim(
            self.msg.chat.platform, self.msg.chat.chat_id, kind, period, self.instance, CLAIM_LEASE,
            payload=dump_actions([action]),
        )
        if claimed:
            self.out.append(action)
            self.claims[id(action)] = Claim(self.msg.chat.platform, self.msg.chat.chat_id, kind, period)
        return claimed

    @property
    def is_super_admin(self) -> bool:
        return self.msg.sender is not None and self.msg.sender.key in self.config.bot.super_admins

    async def group_unit(self) -> Unit | None:
        if self.group is None or self.group.unit_id is None:
            return None
        return await self.uow.units.get(self.group.unit_id)

    async def is_admin(self) -> bool:
        """Admin here: the chat's own administrators, super-admins, and admins by code of the
        group's unit or any unit above it (an admin of a unit administers its subtree)."""
        if self.chat_admin or self.is_super_admin:
            return True
        unit = await self.group_unit() if self.msg.chat.is_group else None
        return unit is not None and await self.administers(unit)

    async def administers(self, unit: Unit) -> bool:
        """A super-admin, or an admin by code of this unit or of a unit above it."""
        if self.is_super_admin:
            return True
        if self.person is None:
            return False
        ancestors = [int(part) for part in unit.path.strip("/").split("/") if part]
        return await self.uow.members.has_role(self.person.id, ancestors, "admin")
