"""Charts people would rather look at than read (SPEC §3.5 and issue 16): the Monday leaderboard's
bar chart of the child units' completion.

matplotlib is imported inside the functions, through its object-oriented API and the Agg canvas
(no pyplot, no GUI back-end, no global state shared between concurrent charts): the running bot
pays for it only when it draws its first chart. The labels use DejaVu Sans, which ships with
matplotlib and has every Vietnamese letter; nothing is fetched from the internet.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Sequence

FONT = "DejaVu Sans"
MAX_BARS = 40  # a department with more children gets the first 40 (the leaderboard's top)
MAX_LABEL = 38


@dataclass(frozen=True)
class Bar:
    label: str
    done: int
    total: int

    @property
    def share(self) -> float:
        return self.done / self.total if self.total else 0.0


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def completion_figure(title: str, bars: Sequence[Bar], axis_label: str):
    """A horizontal bar per unit, first at the top, its share as a percentage and ``done/total``."""
    from matplotlib.figure import Figure

    bars = list(bars)[:MAX_BARS]
    height = 1.4 + 0.38 * max(len(bars), 1)
    fig = Figure(figsize=(9.0, height), dpi=100)
    ax = fig.add_subplot()
    labels = [_short(b.label) for b in bars]
    shares = [100 * b.share for b in bars]
    positions = list(range(len(bars)))
    ax.barh(positions, shares, color="#2E75B6", height=0.6)
    ax.set_yticks(positions, labels, fontfamily=FONT, fontsize=9)
    ax.invert_yaxis()  # the first unit at the top, as in the message
    ax.set_xlim(0, 110)
    ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"], fontfamily=FONT, fontsize=8)
    ax.set_xlabel(axis_label, fontfamily=FONT, fontsize=9)
    # A figure title from the left edge: the axes' own title is clipped by long unit names.
    fig.suptitle(title, x=0.01, ha="left", fontfamily=FONT, fontsize=11)
    for y, b, share in zip(positions, bars, shares):
        ax.text(share + 1, y, f"{round(share)}% ({b.done}/{b.total})", va="center", fontfamily=FONT, fontsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def completion_chart(title: str, bars: Sequence[Bar], axis_label: str) -> bytes:
    """The chart as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = completion_figure(title, bars, axis_label)
    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
