"""Reading the operator's unit list from CSV and XLSX files as Excel and people write them."""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from bot.domain.unit_tree import RowError, UnitRow, validate_units
from bot.unitfile import UnitFileError, read_demo_units, read_units_file

TYPES = frozenset({"school", "office", "department"})

EXPECTED = [
    UnitRow(2, "SGD-HOABINH", "Sở GD&ĐT Hòa Bình", "department", ""),
    UnitRow(3, "PGD-KIMBOI", "Phòng GD&ĐT Kim Bôi", "office", "SGD-HOABINH"),
    UnitRow(4, "THCS-KIMBOI", "Trường THCS Kim Bôi", "school", "PGD-KIMBOI"),
]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def write_xlsx(tmp_path: Path, rows: list[list[object] | None], name: str = "units.xlsx") -> Path:
    """An XLSX whose first sheet holds ``rows`` from row 1; ``None`` leaves a row untouched."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Đơn vị"
    for number, values in enumerate(rows, start=1):
        if values is None:
            continue
        for column, value in enumerate(values, start=1):
            if value is not None:
                sheet.cell(row=number, column=column, value=value)
    other = workbook.create_sheet("Khác")  # only the first sheet counts
    other.append(["code", "name", "type", "parent"])
    other.append(["X", "Không đọc", "school", ""])
    path = tmp_path / name
    workbook.save(path)
    return path


def message_of(excinfo: pytest.ExceptionInfo[UnitFileError]) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    assert unicodedata.is_normalized("NFC", message)
    return message


# ---------------------------------------------------------------------------------------------
# CSV


def test_csv_comma(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.csv",
        "code,name,type,parent\n"
        "SGD-HOABINH,Sở GD&ĐT Hòa Bình,department,\n"
        "PGD-KIMBOI,Phòng GD&ĐT Kim Bôi,office,SGD-HOABINH\n"
        "THCS-KIMBOI,\"Trường THCS Kim Bôi\",school,PGD-KIMBOI\n",
    )
    assert read_units_file(path) == EXPECTED
    assert read_units_file(str(path)) == EXPECTED


def test_csv_semicolon_with_bom_and_crlf(tmp_path: Path) -> None:
    """What Excel writes as "CSV UTF-8" in a Vietnamese locale (decimal comma -> semicolons)."""
    text = (
        "code;name;type;parent\r\n"
        "SGD-HOABINH;Sở GD&ĐT Hòa Bình;department;\r\n"
        "PGD-KIMBOI;Phòng GD&ĐT Kim Bôi;office;SGD-HOABINH\r\n"
        "THCS-KIMBOI;Trường THCS Kim Bôi;school;PGD-KIMBOI\r\n"
    )
    path = write(tmp_path, "units.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert read_units_file(path) == EXPECTED


def test_csv_excel_sep_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.csv",
        "sep=;\r\ncode;name;type;parent\r\nSGD-HOABINH;Sở GD&ĐT Hòa Bình, tỉnh Hòa Bình;department;\r\n",
    )
    assert read_units_file(path) == [
        UnitRow(3, "SGD-HOABINH", "Sở GD&ĐT Hòa Bình, tỉnh Hòa Bình", "department", "")
    ]


def test_csv_quoted_fields_with_delimiters_quotes_and_line_breaks(tmp_path: Path) -> None:
    """Line numbers count physical lines, so a name broken over lines shifts the rows after it."""
    path = write(
        tmp_path,
        "units.csv",
        'code,name,type,parent\r\n'
        '"SGD-HOABINH","Sở Giáo dục và Đào tạo\r\ntỉnh Hòa Bình",department,\r\n'
        'PGD-KIMBOI,"Phòng ""GD&ĐT"", Kim Bôi",office,SGD-HOABINH\r\n'
        '\r\n'
        'THCS-KIMBOI,Trường THCS Kim Bôi,school,PGD-KIMBOI\r\n',
    )
    assert read_units_file(path) == [
        UnitRow(2, "SGD-HOABINH", "Sở Giáo dục và Đào tạo tỉnh Hòa Bình", "department", ""),
        UnitRow(4, "PGD-KIMBOI", 'Phòng "GD&ĐT", Kim Bôi', "office", "SGD-HOABINH"),
        UnitRow(6, "THCS-KIMBOI", "Trường THCS Kim Bôi", "school", "PGD-KIMBOI"),
    ]


def test_csv_blank_lines_skipped_but_counted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.txt",
        "\ncode,name,type,parent\n\nSGD-HOABINH,Sở GD&ĐT Hòa Bình,department,\n,,,\n  \n"
        "PGD-KIMBOI,Phòng GD&ĐT Kim Bôi,office,SGD-HOABINH\n",
    )
    assert [(r.line, r.code) for r in read_units_file(path)] == [(4, "SGD-HOABINH"), (7, "PGD-KIMBOI")]


@pytest.mark.parametrize(
    "header",
    [
        "parent,type,code,name",
        "  Parent , TYPE ,Code,  NAME  ",
        "cấp trên,loại,mã,tên",
        "Cấp trên,Loại,Mã,Tên",
        "cap tren,loai,ma,ten",
        "cha,loai,ma,ten",
        "Mã cấp trên,Loại đơn vị,Mã đơn vị,Tên đơn vị",
        unicodedata.normalize("NFD", "cấp trên,loại,mã,tên"),
        "parent_code,unit type,unit-code,unit name",
    ],
)
def test_headers_in_any_order_and_in_vietnamese(tmp_path: Path, header: str) -> None:
    path = write(
        tmp_path,
        "units.csv",
        f"{header}\n"
        ",department,SGD-HOABINH,Sở GD&ĐT Hòa Bình\n"
        "SGD-HOABINH,office,PGD-KIMBOI,Phòng GD&ĐT Kim Bôi\n"
        "PGD-KIMBOI,school,THCS-KIMBOI,Trường THCS Kim Bôi\n",
    )
    assert read_units_file(path) == EXPECTED


def test_extra_columns_ignored_and_short_rows_padded(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.csv",
        "STT,code,name,type,ghi chú,parent\n1,SGD-HOABINH,Sở GD&ĐT Hòa Bình,department\n",
    )
    assert read_units_file(path) == [EXPECTED[0]]


def test_parent_column_is_optional(tmp_path: Path) -> None:
    path = write(tmp_path, "units.csv", "code,name,type\nSGD-HOABINH,Sở GD&ĐT Hòa Bình,department\n")
    assert read_units_file(path) == [EXPECTED[0]]


def test_names_and_codes_are_normalised(tmp_path: Path) -> None:
    name = unicodedata.normalize("NFD", "Trường  THCS\u00a0Kim Bôi ")
    path = write(tmp_path, "units.csv", f"code,name,type,parent\n THCS-KIMBOI ,{name}, school , PGD-KIMBOI \n")
    [row] = read_units_file(path)
    assert row == UnitRow(2, "THCS-KIMBOI", "Trường THCS Kim Bôi", "school", "PGD-KIMBOI")


def test_utf16_tab_separated(tmp_path: Path) -> None:
    """Excel's "Unicode Text" is UTF-16 with a BOM and tabs."""
    text = "code\tname\ttype\tparent\r\nSGD-HOABINH\tSở GD&ĐT Hòa Bình\tdepartment\t\r\n"
    path = write(tmp_path, "units.txt", text.encode("utf-16"))
    assert read_units_file(path) == [EXPECTED[0]]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("code,name\nA,Tên\n", "thiếu cột type (loại) ở dòng tiêu đề (dòng 1)", id="no type"),
        pytest.param(
            "\n\nname,parent\nA,\n", "thiếu cột code (mã), type (loại) ở dòng tiêu đề (dòng 3)", id="two missing"
        ),
        pytest.param("mã,tên,loại,code\n", "cột code (mã) xuất hiện hai lần ở dòng tiêu đề (dòng 1)", id="duplicate"),
        pytest.param("", "tệp trống, không có dòng tiêu đề code,name,type,parent", id="empty"),
        pytest.param("\ufeff\r\n \r\n;;;\r\n", "tệp trống, không có dòng tiêu đề code,name,type,parent", id="blank"),
        pytest.param("code,name,type,parent\r\n\r\n", "không có đơn vị nào dưới dòng tiêu đề", id="header only"),
    ],
)
def test_bad_csv_structure(tmp_path: Path, content: str, expected: str) -> None:
    path = write(tmp_path, "units.csv", content)
    with pytest.raises(UnitFileError) as excinfo:
        read_units_file(path)
    assert message_of(excinfo) == f"Không đọc được tệp '{path}': {expected}"


