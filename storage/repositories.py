"""Queries. Repositories flush but never commit: the unit of work owns the transaction."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, func, literal_column, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.domain.types import ChatRef, UserRef
from storage.models import (
    AuditLog,
    Group,
    GroupMembership,
    Member,
    Person,
    SentMessage,
    Submission,
    Unit,
    UnitRole,
    UtcDateTime,
)


# Seen-times are for "who is around", not auditing: refreshing them at most once an hour saves
# two UPDATEs on nearly every message.
SEEN_RESOLUTION = timedelta(hours=1)


async def insert_ignore(session: AsyncSession, model: type, values: dict[str, Any]) -> int:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL; returns the rows inserted.

    Any unique constraint turns the insert into a no-op, which is how a redelivered update or
    two instances racing on the same claim change nothing.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    result = await session.execute(_insert_ignore_stmt(dialect, model.__table__), values)
    return result.rowcount or 0


@lru_cache(maxsize=None)
def _insert_ignore_stmt(dialect: str, table):
    # Built once per table: the values travel as parameters, so nothing is rebuilt per message.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


def subtree_filter(unit: Unit):
    """Rows of ``units`` inside the subtree of ``unit`` (itself included)."""
    from storage.subtree import in_subtree

    return in_subtree(Unit.path, unit.path)


class UnitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, unit_id: int) -> Unit | None:
        return await self.session.get(Unit, unit_id)

    async def by_code(self, code: str) -> Unit | None:
        return (await self.session.execute(select(Unit).where(Unit.code == code))).scalar_one_or_none()

    async def by_join_code(self, code: str) -> Unit | None:
        return (await self.session.execute(select(Unit).where(Unit.join_code == code))).scalar_one_or_none()

    async def by_admin_code(self, code: str) -> Unit | None:
        return (await self.session.execute(select(Unit).where(Unit.admin_code == code))).scalar_one_or_none()

    async def any_by_admin_code(self, codes: Iterable[str]) -> Unit | None:
        """A unit whose admin code is one of ``codes`` (a group message must never carry one)."""
        codes = list(codes)
        if not codes:
            return None
        stmt = select(Unit).where(Unit.admin_code.in_(codes)).order_by(Unit.id).limit(1)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def all(self) -> Sequence[Unit]:
        """Every unit, parents before children (ordered by path)."""
        return (await self.session.execute(select(Unit).order_by(Unit.path))).scalars().all()

    async def count(self) -> int:
        return (await self.session.execute(select(func.count(Unit.id)))).scalar_one()

    async def first_leaf(self) -> Unit | None:
        """The first unit imported that has no children (the console's default group)."""
        has_child = select(Unit.parent_id).where(Unit.parent_id.is_not(None))
        stmt = select(Unit).where(Unit.id.not_in(has_child)).order_by(Unit.id).limit(1)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def all_codes(self) -> set[str]:
        return set((await self.session.execute(select(Unit.join_code))).scalars()) | set(
            (await self.session.execute(select(Unit.admin_code))).scalars()
        )

    def add(self, unit: Unit) -> None:
        self.session.add(unit)

    async def flush(self) -> None:
        await self.session.flush()

class GroupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, platform: str, chat_id: str) -> Group | None:
        stmt = select(Group).where(Group.platform == platform, Group.chat_id == chat_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def ensure(self, chat: ChatRef, now: datetime) -> Group:
        """The group row for a chat, created on first sight (unbound, active)."""
        group = await self.get(chat.platform, chat.chat_id)
        if group is None:
            await insert_ignore(
                self.session,
                Group,
                dict(platform=chat.platform, chat_id=chat.chat_id, title=(chat.title or None) and chat.title[:255], community=False,
                     active=True, can_read=True, created_at=now),
            )
            group = await self.get(chat.platform, chat.chat_id)
            assert group is not None
        elif chat.title and group.title != chat.title[:255]:
            group.title = chat.title[:255]
        return group

    async def migrate(self, platform: str, old_chat_id: str, new_chat_id: str) -> Group | None:
        """Move a group's row to its new chat id (Telegram's supergroup upgrade).

        Both service messages (in the old and in the new chat) arrive; whichever comes first
        moves the row, the second finds nothing to move. If the new chat was already seen
        (and so has a row of its own), the old binding wins and the empty newcomer is merged.
        """
        old = await self.get(platform, old_chat_id)
        if old is None:
            return await self.get(platform, new_chat_id)
        new = await self.get(platform, new_chat_id)
        if new is not None:
            if new.unit_id is None and old.unit_id is not None:
                new.unit_id, new.community, new.bound_at = old.unit_id, old.community, old.bound_at
            await self.session.execute(
                update(GroupMembership)
                .where(GroupMembership.group_id == old.id,
                       GroupMembership.member_id.not_in(
                           select(GroupMembership.member_id).where(GroupMembership.group_id == new.id)))
                .values(group_id=new.id)
            )
            await self.session.execute(update(Submission).where(Submission.group_id == old.id).values(group_id=new.id))
            await self.session.delete(old)
            await self.session.flush()
            return new
        old.chat_id = new_chat_id
        await self.session.flush()
        return old

class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, platform: str, user_id: str) -> Member | None:
        """The account, with its person loaded in the same query (every handler needs both)."""
        stmt = (select(Member).where(Member.platform == platform, Member.user_id == user_id)
                .options(joinedload(Member.person)))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def person(self, person_id: int) -> Person:
        person = await self.session.get(Person, person_id)  # from the identity map when loaded
        assert person is not None
        return person

    async def ensure(self, user: UserRef, now: datetime) -> tuple[Member, bool]:
        """The member for an account (and a new person for a new account); True if created."""
        # Names are stored NFC: some keyboards send decomposed Vietnamese, and the bot repeats names.
        name = unicodedata.normalize("NFC", user.display_name or "").strip()[:200] or user.user_id
        member = await self.get(user.platform, user.user_id)
        if member is not None:
            if member.display_name != name:
                member.display_name = name
            if user.username is not None and member.username != user.username[:64]:
                member.username = user.username[:64]
            if now - member.last_seen_at > SEEN_RESOLUTION:
                member.last_seen_at = now
            if not member.active:
                member.active = True
            return member, False
        person = Person(home_unit_explicit=False, party_member=False, created_at=now)
        self.session.add(person)
        await self.session.flush()
        inserted = await insert_ignore(
            self.session,
            Member,
            dict(person_id=person.id, platform=user.platform, user_id=user.user_id,
                 display_name=name, username=user.username and user.username[:64], active=True,
                 unreachable=False, created_at=now, last_seen_at=now),
        )
        if not inserted:  # another instance registered this account a moment ago
            await self.session.delete(person)
        member = await self.get(user.platform, user.user_id)
        assert member is not None
        return member, bool(inserted)

    async def touch_membership(self, group: Group, member: Member, now: datetime) -> bool:
        """Record that the member is (again) in the group; True when that is news."""
        row = await self.session.get(GroupMembership, (group.id, member.id))
        if row is None:
            inserted = await insert_ignore(
                self.session, GroupMembership,
                dict(group_id=group.id, member_id=member.id, active=True, first_seen_at=now, last_seen_at=now),
            )
            return bool(inserted)
        if now - row.last_seen_at > SEEN_RESOLUTION:
            row.last_seen_at = now
        if not row.active:
            row.active = True
            return True
        return False

    async def leave_group(self, group: Group, member: Member, now: datetime) -> bool:
        row = await self.session.get(GroupMembership, (group.id, member.id))
        if row is None or not row.active:
            return False
        row.active = False
        row.last_seen_at = now
        return True

    async def derived_home_unit(self, person_id: int) -> int | None:
        """SPEC §2: the deepest unit among the active, bound, non-community groups the person is
        seen in (through any of their accounts); between equal depths, the one seen first."""
        stmt = (
            select(Unit.id)
            .select_from(GroupMembership)
            .join(Member, Member.id == GroupMembership.member_id)
            .join(Group, Group.id == GroupMembership.group_id)
            .join(Unit, Unit.id == Group.unit_id)
            .where(
                Member.person_id == person_id,
                Member.active.is_(True),
                GroupMembership.active.is_(True),
                Group.active.is_(True),
                Group.community.is_(False),
            )
            .order_by(Unit.depth.desc(), GroupMembership.first_seen_at, Unit.id)
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def refresh_home_unit(self, person: Person) -> bool:
        """Re-derive an implicit home unit; True when it changed."""
        if person.home_unit_explicit:
            return False
        home = await self.derived_home_unit(person.id)
        if home != person.home_unit_id:
            person.home_unit_id = home
            return True
        return False

    async def persons_in_group(self, group_id: int) -> Sequence[Person]:
        stmt = (
            select(Person)
            .join(Member, Member.person_id == Person.id)
            .join(GroupMembership, GroupMembership.member_id == Member.id)
            .where(GroupMembership.group_id == group_id)
            .distinct()
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def persons_in_units(self, unit_ids: Iterable[int]) -> Sequence[Person]:
        """People seen in any group bound to these units (a unit move may change their home)."""
        ids = list(unit_ids)
        if not ids:
            return []
        stmt = (
            select(Person)
            .join(Member, Member.person_id == Person.id)
            .join(GroupMembership, GroupMembership.member_id == Member.id)
            .join(Group, Group.id == GroupMembership.group_id)
            .where(Group.unit_id.in_(ids))
            .distinct()
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def has_role(self, person_id: int, unit_ids: Iterable[int], role: str) -> bool:
        ids = list(unit_ids)
        if not ids:
            return False
        stmt = select(UnitRole.unit_id).where(
            UnitRole.person_id == person_id, UnitRole.role == role, UnitRole.unit_id.in_(ids)
        ).limit(1)
        return (await self.session.execute(stmt)).first() is not None

    async def add_role(self, person_id: int, unit_id: int, role: str, now: datetime) -> bool:
        return bool(await insert_ignore(
            self.session, UnitRole, dict(unit_id=unit_id, person_id=person_id, role=role, created_at=now)
        ))


@dataclass(frozen=True)
class CreditOutcome:
    """What happened to one link: ``credited``, ``redelivered`` (this message already
    recorded it: nothing to do) or ``duplicate`` (the person was credited earlier, at ``since``)."""

    result: str
    since: datetime | None = None


class SubmissionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def credit(self, values: dict[str, Any]) -> CreditOutcome:
        """Insert one submission, letting the database's unique indexes decide."""
        if await insert_ignore(self.session, Submission, values):
            return CreditOutcome("credited")
        same_message = await self._for_message_link(
            values["chat_platform"], values["chat_id"], values["message_id"], values["canonical_url"]
        )
        if same_message is not None:
            if same_message.withdrawn_at is not None and same_message.withdrawn_reason == "edit":
                return await self._revive(same_message, values["created_at"])
            return CreditOutcome("redelivered")
        earlier = await self.live_credit(values["person_id"], values["canonical_url"])
        return CreditOutcome("duplicate", earlier.created_at if earlier else None)

    async def _revive(self, row: Submission, now: datetime) -> CreditOutcome:
        """A link an edit had removed is back in the message: credit it again, if still free."""
        earlier = await self.live_credit(row.person_id, row.canonical_url)
        if earlier is not None:
            return CreditOutcome("duplicate", earlier.created_at)
        row.withdrawn_at = None
        row.withdrawn_reason = None
        row.created_at = now
        await self.session.flush()
        return CreditOutcome("credited")

    async def _for_message_link(self, platform: str, chat_id: str, message_id: str, canonical: str) -> Submission | None:
        stmt = select(Submission).where(
            Submission.chat_platform == platform,
            Submission.chat_id == chat_id,
            Submission.message_id == message_id,
            Submission.canonical_url == canonical,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def live_credit(self, person_id: int | None, canonical: str) -> Submission | None:
        if person_id is None:
            return None
        stmt = select(Submission).where(
            Submission.person_id == person_id,
            Submission.canonical_url == canonical,
            Submission.withdrawn_at.is_(None),
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def for_message(self, platform: str, chat_id: str, message_id: str) -> Sequence[Submission]:
        stmt = select(Submission).where(
            Submission.chat_platform == platform, Submission.chat_id == chat_id, Submission.message_id == message_id
        ).order_by(Submission.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def withdraw(self, rows: Iterable[Submission], reason: str, now: datetime) -> int:
        n = 0
        for row in rows:
            if row.withdrawn_at is None:
                row.withdrawn_at = now
                row.withdrawn_reason = reason
                n += 1
        await self.session.flush()
        return n

    async def times_for_person(self, person_id: int, start: datetime, end: datetime) -> Sequence[datetime]:
        """Credit times of the person's live links in [start, end), for weekly tallies."""
        stmt = select(Submission.created_at).where(
            Submission.person_id == person_id,
            Submission.withdrawn_at.is_(None),
            Submission.created_at >= start,
            Submission.created_at < end,
        )
        return (await self.session.execute(stmt)).scalars().all()


def server_now(dialect: str, plus_seconds: float = 0):
    """The database server's current time (+ an offset), as an SQL expression (SPEC §3.3: claim
    and lease times come from the server's clock, so instances with skewed clocks agree).

    SQLite keeps times as text: the expression writes exactly the text ``UtcDateTime`` writes
    ('YYYY-MM-DD HH:MM:SS.ffffff', UTC), so the two compare correctly as strings.
    """
    seconds = int(round(plus_seconds))
    if dialect == "postgresql":
        expr = "statement_timestamp()" + (f" + interval '{seconds} seconds'" if seconds else "")
    else:
        modifier = f", '{seconds:+d} seconds'" if seconds else ""
        expr = f"strftime('%Y-%m-%d %H:%M:%f000', 'now'{modifier})"
    return literal_column(expr, type_=UtcDateTime())


@dataclass(frozen=True)
class OpenClaim:
    """A claim taken over by the sweeper: what to send, and whose it was."""

    platform: str
    chat_id: str
    kind: str
    period: str
    payload: str | None
    previous_instance: str
    attempts: int


class SentMessageRepository:
    """Claims on (chat, kind, period): the database lets exactly one sender have each.

    A row is ``claimed`` (committed before the send, owned by ``instance`` until ``lease_until``),
    then ``sent``, ``failed`` (for good, never retried) or ``released`` (a transient failure: the
    row stays with ``attempts`` + 1 and may be claimed again once ``lease_until`` has passed,
    which ``release`` sets as a back-off). Every time comes from the database server's clock.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.bind.dialect.name if self.session.bind is not None else "sqlite"

    def _now(self, plus: timedelta | None = None):
        return server_now(self._dialect, plus.total_seconds() if plus else 0)

    @staticmethod
    def _key(platform: str, chat_id: str, kind: str, period: str):
        return and_(SentMessage.chat_platform == platform, SentMessage.chat_id == chat_id,
                    SentMessage.kind == kind, SentMessage.period == period)

    async def claim(self, platform: str, chat_id: str, kind: str, period: str, instance: str,
                    lease: timedelta, *, payload: str | None = None) -> bool:
        """Take the send of (chat, kind, period) for ``instance``; False if anyone holds it or it
        is done. A released row (a transient failure) is taken again by a guarded UPDATE, so two
        instances cannot both have it."""
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        stmt = insert(SentMessage.__table__).values(
            chat_platform=platform, chat_id=chat_id, kind=kind, period=period, instance=instance,
            claimed_at=self._now(), lease_until=self._now(lease), status="claimed", attempts=0,
            payload=payload,
        ).on_conflict_do_nothing()
        if (await self.session.execute(stmt)).rowcount:
            return True
        values: dict[str, Any] = dict(status="claimed", instance=instance, claimed_at=self._now(),
                                      lease_until=self._now(lease))
        if payload is not None:
            values["payload"] = payload
        result = await self.session.execute(
            update(SentMessage)
            .where(self._key(platform, chat_id, kind, period), SentMessage.status == "released")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    async def mark_sent(self, platform: str, chat_id: str, kind: str, period: str,
                        detail: str | None = None) -> None:
        """The platform accepted it. Whoever sent it, it is sent (a late mark never undoes it)."""
        await self.session.execute(
            update(SentMessage).where(self._key(platform, chat_id, kind, period))
            .values(status="sent", sent_at=self._now(), detail=detail)
            .execution_options(synchronize_session=False)
        )

    async def mark_failed(self, platform: str, chat_id: str, kind: str, period: str,
                          detail: str | None) -> None:
        """Failed for good (the bot was removed, a 400): never retried."""
        await self.session.execute(
            update(SentMessage)
            .where(self._key(platform, chat_id, kind, period), SentMessage.status != "sent")
            .values(status="failed", detail=detail)
            .execution_options(synchronize_session=False)
        )

    async def release(self, platform: str, chat_id: str, kind: str, period: str, detail: str | None,
                      *, backoff: timedelta, max_retries: int) -> str | None:
        """A transient failure: ``released`` with ``attempts`` + 1, free again after ``backoff``
        doubled for each earlier attempt; past ``max_retries`` it is ``failed``. Returns the new
        status (None: nothing was held: someone else settled it meanwhile)."""
        key = self._key(platform, chat_id, kind, period)
        row = (await self.session.execute(
            select(SentMessage.attempts).where(key, SentMessage.status == "claimed")
        )).first()
        if row is None:
            return None  # sent or settled by someone else meanwhile
        attempts = row.attempts + 1
        status = "failed" if attempts > max_retries else "released"
        wait = backoff * 2 ** min(attempts - 1, 10)
        await self.session.execute(
            update(SentMessage).where(key, SentMessage.status == "claimed")
            .values(status=status, attempts=attempts, lease_until=self._now(wait), detail=detail)
            .execution_options(synchronize_session=False)
        )
        return status

    async def renew(self, keys: Iterable[tuple[str, str, str, str]], instance: str, lease: timedelta) -> int:
        """Extend the leases ``instance`` holds on these sends (they wait in its outbox)."""
        keys = list(keys)
        renewed = 0
        for start in range(0, len(keys), 200):
            chunk = keys[start:start + 200]
            result = await self.session.execute(
                update(SentMessage)
                .where(
                    tuple_(SentMessage.chat_platform, SentMessage.chat_id, SentMessage.kind,
                           SentMessage.period).in_(chunk),
                    SentMessage.status == "claimed",
                    SentMessage.instance == instance,
                )
                .values(lease_until=self._now(lease))
                .execution_options(synchronize_session=False)
            )
            renewed += result.rowcount or 0
        return renewed

    async def take_over(self, instance: str, platforms: Iterable[str], lease: timedelta, *,
                        max_retries: int, limit: int = 500) -> list[OpenClaim]:
        """The sweeper: claims whose lease ran out (their instance died) and released ones whose
        back-off is over become ``instance``'s. Each UPDATE re-checks its condition on the row it
        changes, so when two sweepers race, each row goes to exactly one of them."""
        platforms = list(platforms)
        if not platforms:
            return []
        taken: list[OpenClaim] = []
        for status in ("claimed", "released"):
            conditions = [SentMessage.status == status, SentMessage.lease_until < self._now(),
                          SentMessage.chat_platform.in_(platforms)]
            if status == "released":
                conditions.append(SentMessage.attempts <= max_retries)
            due = (await self.session.execute(
                select(SentMessage.id, SentMessage.instance).where(*conditions)
                .order_by(SentMessage.lease_until).limit(limit)
            )).all()
            for row_id, previous in due:
                row = (await self.session.execute(
                    update(SentMessage)
                    .where(SentMessage.id == row_id, *conditions)
                    .values(status="claimed", instance=instance, lease_until=self._now(lease))
                    .returning(SentMessage.chat_platform, SentMessage.chat_id, SentMessage.kind,
                               SentMessage.period, SentMessage.payload, SentMessage.attempts)
                    .execution_options(synchronize_session=False)
                )).first()
                if row is not None:
                    taken.append(OpenClaim(row.chat_platform, row.chat_id, row.kind, row.period,
                                           row.payload, previous, row.attempts))
        return taken

    async def get(self, platform: str, chat_id: str, kind: str, period: str) -> SentMessage | None:
        return (await self.session.execute(
            select(SentMessage).where(self._key(platform, chat_id, kind, period))
        )).scalar_one_or_none()


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, at: datetime, action: str, *, actor: str | None = None, person_id: int | None = None,
            chat: str | None = None, unit_id: int | None = None, **detail: Any) -> None:
        self.session.add(AuditLog(
            at=at, action=action, actor=actor, person_id=person_id, chat=chat, unit_id=unit_id,
            detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        ))

    async def latest(self, action: str, chat: str, since: datetime) -> AuditLog | None:
        """The newest row of ``action`` in ``chat`` at or after ``since`` (a pending confirmation)."""
        stmt = (select(AuditLog).where(AuditLog.action == action, AuditLog.chat == chat, AuditLog.at >= since)
                .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(1))
        return (await self.session.execute(stmt)).scalar_one_or_none()


class LeaveRepository:
    """Spans of leave (/nghi), inclusive of both days."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, person_id: int, first_day, last_day, now: datetime) -> None:
        from storage.models import Leave

        self.session.add(Leave(person_id=person_id, first_day=first_day, last_day=last_day, created_at=now))

    async def for_person(self, person_id: int, first_day, last_day) -> list[tuple]:
        """The person's leaves that overlap [first_day, last_day], as (first, last) pairs."""
        from storage.models import Leave

        stmt = (select(Leave.first_day, Leave.last_day)
                .where(Leave.person_id == person_id, Leave.last_day >= first_day, Leave.first_day <= last_day)
                .order_by(Leave.first_day))
        return [(a, b) for a, b in (await self.session.execute(stmt)).all()]


class IngestRepository:
    """Set-based reads and writes for a batch of incoming messages (SPEC §5): a fixed number of
    statements per batch, whatever the number of messages in it. The rules stay the database's:
    the same unique indexes decide what counts, through one multi-row INSERT … ON CONFLICT."""

    # Rows per multi-row statement: well under SQLite's 32,766 bound parameters at 14 columns.
    CHUNK = 1000

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.bind.dialect.name if self.session.bind is not None else "sqlite"

    def _insert(self, table):
        return (postgresql.insert if self._dialect == "postgresql" else sqlite.insert)(table)

    # Plain rows, not ORM objects: nearly every sender of a batch is known and nothing about them
    # changes, and building (and tracking) an object per sender was a fifth of the ingest's time.
    # The few rows a batch does change are loaded as objects by ``objects``.

    async def _rows(self, stmt_of, keys: list) -> list:
        conn = await self.session.connection()
        found: list = []
        for start in range(0, len(keys), self.CHUNK):
            found.extend((await conn.execute(stmt_of(keys[start:start + self.CHUNK]))).all())
        return found

    async def group_rows(self, chats: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """The groups of these (platform, chat id) pairs that exist, as rows (id, platform,
        chat_id, unit_id, active, title, community, and the unit's depth), in one query."""
        g, u = Group.__table__.c, Unit.__table__.c
        rows = await self._rows(lambda chunk: select(g.id, g.platform, g.chat_id, g.unit_id, g.active, g.title,
                                                     g.community, u.depth.label("unit_depth"))
                                .join_from(Group.__table__, Unit.__table__, u.id == g.unit_id, isouter=True)
                                .where(tuple_(g.platform, g.chat_id).in_(chunk)), sorted(set(chats)))
        return {(r.platform, r.chat_id): r for r in rows}

    async def member_rows(self, users: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """The accounts of these (platform, user id) pairs that exist, each row with its person's
        home unit (``home_unit_id``, ``home_unit_explicit``), in one query."""
        m, p = Member.__table__.c, Person.__table__.c
        rows = await self._rows(
            lambda chunk: select(m.id, m.platform, m.user_id, m.person_id, m.display_name, m.username,
                                 m.last_seen_at, m.active, m.private_chat_id, m.unreachable,
                                 p.home_unit_id, p.home_unit_explicit)
            .join_from(Member.__table__, Person.__table__, p.id == m.person_id)
            .where(tuple_(m.platform, m.user_id).in_(chunk)), sorted(set(users)))
        return {(r.platform, r.user_id): r for r in rows}

    async def membership_rows(self, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Any]:
        """These (group id, member id) memberships that exist, as rows (group_id, member_id,
        active, last_seen_at), in one query."""
        gm = GroupMembership.__table__.c
        rows = await self._rows(lambda chunk: select(gm.group_id, gm.member_id, gm.active, gm.last_seen_at)
                                .where(tuple_(gm.group_id, gm.member_id).in_(chunk)), sorted(set(pairs)))
        return {(r.group_id, r.member_id): r for r in rows}

    async def objects(self, model: type, ids: Iterable) -> dict:
        """ORM objects of ``model`` by primary key (a tuple for a composite key), one query; rows
        already in the session come back as they are there."""
        keys = sorted(set(ids))
        if not keys:
            return {}
        mapper = model.__mapper__
        columns = mapper.primary_key
        found: dict = {}
        for start in range(0, len(keys), self.CHUNK):
            chunk = keys[start:start + self.CHUNK]
            where = (columns[0].in_(chunk) if len(columns) == 1 else tuple_(*columns).in_(chunk))
            for obj in (await self.session.execute(select(model).where(where))).scalars():
                key = mapper.primary_key_from_instance(obj)
                found[key[0] if len(columns) == 1 else tuple(key)] = obj
        return found

    async def insert_newcomers(self, persons: Sequence[dict[str, Any]], members: Sequence[dict[str, Any]],
                               ) -> list[tuple[int, int | None]]:
        """New people with their first accounts, three statements however many: the persons,
        then the accounts (``person_id`` filled in here), each skipped if the account exists
        by now (another instance registered it a moment ago). Returns each (person id, account id),
        the account id None for one skipped (its person is deleted again, as ensure does)."""
        p, m = Person.__table__, Member.__table__
        # RETURNING's order is not the VALUES' order everywhere, and asking SQLAlchemy for that
        # order makes it insert row by row on SQLite: rows are matched by what they hold instead
        # (rows alike are interchangeable, so any of them will do).
        returned: dict[tuple, list[int]] = {}
        for person_id, created, home in sorted((await self.session.execute(
                self._insert(p).returning(p.c.id, p.c.created_at, p.c.home_unit_id), list(persons))).all()):
            returned.setdefault((created, home), []).append(person_id)
        ids = [returned[(row["created_at"], row["home_unit_id"])].pop(0) for row in persons]
        values = [dict(row, person_id=person_id) for row, person_id in zip(members, ids)]
        stmt = (self._insert(m).on_conflict_do_nothing()
                .returning(m.c.person_id, m.c.id))
        made = {person_id: member_id for person_id, member_id in (await self.session.execute(stmt, values)).all()}
        orphans = [person_id for person_id in ids if person_id not in made]
        if orphans:
            await self.session.execute(p.delete().where(p.c.id.in_(orphans)))
        return [(person_id, made.get(person_id)) for person_id in ids]

    async def insert_memberships(self, rows: Sequence[dict[str, Any]]) -> None:
        """New memberships (group_id, member_id, active, first_seen_at, last_seen_at), one statement."""
        if rows:
            table = GroupMembership.__table__
            await self.session.execute(self._insert(table).on_conflict_do_nothing(), list(rows))

    @staticmethod
    def account_name(user: UserRef) -> str:
        """The name MemberRepository.ensure stores for an account (NFC, trimmed, never empty)."""
        return unicodedata.normalize("NFC", user.display_name or "").strip()[:200] or user.user_id

    @staticmethod
    def member_needs_refresh(row, user: UserRef, now: datetime) -> bool:
        """Whether ``refresh_member`` would change this account (``row``: a member row or object)."""
        return (row.display_name != IngestRepository.account_name(user)
                or (user.username is not None and row.username != user.username[:64])
                or now - row.last_seen_at > SEEN_RESOLUTION or not row.active)

    @staticmethod
    def refresh_member(member: Member, user: UserRef, now: datetime) -> None:
        """What MemberRepository.ensure does to an account it found, for one already loaded."""
        name = IngestRepository.account_name(user)
        if member.display_name != name:
            member.display_name = name
        if user.username is not None and member.username != user.username[:64]:
            member.username = user.username[:64]
        if now - member.last_seen_at > SEEN_RESOLUTION:
            member.last_seen_at = now
        if not member.active:
            member.active = True

    async def insert_submissions(self, rows: Sequence[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
        """Insert many submissions, each skipped when a unique index says it is not new (a
        redelivery, or a person's live credit for that post). Rows are taken in order, so of two
        rows in the batch for the same person and post the first wins, as one by one. Returns the
        (chat platform, chat id, message id, canonical link) of the rows inserted."""
        if not rows:
            return set()
        table = Submission.__table__
        # One statement compiled once: SQLAlchemy's "insertmanyvalues" sends the rows as multi-row
        # INSERTs (pages of 1,000) in their order, however many there are.
        stmt = (self._insert(table).on_conflict_do_nothing()
                .returning(table.c.chat_platform, table.c.chat_id, table.c.message_id, table.c.canonical_url))
        return {tuple(r) for r in (await self.session.execute(stmt, list(rows))).all()}

    async def same_message_links(self, keys: Iterable[tuple[str, str, str, str]]) -> dict[tuple, tuple]:
        """For (chat platform, chat id, message id, canonical link) keys: the recorded row's
        (withdrawn_at, withdrawn_reason), for the keys that have one."""
        keys = sorted(set(keys))
        found: dict[tuple, tuple] = {}
        s = Submission
        for start in range(0, len(keys), self.CHUNK):
            stmt = select(s.chat_platform, s.chat_id, s.message_id, s.canonical_url, s.withdrawn_at,
                          s.withdrawn_reason).where(
                tuple_(s.chat_platform, s.chat_id, s.message_id, s.canonical_url).in_(keys[start:start + self.CHUNK]))
            for row in (await self.session.execute(stmt)).all():
                found[tuple(row[:4])] = (row[4], row[5])
        return found

    async def live_credit_times(self, pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], datetime]:
        """When each (person id, canonical link) was credited, for those with a live credit."""
        keys = sorted(set(pairs))
        found: dict[tuple[int, str], datetime] = {}
        s = Submission
        for start in range(0, len(keys), self.CHUNK):
            stmt = select(s.person_id, s.canonical_url, s.created_at).where(
                tuple_(s.person_id, s.canonical_url).in_(keys[start:start + self.CHUNK]), s.withdrawn_at.is_(None))
            for person_id, canonical, created in (await self.session.execute(stmt)).all():
                found[(person_id, canonical)] = created
        return found

    async def add_audit(self, rows: Sequence[dict[str, Any]]) -> None:
        """Audit rows in one statement (``detail`` as AuditRepository.add writes it)."""
        table = AuditLog.__table__
        values = [dict(at=r["at"], action=r["action"], actor=r.get("actor"), person_id=r.get("person_id"),
                       chat=r.get("chat"), unit_id=r.get("unit_id"),
                       detail=json.dumps(r["detail"], ensure_ascii=False, default=str) if r.get("detail") else None)
                  for r in rows]
        if values:
            await self.session.execute(table.insert(), values)  # executemany: one call to the driver

    async def claim_new(self, claims: Sequence[tuple[str, str, str, str, str | None]], instance: str,
                        lease: timedelta) -> set[tuple[str, str, str, str]]:
        """Claim many never-claimed sends at once: (platform, chat id, kind, period, payload).
        Returns the keys taken; a key not taken may still be free again (a released claim), which
        only SentMessageRepository.claim's guarded UPDATE may decide."""
        if not claims:
            return set()
        table = SentMessage.__table__
        stmt = (self._insert(table)
                .values(claimed_at=server_now(self._dialect),
                        lease_until=server_now(self._dialect, lease.total_seconds()),
                        instance=instance, status="claimed", attempts=0)
                .on_conflict_do_nothing()
                .returning(table.c.chat_platform, table.c.chat_id, table.c.kind, table.c.period))
        values = [dict(chat_platform=p, chat_id=c, kind=k, period=per, payload=payload)
                  for p, c, k, per, payload in claims]
        return {tuple(r) for r in (await self.session.execute(stmt, values)).all()}
