"""What admins keep up to date about their unit: party members (/dangvien, /bodangvien), fanpages
and communications officers (/trang), leave (/nghi). SPEC §3.1 item 7, §3.2, §3.4."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import delete, select

from bot.domain import texts_vi
from bot.domain.links import canonicalize, is_post, page_key
from bot.domain.periods import local_date
from bot.domain.ranking import name_key
from bot.domain.types import DeleteMessage, SendText
from handlers.commands import fold
from handlers.context import Context
from handlers.scope import is_admin_of, is_own_admin, private_chat_of, record_chat_admin, resolve_unit, start_link
from storage.models import PAGE_KEY_MAX, Member, Person, Unit, UnitPage

# ---------------------------------------------------------------------------------------------
# Naming a person: a reply to their message, or @username (the only ways without a number).


async def _named_person(ctx: Context, args: tuple[str, ...]) -> tuple[Person | None, Member | None, tuple[str, ...]]:
    """The person a command names, and the arguments left. (None, None, args) when nobody is named."""
    reply = ctx.msg.reply_to
    if args and args[0].startswith("@") and len(args[0]) > 1:
        username = args[0][1:]
        stmt = (select(Member).where(Member.platform == ctx.msg.chat.platform, Member.username.ilike(username))
                .limit(1))
        member = (await ctx.uow.session.execute(stmt)).scalar_one_or_none()
        if member is None:
            ctx.reply(texts_vi.unknown_username(username[:64]))
            return None, None, ()
        return await ctx.uow.members.person(member.person_id), member, args[1:]
    if reply is not None and reply.sender is not None:
        member = await ctx.uow.members.get(reply.sender.platform, reply.sender.user_id)
        if member is not None:
            return await ctx.uow.members.person(member.person_id), member, args
    return None, None, args


def _in_subtree(unit: Unit, units_by_id: dict[int, Unit], unit_id: int | None) -> bool:
    return unit_id is not None and unit_id in units_by_id and units_by_id[unit_id].path.startswith(unit.path)


# ---------------------------------------------------------------------------------------------
# /dangvien, /bodangvien


async def _unit_people(ctx: Context, unit: Unit) -> list[tuple[Person, str]]:
    """The unit's own people (home unit = this unit), in name order: the numbered private list."""
    stmt = (select(Person, Member.display_name).join(Member, Member.person_id == Person.id)
            .where(Person.home_unit_id == unit.id, Member.active.is_(True)).order_by(Person.id, Member.id))
    seen: dict[int, tuple[Person, str]] = {}
    for person, name in (await ctx.uow.session.execute(stmt)).all():
        seen.setdefault(person.id, (person, name))
    return sorted(seen.values(), key=lambda pair: (name_key(pair[1]), pair[0].id))


async def cmd_dangvien(ctx: Context, args: tuple[str, ...], *, mark: bool) -> None:
    """Mark (or unmark) party members; only the unit's own admins, and nothing is revealed."""
    await record_chat_admin(ctx)
    in_group = ctx.msg.chat.is_group
    if in_group:
        unit = await ctx.group_unit()
        if unit is None:
            ctx.reply(texts_vi.NO_UNIT_HERE)
            return
        rest = args
    else:
        unit, rest = await resolve_unit(ctx, args)
        if unit is None:
            return
    if not await is_own_admin(ctx, unit):
        ctx.reply(texts_vi.OWN_ADMINS_ONLY)
        return
    if in_group:
        await _dangvien_in_group(ctx, unit, rest, mark)
        return
    if rest and rest[0].startswith("@"):
        person, member, _ = await _named_person(ctx, rest)
        if person is not None:
            await _set_party(ctx, unit, person, member, mark)
        return
    people = await _unit_people(ctx, unit)
    if not rest:
        if not people:
            ctx.reply(texts_vi.PARTY_LIST_EMPTY)
        else:
            ctx.reply(texts_vi.party_list(unit.name, [(i, name, p.party_member)
                                                        for i, (p, name) in enumerate(people, start=1)]))
        return
    chosen, bad = [], []
    for token in rest:
        for part in filter(None, re.split(r"[,;]", token)):
            if part.isdigit() and 1 <= int(part) <= len(people):
                chosen.append(people[int(part) - 1])
            else:
                bad.append(part[:8])
    if bad or not chosen:
        ctx.reply(texts_vi.bad_numbers(bad or list(rest[:1]), len(people)) if people else texts_vi.PARTY_LIST_EMPTY)
        return
    for person, _ in chosen:
        person.party_member = mark
    ctx.uow.audit.add(ctx.now, "party_mark" if mark else "party_unmark", actor=ctx.actor, chat=ctx.msg.chat.key,
                      unit_id=unit.id, persons=[p.id for p, _ in chosen])
    ctx.reply(texts_vi.party_marked([name for _, name in chosen], mark))