def test_not_utf8(tmp_path: Path) -> None:
    """A file saved as plain "CSV" by Excel on Windows is in the ANSI code page, not UTF-8."""
    text = "code,name,type,parent\r\nSGD-HOABINH,Hòa Bình,department,\r\n"
    # Windows-1258 writes "ò" as "o" plus a combining grave accent (0xCC), invalid as UTF-8.
    path = write(tmp_path, "units.csv", unicodedata.normalize("NFD", text).encode("cp1258"))
    with pytest.raises(UnitFileError) as excinfo:
        read_units_file(path)
    message = message_of(excinfo)
    assert message.startswith(f"Không đọc được tệp '{path}': tệp không được lưu ở dạng UTF-8 (dòng 2)")
    assert "CSV UTF-8" in message


def test_control_characters_dropped_from_names(tmp_path: Path) -> None:
    """A NUL from a broken export would make PostgreSQL refuse the whole import."""
    path = write(tmp_path, "units.csv", "code,name,type\r\nA,Tr\u200bường\x00 B\x07,school\r\n")
    assert read_units_file(path) == [UnitRow(2, "A", "Trường B", "school", "")]


def test_broken_csv(tmp_path: Path) -> None:
    huge = "x" * 200_000  # beyond the csv module's field size limit: no unit list looks like this
    path = write(tmp_path, "units.csv", f'code,name,type\r\nA,B,school\r\nC,"{huge}",school\r\n')
    with pytest.raises(UnitFileError) as excinfo:
        read_units_file(path)
    assert message_of(excinfo).startswith(f"Không đọc được tệp '{path}': tệp CSV bị lỗi ở dòng 3: ")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("units.ods", "chỉ nhận tệp .csv, .txt, .xlsx hoặc .xlsm"),
        ("units", "chỉ nhận tệp .csv, .txt, .xlsx hoặc .xlsm"),
        ("units.xls", "tệp .xls kiểu cũ không được hỗ trợ; hãy lưu lại thành .xlsx hoặc CSV UTF-8"),
        ("missing.csv", "tệp không tồn tại"),
        ("missing.xlsx", "tệp không tồn tại"),
    ],
)
def test_unreadable_paths(tmp_path: Path, name: str, expected: str) -> None:
    path = tmp_path / name
    if name != "missing.csv" and name != "missing.xlsx":
        path.write_bytes(b"code,name,type\n")
    with pytest.raises(UnitFileError) as excinfo:
        read_units_file(path)
    assert message_of(excinfo) == f"Không đọc được tệp '{path}': {expected}"


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "units.csv").mkdir()
    with pytest.raises(UnitFileError) as excinfo:
        read_units_file(tmp_path / "units.csv")
    assert message_of(excinfo).endswith("đây là một thư mục, không phải tệp")


