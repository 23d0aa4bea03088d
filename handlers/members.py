"""Members and groups as the bot sees them: registration, joins, leaves, migrations."""

from __future__ import annotations

import logging

from bot.domain import texts_vi
from bot.domain.types import (
    BotMembershipChanged,
    ChatMigrated,
    MemberLeft,
    MembersJoined,
    SendText,
    SenderKind,
)
from handlers.context import Context
from storage.models import Group
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


async def register_sender(ctx: Context) -> None:
    """Record who wrote, in which chat; keep their home unit current (SPEC §2 Member)."""
    msg = ctx.msg
    if msg.chat.is_group:
        ctx.group = await ctx.uow.groups.ensure(msg.chat, ctx.now)
        if not ctx.group.active:
            # A message from the group proves the bot is back in it.
            ctx.group.active = True
    if msg.sender is None or msg.sender_kind is not SenderKind.USER or msg.sender.is_bot:
        return
    ctx.member, _ = await ctx.uow.members.ensure(msg.sender, ctx.now)
    ctx.person = await ctx.uow.members.person(ctx.member.person_id)
    if not msg.chat.is_group:
        ctx.member.private_chat_id = msg.chat.chat_id
        ctx.member.unreachable = False
        return
    assert ctx.group is not None
    if await ctx.uow.members.touch_membership(ctx.group, ctx.member, ctx.now):
        await ctx.uow.members.refresh_home_unit(ctx.person)


async def refresh_group_members(uow: UnitOfWork, group: Group) -> None:
    """After a group is bound, moved or deactivated, its people's home units may change."""
    for person in await uow.members.persons_in_group(group.id):
        await uow.members.refresh_home_unit(person)


async def on_members_joined(uow: UnitOfWork, event: MembersJoined) -> None:
    group = await uow.groups.ensure(event.chat, event.date)
    for user in event.members:
        if user.is_bot:
            continue
        member, _ = await uow.members.ensure(user, event.date)
        if await uow.members.touch_membership(group, member, event.date):
            await uow.members.refresh_home_unit(await uow.members.person(member.person_id))


async def on_member_left(uow: UnitOfWork, event: MemberLeft) -> None:
    """Leaving marks the membership inactive; history stays (SPEC §3.4)."""
    group = await uow.groups.get(event.chat.platform, event.chat.chat_id)
    member = await uow.members.get(event.member.platform, event.member.user_id)
    if group is None or member is None:
        return
    if await uow.members.leave_group(group, member, event.date):
        await uow.members.refresh_home_unit(await uow.members.person(member.person_id))


async def on_chat_migrated(uow: UnitOfWork, event: ChatMigrated) -> None:
    group = await uow.groups.migrate(event.platform, event.old_chat_id, event.new_chat_id)
    if group is not None:
        logger.info("group %s migrated to %s (unit %s)", event.old_chat_id, event.new_chat_id, group.unit_id)


async def on_bot_membership(uow: UnitOfWork, event: BotMembershipChanged, out: list) -> None:
    """The bot was added (greet, or explain why it cannot read) or removed (go quiet)."""
    now = event.date
    group = await uow.groups.get(event.chat.platform, event.chat.chat_id)
    if not event.present:
        if group is not None and group.active:
            group.active = False
            await refresh_group_members(uow, group)
            uow.audit.add(now, "bot_removed", actor=event.by.key if event.by else None, chat=event.chat.key,
                          unit_id=group.unit_id)
        return
    was_active = group is not None and group.active
    group = await uow.groups.ensure(event.chat, now)
    group.can_read = event.can_read_messages
    if not was_active:
        group.active = True
        await refresh_group_members(uow, group)
        uow.audit.add(now, "bot_added", actor=event.by.key if event.by else None, chat=event.chat.key,
                      unit_id=group.unit_id)
    if not event.can_read_messages:
        out.append(SendText.of(event.chat, texts_vi.BOT_CANNOT_READ))
    elif not was_active and group.unit_id is None:
        out.append(SendText.of(event.chat, texts_vi.BOT_JOINED_UNBOUND))
