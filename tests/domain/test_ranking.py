"""Leaderboards (SPEC §3.2 /xephang, §3.3): fair to units of every size, ties share a rank."""

from __future__ import annotations

import random

import pytest

from bot.domain.quotas import UnitFigures
from bot.domain.ranking import name_key, rank_units, top_members


def fig(met: int, expected: int, *, pages: tuple[int, int] = (1, 1), links: int | None = None,
        party: tuple[int, int] = (0, 0)) -> UnitFigures:
    """A unit's figures: ``met`` of ``expected`` people, page posts against target, links
    (by default one per person who met), party members meeting quota against party members."""
    return UnitFigures(
        expected=expected, shared=met, met=met, party_met=party[0], party_expected=party[1],
        links=met if links is None else links, page_posts=pages[0], page_target=pages[1], known=expected,
    )


def ranking(rows) -> list[tuple[str, int | None]]:
    return [(r.item, r.rank) for r in rank_units(rows, name_of=name_key)]


RANK_CASES = [
    ("ties share a rank: 1, 1, 3",
     [("A", fig(5, 10), True), ("B", fig(5, 10), True), ("C", fig(3, 10), True)],
     [("A", 1), ("B", 1), ("C", 3)]),
    ("a unit of 3 with 3/3 ranks above a unit of 80 with 79/80",
     [("Lớn", fig(79, 80, links=500), True), ("Nhỏ", fig(3, 3), True)],
     [("Nhỏ", 1), ("Lớn", 2)]),
    ("3/3 and 80/80 share the share; links per person decide, not raw links",
     [("Lớn", fig(80, 80, links=100), True), ("Nhỏ", fig(3, 3, links=6), True)],
     [("Nhỏ", 1), ("Lớn", 2)]),
    ("1/3 and 2/6 are the same share (exact fractions)",
     [("A", fig(1, 3, links=3), True), ("B", fig(2, 6, links=6), True)],
     [("A", 1), ("B", 1)]),
    ("equal shares: page posts against target next",
     [("A", fig(5, 10, pages=(0, 1), links=50), True), ("B", fig(5, 10, pages=(1, 1)), True)],
     [("B", 1), ("A", 2)]),
    ("page posts: an office's 2/3 is below a school's 1/1",
     [("Phòng", fig(4, 4, pages=(2, 3)), True), ("Trường", fig(4, 4, pages=(1, 1)), True)],
     [("Trường", 1), ("Phòng", 2)]),
    ("page posts beyond the target earn nothing more: links decide",
     [("A", fig(4, 4, pages=(5, 1), links=4), True), ("B", fig(4, 4, pages=(1, 1), links=8), True)],
     [("B", 1), ("A", 2)]),
    ("page posts beyond the target: a full tie",
     [("A", fig(4, 4, pages=(5, 1)), True), ("B", fig(4, 4, pages=(1, 1)), True)],
     [("A", 1), ("B", 1)]),
    ("a target of 0 (holiday weeks, a type without pages) counts as met",
     [("A", fig(2, 2, pages=(0, 0)), True), ("B", fig(2, 2, pages=(1, 1)), True)],
     [("A", 1), ("B", 1)]),
    ("no group, or nobody expected: last, unranked, in name order",
     [("Yên", fig(0, 0), True), ("An", fig(3, 3), False), ("Cư", fig(1, 9), True), ("Bình", fig(9, 9), True)],
     [("Bình", 1), ("Cư", 2), ("An", None), ("Yên", None)]),
    ("nobody rankable",
     [("B", fig(0, 0), True), ("A", fig(1, 1), False)],
     [("A", None), ("B", None)]),
    ("ties are listed in Vietnamese name order: Đào among the D's",
     [("Yến", fig(1, 1), True), ("Dung", fig(1, 1), True), ("Đào", fig(1, 1), True), ("An", fig(0, 1), True)],
     [("Đào", 1), ("Dung", 1), ("Yến", 1), ("An", 4)]),
    ("party figures never enter a ranking",
     [("A", fig(1, 2, party=(0, 1)), True), ("B", fig(1, 2, party=(1, 1)), True)],
     [("A", 1), ("B", 1)]),
    ("four with a tie in the middle: 1, 2, 2, 4",
     [("A", fig(9, 9), True), ("B", fig(5, 9), True), ("C", fig(5, 9), True), ("D", fig(1, 9), True)],
     [("A", 1), ("B", 2), ("C", 2), ("D", 4)]),
]


