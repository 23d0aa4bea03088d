"""A person's own view: /toi, and the greeting and help (/batdau, /huongdan)."""

from __future__ import annotations

from bot.domain import texts_vi
from bot.domain.periods import is_holiday_week, month_of, party_monthly_target
from bot.domain.quotas import on_leave, streak, weekly_tallies, weeks_back
from handlers.context import Context

# How far back a streak of met weeks is looked for: a school year and a half.
STREAK_WEEKS = 60


async def cmd_help(ctx: Context) -> None:
    """/batdau, /huongdan: what the bot does, in three lines, and the commands."""
    q = ctx.config.quotas
    ctx.reply(texts_vi.help_text(q.staff_weekly, q.max_links_per_message))


async def cmd_toi(ctx: Context) -> None:
    """/toi: my links this week and month, my quota status, my streak of weeks met."""
    person, member = ctx.person, ctx.member
    if person is None or member is None:
        return
    cfg, tz = ctx.config, ctx.tz
    weeks = weeks_back(ctx.now, tz, STREAK_WEEKS)
    week, month = weeks[0], month_of(ctx.now, tz)
    start = min(weeks[-1].start, month.start)
    times = await ctx.uow.submissions.times_for_person(person.id, start, max(week.end, month.end))
    tallies = weekly_tallies(times, weeks, cfg.calendar)
    month_count = sum(1 for t in times if month.contains(t))
    unit = await ctx.uow.units.get(person.home_unit_id) if person.home_unit_id else None
    leaves = await ctx.uow.leaves.for_person(person.id, weeks[-1].first_day, max(week.last_day, month.last_day))
    leave = max((hi for lo, hi in leaves if on_leave(week, lo, hi)), default=None)
    party = None
    # Party figures only in the private chat: a group must never learn who is a party member.
    if person.party_member and not ctx.msg.chat.is_group:
        party = (
            tallies[0].count,
            cfg.quotas.party_weekly,
            month_count,
            party_monthly_target(cfg.quotas.party_monthly, month, tz, cfg.calendar),
        )
    target = max(cfg.quotas.staff_weekly, cfg.quotas.party_weekly if person.party_member else 0)
    ctx.reply(texts_vi.my_status(
        name=member.display_name,
        unit_name=unit.name if unit else None,
        week_first=week.first_day,
        week_last=week.last_day,
        week_count=tallies[0].count,
        month_label=texts_vi.month_label(month.first_day.year, month.first_day.month),
        month_count=month_count,
        staff_weekly=cfg.quotas.staff_weekly,
        holiday_week=is_holiday_week(week, cfg.calendar),
        leave_until=leave,
        streak=streak(tallies, cfg.quotas.staff_weekly if ctx.msg.chat.is_group else target, week.key, leaves),
        party=party,
    ))
