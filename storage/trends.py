"""Week-by-week tallies of one subtree for the dashboard's trend (SPEC §3.8): three set-based
queries whatever the number of weeks, units and people — never one view per week."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.types import Period
from storage.models import Leave, Member, Person, Submission, Unit
from storage.subtree import in_subtree


@dataclass
class WeeklyPerson:
    person_id: int
    unit_id: int
    party_member: bool
    joined: datetime
    leaves: list[tuple[date, date]] = field(default_factory=list)
    week_links: list[int] = field(default_factory=list)


async def weekly_links(session: AsyncSession, root: Unit, weeks: Sequence[Period]) -> dict[int, WeeklyPerson]:
    """The subtree's expected people (as storage.tallies counts them: an active account, home unit
    in the subtree) with their links in each of ``weeks`` (oldest first, consecutive) and leaves."""
    in_tree = in_subtree(Unit.path, root.path)
    start, end = weeks[0].start, weeks[-1].end
    people: dict[int, WeeklyPerson] = {}
    for pid, unit_id, party, created in (await session.execute(
        select(Person.id, Person.home_unit_id, Person.party_member, Person.created_at)
        .join(Unit, Unit.id == Person.home_unit_id)
        .where(in_tree, Person.created_at < end,
               Person.id.in_(select(Member.person_id).where(Member.active.is_(True))))
    )).all():
        people[pid] = WeeklyPerson(pid, unit_id, bool(party), created, [], [0] * len(weeks))

    week_no = case(*[(Submission.created_at < w.end, i) for i, w in enumerate(weeks)])
    for pid, i, n in (await session.execute(
        select(Submission.person_id, week_no.label("w"), func.count())
        .join(Person, Person.id == Submission.person_id)
        .join(Unit, Unit.id == Person.home_unit_id)
        .where(in_tree, Submission.withdrawn_at.is_(None), Submission.created_at >= start,
               Submission.created_at < end)
        .group_by(Submission.person_id, "w")
    )).all():
        if pid in people and i is not None:
            people[pid].week_links[int(i)] = int(n)

    leaves: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for pid, lo, hi in (await session.execute(
        select(Leave.person_id, Leave.first_day, Leave.last_day)
        .join(Person, Person.id == Leave.person_id)
        .join(Unit, Unit.id == Person.home_unit_id)
        .where(in_tree, Leave.last_day >= weeks[0].first_day, Leave.first_day <= weeks[-1].last_day)
    )).all():
        if pid in people:
            people[pid].leaves.append((lo, hi))
    return people
