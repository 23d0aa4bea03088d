"""Reaching people one-to-one where no group reaches them (SPEC §3.3, §3.6).

Bots cannot be added to Zalo groups, so a Zalo-only teacher hears no group's Friday reminder.
Who gets a direct reminder: a laggard (below the staff quota, the public rule) whose person is
seen in no active bound group on any platform, through a private chat on a platform where people
live without groups (``DIRECT_PLATFORMS``) that has not refused the bot. One message per person
and week (the claim is the private chat's, kind ``reminder``, as every scheduled send).
"""

from __future__ import annotations

import logging

from bot.domain import texts_vi
from bot.domain.periods import local_date
from bot.domain.types import ChatKind, ChatRef, SendText
from storage.accounts import in_bound_groups, mark_unreachable, reachable_private_chats, unreachable_people
from storage.models import Unit
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

# Platforms whose people talk to the bot one-to-one rather than in a group: Zalo (bots cannot join
# its groups) and the console, which simulates any platform so the behaviour can be tried there.
DIRECT_PLATFORMS = ("zalo", "console")


async def laggard_reminders(uow: UnitOfWork, view, private: dict[ChatRef, list[str]]) -> None:
    """Add the week's direct reminder of each laggard no group reaches (rhythm.compose, kind
    reminder) to ``private`` (chat -> texts), merged there with any other private text."""
    if view.rules.staff_weekly <= 0:
        return
    laggards = [p for uid in view.units for p in view.laggards(uid)]
    if not laggards:
        return
    root = view.root
    grouped = await in_bound_groups(uow.session, root)
    chats = await reachable_private_chats(uow.session, root, DIRECT_PLATFORMS)
    target = view.rules.weekly_target(False)
    for person in laggards:
        if person.person_id in grouped or person.person_id not in chats:
            continue
        result = view.results[person.person_id]
        text = texts_vi.direct_reminder(view.units[person.unit_id].name, view.label, result.week_links[-1], target)
        for platform, chat_id in chats[person.person_id]:
            private[ChatRef(platform, chat_id, ChatKind.PRIVATE)].append(text)


async def manual_reminders(ctx, unit: Unit, everywhere: bool) -> int:
    """/nhacnho in an admin's private chat on a direct platform: the unit's reminder now to each
    of its laggards (``everywhere``: of the subtree) reachable there, at most once per person and
    local day (kind ``manual``). Returns how many were reached."""
    from handlers.context import CLAIM_LEASE, Claim
    from handlers.rhythm import JobKind
    from handlers.views import build_view
    from bot.domain.outbound_json import dump_actions
    from bot.domain.periods import week_of

    platform = ctx.msg.chat.platform
    if platform not in DIRECT_PLATFORMS:
        return 0
    view = await build_view(ctx.uow, ctx.config, unit, week_of(ctx.now, ctx.tz), ctx.now)
    if view.holiday or view.rules.staff_weekly <= 0:
        return 0
    unit_ids = list(view.units) if everywhere else [unit.id]
    chats = await reachable_private_chats(ctx.uow.session, unit, (platform,))
    target = view.rules.weekly_target(False)
    today = local_date(ctx.now, ctx.tz).isoformat()
    reached = 0
    for uid in unit_ids:
        for person in view.laggards(uid):
            result = view.results[person.person_id]
            text = texts_vi.direct_reminder(view.units[uid].name, view.label, result.week_links[-1], target)
            sent = False
            for _, chat_id in chats.get(person.person_id, []):
                chat = ChatRef(platform, chat_id, ChatKind.PRIVATE)
                action = SendText.of(chat, text)
                claim = Claim(platform, chat_id, JobKind.MANUAL, today)
                if await ctx.uow.sent.claim(*claim.key, ctx.instance, CLAIM_LEASE, payload=dump_actions([action])):
                    ctx.out.append(action)
                    ctx.claims[id(action)] = claim
                    sent = True
            reached += sent
    return reached


async def unreachable_names(uow: UnitOfWork, view, unit: Unit) -> list[str]:
    """The names of the unit's own people whose direct messages the platform refused."""
    ids = await unreachable_people(uow.session, unit, DIRECT_PLATFORMS)
    return [p.name for p in view.people_of(unit.id) if p.person_id in ids]


async def record_unreachable(uow: UnitOfWork, chat: ChatRef, reason: str) -> None:
    """The platform refused a direct message: logged once here, and the account marked, so the
    person's admins see it in /tinhhinh; nothing retries it (the claim is failed for good)."""
    marked = await mark_unreachable(uow.session, chat.platform, chat.chat_id)
    logger.warning("%s: direct message to %s refused (%s)%s", chat.platform, chat.chat_id, reason[:200],
                   "; marked unreachable" if marked else "")


