"""What the weekly rhythm says: the Friday reminder, the Monday leaderboard, the month-end party
check (SPEC §3.3). Composing only: ``handlers.jobs`` decides when, claims and sends.

Each function reads the whole picture with a fixed number of set-based queries (whatever the
number of units and people) and returns one ``PlannedSend`` per chat that should hear something.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from bot.config import Config
from bot.domain import texts_vi
from bot.domain.periods import month_of, previous_week, week_of
from bot.domain.types import ChatKind, ChatRef, Outbound, Segment, SendPhoto, SendText
from handlers import direct
from storage.models import Unit
from storage.tallies import GroupRow, own_admin_chats
from storage.uow import UnitOfWork


class JobKind:
    """The kinds of scheduled (or manual) sends, as stored in ``sent_messages.kind``."""

    REMINDER = "reminder"
    LEADERBOARD = "leaderboard"
    MONTHLY = "monthly"
    MANUAL = "manual"
    SETUP = "setup"  # the setup deadline's reminder (handlers.reports), period = the deadline


@dataclass(frozen=True)
class PlannedSend:
    """One message (or a few actions) for one chat, sent once per (chat, kind, period)."""

    chat: ChatRef
    kind: str
    period: str
    actions: tuple[Outbound, ...]


logger = logging.getLogger(__name__)

MAX_MENTIONS = 30


def _group_chat(g: GroupRow) -> ChatRef:
    return ChatRef(g.platform, g.chat_id, ChatKind.GROUP, g.title)


def _private(platform: str, chat_id: str) -> ChatRef:
    return ChatRef(platform, chat_id, ChatKind.PRIVATE)


async def compose(uow: UnitOfWork, config: Config, kind: str, now: datetime, *, subtree: Unit | None = None,
                  groups_only: bool = False) -> list[PlannedSend]:
    """The messages a run of ``kind`` sends, one per chat (see the module's docstring)."""
    from handlers.status import ranking_parts
    from handlers.views import build_view, mention_list

    tz = config.bot.tz
    if kind == JobKind.SETUP:
        from handlers.reports import compose_setup_reminder

        return await compose_setup_reminder(uow, config, kind, now, subtree=subtree)
    if kind == JobKind.REMINDER:
        period = week_of(now, tz)
    elif kind == JobKind.LEADERBOARD:
        period = previous_week(week_of(now, tz), tz)
    elif kind == JobKind.MONTHLY:
        period = month_of(now, tz)
    else:
        raise ValueError(f"unknown job kind {kind!r}")
    view = await build_view(uow, config, subtree, period, now)
    if view.holiday:
        return []
    plans: list[PlannedSend] = []
    private: dict[ChatRef, list[str]] = defaultdict(list)

    def send(chat: ChatRef, parts: list[Segment]) -> None:
        plans.append(PlannedSend(chat, kind, period.key, (SendText(chat, tuple(parts)),)))

    if kind == JobKind.REMINDER:
        for unit_id, groups in view.groups.items():
            unit = view.units[unit_id]
            fig = view.own[unit_id]
            behind_children = [c for c in view.children.get(unit_id, [])
                               if view.has_group_below(c) and view.rollup[c].expected and view.is_behind(c)]
            laggards = view.laggards(unit_id) if view.rules.staff_weekly > 0 else []
            for g in groups:
                people = [] if g.community else laggards
                page_behind = not g.community and not fig.pages_met
                if not people and not page_behind and not behind_children:
                    continue  # everyone is done: nothing is sent
                parts: list[Segment] = [texts_vi.reminder_head(unit.name, view.label)]
                if not g.community:
                    parts.append("\n" + (texts_vi.page_behind_line(fig.page_posts, fig.page_target) if page_behind
                                         else texts_vi.page_posts_line(fig.page_posts, fig.page_target)))
                if people:
                    parts.append("\n" + texts_vi.laggards_line(len(people), reminder=True))
                    parts.extend(mention_list(people, g.platform, MAX_MENTIONS))
                if behind_children:
                    parts.append("\n" + texts_vi.CHILDREN_BEHIND_HEAD)
                    for c in behind_children:
                        cf = view.rollup[c]
                        parts.append("\n" + texts_vi.child_behind_line(view.units[c].name, cf.page_posts,
                                                                       cf.page_target, cf.met, cf.expected))
                send(_group_chat(g), parts)
        if not groups_only:
            await _party_private(uow, view, private, weekly=True)
            # People no group reaches (Zalo-only teachers) hear it one-to-one (handlers.direct).
            await direct.laggard_reminders(uow, view, private)
    elif kind == JobKind.LEADERBOARD:
        for unit_id, groups in view.groups.items():
            text = "\n".join(ranking_parts(view, view.units[unit_id]))
            # A parent's group also gets the bar chart of its children's completion.
            chart = _leaderboard_chart(view, unit_id, config)
            for g in groups:
                chat = _group_chat(g)
                photo = (SendPhoto(chat, chart, "xephang.png"),) if chart else ()
                plans.append(PlannedSend(chat, kind, period.key, (SendText(chat, (text,)), *photo)))
    else:  # the month-end party check: counts in groups, names only to the unit's own admins
        for unit_id, groups in view.groups.items():
            fig = view.rollup[unit_id]
            if not fig.party_expected or fig.party_met >= fig.party_expected:
                continue
            text = "\n".join([texts_vi.monthly_head(view.units[unit_id].name, view.label),
                              texts_vi.party_month_line(fig.party_met, fig.party_expected)])
            for g in groups:
                if not g.community:
                    send(_group_chat(g), [text])
        if not groups_only:
            await _party_private(uow, view, private, weekly=False)
    for chat, texts in private.items():
        send(chat, ["\n\n".join(texts)])
    return plans


def _leaderboard_chart(view, unit_id: int, config: Config) -> bytes | None:
    """PNG bytes of the ranked children's completion, or None (no ranked child, or no chart
    library: the leaderboard's text is what counts)."""
    ranked = [r for r in view.ranked_children(unit_id) if r.rank is not None]
    if not ranked:
        return None
    try:
        from bot.charts import Bar, completion_chart

        bars = [Bar(r.item.name, r.figures.met, r.figures.expected) for r in ranked]
        return completion_chart(texts_vi.chart_title(view.units[unit_id].name, view.label), bars,
                                texts_vi.CHART_AXIS)
    except Exception:  # noqa: BLE001 - a missing chart must not hold back the leaderboard
        logger.exception("leaderboard chart of unit %s failed", unit_id)
        return None


async def _party_private(uow: UnitOfWork, view, private: dict[ChatRef, list[str]], *, weekly: bool) -> None:
    """Party shortfalls go privately: a nudge to the person, the names to the unit's own admins.
    Weekly, only a shortfall against the party quota alone (the rest was said in the group)."""
    by_unit: dict[int, list] = {}
    for unit_id in view.units:
        rows = [p for p in view.party_shortfalls(unit_id)
                if not (weekly and view.results[p.person_id].public_laggard)]
        if rows:
            by_unit[unit_id] = rows
    if not by_unit:
        return
    admins = await own_admin_chats(uow.session, list(by_unit))
    blocks: dict[ChatRef, list[tuple[str, list[str]]]] = defaultdict(list)
    target = view.rules.weekly_target(True)
    for unit_id, rows in by_unit.items():
        for person in rows:
            result = view.results[person.person_id]
            if weekly:
                nudge = texts_vi.party_week_nudge(result.week_links[-1], target)
            else:
                monthly = view.tl.party_monthly[0] if view.tl.party_monthly else view.rules.party_monthly
                nudge = texts_vi.party_nudge(view.label, result.links, monthly)
            for platform, chat in person.private_chats():
                private[_private(platform, chat)].append(nudge)
        for platform, chat in admins.get(unit_id, []):
            blocks[_private(platform, chat)].append((view.units[unit_id].name, [p.name for p in rows]))
    for chat, unit_blocks in blocks.items():
        private[chat].append(texts_vi.party_admin_report(view.label, unit_blocks))
