"""Focus completion per unit (SPEC §3.2 /tieudiem, §3.5 "Tóm tắt"): of the expected people to
whom some focus item applied in the period, how many shared one. Pure: it judges what
``storage.tallies.TallyRepository.focus`` read, beside the quota results of ``handlers.views``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from bot.domain.quotas import PersonResult
from storage.models import Unit
from storage.tallies import FocusFacts, PersonRow


@dataclass(frozen=True)
class FocusFigures:
    """``done``/``expected`` people; ``applies``: some focus item covered the unit (or, in a
    roll-up, a unit below it) in the period, so the figure is worth showing."""

    done: int = 0
    expected: int = 0
    applies: bool = False

    def plus(self, other: "FocusFigures") -> "FocusFigures":
        return FocusFigures(self.done + other.done, self.expected + other.expected, self.applies or other.applies)


def focus_figures(units: Mapping[int, Unit], children: Mapping[int | None, list[int]],
                  people: Mapping[int, PersonRow], results: Mapping[int, PersonResult],
                  facts: FocusFacts) -> tuple[dict[int, FocusFigures], dict[int, FocusFigures], set[int]]:
    """(own figures per unit, roll-up per unit, the people who shared a focus item).

    Expected: people not exempt for the period (as in every other figure) whose home unit had a
    focus item in at least one week of it. Done: of them, those who shared an item that applied
    to them in the week they shared it."""
    weeks = {uid: facts.weeks_for(u.path) for uid, u in units.items()} if facts.setters else {}
    done_people = {pid for pid, shared in facts.shared.items() if shared}
    done: dict[int, int] = {}
    expected: dict[int, int] = {}
    for pid, row in people.items():
        if not weeks.get(row.unit_id) or results[pid].exempt:
            continue
        expected[row.unit_id] = expected.get(row.unit_id, 0) + 1
        if pid in done_people:
            done[row.unit_id] = done.get(row.unit_id, 0) + 1
    own = {uid: FocusFigures(done.get(uid, 0), expected.get(uid, 0), bool(weeks.get(uid))) for uid in units}
    rollup: dict[int, FocusFigures] = {}
    for uid in sorted(units, key=lambda i: -units[i].depth):
        fig = own[uid]
        for child in children.get(uid, []):
            fig = fig.plus(rollup[child])
        rollup[uid] = fig
    return own, rollup, done_people & set(people)