# ---------------------------------------------------------------------------------------------
# XLSX


def test_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [
            [" Mã ", "Tên", "Loại", "Cấp trên"],
            ["SGD-HOABINH", "Sở GD&ĐT Hòa Bình", "department", None],
            None,  # a row Excel never wrote: skipped, still counted
            ["PGD-KIMBOI", "Phòng GD&ĐT Kim Bôi", "office", "SGD-HOABINH"],
            [None, " ", None, None],
            ["THCS-KIMBOI", unicodedata.normalize("NFD", "Trường THCS  Kim Bôi"), "school", "PGD-KIMBOI"],
        ],
    )
    assert read_units_file(path) == [
        UnitRow(2, "SGD-HOABINH", "Sở GD&ĐT Hòa Bình", "department", ""),
        UnitRow(4, "PGD-KIMBOI", "Phòng GD&ĐT Kim Bôi", "office", "SGD-HOABINH"),
        UnitRow(6, "THCS-KIMBOI", "Trường THCS Kim Bôi", "school", "PGD-KIMBOI"),
    ]


def test_xlsx_numbers_become_text_without_decimal_point(tmp_path: Path) -> None:
    """Numeric codes typed into Excel come back as int or float; neither may gain a ".0"."""
    path = write_xlsx(
        tmp_path,
        [
            ["code", "name", "type", "parent"],
            [1001, "Trường số 1", "school", 2002.0],
            [2002.0, 12.5, "office", None],
        ],
        name="units.xlsm",
    )
    assert read_units_file(path) == [
        UnitRow(2, "1001", "Trường số 1", "school", "2002"),
        UnitRow(3, "2002", "12.5", "office", ""),
    ]