async def _dangvien_in_group(ctx: Context, unit: Unit, args: tuple[str, ...], mark: bool) -> None:
    person, member, _ = await _named_person(ctx, args)
    if person is None:
        if not ctx.out:  # nobody named (an unknown @name was answered already)
            chat = private_chat_of(ctx)
            ctx.reply(texts_vi.party_how_private(None if chat else start_link(ctx)), quote=False)
        return
    if not await _set_party(ctx, unit, person, member, mark, quiet=True):
        return
    # The group sees only that something changed: the command itself is taken down where the
    # platform lets the bot, and the answer quotes nothing.
    ctx.out.append(DeleteMessage(ctx.msg.chat, ctx.msg.message_id))
    ctx.reply(texts_vi.PARTY_UPDATED, quote=False)


async def _set_party(ctx: Context, unit: Unit, person: Person, member: Member | None, mark: bool,
                     *, quiet: bool = False) -> bool:
    """Only the unit's own people: an own admin of one school cannot mark another's staff."""
    if person.home_unit_id != unit.id:
        ctx.reply(texts_vi.not_in_unit(unit.name))
        return False
    person.party_member = mark
    ctx.uow.audit.add(ctx.now, "party_mark" if mark else "party_unmark", actor=ctx.actor, chat=ctx.msg.chat.key,
                      unit_id=unit.id, persons=[person.id])
    if not quiet:
        ctx.reply(texts_vi.party_marked([member.display_name if member else "?"], mark))
    return True


# ---------------------------------------------------------------------------------------------
# /trang


