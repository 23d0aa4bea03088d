"""/tinhhinh and /xephang: where a unit stands now (SPEC §3.2).

In a group, only people below the staff quota are ever named, and only to admins; everyone else
sees counts and their own state. Party members' names appear only in an own admin's private chat.
"""

from __future__ import annotations

from bot.domain import texts_vi
from bot.domain.periods import parse_period
from bot.domain.ranking import name_key, top_members
from bot.domain.types import Period, Segment, SendText
from handlers import direct
from handlers.context import Context
from handlers.scope import is_admin_of, is_own_admin, record_chat_admin, resolve_unit
from handlers.views import SubtreeView, build_view, mention_list
from storage.models import Unit

STATUS_PERIODS = ("tuan", "thang")
RANKING_PERIODS = ("tuan", "thang", "hocky", "namhoc")


def _period(ctx: Context, args: tuple[str, ...], allowed: tuple[str, ...]) -> Period | None:
    if not args:
        return parse_period("tuan", ctx.now, ctx.tz, ctx.config.calendar)
    try:
        period = parse_period(args[0], ctx.now, ctx.tz, ctx.config.calendar)
    except ValueError:
        period = None
    kinds = {"tuan": "week", "thang": "month", "hocky": "semester", "namhoc": "school_year"}
    if period is None or period.kind.value not in {kinds[a] for a in allowed} or len(args) > 1:
        ctx.reply(texts_vi.bad_period_arg(" ".join(args)[:40], " | ".join(allowed)))
        return None
    return period


def unit_lines(view: SubtreeView, unit: Unit, chat_members: int | None = None) -> list[str]:
    """The unit's own figures (page posts against its own type's target; its people)."""
    fig = view.rollup[unit.id]
    lines = [texts_vi.status_head(unit.name, view.label)]
    if view.holiday:
        lines.append(texts_vi.HOLIDAY_PERIOD)
        return lines
    lines.append(texts_vi.page_posts_line(fig.page_posts, fig.page_target))
    if fig.expected == 0:
        lines.append(texts_vi.NOBODY_EXPECTED)
    else:
        lines.append(texts_vi.shared_line(fig.shared, fig.expected))
        if view.rules.staff_weekly > 0:
            lines.append(texts_vi.met_line(fig.met, fig.expected))
    focus = view.focus_figures(unit.id)
    if focus.applies and focus.expected:  # only while focus items are set (SPEC §3.2 /tieudiem)
        lines.append(texts_vi.focus_line(focus.done, focus.expected))
    if unit.staff:
        # The headcount is the unit's own staff: set against its own people, not its subtree's.
        lines.append(texts_vi.joined_line(view.own[unit.id].known, unit.staff, chat_members))
    return lines


def children_lines(view: SubtreeView, unit: Unit) -> list[str]:
    kids = view.children.get(unit.id, [])
    if not kids:
        return []
    lines = [texts_vi.CHILDREN_HEAD]
    ranked = sorted(kids, key=lambda i: (not view.has_group_below(i), view.rollup[i].expected == 0,
                                         name_key(view.units[i].name)))
    for uid in ranked:
        child, fig = view.units[uid], view.rollup[uid]
        if not view.has_group_below(uid):
            lines.append(texts_vi.child_line_empty(child.name, texts_vi.NO_GROUP))
        elif fig.expected == 0:
            lines.append(texts_vi.child_line_empty(child.name, texts_vi.NO_PEOPLE))
        else:
            lines.append(texts_vi.child_line(child.name, fig.page_posts, fig.page_target, fig.shared,
                                             fig.met, fig.expected))
    return lines


async def _view_for(ctx: Context, args: tuple[str, ...], allowed: tuple[str, ...]) -> SubtreeView | None:
    """The unit and period a command names, judged; None after replying why not."""
    await record_chat_admin(ctx)
    unit, rest = await resolve_unit(ctx, args)
    if unit is None:
        return None
    period = _period(ctx, rest, allowed)
    if period is None:
        return None
    return await build_view(ctx.uow, ctx.config, unit, period, ctx.now)


