"""/nhacnho /remind [tatca]: an admin sends this week's reminder now (SPEC §3.2, §3.3).

A manual reminder is recorded like a scheduled send (kind ``manual``, period = the local date),
so a group hears it at most once per local day, and it never replaces the Friday one. With
``tatca`` every target group is claimed in the command's own transaction, committed before the
first send, so a fan-out whose instance died is finished by the sweeper.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from sqlalchemy import select

from bot.domain import texts_vi
from bot.domain.outbound_json import dump_actions
from bot.domain.periods import is_holiday_week, local_date, week_of
from bot.domain.types import Outbound, SendText
from handlers import direct, rhythm, scope
from handlers.context import CLAIM_LEASE, Claim, Context
from handlers.rhythm import JobKind, PlannedSend
from storage.models import Group, Unit

ALL_WORDS = ("tatca", "all")


def _fold(word: str) -> str:
    word = unicodedata.normalize("NFKD", word)
    return "".join(c for c in word if not unicodedata.combining(c)).replace("đ", "d").replace("Đ", "D").lower()


def _wants_all(args: tuple[str, ...]) -> tuple[bool, tuple[str, ...]]:
    """``tatca`` (also typed ``tất cả``, ``tat-ca``) anywhere among the arguments; the rest."""
    folded = [_fold(a).replace("-", "") for a in args]
    for i, word in enumerate(folded):
        if word in ALL_WORDS:
            return True, args[:i] + args[i + 1:]
        if word == "tat" and i + 1 < len(folded) and folded[i + 1] == "ca":
            return True, args[:i] + args[i + 2:]
    return False, args


async def cmd_nhacnho(ctx: Context, args: tuple[str, ...]) -> None:
    """Send this week's reminder now: to this group, or with ``tatca`` to every group below."""
    everywhere, rest = _wants_all(args)
    chat = ctx.msg.chat
    if chat.is_group:
        if not await ctx.is_admin():
            ctx.reply(texts_vi.ADMINS_ONLY)
            return
        unit = await ctx.group_unit()
        if unit is None:
            ctx.reply(texts_vi.NO_UNIT_HERE)
            return
    else:
        unit, rest = await scope.resolve_unit(ctx, rest)
        if unit is None:
            return  # resolve_unit said why
        if not await scope.is_admin_of(ctx, unit):
            ctx.reply(texts_vi.ADMINS_ONLY)
            return
    if is_holiday_week(week_of(ctx.now, ctx.tz), ctx.config.calendar):
        ctx.reply(texts_vi.REMIND_HOLIDAY_WEEK)
        return

    planned = await rhythm.compose(ctx.uow, ctx.config, JobKind.REMINDER, ctx.now, subtree=unit, groups_only=True)
    # Only this platform's groups: each platform's instance sends through its own outbox.
    planned = [p for p in planned if p.chat.platform == chat.platform and p.chat.is_group]
    if chat.is_group and not everywhere:
        mine = [p for p in planned if p.chat.chat_id == chat.chat_id]
        if not mine:
            ctx.reply(texts_vi.REMIND_ALL_DONE)
            return
        if not await _claim(ctx, mine[0], quote=True):
            ctx.reply(texts_vi.REMIND_ALREADY_TODAY)
        return

    if not everywhere:  # a private chat: the unit's own groups
        own = await _own_group_chats(ctx, unit)
        planned = [p for p in planned if p.chat.chat_id in own]
    reached = already = 0
    for send in planned:
        if await _claim(ctx, send, quote=False):
            reached += 1
        else:
            already += 1
    if not chat.is_group and chat.platform in direct.DIRECT_PLATFORMS:
        # Zalo: the unit's people are reached one-to-one, bots being kept out of its groups (§3.6).
        lines = [texts_vi.remind_fanout(reached, already)] if planned else []
        lines.append(texts_vi.direct_reached(await direct.manual_reminders(ctx, unit, everywhere)))
        ctx.reply("\n".join(lines))
        return
    ctx.reply(texts_vi.remind_fanout(reached, already))


async def _claim(ctx: Context, send: PlannedSend, *, quote: bool) -> bool:
    """Claim the manual reminder of one group for today and queue it; False if it had one."""
    actions: list[Outbound] = list(send.actions)
    if quote:  # answered as a reply to the command, as every command is (SPEC §3.2)
        for i, action in enumerate(actions):
            if isinstance(action, SendText):
                actions[i] = replace(action, reply_to=ctx.msg.message_id)
                break
    claim = Claim(send.chat.platform, send.chat.chat_id, JobKind.MANUAL, local_date(ctx.now, ctx.tz).isoformat())
    if not await ctx.uow.sent.claim(*claim.key, ctx.instance, CLAIM_LEASE, payload=dump_actions(actions)):
        return False
    for action in actions:
        ctx.out.append(action)
        ctx.claims[id(action)] = claim
    return True


async def _own_group_chats(ctx: Context, unit: Unit) -> set[str]:
    stmt = select(Group.chat_id).where(Group.unit_id == unit.id, Group.platform == ctx.msg.chat.platform,
                                       Group.active.is_(True))
    return set((await ctx.uow.session.execute(stmt)).scalars())
