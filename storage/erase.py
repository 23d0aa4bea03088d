"""Erasing one person on request (SPEC §3.4 `members forget`): set-based statements, no commit.

What goes: the person, their accounts (names, usernames, private chats), group memberships,
roles, leave, /lienket codes and dashboard tokens; their authorship of links (submissions keep
``unit_id`` and count for the unit as anonymous links, with ``person_id``/``member_id`` NULL);
their name and account in the audit log and in stored messages. What stays: the unit's link and
page-post totals. Foreign keys would cascade most of this, but every row is named here so that
the erasure does not depend on SQLite's ``foreign_keys`` pragma or on a constraint's options.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import String, cast, delete, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditLog,
    FocusItem,
    GroupMembership,
    Leave,
    LinkCode,
    Member,
    Nomination,
    Person,
    SentMessage,
    Submission,
    UnitRole,
    WebToken,
)

# What an erased account becomes where a value must stay (a private chat's id in a submission's
# unique key): not the account, not anybody's.
ERASED = "erased"


@dataclass(frozen=True)
class PersonTrace:
    """Everything that identifies the person, gathered before anything is deleted."""

    person_id: int
    member_ids: tuple[int, ...]
    accounts: tuple[tuple[str, str], ...]  # (platform, user id)
    private_chats: tuple[tuple[str, str], ...]  # (platform, chat id)
    names: tuple[str, ...]  # display names and usernames

    @property
    def keys(self) -> set[str]:
        """``platform:id`` of every account and private chat (how the audit log names them)."""
        return {f"{p}:{i}" for p, i in (*self.accounts, *self.private_chats)}


async def trace_of(session: AsyncSession, platform: str, user_id: str) -> PersonTrace | None:
    member = (await session.execute(
        select(Member.person_id).where(Member.platform == platform, Member.user_id == user_id)
    )).scalar_one_or_none()
    if member is None:
        return None
    rows = (await session.execute(
        select(Member.id, Member.platform, Member.user_id, Member.private_chat_id, Member.display_name,
               Member.username).where(Member.person_id == member).order_by(Member.id)
    )).all()
    names: list[str] = []
    for r in rows:
        for name in (r.display_name, r.username, f"@{r.username}" if r.username else None):
            if name and name not in names:
                names.append(name)
    return PersonTrace(
        person_id=int(member),
        member_ids=tuple(int(r.id) for r in rows),
        accounts=tuple((r.platform, r.user_id) for r in rows),
        private_chats=tuple((r.platform, r.private_chat_id) for r in rows if r.private_chat_id),
        names=tuple(names),
    )


@dataclass(frozen=True)
class Erased:
    accounts: int
    links: int  # submissions that became anonymous
    audit_rows: int
    messages: int  # stored messages (sent_messages) deleted or cleaned


# A stored message (its payload), the person, and whether it may still be sent -> the payload
# without them, None (drop it: it was sent and is never read again), or False (nothing of them).
PayloadCleaner = Callable[[str, PersonTrace, bool], "str | None | bool"]


async def erase_person(session: AsyncSession, trace: PersonTrace, clean_payload: PayloadCleaner) -> Erased:
    pid, mids = trace.person_id, list(trace.member_ids)
    links = (await session.execute(
        update(Submission)
        .where(or_(Submission.person_id == pid, Submission.member_id.in_(mids)))
        .values(person_id=None, member_id=None)
        .execution_options(synchronize_session=False)
    )).rowcount or 0
    # A link sent in the person's private chat keeps its place in the redelivery key, but the key
    # no longer names their chat: "erased:<row id>" is unique as the chat id was.
    for platform, chat_id in trace.private_chats:
        await session.execute(
            update(Submission)
            .where(Submission.chat_platform == platform, Submission.chat_id == chat_id)
            .values(chat_id=literal(ERASED + ":") + cast(Submission.id, String))
            .execution_options(synchronize_session=False)
        )
    audit_rows = await _clean_audit(session, trace)
    messages = await _clean_sent(session, trace, clean_payload)
    for model, column in ((FocusItem, FocusItem.created_by), (Nomination, Nomination.created_by)):
        await session.execute(update(model).where(column == pid).values(created_by=None)
                              .execution_options(synchronize_session=False))
    await session.execute(delete(GroupMembership).where(GroupMembership.member_id.in_(mids)))
    for model in (UnitRole, Leave, LinkCode, WebToken):
        await session.execute(delete(model).where(model.person_id == pid))
    await session.execute(delete(Member).where(Member.id.in_(mids)))
    await session.execute(delete(Person).where(Person.id == pid))
    return Erased(len(mids), links, audit_rows, messages)


def _scrub(value: Any, trace: PersonTrace, keys: set[str]) -> Any:
    """A detail value without the person: their account keys and names become None, their
    person id leaves lists and ``*person_id`` fields."""
    if isinstance(value, str):
        return None if value in keys or value in trace.names else value
    if isinstance(value, list):
        return [_scrub(v, trace, keys) for v in value if v != trace.person_id and v not in keys]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if "person" in k and v == trace.person_id:
                out[k] = None
            else:
                out[k] = _scrub(v, trace, keys)
        return out
    return value


async def _clean_audit(session: AsyncSession, trace: PersonTrace) -> int:
    keys = trace.keys
    conditions = [AuditLog.person_id == trace.person_id, AuditLog.actor.in_(keys), AuditLog.chat.in_(keys)]
    # Details are JSON written by handlers: only rows that could mention the person are read.
    for needle in {str(trace.person_id), *keys, *trace.names}:
        conditions.append(AuditLog.detail.contains(needle, autoescape=True))
    rows = (await session.execute(
        select(AuditLog.id, AuditLog.actor, AuditLog.person_id, AuditLog.chat, AuditLog.detail).where(or_(*conditions))
    )).all()
    changed = 0
    for row in rows:
        values: dict[str, Any] = {}
        if row.actor in keys:
            values["actor"] = None
        if row.person_id == trace.person_id:
            values["person_id"] = None
        if row.chat in keys:
            values["chat"] = None
        if row.detail:
            try:
                detail = json.loads(row.detail)
            except ValueError:
                detail = None
            cleaned = _scrub(detail, trace, keys) if detail is not None else None
            if detail is None and any(n in row.detail for n in (*keys, *trace.names)):
                values["detail"] = None
            elif cleaned != detail:
                values["detail"] = json.dumps(cleaned, ensure_ascii=False, default=str)
        if values:
            await session.execute(update(AuditLog).where(AuditLog.id == row.id).values(**values)
                                  .execution_options(synchronize_session=False))
            changed += 1
    return changed


async def _clean_sent(session: AsyncSession, trace: PersonTrace, clean_payload: PayloadCleaner) -> int:
    # Messages to the person's own private chats go with them: the chat was theirs.
    n = 0
    for platform, chat_id in trace.private_chats:
        n += (await session.execute(
            delete(SentMessage).where(SentMessage.chat_platform == platform, SentMessage.chat_id == chat_id)
        )).rowcount or 0
    needles = {user_id for _, user_id in trace.accounts} | set(trace.names)
    if not needles:
        return n
    rows = (await session.execute(
        select(SentMessage.id, SentMessage.status, SentMessage.payload)
        .where(SentMessage.payload.is_not(None),
               or_(*[SentMessage.payload.contains(x, autoescape=True) for x in needles]))
    )).all()
    for row in rows:
        still_open = row.status in ("claimed", "released")
        result = clean_payload(row.payload, trace, still_open)
        if result is False:
            continue  # a false match (a number that only looks like the id)
        await session.execute(update(SentMessage).where(SentMessage.id == row.id).values(payload=result)
                              .execution_options(synchronize_session=False))
        n += 1
    return n

