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

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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



    def placeholders(self, name: str, title: str, columns: Sequence[Column], parts: int) -> list[str]:
        """Sheets "<name>", "<name> (2)"… with their title and header only, for ``SheetFiller`` to
        fill once the workbook is closed; returns their members in the .xlsx package."""
        members = []
        for part in range(1, max(1, parts) + 1):
            ws = self._start(name if part == 1 else f"{name} ({part})", title, columns)
            for i, c in enumerate(columns):
                if c.kind in ("date", "datetime", "pct"):  # new cells typed in Excel get it too
                    ws.set_column(i, i, c.width, self.formats[c.kind])
            members.append(f"xl/worksheets/sheet{len(self.wb.worksheets())}.xml")
        return members

    def close(self) -> None:
        self.wb.close()


# ---------------------------------------------------------------------------------------------
# The big sheet, written as XML. XlsxWriter spends most of a million-row report in its per-cell
# Python calls; the rows of "Liên kết" are plain (a time and five texts), so they are written
# straight into the sheet's XML inside the package XlsxWriter made, streamed into the zip.

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_EPOCH = datetime(1899, 12, 30)
_DAY = timedelta(days=1)
_UNIX_EPOCH_SERIAL = 25569.0  # 01/01/1970 as an Excel serial date
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_CELL_TEXT = 32_767
COMPRESS_LEVEL = 3  # deflate: most of level 6's size at a fraction of its time
FLUSH_PIECES = 50_000  # XML pieces gathered before they are written


def _xml_text(value: str) -> str:
    if len(value) > MAX_CELL_TEXT:
        value = value[:MAX_CELL_TEXT]
    if _ILLEGAL_XML.search(value):
        value = _ILLEGAL_XML.sub("", value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if value[:1].isspace() or value[-1:].isspace():
        return f'<t xml:space="preserve">{value}</t>'
    return f"<t>{value}</t>"


class SheetFiller:
    """Copies a closed workbook's package into ``target``, filling its placeholder sheets (see
    ``ReportWriter.placeholders``) with rows, ``capacity`` a sheet, in order. Rows beyond the
    last placeholder are dropped (the placeholders are made from a count of the rows first)."""

    def __init__(self, package: bytes, target: str | IO[bytes], members: list[str], columns: Sequence[Column],
                 styles: dict[str, int], capacity: int, expected: int) -> None:
        import zipfile

        self.zin = zipfile.ZipFile(io.BytesIO(package))
        self.zout = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
        self.members = members
        self.kinds = [c.kind for c in columns]
        self.styles = styles
        self.last_col = _LETTERS[len(columns) - 1]
        self.capacity = capacity
        self.expected = expected
        self.part = -1
        self.out: IO[bytes] | None = None
        self.tail = b""
        self.row = 0  # the last row number written in the current sheet (1-based)
        self.in_part = 0
        self.written = 0
        self.dropped = 0
        for info in self.zin.infolist():
            if info.filename not in members:
                self.zout.writestr(info, self.zin.read(info.filename))

    def _next(self) -> bool:
        self._close_part()
        self.part += 1
        if self.part >= len(self.members):
            return False
        name = self.members[self.part]
        xml = self.zin.read(name).decode("utf-8")
        head, _, rest = xml.partition("</sheetData>")
        rows_here = min(self.capacity, max(self.expected - self.part * self.capacity, 0))
        head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{self.last_col}{HEADER_ROWS + rows_here}"/>',
                      head, count=1)
        self.out = self.zout.open(name, "w", force_zip64=True)
        self.out.write(head.encode("utf-8"))
        self.tail = ("</sheetData>" + rest).encode("utf-8")
        self.row, self.in_part = HEADER_ROWS, 0
        return True

    def _close_part(self) -> None:
        if self.out is not None:
            self.out.write(self.tail)
            self.out.close()
            self.out = None

    def write(self, rows: Iterable[Sequence[Any]], tz, *, utc_offset: float | None = None) -> int:
        """Append rows; returns how many. A time is an aware datetime or UTC epoch seconds (a
        float: cheaper to read from the database); it is shown in ``tz``, by ``utc_offset``
        seconds when the caller knows the offset is the same for every row (no DST change)."""
        out: list[str] = []
        n = 0
        kinds = self.kinds
        date_style = self.styles.get("datetime", 0)
        for values in rows:
            if self.out is None or self.in_part >= self.capacity:
                if out and self.out is not None:
                    self.out.write("".join(out).encode("utf-8"))
                    out.clear()
                if not self._next():
                    self.dropped += 1
                    continue
            self.row += 1
            r = self.row
            out.append(f'<row r="{r}">')
            for j, value in enumerate(values):
                if value is None or value == "":
                    continue
                if kinds[j] == "datetime":
                    if isinstance(value, datetime):
                        serial = (value.astimezone(tz).replace(tzinfo=None) - _EXCEL_EPOCH) / _DAY
                    elif utc_offset is not None:
                        serial = (float(value) + utc_offset) / 86400.0 + _UNIX_EPOCH_SERIAL
                    else:
                        local = datetime.fromtimestamp(float(value), tz).replace(tzinfo=None)
                        serial = (local - _EXCEL_EPOCH) / _DAY
                    out.append(f'<c r="{_LETTERS[j]}{r}" s="{date_style}"><v>{serial!r}</v></c>')
                elif kinds[j] == "text":
                    out.append(f'<c r="{_LETTERS[j]}{r}" t="inlineStr"><is>{_xml_text(str(value))}</is></c>')
                else:
                    out.append(f'<c r="{_LETTERS[j]}{r}"><v>{value!r}</v></c>')
            out.append("</row>")
            self.in_part += 1
            n += 1
            if len(out) > FLUSH_PIECES:  # a long iterable must not gather in memory
                self.out.write("".join(out).encode("utf-8"))
                out.clear()
        if out and self.out is not None:
            self.out.write("".join(out).encode("utf-8"))
        self.written += n
        return n

    def close(self) -> None:
        self._close_part()
        # Placeholders left unfilled (fewer rows than counted) keep their header.
        for name in self.members[self.part + 1:] if self.part >= 0 else self.members:
            self.zout.writestr(self.zin.getinfo(name), self.zin.read(name))
        self.zout.close()
        self.zin.close()


def excel_time(moment: datetime, tz) -> datetime:
    """A UTC moment as the local wall time Excel shows (Excel has no time zones)."""
    return moment.astimezone(tz).replace(tzinfo=None)


def excel_date(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)
