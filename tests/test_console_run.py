"""The console's `:run`: the scheduled job fires at the simulated clock, exactly as its trigger
would, and every message it causes is printed before the next line is read (SPEC §4.3)."""

from __future__ import annotations

import io
from dataclasses import replace

from bot.app import run_console
from bot.config import ScheduleSection, default_config
from bot.domain.periods import week_of
from bot.domain.types import SendText
from handlers import rhythm
from handlers.rhythm import PlannedSend


async def console(script: str, config=None) -> list[str]:
    out = io.StringIO()
    code = await run_console(config or default_config(), demo=True, stdin=io.StringIO(script), stdout=out)
    assert code == 0
    return out.getvalue().splitlines()


def fake_compose(monkeypatch, calls):
    """One line per group of the console, naming the period: the timing is what is tested here."""
    from sqlalchemy import select

    from bot.domain.types import ChatKind, ChatRef
    from storage.models import Group

    async def compose(uow, config, kind, now, *, subtree=None, groups_only=False):
        calls.append((kind, now))
        groups = (await uow.session.execute(select(Group).order_by(Group.id))).scalars().all()
        key = week_of(now, config.bot.tz).key
        return [PlannedSend(ChatRef(g.platform, g.chat_id, ChatKind.GROUP), kind, key,
                            (SendText.of(ChatRef(g.platform, g.chat_id, ChatKind.GROUP), f"{kind} {key}\ndòng 2"),))
                for g in groups]

    monkeypatch.setattr(rhythm, "compose", compose)


async def test_run_prints_every_message_before_the_next_line_and_only_a_console_summary(monkeypatch):
    calls: list = []
    fake_compose(monkeypatch, calls)
    lines = await console(":group THCS-VUBAN\n:group THCS-KIMBOI\n:time 2026-11-27 15:00\n:run reminder\n"
                          ":run reminder\n/toi\n")
    assert lines[:6] == [
        "bot> reminder 2026-W48",
        "bot> dòng 2",
        "bot> [THCS-VUBAN] reminder 2026-W48",
        "bot> [THCS-VUBAN] dòng 2",
        "console> nhắc việc tuần: đã gửi 2 tin.",
        # The same job again: every chat already had it.
        "console> nhắc việc tuần: các tin của kỳ này đã gửi trước đó, không gửi lại.",
    ]
    assert lines[6].startswith("bot> 📊")  # /toi is answered after the job's output
    assert [kind for kind, _ in calls] == ["reminder", "reminder"]


async def test_run_uses_the_simulated_clock_and_moving_time_alone_runs_nothing(monkeypatch):
    calls: list = []
    fake_compose(monkeypatch, calls)
    lines = await console(":time 2026-11-25 10:00\n:time 2026-11-27 15:00\n:time 2026-11-30 08:00\n:run leaderboard\n")
    assert len(calls) == 1
    kind, now = calls[0]
    assert kind == "leaderboard"
    assert now.isoformat() == "2026-11-30T01:00:00+00:00"  # 08:00 in Hà Nội
    assert lines[-1] == "console> bảng xếp hạng tuần: đã gửi 1 tin."


async def test_run_with_an_unknown_job_is_one_console_line(monkeypatch):
    calls: list = []
    fake_compose(monkeypatch, calls)
    lines = await console(":run\n:run weekly\n")
    assert lines == [
        "console> không hiểu: :run — viết :run reminder, :run leaderboard, :run monthly hoặc :run setup",
        "console> không hiểu: :run weekly — viết :run reminder, :run leaderboard, :run monthly hoặc :run setup",
    ]
    assert calls == []


async def test_run_of_a_job_that_is_off_says_so(monkeypatch):
    calls: list = []
    fake_compose(monkeypatch, calls)
    cfg = default_config()
    cfg = replace(cfg, schedule=ScheduleSection(monthly_check=None))
    lines = await console(":run monthly\n", cfg)
    assert lines == ["console> kiểm tra đảng viên cuối tháng: đang tắt trong [schedule] nên không chạy."]
    assert calls == []


async def test_run_with_nothing_to_say(monkeypatch):
    async def compose(uow, config, kind, now, **kw):
        return []

    monkeypatch.setattr(rhythm, "compose", compose)
    assert await console(":run reminder\n") == ["console> nhắc việc tuần: không có tin nào cần gửi."]


async def test_the_real_reminder_names_the_laggard_in_the_console():
    lines = await console(":time 2026-11-26 09:00\n:as Nguyễn Thị Lan\nchào cả nhà\n:time 2026-11-27 15:00\n"
                          ":run reminder\n")
    out = "\n".join(lines)
    assert "@Nguyễn Thị Lan" in out
    assert lines[-1].startswith("console> nhắc việc tuần: đã gửi")
