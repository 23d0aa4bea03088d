"""The leaderboard's chart: a valid PNG whose labels are the units' names with their diacritics,
drawn with a font that has every Vietnamese letter; a photo survives a claim's payload."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from bot.charts import Bar, completion_chart, completion_figure
from bot.domain.outbound_json import dump_actions, load_actions
from bot.domain.types import ChatKind, ChatRef, SendPhoto

NAMES = ["Trường THCS Kim Bôi", "Trường Tiểu học Hạ Bì", "Trường Mầm non Sơn Thủy — điểm Đồi Hoa Ban"]
BARS = [Bar(NAMES[0], 3, 4), Bar(NAMES[1], 1, 9), Bar(NAMES[2], 0, 5)]


def test_the_chart_is_a_png_with_the_units_names_in_rank_order():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font" would be a warning
        png = completion_chart("Tỷ lệ đạt chỉ tiêu — Phòng GD&ĐT Kim Bôi", BARS, "Tỷ lệ người đạt chỉ tiêu")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.format == "PNG" and image.size[0] >= 800


def test_labels_are_the_names_and_the_shares():
    fig = completion_figure("Tiêu đề", BARS, "trục")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == NAMES[:2] + ["Trường Mầm non Sơn Thủy — điểm Đồi Ho…"]
    assert [t.get_text() for t in ax.texts] == ["75% (3/4)", "11% (1/9)", "0% (0/5)"]
    assert ax.get_yticklabels()[0].get_fontfamily() == ["DejaVu Sans"]
    assert ax.yaxis_inverted()  # the first ranked unit at the top


def test_a_unit_with_nobody_expected_draws_an_empty_bar():
    assert Bar("x", 0, 0).share == 0.0
    assert completion_chart("t", [Bar("Trường A", 0, 0)], "a").startswith(b"\x89PNG")


def test_a_photo_survives_the_claim_payload():
    chat = ChatRef("telegram", "-100", ChatKind.GROUP, "Nhóm")
    photo = SendPhoto(chat, b"\x89PNG\r\n\x1a\nabc", "xephang.png", "chú thích", None)
    assert load_actions(dump_actions([photo])) == (photo,)
