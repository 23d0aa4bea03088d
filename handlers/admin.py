"""Binding groups and people to units: /dangky (SPEC §3.2, §3.6)."""

from __future__ import annotations

import logging

from bot.domain import texts_vi
from bot.domain.types import DeleteMessage
from bot.domain.unit_tree import normalize_code_input
from handlers.context import Context
from handlers.members import refresh_group_members

logger = logging.getLogger(__name__)


async def cmd_dangky(ctx: Context, args: tuple[str, ...]) -> None:
    """In a group: an admin binds it to the unit of a join code. Privately: the join code sets
    the person's home unit, the admin code makes them an admin of that unit."""
    if ctx.msg.chat.is_group:
        await _bind_group(ctx, args)
    else:
        await _register_person(ctx, args)


async def _bind_group(ctx: Context, args: tuple[str, ...]) -> None:
    if not args:
        ctx.reply(texts_vi.REGISTER_USAGE)
        return
    code = normalize_code_input(args[0])
    if await ctx.uow.units.by_admin_code(code) is not None:
        # The secret is out in a group: take the message down where the platform lets us.
        ctx.out.append(DeleteMessage(ctx.msg.chat, ctx.msg.message_id))
        ctx.reply(texts_vi.ADMIN_CODE_IN_GROUP, quote=False)
        return
    unit = await ctx.uow.units.by_join_code(code)
    # The group's own admins, or an admin by code of the unit being bound (or above it).
    if not (await ctx.is_admin() or (unit is not None and await ctx.administers(unit))):
        ctx.reply(texts_vi.GROUP_ADMINS_ONLY)
        return
    if unit is None:
        ctx.reply(texts_vi.unknown_code(args[0][:32]))
        return
    community = len(args) > 1 and args[1].lower() in ("congdong", "cộngđồng", "cong-dong", "community")
    group = ctx.group
    assert group is not None
    if group.unit_id == unit.id and group.community == community:
        ctx.reply(texts_vi.group_already_bound(unit.name, unit.code))
        return
    old = await ctx.uow.units.get(group.unit_id) if group.unit_id is not None else None
    group.unit_id, group.community, group.bound_at, group.active = unit.id, community, ctx.now, True
    await ctx.uow.session.flush()
    await refresh_group_members(ctx.uow, group)
    ctx.uow.audit.add(ctx.now, "bind_group", actor=ctx.actor, chat=ctx.msg.chat.key, unit_id=unit.id,
                      community=community, previous=old.code if old else None)
    if old is not None and old.id != unit.id:
        ctx.reply(texts_vi.group_rebound(old.name, unit.name, unit.code))
    else:
        ctx.reply(texts_vi.group_bound(unit.name, unit.code, community))


async def _register_person(ctx: Context, args: tuple[str, ...]) -> None:
    if not args:
        ctx.reply(texts_vi.REGISTER_USAGE_PRIVATE)
        return
    if ctx.person is None:
        return
    code = normalize_code_input(args[0])
    unit = await ctx.uow.units.by_join_code(code)
    if unit is not None:
        ctx.person.home_unit_id = unit.id
        ctx.person.home_unit_explicit = True
        ctx.uow.audit.add(ctx.now, "set_home_unit", actor=ctx.actor, person_id=ctx.person.id,
                          chat=ctx.msg.chat.key, unit_id=unit.id)
        ctx.reply(texts_vi.home_unit_set(unit.name))
        return
    unit = await ctx.uow.units.by_admin_code(code)
    if unit is not None:
        await ctx.uow.members.add_role(ctx.person.id, unit.id, "admin", ctx.now)
        ctx.uow.audit.add(ctx.now, "grant_admin", actor=ctx.actor, person_id=ctx.person.id,
                          chat=ctx.msg.chat.key, unit_id=unit.id)
        ctx.reply(texts_vi.unit_admin_granted(unit.name))
        return
    logger.info("wrong registration code from %s", ctx.actor)
    ctx.reply(texts_vi.unknown_code(args[0][:32]))
