"""Read the operator's list of units from CSV or XLSX into ``UnitRow``s (SPEC §3.4, §4.1).

Columns are found by their header, in any order, case and surrounding spaces ignored, with or
without Vietnamese diacritics:

    code    ← code, mã, mã đơn vị
    name    ← name, tên, tên đơn vị
    type    ← type, loại, loại đơn vị
    parent  ← parent, parent code, cấp trên, mã cấp trên, cha, mã cha, đơn vị cha (optional:
              without it every unit is a root)
    staff   ← staff, headcount, biên chế, số biên chế, số cán bộ, số người (optional: the
              unit's headcount, a whole number; an empty cell or no column keeps what is stored)

Other columns (a "ghi chú" the operator keeps) are ignored. Line numbers are the ones a
spreadsheet shows: the header is line 1, and blank lines are skipped but still counted.

CSV: UTF-8 with or without BOM (and UTF-16 with BOM, Excel's "Unicode Text"); the delimiter is
comma, semicolon (Excel in locales with a decimal comma) or tab, taken from the header line or an
Excel ``sep=`` first line. Any other encoding is refused with a hint to save as "CSV UTF-8": a
guess between cp1258, Windows-1252 and the old TCVN3 fonts would silently garble names.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path

from bot.domain.unit_tree import UnitRow, normalize_row

CSV_SUFFIXES = frozenset({".csv", ".txt"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
DEMO_UNITS_RESOURCE = "demo_units.csv"

# Header aliases after _header_key (diacritics removed, lower case, single spaces).
_HEADER_ALIASES: dict[str, str] = {
    "code": "code",
    "unit code": "code",
    "ma": "code",
    "ma don vi": "code",
    "name": "name",
    "unit name": "name",
    "ten": "name",
    "ten don vi": "name",
    "type": "type",
    "unit type": "type",
    "loai": "type",
    "loai don vi": "type",
    "parent": "parent",
    "parent code": "parent",
    "cap tren": "parent",
    "ma cap tren": "parent",
    "don vi cap tren": "parent",
    "cha": "parent",
    "ma cha": "parent",
    "don vi cha": "parent",
    "staff": "staff",
    "headcount": "staff",
    "bien che": "staff",
    "so bien che": "staff",
    "so can bo": "staff",
    "so nguoi": "staff",
}
_REQUIRED = ("code", "name", "type")
_FIELD_LABELS = {
    "code": "code (mã)",
    "name": "name (tên)",
    "type": "type (loại)",
    "parent": "parent (cấp trên)",
    "staff": "staff (biên chế)",
}

_SEP_LINE_RE = re.compile(r"^sep=(.)\s*$", re.IGNORECASE)

_MSG_PREFIX = "Không đọc được tệp '{path}': "
_MSG_NOT_FOUND = "tệp không tồn tại"
_MSG_IS_DIR = "đây là một thư mục, không phải tệp"
_MSG_NO_PERMISSION = "không có quyền đọc tệp"
_MSG_OS = "lỗi khi đọc tệp ({error})"
_MSG_SUFFIX = "chỉ nhận tệp .csv, .txt, .xlsx hoặc .xlsm"
_MSG_OLD_XLS = "tệp .xls kiểu cũ không được hỗ trợ; hãy lưu lại thành .xlsx hoặc CSV UTF-8"
_MSG_NOT_UTF8 = (
    "tệp không được lưu ở dạng UTF-8 (dòng {line}); trong Excel hãy chọn Lưu Dưới dạng "
    "(Save As) › \"CSV UTF-8 (Comma delimited)\" rồi nhập lại"
)
_MSG_BAD_CSV = "tệp CSV bị lỗi ở dòng {line}: {error}"
_MSG_BAD_XLSX = "không phải tệp Excel .xlsx hợp lệ ({error})"
_MSG_NO_SHEET = "tệp Excel không có trang tính nào"
_MSG_EMPTY = "tệp trống, không có dòng tiêu đề code,name,type,parent"
_MSG_MISSING_COLUMN = "thiếu cột {columns} ở dòng tiêu đề (dòng {line})"
_MSG_DUPLICATE_COLUMN = "cột {column} xuất hiện hai lần ở dòng tiêu đề (dòng {line})"
_MSG_NO_ROWS = "không có đơn vị nào dưới dòng tiêu đề"


class UnitFileError(Exception):
    """The file cannot be read as a list of units; the message is one Vietnamese line."""


def read_units_file(path: str | Path) -> list[UnitRow]:
    """The file's units, normalised, each with the line number the operator sees."""
    path = Path(path)
    label = str(path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise _error(label, _MSG_OLD_XLS)
    if suffix not in CSV_SUFFIXES and suffix not in XLSX_SUFFIXES:
        raise _error(label, _MSG_SUFFIX)
    if path.is_dir():
        raise _error(label, _MSG_IS_DIR)
    if not path.exists():
        raise _error(label, _MSG_NOT_FOUND)

    if suffix in CSV_SUFFIXES:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _os_error(label, exc) from exc
        return parse_units_csv(data, label)
    return _rows_to_units(_xlsx_lines(path, label), label)


def parse_units_csv(data: bytes, label: str = "CSV") -> list[UnitRow]:
    """Units from the bytes of a CSV file; ``label`` names the file in error messages."""
    text = _decode(data, label)
    return _rows_to_units(_csv_lines(text, label), label)


def read_demo_units() -> list[UnitRow]:
    """The small built-in demo tree the console uses when there is no config."""
    data = resources.files("bot").joinpath(DEMO_UNITS_RESOURCE).read_bytes()
    return parse_units_csv(data, DEMO_UNITS_RESOURCE)


# ---------------------------------------------------------------------------------------------
# Helpers


def _error(label: str, template: str, **fields: object) -> UnitFileError:
    return UnitFileError(_MSG_PREFIX.format(path=label) + template.format(**fields))


def _os_error(label: str, exc: OSError) -> UnitFileError:
    if isinstance(exc, PermissionError):
        return _error(label, _MSG_NO_PERMISSION)
    return _error(label, _MSG_OS, error=exc.strerror or _short(exc))


def _decode(data: bytes, label: str) -> str:
    """Text of a CSV file: UTF-8 (BOM optional) or UTF-16 with a BOM."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _error(label, _MSG_NOT_UTF8, line=1) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Point at the line: a file that is UTF-8 except one pasted name is common.
        line = data.count(b"\n", 0, exc.start) + 1
        raise _error(label, _MSG_NOT_UTF8, line=line) from exc


def _csv_lines(text: str, label: str) -> Iterator[tuple[int, list[str]]]:
    """(physical line where the record starts, cells) for every CSV record."""
    # newline="" keeps "\r\n" inside quoted fields and lets csv count physical lines itself.
    source = io.StringIO(text, newline="")
    first = source.readline()
    sep = _SEP_LINE_RE.match(first.rstrip("\r\n"))
    offset = 0
    if sep:
        delimiter = sep.group(1)
        offset = 1  # the "sep=;" line is line 1 of the file; the header follows
    else:
        delimiter = _sniff_delimiter(text)
        source.seek(0)
    reader = csv.reader(source, delimiter=delimiter, quotechar='"', strict=False)
    start = 1
    try:
        for cells in reader:
            yield start + offset, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _error(label, _MSG_BAD_CSV, line=reader.line_num + offset, error=exc) from exc


def _sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever occurs most in the header line outside quotes."""
    for line in io.StringIO(text, newline=""):
        if line.strip():
            unquoted = re.sub(r'"[^"]*"', "", line)
            counts = {d: unquoted.count(d) for d in (",", ";", "\t")}
            best = max(counts, key=lambda d: counts[d])
            return best if counts[best] else ","
    return ","


def _xlsx_lines(path: Path, label: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells as text) for every row of the workbook's first sheet."""
    # Imported here: openpyxl is heavy and only the CLI import needs it.
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise _os_error(label, exc) from exc
    except Exception as exc:  # zipfile, XML and openpyxl errors alike mean "not a workbook"
        raise _error(label, _MSG_BAD_XLSX, error=_short(exc)) from exc
    try:
        if not workbook.worksheets:
            raise _error(label, _MSG_NO_SHEET)
        sheet = workbook.worksheets[0]
        # Some generators write a wrong <dimension>; read-only mode would trust it and cut rows.
        sheet.reset_dimensions()
        try:
            # Read-only mode fills in rows missing from the XML, so enumerate gives row numbers.
            rows = [
                (number, [_cell_text(v) for v in values])
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
            ]
        except Exception as exc:
            raise _error(label, _MSG_BAD_XLSX, error=_short(exc)) from exc
    finally:
        workbook.close()  # read-only workbooks keep the file open until closed
    return iter(rows)


def _cell_text(value: object) -> str:
    """A cell as the text the operator sees: 12 not "12.0", dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:120] or type(exc).__name__


def _header_key(text: str) -> str:
    """A header cell reduced for matching: no diacritics, lower case, single spaces."""
    text = unicodedata.normalize("NFD", text.replace("\ufeff", ""))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("đ", "d").replace("Đ", "D").casefold()
    return " ".join(re.sub(r"[_\-]+", " ", text).split())


def _rows_to_units(lines: Iterable[tuple[int, Sequence[str]]], label: str) -> list[UnitRow]:
    """Map the header's columns, then turn each non-blank line into a normalised UnitRow."""
    lines = iter(lines)
    columns: dict[str, int] | None = None
    for number, cells in lines:
        if any(c.strip() for c in cells):
            columns = _map_header(cells, number, label)
            break
    if columns is None:
        raise _error(label, _MSG_EMPTY)

    units: list[UnitRow] = []
    for number, cells in lines:
        if not any(c.strip() for c in cells):
            continue  # Excel writes ";;;" for a row it considers used but is empty
        fields = {"parent": ""}  # without a parent column every unit is a root
        fields.update(
            (field, cells[index] if index < len(cells) else "") for field, index in columns.items()
        )
        units.append(normalize_row(UnitRow(line=number, **fields)))
    if not units:
        raise _error(label, _MSG_NO_ROWS)
    return units


def _map_header(cells: Sequence[str], line: int, label: str) -> dict[str, int]:
    """Column index of each known field, from the header cells."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        field = _HEADER_ALIASES.get(_header_key(cell))
        if field is None:
            continue
        if field in columns:
            raise _error(label, _MSG_DUPLICATE_COLUMN, column=_FIELD_LABELS[field], line=line)
        columns[field] = index
    missing = [_FIELD_LABELS[f] for f in _REQUIRED if f not in columns]
    if missing:
        raise _error(label, _MSG_MISSING_COLUMN, columns=", ".join(missing), line=line)
    return columns