async def cmd_tinhhinh(ctx: Context, args: tuple[str, ...]) -> None:
    """/tinhhinh [tuan|thang]: the unit now, and for admins who has not yet."""
    view = await _view_for(ctx, args, STATUS_PERIODS)
    if view is None:
        return
    unit, period = view.root, view.tl.period
    in_group = ctx.msg.chat.is_group
    community = in_group and ctx.group is not None and ctx.group.community
    admin = await is_admin_of(ctx, unit)
    members = ctx.chat_member_count if admin and in_group and ctx.group and ctx.group.unit_id == unit.id else None
    parts: list[Segment] = ["\n".join(unit_lines(view, unit, members))]
    fig = view.rollup[unit.id]
    if not view.holiday and fig.party_expected:
        parts.append("\n" + texts_vi.party_line(fig.party_met, fig.party_expected))
    kids = children_lines(view, unit)
    if kids:
        parts.append("\n" + "\n".join(kids))
    if not view.holiday and not community and view.rules.staff_weekly > 0:
        laggards = view.laggards(unit.id)
        if admin and laggards:
            parts.append("\n" + texts_vi.laggards_line(len(laggards)))
            parts.extend(mention_list(laggards, ctx.msg.chat.platform, mention=in_group))
        elif not admin and ctx.person is not None and ctx.person.id in view.results:
            # Their own state, without their name: a group learns nothing about the asker.
            result = view.results[ctx.person.id]
            parts.append("\n" + texts_vi.own_state(result.week_links[-1] if period.kind.value == "week"
                                                   else result.links,
                                                   view.rules.staff_weekly if period.kind.value == "week" else 0))
    if admin and not in_group and not view.holiday:
        # Whom Zalo refused direct messages (SPEC §3.6); in a private chat only, where naming
        # people beyond the laggards tells no group anything.
        unreachable = await direct.unreachable_names(ctx.uow, view, unit)
        if unreachable:
            parts.append("\n" + texts_vi.unreachable_line(unreachable))
    if not in_group and not view.holiday and await is_own_admin(ctx, unit):
        names = [p.name for p in view.party_shortfalls(unit.id)]
        if names:
            parts.append("\n" + texts_vi.party_laggards_private(unit.name, names))
    ctx.out.append(SendText(ctx.msg.chat, tuple(parts), reply_to=ctx.msg.message_id))


def ranking_parts(view: SubtreeView, unit: Unit, *, top: int = 10) -> list[str]:
    """The leaderboard: child units first, one a line, no person's name on them; then top
    members by links (never by party membership); the party figure as a count."""
    lines = [texts_vi.ranking_head(unit.name, view.label)]
    if view.holiday:
        lines.append(texts_vi.HOLIDAY_PERIOD)
        return lines
    ranked = view.ranked_children(unit.id)
    for r in ranked:
        f = r.figures
        if r.rank is None:
            reason = texts_vi.NO_GROUP if not view.has_group_below(r.item.id) else texts_vi.NO_PEOPLE
            lines.append(texts_vi.unranked_line(r.item.name, reason))
        else:
            lines.append(texts_vi.ranked_line(r.rank, r.item.name, f.met, f.expected, f.page_posts, f.page_target))
    fig = view.rollup[unit.id]
    if not ranked:
        lines.append(texts_vi.page_posts_line(fig.page_posts, fig.page_target))
        if fig.expected:
            lines.append(texts_vi.leaderboard_own_line(fig.shared, fig.met, fig.expected))
    tops = top_members([(p, view.results[p.person_id].links) for p in view.people_below(unit.id)], top,
                       name_of=lambda p: name_key(p.name))
    if tops:
        lines.append(texts_vi.TOP_MEMBERS_HEAD)
        lines += [texts_vi.top_member_line(t.rank, t.item.name, t.links) for t in tops]
    elif not ranked:
        lines.append(texts_vi.NO_LINKS_YET)
    focus = view.focus_figures(unit.id)
    if focus.applies and focus.expected:
        lines.append(texts_vi.focus_line(focus.done, focus.expected))
    if fig.party_expected:
        lines.append(texts_vi.party_line(fig.party_met, fig.party_expected))
    return lines


async def cmd_xephang(ctx: Context, args: tuple[str, ...]) -> None:
    """/xephang [tuan|thang|hocky|namhoc]: child units ranked fairly, then the most active people."""
    view = await _view_for(ctx, args, RANKING_PERIODS)
    if view is not None:
        ctx.reply("\n".join(ranking_parts(view, view.root)))
