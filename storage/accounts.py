"""Accounts and deliveries: seen webhook deliveries, /lienket codes and merging two persons,
people the bot reaches only one-to-one. Set-based statements; nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditLog,
    FocusItem,
    Group,
    GroupMembership,
    Leave,
    LinkCode,
    Member,
    Nomination,
    Person,
    SeenDelivery,
    Submission,
    Unit,
    UnitRole,
    WebToken,
)
from storage.repositories import insert_ignore
from storage.subtree import in_subtree


async def first_delivery(session: AsyncSession, platform: str, delivery_id: str, now: datetime) -> bool:
    """Record a delivery; False when it was recorded before (a redelivery: change nothing).
    Two instances racing on it meet at the unique index: one inserts, the other sees a no-op."""
    inserted = await insert_ignore(session, SeenDelivery,
                                   dict(platform=platform, delivery_id=delivery_id[:128], seen_at=now))
    return inserted > 0


async def forget_old_deliveries(session: AsyncSession, before: datetime) -> int:
    """Forget the delivery ids seen before ``before`` (housekeeping): no platform redelivers days
    later, and the table would otherwise keep a row for every Zalo message ever handled."""
    result = await session.execute(delete(SeenDelivery).where(SeenDelivery.seen_at < before))
    return result.rowcount or 0


# --- /lienket ----------------------------------------------------------------------------------------


async def add_link_code(session: AsyncSession, code: str, person_id: int, platform: str, now: datetime,
                        expires_at: datetime) -> bool:
    """False when the code is taken (the caller draws another)."""
    return await insert_ignore(session, LinkCode, dict(code=code, person_id=person_id, platform=platform,
                                                       created_at=now, expires_at=expires_at)) > 0


async def take_link_code(session: AsyncSession, code: str, now: datetime) -> LinkCode | None:
    """The live code, marked used in the same statement (a code works once, even when two
    instances read it at once: only one UPDATE finds it unused)."""
    row = (await session.execute(
        update(LinkCode)
        .where(LinkCode.code == code, LinkCode.used_at.is_(None), LinkCode.expires_at > now)
        .values(used_at=now)
        .returning(LinkCode.id, LinkCode.person_id, LinkCode.platform)
    )).first()
    if row is None:
        return None
    return LinkCode(id=row[0], code=code, person_id=row[1], platform=row[2])


@dataclass(frozen=True)
class MergeResult:
    survivor: int
    absorbed: int
    duplicates_withdrawn: int


async def merge_persons(session: AsyncSession, a: Person, b: Person, now: datetime) -> MergeResult:
    """Make ``a`` and ``b`` one person (SPEC §3.2 /lienket): the older person stays; accounts,
    links, leave, roles and everything else that names the other move to it.

    A post both were credited for counts once: of each such pair the later credit is withdrawn
    (reason ``merge``) before the rows move, so the unique index on live (person, link) holds.
    Party flag: either. Home unit: the one chosen explicitly (the survivor's when both were),
    else derived again from the groups of all the accounts.
    """
    survivor, absorbed = (a, b) if (a.created_at, a.id) <= (b.created_at, b.id) else (b, a)
    s_id, x_id = survivor.id, absorbed.id

    live_s = {url: (at, sid) for sid, url, at in (await session.execute(
        select(Submission.id, Submission.canonical_url, Submission.created_at)
        .where(Submission.person_id == s_id, Submission.withdrawn_at.is_(None)))).all()}
    later: list[int] = []
    for xid, url, at in (await session.execute(
            select(Submission.id, Submission.canonical_url, Submission.created_at)
            .where(Submission.person_id == x_id, Submission.withdrawn_at.is_(None)))).all():
        if url in live_s:
            s_at, sid = live_s[url]
            later.append(xid if (at, xid) >= (s_at, sid) else sid)
    if later:
        await session.execute(update(Submission).where(Submission.id.in_(later))
                              .values(withdrawn_at=now, withdrawn_reason="merge"))
    await session.execute(update(Submission).where(Submission.person_id == x_id).values(person_id=s_id))
    await session.execute(update(Member).where(Member.person_id == x_id).values(person_id=s_id))
    await session.execute(update(Leave).where(Leave.person_id == x_id).values(person_id=s_id))

    # Roles: the primary key is (unit, person, role); copy the ones the survivor lacks.
    have = set((await session.execute(select(UnitRole.unit_id, UnitRole.role)
                                      .where(UnitRole.person_id == s_id))).all())
    for unit_id, role, created in (await session.execute(
            select(UnitRole.unit_id, UnitRole.role, UnitRole.created_at).where(UnitRole.person_id == x_id))).all():
        if (unit_id, role) not in have:
            await insert_ignore(session, UnitRole, dict(unit_id=unit_id, person_id=s_id, role=role, created_at=created))
    await session.execute(delete(UnitRole).where(UnitRole.person_id == x_id))

    for model, column in ((AuditLog, AuditLog.person_id), (LinkCode, LinkCode.person_id),
                          (FocusItem, FocusItem.created_by), (Nomination, Nomination.created_by),
                          (WebToken, WebToken.person_id)):
        await session.execute(update(model).where(column == x_id).values({column.key: s_id}))

    survivor.party_member = bool(survivor.party_member or absorbed.party_member)
    if not survivor.home_unit_explicit and absorbed.home_unit_explicit:
        survivor.home_unit_id, survivor.home_unit_explicit = absorbed.home_unit_id, True
    await session.delete(absorbed)
    await session.flush()
    return MergeResult(s_id, x_id, len(later))


# --- people reached one-to-one --------------------------------------------------------------------------


async def mark_unreachable(session: AsyncSession, platform: str, chat_id: str) -> int:
    """The platform refused a direct message to this private chat: its account is unreachable
    until the person writes again (handlers.members.register_sender clears the mark)."""
    result = await session.execute(
        update(Member).where(Member.platform == platform, Member.private_chat_id == chat_id,
                             Member.unreachable.is_(False)).values(unreachable=True))
    return result.rowcount or 0


async def unreachable_people(session: AsyncSession, root: Unit | None, platforms: tuple[str, ...]) -> set[int]:
    """Persons of the subtree with an account on these platforms marked unreachable."""
    prefix = root.path if root is not None else "/"
    rows = await session.execute(
        select(Member.person_id).join(Person, Person.id == Member.person_id)
        .join(Unit, Unit.id == Person.home_unit_id)
        .where(in_subtree(Unit.path, prefix), Member.platform.in_(platforms), Member.active.is_(True),
               Member.unreachable.is_(True)).distinct())
    return set(rows.scalars())


async def in_bound_groups(session: AsyncSession, root: Unit | None) -> set[int]:
    """Persons of the subtree seen (through any account) in an active group bound to a unit:
    a group's reminder reaches them there."""
    prefix = root.path if root is not None else "/"
    rows = await session.execute(
        select(Member.person_id)
        .join(GroupMembership, GroupMembership.member_id == Member.id)
        .join(Group, Group.id == GroupMembership.group_id)
        .join(Person, Person.id == Member.person_id)
        .join(Unit, Unit.id == Person.home_unit_id)
        .where(in_subtree(Unit.path, prefix), Member.active.is_(True), GroupMembership.active.is_(True),
               Group.active.is_(True), Group.unit_id.is_not(None)).distinct())
    return set(rows.scalars())


async def reachable_private_chats(session: AsyncSession, root: Unit | None,
                                  platforms: tuple[str, ...]) -> dict[int, list[tuple[str, str]]]:
    """Per person of the subtree, the private chats on these platforms not marked unreachable."""
    prefix = root.path if root is not None else "/"
    rows = await session.execute(
        select(Member.person_id, Member.platform, Member.private_chat_id)
        .join(Person, Person.id == Member.person_id)
        .join(Unit, Unit.id == Person.home_unit_id)
        .where(in_subtree(Unit.path, prefix), Member.platform.in_(platforms), Member.active.is_(True),
               Member.private_chat_id.is_not(None), Member.unreachable.is_(False))
        .order_by(Member.person_id, Member.id))
    out: dict[int, list[tuple[str, str]]] = {}
    for pid, platform, chat in rows.all():
        out.setdefault(pid, []).append((platform, chat))
    return out


__all__ = [
    "MergeResult", "add_link_code", "first_delivery", "in_bound_groups", "mark_unreachable", "merge_persons",
    "reachable_private_chats", "take_link_code", "unreachable_people",
]
