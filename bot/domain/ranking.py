"""Leaderboards (SPEC §3.2 /xephang, §3.3): fair to units of every size. Pure functions.

Units are ranked by the share of their expected people who met the staff quota (a school of 3
where all 3 did it ranks above a school of 80 where 79 did), then by page posts against the
target, then by links per expected person (raw links would let the big units win on size).
Ties share a rank (1, 1, 3). Units that cannot be judged — no bound group, or nobody expected —
are listed last, unranked ("—"). Party figures never enter a ranking: leaderboards are posted in
groups, and a group message must not change with who is a party member (SPEC §3.4).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, Sequence, TypeVar

from bot.domain.quotas import UnitFigures

T = TypeVar("T")


@dataclass(frozen=True)
class Ranked(Generic[T]):
    item: T
    figures: UnitFigures
    rank: int | None  # None: unranked ("—")


def _ratio(a: int, b: int) -> Fraction:
    if b <= 0:
        return Fraction(1) if a >= 0 else Fraction(0)
    return Fraction(min(a, b), b)  # beyond the target earns nothing more than meeting it


def sort_key(f: UnitFigures) -> tuple[Fraction, Fraction, Fraction]:
    """Exact fractions, so that 1/3 and 2/6 tie instead of differing in the last float bit."""
    return (
        Fraction(f.met, f.expected) if f.expected else Fraction(0),
        _ratio(f.page_posts, f.page_target),
        Fraction(f.links, f.expected) if f.expected else Fraction(0),
    )


def rank_units(rows: Sequence[tuple[T, UnitFigures, bool]], name_of=str) -> list[Ranked[T]]:
    """``rows``: (unit, figures, rankable). Best first; unrankable ones last, in name order."""
    judged = [(item, fig) for item, fig, ok in rows if ok and fig.expected > 0]
    rest = [(item, fig) for item, fig, ok in rows if not (ok and fig.expected > 0)]
    judged.sort(key=lambda pair: (tuple(-x for x in sort_key(pair[1])), name_of(pair[0])))
    out: list[Ranked[T]] = []
    previous = None
    rank = 0
    for position, (item, fig) in enumerate(judged, start=1):
        key = sort_key(fig)
        if key != previous:
            rank, previous = position, key
        out.append(Ranked(item, fig, rank))
    rest.sort(key=lambda pair: name_of(pair[0]))
    out.extend(Ranked(item, fig, None) for item, fig in rest)
    return out


@dataclass(frozen=True)
class TopMember(Generic[T]):
    item: T
    links: int
    rank: int


def top_members(rows: Sequence[tuple[T, int]], limit: int = 10, name_of=str) -> list[TopMember[T]]:
    """The people with the most links (at least one), ties sharing a rank, then by name; at most
    ``limit`` of them: with a weekly quota of 1 most of a school ties, and a "top 10" that named
    the 40 people tied at rank 2 would be a roll-call posted in the group."""
    counted = [r for r in rows if r[1] > 0]
    if len(counted) > limit:
        # Only those with at least the limit-th highest count can be shown (ties at the cut are
        # all kept, their names decide): a department's 18,000 names are never folded for ten.
        cut = heapq.nlargest(limit, (links for _, links in counted))[-1]
        counted = [r for r in counted if r[1] >= cut]
    ranked = sorted(counted, key=lambda r: (-r[1], name_of(r[0])))
    out: list[TopMember[T]] = []
    rank, previous = 0, None
    for position, (item, links) in enumerate(ranked, start=1):
        if links != previous:
            rank, previous = position, links
        if len(out) >= limit:
            break
        out.append(TopMember(item, links, rank))
    return out


def name_key(name: str) -> tuple[str, str, str]:
    """Vietnamese alphabetical order, as a school's lists are kept: by the given name (the last
    word: "Nguyễn Thị Lan" files under L), then the whole name; letters compared without their
    diacritics first (so "Đào" sits among the D's, not after "Yến"), then with them."""
    import unicodedata

    folded = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    base = "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold()
    words = base.split()
    return (words[-1] if words else "", base, unicodedata.normalize("NFC", name))
