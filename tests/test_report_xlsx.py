"""The streamed sheet's XML: what a hostile or odd link or name cannot do to the workbook."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import openpyxl

from bot.report_xlsx import HEADER_ROWS, Column, ReportWriter, SheetFiller

COLUMNS = [Column("Thời gian", 17, "datetime"), Column("Tên", 20), Column("Số", 8, "int")]


def filled(rows, *, capacity: int = 100, expected: int | None = None) -> openpyxl.Workbook:
    package = io.BytesIO()
    writer = ReportWriter(package)
    members = writer.placeholders("Liên kết", "tiêu đề", COLUMNS, 1 if expected is None else -(-expected // capacity))
    writer.close()
    out = io.BytesIO()
    styles = {k: f.xf_index for k, f in writer.formats.items() if f is not None}
    filler = SheetFiller(package.getvalue(), out, members, COLUMNS, styles, capacity,
                         len(rows) if expected is None else expected)
    filler.write(rows, ZoneInfo("Asia/Ho_Chi_Minh"))
    filler.close()
    return openpyxl.load_workbook(out)


def test_texts_stay_texts_and_times_are_local():
    at = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
    wb = filled([
        (at, "=HYPERLINK(\"http://x\")", 3),
        (at, "  cách đầu & <cuối>  ", 4),
        (at, "điều\x00khiển\x1b", None),
        (at, "x" * 40_000, 5),
    ])
    ws = wb["Liên kết"]
    cells = [r for r in ws.iter_rows(min_row=HEADER_ROWS + 1, values_only=True)]
    assert cells[0] == (datetime(2026, 11, 27, 10, 0), "=HYPERLINK(\"http://x\")", 3)
    assert ws.cell(3, 2).data_type == "s"  # not a formula
    assert cells[1][1] == "  cách đầu & <cuối>  "
    assert cells[2][1:] == ("điềukhiển", None)
    assert len(cells[3][1]) == 32_767
    assert ws.cell(3, 1).number_format == "dd/mm/yyyy hh:mm"
    assert ws.freeze_panes == "A3" and ws["A1"].value == "tiêu đề"


def test_rows_beyond_the_counted_sheets_are_dropped_and_unfilled_sheets_keep_their_header():
    at = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
    wb = filled([(at, str(i), i) for i in range(5)], capacity=2, expected=4)
    assert wb.sheetnames == ["Liên kết", "Liên kết (2)"]
    assert [r[2] for r in wb["Liên kết (2)"].iter_rows(min_row=3, values_only=True)] == [2, 3]
    wb = filled([(at, "a", 1)], capacity=2, expected=6)
    assert [len(list(wb[n].iter_rows(min_row=3))) for n in wb.sheetnames] == [1, 0, 0]
    assert wb["Liên kết (3)"]["A2"].value == "Thời gian"


def test_epoch_seconds_are_shown_in_the_zone_with_or_without_a_fixed_offset():
    package = io.BytesIO()
    writer = ReportWriter(package)
    members = writer.placeholders("Liên kết", "t", COLUMNS, 1)
    writer.close()
    styles = {k: f.xf_index for k, f in writer.formats.items() if f is not None}
    out = io.BytesIO()
    filler = SheetFiller(package.getvalue(), out, members, COLUMNS, styles, 100, 3)
    epoch = datetime(2026, 3, 29, 3, 0, tzinfo=timezone.utc).timestamp()  # Paris: after the change to summer time
    filler.write([(epoch, "a", 1)], ZoneInfo("Asia/Ho_Chi_Minh"), utc_offset=7 * 3600)
    filler.write([(epoch, "b", 2)], ZoneInfo("Europe/Paris"))
    filler.close()
    times = [r[0] for r in openpyxl.load_workbook(out)["Liên kết"].iter_rows(min_row=3, values_only=True)]
    assert times == [datetime(2026, 3, 29, 10, 0), datetime(2026, 3, 29, 5, 0)]


def test_a_period_across_a_dst_change_has_no_fixed_offset():
    from bot.domain.periods import parse_period
    from handlers.reports import _fixed_offset

    now = datetime(2026, 3, 20, tzinfo=timezone.utc)
    paris, hanoi = ZoneInfo("Europe/Paris"), ZoneInfo("Asia/Ho_Chi_Minh")
    assert _fixed_offset(parse_period("2026-03", now, paris), paris) is None
    assert _fixed_offset(parse_period("namhoc", now, hanoi), hanoi) == 7 * 3600