async def cmd_trang(ctx: Context, args: tuple[str, ...]) -> None:
    """/trang: list; /trang them|xoa <page url>; /trang canbo (reply or @user)."""
    await record_chat_admin(ctx)
    unit, rest = await resolve_unit(ctx, args)
    if unit is None:
        return
    if not rest:
        pages = (await ctx.uow.session.execute(
            select(UnitPage.url).where(UnitPage.unit_id == unit.id).order_by(UnitPage.id))).scalars().all()
        ctx.reply(texts_vi.pages_list(unit.name, list(pages)))
        return
    action = fold(rest[0])
    if action not in ("them", "add", "xoa", "remove", "canbo", "officer"):
        ctx.reply(texts_vi.PAGE_USAGE)
        return
    if not await is_admin_of(ctx, unit):
        ctx.reply(texts_vi.ADMINS_ONLY)
        return
    if action in ("canbo", "officer"):
        person, member, _ = await _named_person(ctx, rest[1:])
        if person is None:
            if not ctx.out:
                ctx.reply(texts_vi.NAME_SOMEONE)
            return
        await ctx.uow.members.add_role(person.id, unit.id, "officer", ctx.now)
        ctx.uow.audit.add(ctx.now, "officer_named", actor=ctx.actor, person_id=person.id, chat=ctx.msg.chat.key,
                          unit_id=unit.id)
        ctx.reply(texts_vi.officer_named(member.display_name if member else "?", unit.name))
        return
    if len(rest) != 2:
        ctx.reply(texts_vi.PAGE_USAGE)
        return
    url = rest[1]
    canonical = canonicalize(url)
    key = (page_key(url) or (page_key(canonical) if canonical else None)) if canonical else None
    if canonical is None or key is None or is_post(canonical) or len(key) > PAGE_KEY_MAX:
        ctx.reply(texts_vi.PAGE_NEEDS_PAGE_URL)
        return
    if action in ("xoa", "remove"):
        result = await ctx.uow.session.execute(
            delete(UnitPage).where(UnitPage.unit_id == unit.id, UnitPage.page_key == key))
        if not result.rowcount:
            ctx.reply(texts_vi.page_not_registered(canonical))
            return
        ctx.uow.audit.add(ctx.now, "page_removed", actor=ctx.actor, chat=ctx.msg.chat.key, unit_id=unit.id, page=key)
        ctx.reply(texts_vi.page_removed(canonical))
        return
    holder = (await ctx.uow.session.execute(
        select(Unit).join(UnitPage, UnitPage.unit_id == Unit.id).where(UnitPage.page_key == key).limit(1)
    )).scalar_one_or_none()
    if holder is not None:
        ctx.reply(texts_vi.page_already(canonical) if holder.id == unit.id else texts_vi.page_taken(canonical, holder.name))
        return
    ctx.uow.session.add(UnitPage(unit_id=unit.id, page_key=key, url=canonical, created_at=ctx.now))
    ctx.uow.audit.add(ctx.now, "page_added", actor=ctx.actor, chat=ctx.msg.chat.key, unit_id=unit.id, page=key)
    ctx.reply(texts_vi.page_added(canonical, unit.name))


# ---------------------------------------------------------------------------------------------
# /nghi

_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?$")


def parse_until(text: str, today: date) -> date | None:
    """dd/mm or dd/mm/yyyy; without a year, the next such date (today counts)."""
    m = _DATE.match(text.strip())
    if m is None:
        return None
    day, month, year = int(m.group(1)), int(m.group(2)), m.group(3)
    try:
        if year is not None:
            y = int(year)
            return date(y + 2000 if y < 100 else y, month, day)
        candidate = date(today.year, month, day)
        return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


async def cmd_nghi(ctx: Context, args: tuple[str, ...]) -> None:
    """/nghi dd/mm replying to the member, or /nghi @user dd/mm: exempt them until that day."""
    await record_chat_admin(ctx)
    unit, rest = await resolve_unit(ctx, args)
    if unit is None:
        return
    if not await is_admin_of(ctx, unit):
        ctx.reply(texts_vi.ADMINS_ONLY)
        return
    person, member, rest = await _named_person(ctx, rest)
    if person is None:
        if not ctx.out:
            ctx.reply(texts_vi.LEAVE_USAGE)
        return
    if len(rest) != 1:
        ctx.reply(texts_vi.LEAVE_USAGE)
        return
    today = local_date(ctx.now, ctx.tz)
    until = parse_until(rest[0], today)
    if until is None or until < today:
        ctx.reply(texts_vi.bad_date(rest[0][:20]))
        return
    if until > today + timedelta(days=366):
        ctx.reply(texts_vi.LEAVE_TOO_LONG)
        return
    home = await ctx.uow.units.get(person.home_unit_id) if person.home_unit_id else None
    if home is None or not home.path.startswith(unit.path):
        ctx.reply(texts_vi.not_in_unit(unit.name))
        return
    ctx.uow.leaves.add(person.id, today, until, ctx.now)
    ctx.uow.audit.add(ctx.now, "leave", actor=ctx.actor, person_id=person.id, chat=ctx.msg.chat.key,
                      unit_id=unit.id, first=today.isoformat(), last=until.isoformat())
    ctx.reply(texts_vi.leave_recorded(member.display_name if member else "?", today, until))
