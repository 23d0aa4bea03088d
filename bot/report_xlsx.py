"""Writing a report's sheets with XlsxWriter (SPEC §3.5): a title row naming the unit, the period
and when it was made, a frozen Vietnamese header, set column widths, typed cells.

XlsxWriter is imported only when a report is written (the running bot does not pay for it until
the first /baocao). ``constant_memory`` writes each row out as soon as the next one starts, so a
school year of a million links never sits in memory; it needs every sheet to be written row by
row, top to bottom, which is how the report is produced. Measured against openpyxl's write-only
mode in ``bench/report.py``.

Every text is written with ``write_string`` semantics (formulas, numbers and URLs are never read
into text): a link or a name starting with "=" stays text in Excel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any, Callable, Iterable, Sequence

# An Excel sheet holds at most 1,048,576 rows (SPEC §3.5: continue on "Liên kết (2)").
EXCEL_MAX_ROWS = 1_048_576
HEADER_ROWS = 2  # the title row and the header row


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    kind: str = "text"  # text | int | pct | date | datetime


class ReportWriter:
    """One workbook, written sheet after sheet."""

    def __init__(self, target: str | IO[bytes], *, max_rows: int = EXCEL_MAX_ROWS) -> None:
        import xlsxwriter  # lazily: the bot's memory does not pay for it until the first report

        if max_rows < HEADER_ROWS + 1:
            raise ValueError("max_rows must leave room for at least one row under the header")
        self.max_rows = max_rows
        self.wb = xlsxwriter.Workbook(target, {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "remove_timezone": True,
        })
        self.f_title = self.wb.add_format({"bold": True, "font_size": 13})
        self.f_header = self.wb.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                            "bg_color": "#DDEBF7", "border": 1})
        self.f_wrap = self.wb.add_format({"text_wrap": True, "valign": "top"})
        self.formats: dict[str, Any] = {
            "text": None,
            "int": None,
            "pct": self.wb.add_format({"num_format": "0.0%"}),
            "date": self.wb.add_format({"num_format": "dd/mm/yyyy"}),
            "datetime": self.wb.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
        }

    def summary(self, name: str, title: str, sentences: Sequence[str]) -> None:
        """A sheet of plain sentences, one a row, wide enough to read and copy."""
        ws = self.wb.add_worksheet(name)
        ws.set_column(0, 0, 110, self.f_wrap)
        ws.write_string(0, 0, title, self.f_title)
        for i, sentence in enumerate(sentences, start=2):
            ws.write_string(i, 0, sentence, self.f_wrap)

    def table(self, name: str, title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]],
              *, on_row: Callable[[], None] | None = None) -> int:
        """A table that continues on "<name> (2)", "<name> (3)"… when a sheet is full. Returns the
        number of rows written (headers not counted)."""
        part, ws, row = 1, self._start(name, title, columns), HEADER_ROWS
        kinds = [(c.kind, self.formats[c.kind]) for c in columns]
        written = 0
        for values in rows:
            if row >= self.max_rows:
                part += 1
                ws, row = self._start(f"{name} ({part})", title, columns), HEADER_ROWS
            for col, ((kind, fmt), value) in enumerate(zip(kinds, values)):
                if value is None or value == "":
                    continue
                if kind == "text":
                    ws.write_string(row, col, str(value))
                elif kind in ("date", "datetime"):
                    ws.write_datetime(row, col, value, fmt)
                else:
                    ws.write_number(row, col, value, fmt)
            row += 1
            written += 1
            if on_row is not None:
                on_row()
        return written

    def _start(self, name: str, title: str, columns: Sequence[Column]):
        ws = self.wb.add_worksheet(name[:31])
        for i, c in enumerate(columns):
            ws.set_column(i, i, c.width)
        ws.write_string(0, 0, title, self.f_title)
        for i, c in enumerate(columns):
            ws.write_string(1, i, c.header, self.f_header)
        ws.freeze_panes(HEADER_ROWS, 0)
        return ws

    def close(self) -> None:
        self.wb.close()


def excel_time(moment: datetime, tz) -> datetime:
    """A UTC moment as the local wall time Excel shows (Excel has no time zones)."""
    return moment.astimezone(tz).replace(tzinfo=None)


def excel_date(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)