def test_xlsx_leading_blank_rows_and_missing_column(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [None, None, ["code", "name", "parent"], ["A", "B", ""]])
    with pytest.raises(UnitFileError) as excinfo:
        read_units_file(path)
    assert message_of(excinfo).endswith("thiếu cột type (loại) ở dòng tiêu đề (dòng 3)")


def test_xlsx_empty_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [])
    with pytest.raises(UnitFileError) as excinfo:
        read_units_file(path)
    assert message_of(excinfo).endswith("tệp trống, không có dòng tiêu đề code,name,type,parent")


@pytest.mark.parametrize("content", [b"code,name,type\nA,B,school\n", b"PK\x03\x04 not really a zip", b""])
def test_not_a_workbook(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "units.xlsx", content)
    with pytest.raises(UnitFileError) as excinfo:
        read_units_file(path)
    assert message_of(excinfo).startswith(f"Không đọc được tệp '{path}': không phải tệp Excel .xlsx hợp lệ")


# ---------------------------------------------------------------------------------------------
# With validate_units, as the CLI uses them


def test_bad_row_error_names_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.csv",
        "code;name;type;parent\r\n"
        "SGD-HOABINH;Sở GD&ĐT Hòa Bình;department;\r\n"
        "\r\n"
        "PGD-KIMBOI;\"Phòng GD&ĐT\r\nKim Bôi\";office;SGD-HOABINH\r\n"
        "THCS-KIMBOI;Trường THCS Kim Bôi;school;PGD-KIMBOI\r\n"
        "THCS-XYZ;Trường THCS XYZ;school;PGD-XYZ\r\n",
    )
    rows = read_units_file(path)
    assert validate_units(rows, {}, TYPES) == [
        # Line 7 as the spreadsheet shows it: a blank line and a two-line name come before it.
        RowError(7, "dòng 7: đơn vị cha 'PGD-XYZ' không tồn tại")
    ]


def test_bad_row_in_xlsx_names_its_row(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [
            ["code", "name", "type", "parent"],
            ["SGD-HOABINH", "Sở GD&ĐT Hòa Bình", "department", None],
            None,
            ["TH-A", "Trường Tiểu học A", "truong", "SGD-HOABINH"],
        ],
    )
    errors = validate_units(read_units_file(path), {}, TYPES)
    assert [(e.line, e.message) for e in errors] == [
        (4, "dòng 4: loại đơn vị 'truong' không hợp lệ; các loại hợp lệ: department, office, school")
    ]


