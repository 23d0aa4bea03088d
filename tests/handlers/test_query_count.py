"""Views over a subtree use a fixed number of queries whatever the number of units and people
(issue 14 item 6): /tinhhinh and /xephang for the department, and composing every group's Friday
reminder and Monday leaderboard, over 60 schools with 1,000 and then 2,000 people."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import event, insert, select

from bot.unitfile import parse_units_csv
from handlers.rhythm import compose
from handlers.units import import_units
from storage.models import Group, GroupMembership, Member, Person, Submission, Unit

SCHOOLS = 60


async def grow(harness, people: int, start: int = 0) -> None:
    """60 schools under the two offices, each with a bound group; ``people`` teachers spread over
    them, about a third party members, each with a few links over the last two weeks."""
    now = harness.clock.now()
    async with harness.storage.uow() as uow:
        if await uow.units.by_code("S-00") is None:
            csv = "code,name,type,parent\n" + "".join(
                f"S-{i:02d},Trường số {i},school,{'PGD-KIMBOI' if i % 2 else 'PGD-LACSON'}\n" for i in range(SCHOOLS))
            result = await import_units(uow, parse_units_csv(csv.encode()), harness.dispatcher.config.unit_types.keys(),
                                        now, random.Random(1))
            assert not result.errors
            await uow.session.flush()
            units = (await uow.session.execute(select(Unit).where(Unit.code.like("S-%")))).scalars().all()
            await uow.session.execute(insert(Group), [
                dict(platform="test", chat_id=f"g-{u.code}", title=u.name, unit_id=u.id, community=False, active=True,
                     can_read=True, bound_at=now, created_at=now) for u in units])
        units = (await uow.session.execute(select(Unit).where(Unit.code.like("S-%")).order_by(Unit.code))).scalars().all()
        groups = {g.unit_id: g.id for g in (await uow.session.execute(select(Group))).scalars()}
        rng = random.Random(start)
        for i in range(start, start + people):
            unit = units[i % len(units)]
            person = Person(home_unit_id=unit.id, home_unit_explicit=False, party_member=i % 3 == 0,
                            created_at=now - timedelta(days=30))
            uow.session.add(person)
            await uow.session.flush()
            member = Member(person_id=person.id, platform="test", user_id=f"p{i}", display_name=f"Người {i}",
                            active=True, unreachable=False, created_at=person.created_at, last_seen_at=now)
            uow.session.add(member)
            await uow.session.flush()
            uow.session.add(GroupMembership(group_id=groups[unit.id], member_id=member.id, active=True,
                                            first_seen_at=now, last_seen_at=now))
            for k in range(rng.randrange(0, 4)):
                uow.session.add(Submission(
                    person_id=person.id, member_id=member.id, unit_id=unit.id, group_id=groups[unit.id],
                    chat_platform="test", chat_id=f"g-{unit.code}", message_id=f"m{i}-{k}",
                    original_url=f"https://youtu.be/v{i}x{k}", canonical_url=f"https://www.youtube.com/watch?v=v{i}x{k}",
                    link_platform="youtube", is_page_post=False, created_at=now - timedelta(days=rng.randrange(0, 14))))
        await uow.session.flush()


class QueryCounter:
    def __init__(self, engine) -> None:
        self.engine = engine.sync_engine
        self.count = 0

    def _on(self, *args) -> None:
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on)


async def measure(harness) -> dict[str, int]:
    officer = harness.user("Sở", "so")
    private = harness.private(officer)
    counts = {}
    for command in ("/tinhhinh", "/xephang", "/xephang thang"):
        with QueryCounter(harness.storage.engine) as q:
            await harness.send(private, officer, command)
        counts[command] = q.count
    for kind in ("reminder", "leaderboard"):
        with QueryCounter(harness.storage.engine) as q:
            async with harness.storage.uow() as uow:
                plans = await compose(uow, harness.dispatcher.config, kind, harness.clock.now())
        counts[kind] = q.count
        assert len(plans) >= SCHOOLS
    return counts


async def test_views_over_the_province_take_a_fixed_number_of_queries(harness):
    officer = harness.user("Sở", "so")
    _, admin_code = await harness.codes("SGD-HOABINH")
    await harness.send(harness.private(officer), officer, f"/dangky {admin_code}")
    await grow(harness, 1000)
    first = await measure(harness)
    await grow(harness, 1000, start=1000)
    second = await measure(harness)
    assert first == second
    assert max(second.values()) <= 16, second