@pytest.mark.parametrize("rows, want", [c[1:] for c in RANK_CASES], ids=[c[0] for c in RANK_CASES])
def test_rank_units(rows, want) -> None:
    assert ranking(rows) == want
    # The order the rows come in changes nothing.
    shuffled = list(rows)
    random.Random(7).shuffle(shuffled)
    assert ranking(shuffled) == want


def test_ranked_rows_carry_their_figures() -> None:
    a, b = fig(1, 1), fig(0, 0)
    out = rank_units([("A", a, True), ("B", b, True)])
    assert [(r.item, r.figures, r.rank) for r in out] == [("A", a, 1), ("B", b, None)]


TOP_CASES = [
    ("by links, ties share a rank, then by name",
     [("Yến", 3), ("An", 5), ("Đào", 3), ("Dung", 3), ("Bình", 1)], 10,
     [("An", 5, 1), ("Đào", 3, 2), ("Dung", 3, 2), ("Yến", 3, 2), ("Bình", 1, 5)]),
    ("nobody with no link",
     [("An", 0), ("Bình", 2), ("Cư", 0)], 10,
     [("Bình", 2, 1)]),
    ("no links at all: nobody",
     [("An", 0), ("Bình", 0)], 10,
     []),
    ("the limit",
     [("A", 5), ("B", 4), ("C", 3), ("D", 2)], 2,
     [("A", 5, 1), ("B", 4, 2)]),
    ("the limit is a number of lines even when a tie crosses it",
     [("A", 5), ("B", 4), ("C", 4), ("D", 4), ("E", 3)], 3,
     [("A", 5, 1), ("B", 4, 2), ("C", 4, 2)]),
    ("a school where everyone did the weekly minimum: ten lines, not fifty",
     [("Top", 3)] + [(f"Người {i:02d}", 1) for i in range(49)], 10,
     [("Top", 3, 1)] + [(f"Người {i:02d}", 1, 2) for i in range(9)]),
]


@pytest.mark.parametrize("rows, limit, want", [c[1:] for c in TOP_CASES], ids=[c[0] for c in TOP_CASES])
def test_top_members(rows, limit, want) -> None:
    got = top_members(rows, limit, name_of=name_key)
    assert [(t.item, t.links, t.rank) for t in got] == want
    assert len(got) <= limit


@pytest.mark.parametrize(
    "names, want",
    [
        (["Yến", "Đào", "Dung", "An", "Định"], ["An", "Đào", "Định", "Dung", "Yến"]),
        # Letters first, diacritics and case only after: "Đa" < "dam" < "Dung", "Ân" < "Anh".
        (["Dung", "dam", "Đa"], ["Đa", "dam", "Dung"]),
        (["Bảo", "Anh", "Ân"], ["Ân", "Anh", "Bảo"]),
        # Decomposed input (as some keyboards send it) sorts like the composed one.
        (["Yến", "E\u0301nh", "Dung"], ["Dung", "E\u0301nh", "Yến"]),
    ],
)
def test_name_key(names, want) -> None:
    assert sorted(names, key=name_key) == want


def test_top_members_equals_sorting_everyone() -> None:
    """Only the people at or above the limit-th count are sorted by name: the result must be what
    sorting everyone gives, ties at the cut included."""
    rng = random.Random(21)
    names = ["An", "Bình", "Chi", "Dũng", "Đào", "Hà", "Lan", "Minh", "Nga", "Yến"]
    for _ in range(300):
        rows = [(f"{rng.choice(names)} {i:03d}", rng.choice([0, 0, 1, 1, 1, 2, 2, 3, 5])) for i in range(rng.randint(0, 60))]
        limit = rng.randint(1, 12)
        everyone = sorted((r for r in rows if r[1] > 0), key=lambda r: (-r[1], name_key(r[0])))
        want, rank, previous = [], 0, None
        for position, (item, links) in enumerate(everyone, start=1):
            if links != previous:
                rank, previous = position, links
            if len(want) >= limit:
                break
            want.append((item, links, rank))
        assert [(t.item, t.links, t.rank) for t in top_members(rows, limit, name_of=name_key)] == want
