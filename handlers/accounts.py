"""/lienket /link [mã]: one person on two platforms (SPEC §3.2).

Without a code, the person gets a one-time code (8 characters without look-alikes, valid
``LINK_CODE_TTL``); typed with /lienket on another platform, it merges the two accounts' persons
into one: links (a post both accounts were credited for counts once), quota, party flag, leave,
roles. Only in private chats: whoever holds a code takes over the other account's person (its
admin roles included), so a code seen in a group is burnt.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from bot.domain import texts_vi
from bot.domain.unit_tree import generate_code, normalize_code_input
from handlers.context import Context
from storage.accounts import add_link_code, merge_persons, take_link_code
from storage.models import Member

logger = logging.getLogger(__name__)

LINK_CODE_TTL = timedelta(minutes=15)
_rng = secrets.SystemRandom()


async def cmd_lienket(ctx: Context, args: tuple[str, ...]) -> None:
    """Show a code, or merge with the person whose code this is."""
    if ctx.person is None or ctx.member is None:
        return
    code = normalize_code_input("".join(args)) if args else ""
    if ctx.msg.chat.is_group:
        if code and await take_link_code(ctx.uow.session, code, ctx.now) is not None:
            ctx.uow.audit.add(ctx.now, "link_code_burnt", actor=ctx.actor, person_id=ctx.person.id,
                              chat=ctx.msg.chat.key)
            ctx.reply(texts_vi.LINK_CODE_BURNT)
        else:
            ctx.reply(texts_vi.LINK_CODE_PRIVATE_ONLY)
        return
    if not code:
        await _show_code(ctx)
    else:
        await _merge(ctx, code)


async def _show_code(ctx: Context) -> None:
    assert ctx.person is not None
    for _ in range(5):  # a clash among 31**8 codes is all but impossible; draw again if one happens
        code = generate_code(_rng)
        if await add_link_code(ctx.uow.session, code, ctx.person.id, ctx.msg.chat.platform, ctx.now,
                               ctx.now + LINK_CODE_TTL):
            ctx.uow.audit.add(ctx.now, "link_code", actor=ctx.actor, person_id=ctx.person.id, chat=ctx.msg.chat.key)
            ctx.reply(texts_vi.link_code_shown(code, int(LINK_CODE_TTL.total_seconds() // 60)))
            return
    raise RuntimeError("could not draw a free link code")


async def _merge(ctx: Context, code: str) -> None:
    assert ctx.person is not None and ctx.member is not None
    row = await take_link_code(ctx.uow.session, code, ctx.now)
    if row is None:
        logger.info("wrong or expired link code from %s", ctx.actor)
        ctx.reply(texts_vi.LINK_CODE_UNKNOWN)
        return
    if row.person_id == ctx.person.id:
        ctx.reply(texts_vi.LINK_SAME_PERSON)
        return
    if row.platform == ctx.msg.chat.platform:
        ctx.reply(texts_vi.link_same_platform(row.platform))
        return
    other = await ctx.uow.members.person(row.person_id)
    before = (ctx.person.id, other.id)
    result = await merge_persons(ctx.uow.session, ctx.person, other, ctx.now)
    survivor = await ctx.uow.members.person(result.survivor)
    ctx.person = survivor
    await ctx.uow.members.refresh_home_unit(survivor)
    accounts = await _accounts(ctx, survivor.id)
    ctx.uow.audit.add(ctx.now, "merge_persons", actor=ctx.actor, person_id=survivor.id, chat=ctx.msg.chat.key,
                      unit_id=survivor.home_unit_id, persons=list(before), absorbed=result.absorbed,
                      accounts=accounts, duplicates_withdrawn=result.duplicates_withdrawn)
    unit = await ctx.uow.units.get(survivor.home_unit_id) if survivor.home_unit_id is not None else None
    shown = [f"{texts_vi.PLATFORM_NAMES.get(a.split(':', 1)[0], a.split(':', 1)[0])}" for a in accounts]
    ctx.reply(texts_vi.accounts_linked(list(dict.fromkeys(shown)), unit.name if unit else None))


async def _accounts(ctx: Context, person_id: int) -> list[str]:
    from sqlalchemy import select

    rows = await ctx.uow.session.execute(
        select(Member.platform, Member.user_id).where(Member.person_id == person_id).order_by(Member.id))
    return [f"{platform}:{user_id}" for platform, user_id in rows.all()]
