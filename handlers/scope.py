"""Which unit a command acts on, who may see what of it, and how to reach someone privately
(SPEC §3.2: in a group the group's unit; in a private chat the admin's one unit, a code for an
admin of several, or the person's home unit; §3.4: own admins)."""

from __future__ import annotations

from sqlalchemy import select

from bot.domain import texts_vi
from handlers.context import Context
from storage.models import Unit, UnitRole

ADMIN_ROLES = ("admin", "chat_admin")


async def administered_units(ctx: Context) -> list[Unit]:
    """The units the person was made admin of by code, or was seen administering a group of."""
    if ctx.person is None:
        return []
    stmt = (select(Unit).join(UnitRole, UnitRole.unit_id == Unit.id)
            .where(UnitRole.person_id == ctx.person.id, UnitRole.role.in_(ADMIN_ROLES))
            .distinct().order_by(Unit.path))
    return list((await ctx.uow.session.execute(stmt)).scalars())


async def record_chat_admin(ctx: Context) -> None:
    """A group administrator seen giving a command is recorded as an admin of the group's unit:
    private pushes (party lists) and the dashboard know them from then on."""
    if ctx.chat_admin and ctx.person is not None and ctx.group is not None and ctx.group.unit_id is not None:
        await ctx.uow.members.add_role(ctx.person.id, ctx.group.unit_id, "chat_admin", ctx.now)


async def resolve_unit(ctx: Context, args: tuple[str, ...]) -> tuple[Unit | None, tuple[str, ...]]:
    """The unit the command is about and the arguments left; None after replying why not."""
    if ctx.msg.chat.is_group:
        unit = await ctx.group_unit()
        if unit is None:
            ctx.reply(texts_vi.NO_UNIT_HERE)
        return unit, args
    # A private chat: an explicit unit code first (admins of several units, super-admins).
    if args:
        code = args[0].strip()
        candidate = await ctx.uow.units.by_code(code) or await ctx.uow.units.by_code(code.upper())
        if candidate is not None:
            if await ctx.administers(candidate) or await _owns_by_role(ctx, candidate):
                return candidate, args[1:]
            ctx.reply(texts_vi.unknown_unit(args[0][:32]))
            return None, args
        if _looks_like_unit_code(code) and not _is_period_word(ctx, code):
            ctx.reply(texts_vi.unknown_unit(code[:32]))
            return None, args
    mine = await administered_units(ctx)
    if len(mine) == 1:
        return mine[0], args
    if len(mine) > 1:
        ctx.reply(texts_vi.status_unit_needed([u.code for u in mine]))
        return None, args
    if ctx.person is not None and ctx.person.home_unit_id is not None:
        return await ctx.uow.units.get(ctx.person.home_unit_id), args
    if ctx.is_super_admin:
        return await root_unit(ctx), args
    ctx.reply(texts_vi.NO_HOME_UNIT)
    return None, args


def _looks_like_unit_code(word: str) -> bool:
    """THCS-KIMBOI, PGD01: capitals (and digits, dashes), as unit codes are written."""
    return len(word) >= 3 and word.upper() == word and any(ch.isalpha() for ch in word)


def _is_period_word(ctx: Context, word: str) -> bool:
    from bot.domain.periods import parse_period

    try:
        parse_period(word, ctx.now, ctx.tz, ctx.config.calendar)
    except ValueError:
        return False
    return True


async def root_unit(ctx: Context) -> Unit | None:
    stmt = select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id).limit(1)
    return (await ctx.uow.session.execute(stmt)).scalar_one_or_none()


async def _owns_by_role(ctx: Context, unit: Unit) -> bool:
    if ctx.person is None:
        return False
    ancestors = [int(part) for part in unit.path.strip("/").split("/") if part]
    return await ctx.uow.members.has_role(ctx.person.id, ancestors, "chat_admin")


async def is_admin_of(ctx: Context, unit: Unit) -> bool:
    """An admin of the unit or of a unit above it (admins administer their whole subtree)."""
    if ctx.msg.chat.is_group and ctx.group is not None and ctx.group.unit_id == unit.id and ctx.chat_admin:
        return True
    return await ctx.administers(unit) or await _owns_by_role(ctx, unit)


async def is_own_admin(ctx: Context, unit: Unit) -> bool:
    """An admin of that unit itself (SPEC §3.4: party members' names are theirs alone to see)."""
    if ctx.is_super_admin:
        return True
    if ctx.msg.chat.is_group and ctx.group is not None and ctx.group.unit_id == unit.id and ctx.chat_admin:
        return True
    if ctx.person is None:
        return False
    for role in ADMIN_ROLES:
        if await ctx.uow.members.has_role(ctx.person.id, [unit.id], role):
            return True
    return False


def start_link(ctx: Context) -> str | None:
    """Where a person opens a private chat with the bot (Telegram: t.me/<bot>?start=)."""
    username = getattr(ctx, "bot_username", None)
    if ctx.msg.chat.platform == "telegram" and username:
        return f"https://t.me/{username}?start=lantoa"
    return None


def private_chat_of(ctx: Context):
    """The asker's private chat, if they have ever opened one with the bot."""
    from bot.domain.types import ChatKind, ChatRef

    if ctx.member is None or not ctx.member.private_chat_id:
        return None
    return ChatRef(ctx.msg.chat.platform, ctx.member.private_chat_id, ChatKind.PRIVATE)