def test_demo_tree_loads_and_validates() -> None:
    rows = read_demo_units()
    assert validate_units(rows, {}, TYPES) == []
    by_code = {r.code: r for r in rows}
    assert 8 <= len(rows) <= 12
    assert [r.code for r in rows if not r.parent] == ["SGD-HOABINH"]
    assert by_code["SGD-HOABINH"].type == "department"
    assert by_code["THCS-KIMBOI"].name == "Trường THCS Kim Bôi"
    assert by_code["THPT-KIMBOI"].parent == "SGD-HOABINH"
    assert {r.type for r in rows} == TYPES
    assert all(unicodedata.is_normalized("NFC", r.name) for r in rows)
    # The file on disk reads the same as the packaged resource.
    assert read_units_file(Path(__file__).parents[1] / "bot" / "demo_units.csv") == rows


def test_reading_csv_does_not_import_openpyxl(tmp_path: Path) -> None:
    """The running bot stays small: openpyxl loads only for an XLSX file."""
    path = write(tmp_path, "units.csv", "code,name,type\nA,B,school\n")
    code = (
        "import sys; from bot.unitfile import read_units_file; "
        f"read_units_file({str(path)!r}); assert 'openpyxl' not in sys.modules, 'openpyxl imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------
# The optional staff column (the unit's headcount, "biên chế")


@pytest.mark.parametrize("header", ["staff", "Biên chế", "SỐ BIÊN CHẾ", "headcount", "Số cán bộ"])
def test_staff_column_in_csv(tmp_path: Path, header: str) -> None:
    path = write(
        tmp_path,
        "units.csv",
        f"code,name,type,parent,{header}\n"
        "SGD-HOABINH,Sở GD&ĐT Hòa Bình,department,, 120 \n"
        "PGD-KIMBOI,Phòng GD&ĐT Kim Bôi,office,SGD-HOABINH,\n",
    )
    assert [(r.code, r.staff) for r in read_units_file(path)] == [("SGD-HOABINH", "120"), ("PGD-KIMBOI", "")]


def test_staff_column_in_xlsx_numbers(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [
            ["Mã", "Tên", "Loại", "Cấp trên", "Biên chế"],
            ["SGD-HOABINH", "Sở GD&ĐT Hòa Bình", "department", None, 45],
            ["PGD-KIMBOI", "Phòng GD&ĐT Kim Bôi", "office", "SGD-HOABINH", 12.0],
            ["THCS-KIMBOI", "Trường THCS Kim Bôi", "school", "PGD-KIMBOI", 30.5],
        ],
    )
    rows = read_units_file(path)
    assert [r.staff for r in rows] == ["45", "12", "30.5"]
    assert [(e.line, e.message) for e in validate_units(rows, {}, TYPES)] == [
        (4, "dòng 4: số biên chế '30.5' không hợp lệ; cần một số nguyên từ 0 đến 1000000 (hoặc để trống)")
    ]


def test_bad_staff_values_are_bad_rows_with_their_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.csv",
        "code,name,type,parent,staff\n"
        "A,Trường A,school,,-1\n"
        "B,Trường B,school,,mười\n"
        "C,Trường C,school,,1.200\n"
        "D,Trường D,school,,٤٥\n"
        "E,Trường E,school,,2000000\n"
        "F,Trường F,school,,0\n",
    )
    errors = validate_units(read_units_file(path), {}, TYPES)
    assert [e.line for e in errors] == [2, 3, 4, 5, 6]
    assert all("số biên chế" in e.message for e in errors)


def test_two_staff_columns_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "units.csv", "code,name,type,staff,biên chế\nA,B,school,1,2\n")
    with pytest.raises(UnitFileError) as excinfo:
        read_units_file(path)
    assert "staff (biên chế)" in message_of(excinfo)
