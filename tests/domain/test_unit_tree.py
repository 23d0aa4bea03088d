"""Unit-tree checks, insert order and join codes: tables of cases, no fixtures."""

from __future__ import annotations

import random
import secrets
import unicodedata

import pytest

from bot.domain.unit_tree import (
    CODE_ALPHABET,
    ExistingUnit,
    RowError,
    UnitRow,
    generate_code,
    normalize_code_input,
    normalize_row,
    order_for_insert,
    validate_units,
)

TYPES = frozenset({"school", "office", "department"})


def R(line: int, code: str, parent: str = "", name: str | None = None, type: str = "school") -> UnitRow:
    """A row; the name defaults to one derived from the code."""
    return UnitRow(line=line, code=code, name=f"Đơn vị {code}" if name is None else name, type=type, parent=parent)


def E(code: str, parent: str = "", type: str = "school") -> ExistingUnit:
    return ExistingUnit(code=code, parent=parent, type=type)


def stored(*units: ExistingUnit) -> dict[str, ExistingUnit]:
    return {u.code: u for u in units}


DEPT = R(2, "SGD-HOABINH", type="department")


# ---------------------------------------------------------------------------------------------
# validate_units: one case per error, with the exact sentence the operator reads


ERROR_CASES = [
    pytest.param([DEPT, R(3, "")], {}, ["dòng 3: thiếu mã đơn vị"], id="empty code"),
    pytest.param([DEPT, R(3, "   ")], {}, ["dòng 3: thiếu mã đơn vị"], id="blank code"),
    pytest.param(
        [DEPT, R(3, "THCS KIMBOI", "SGD-HOABINH")],
        {},
        ["dòng 3: mã 'THCS KIMBOI' có ký tự không hợp lệ ' '; mã chỉ gồm chữ cái không dấu, chữ số và các dấu - _ ."],
        id="space in code",
    ),
    pytest.param(
        [DEPT, R(3, "THCS-KIMBÔI", "SGD-HOABINH")],
        {},
        ["dòng 3: mã 'THCS-KIMBÔI' có ký tự không hợp lệ 'Ô'; mã chỉ gồm chữ cái không dấu, chữ số và các dấu - _ ."],
        id="diacritic in code",
    ),
    pytest.param(
        [R(2, "TH-A\x00", type="department")],
        {},
        ["dòng 2: mã 'TH-A<U+0000>' có ký tự không hợp lệ <U+0000>; mã chỉ gồm chữ cái không dấu, chữ số và các dấu - _ ."],
        id="invisible character in code",
    ),
    pytest.param(
        [R(2, "A" * 65, type="department")],
        {},
        [f"dòng 2: mã '{'A' * 65}' dài quá 64 ký tự"],
        id="code too long",
    ),
    pytest.param([DEPT, R(3, "TH-A", "SGD-HOABINH", name="")], {}, ["dòng 3: thiếu tên đơn vị"], id="empty name"),
    pytest.param(
        [DEPT, R(3, "TH-A", "SGD-HOABINH", name=" \u00a0 ")], {}, ["dòng 3: thiếu tên đơn vị"], id="blank name"
    ),
    pytest.param(
        [DEPT, R(3, "TH-A", "SGD-HOABINH", name="x" * 201)],
        {},
        ["dòng 3: tên đơn vị dài quá 200 ký tự"],
        id="name too long",
    ),
    pytest.param(
        [DEPT, R(3, "TH-A", "SGD-HOABINH", type="truong")],
        {},
        ["dòng 3: loại đơn vị 'truong' không hợp lệ; các loại hợp lệ: department, office, school"],
        id="unknown type",
    ),
    pytest.param(
        [DEPT, R(3, "TH-A", "SGD-HOABINH", type="")],
        {},
        ["dòng 3: thiếu loại đơn vị; các loại hợp lệ: department, office, school"],
        id="empty type",
    ),
    pytest.param(
        [DEPT, R(3, "TH-A", "SGD-HOABINH"), R(4, "TH-B", "SGD-HOABINH"), R(7, "TH-A", "SGD-HOABINH")],
        {},
        ["dòng 7: trùng mã 'TH-A' với dòng 3"],
        id="duplicate code",
    ),
    pytest.param(
        [DEPT, R(3, "TH-A", "SGD-HOABINH"), R(5, "th-a", "SGD-HOABINH")],
        {},
        ["dòng 5: trùng mã 'th-a' với mã 'TH-A' ở dòng 3 (mã không phân biệt chữ hoa, chữ thường)"],
        id="duplicate differing in case",
    ),
    pytest.param(
        [R(2, "sgd-hoabinh", type="department")],
        stored(E("SGD-HOABINH", type="department")),
        [
            "dòng 2: trùng mã 'sgd-hoabinh' với đơn vị đã có 'SGD-HOABINH' (mã không phân biệt chữ hoa, "
            "chữ thường; hãy viết đúng 'SGD-HOABINH' để cập nhật đơn vị đó)"
        ],
        id="stored code differing in case",
    ),
    pytest.param(
        [DEPT, R(7, "THCS-A", "PGD-XYZ")], {}, ["dòng 7: đơn vị cha 'PGD-XYZ' không tồn tại"], id="unknown parent"
    ),
    pytest.param(
        [DEPT, R(3, "THCS-A", "sgd-hoabinh")],
        {},
        ["dòng 3: đơn vị cha 'sgd-hoabinh' không tồn tại; có phải là 'SGD-HOABINH'?"],
        id="parent differing in case from a file row",
    ),
    pytest.param(
        [R(3, "THCS-A", "Pgd-KimBoi")],
        stored(E("PGD-KIMBOI", type="office")),
        ["dòng 3: đơn vị cha 'Pgd-KimBoi' không tồn tại; có phải là 'PGD-KIMBOI'?"],
        id="parent differing in case from a stored unit",
    ),
    pytest.param(
        [DEPT, R(3, "TH-A", "TH-A")],
        {},
        ["dòng 3: đơn vị 'TH-A' không thể là cấp trên của chính nó"],
        id="own parent",
    ),
    pytest.param(
        [R(2, "A", "C"), R(3, "B", "A"), R(4, "C", "B")],
        {},
        [
            "dòng 2: cấp trên tạo thành vòng lặp: A → C → B → A",
            "dòng 3: cấp trên tạo thành vòng lặp: B → A → C → B",
            "dòng 4: cấp trên tạo thành vòng lặp: C → B → A → C",
        ],
        id="cycle within the file",
    ),
    pytest.param(
        # Stored A is B's parent; the file moves A under B. Only A's row is in the file.
        [R(4, "A", "B", type="office")],
        stored(E("A", type="office"), E("B", "A")),
        ["dòng 4: cấp trên tạo thành vòng lặp: A → B → A"],
        id="cycle through stored units",
    ),
    pytest.param(
        # Stored chain ROOT ← A ← B ← C; the file moves A under C: three stored units, one row.
        [R(9, "A", "C", type="office")],
        stored(E("ROOT", type="department"), E("A", "ROOT"), E("B", "A"), E("C", "B")),
        ["dòng 9: cấp trên tạo thành vòng lặp: A → C → B → A"],
        id="long cycle through stored units",
    ),
    pytest.param(
        [R(2, "", name="", type="x"), R(3, "TH A", "NOPE", type="school")],
        {},
        [
            "dòng 2: thiếu mã đơn vị",
            "dòng 2: thiếu tên đơn vị",
            "dòng 2: loại đơn vị 'x' không hợp lệ; các loại hợp lệ: department, office, school",
            "dòng 3: mã 'TH A' có ký tự không hợp lệ ' '; mã chỉ gồm chữ cái không dấu, chữ số và các dấu - _ .",
            "dòng 3: đơn vị cha 'NOPE' không tồn tại",
        ],
        id="several errors, sorted by line",
    ),
    pytest.param(
        [R(8, "THCS-A", "NOPE"), DEPT, R(5, "", "SGD-HOABINH")],
        {},
        ["dòng 5: thiếu mã đơn vị", "dòng 8: đơn vị cha 'NOPE' không tồn tại"],
        id="rows out of line order",
    ),
]


@pytest.mark.parametrize(("rows", "existing", "messages"), ERROR_CASES)
def test_validate_reports_each_error(
    rows: list[UnitRow], existing: dict[str, ExistingUnit], messages: list[str]
) -> None:
    errors = validate_units(rows, existing, TYPES)
    assert [e.message for e in errors] == messages
    assert [e.line for e in errors] == sorted(e.line for e in errors)
    for error in errors:
        assert error.message.startswith(f"dòng {error.line}: ")
        assert unicodedata.is_normalized("NFC", error.message)
        assert str(error) == error.message


VALID_CASES = [
    pytest.param(
        [
            DEPT,
            R(3, "PGD-KIMBOI", "SGD-HOABINH", type="office"),
            R(4, "THCS-KIMBOI", "PGD-KIMBOI"),
            R(5, "THPT-KIMBOI", "SGD-HOABINH"),
        ],
        {},
        id="fresh tree",
    ),
    pytest.param(
        [R(2, "THCS-KIMBOI", "PGD-KIMBOI"), R(3, "PGD-KIMBOI", "SGD-HOABINH", type="office"), DEPT],
        {},
        id="children before their parents",
    ),
    pytest.param(
        [R(2, "THCS-NEW", "PGD-KIMBOI")],
        stored(E("SGD-HOABINH", type="department"), E("PGD-KIMBOI", "SGD-HOABINH", "office")),
        id="new unit under a stored parent",
    ),
    pytest.param(
        # Upsert: stored units renamed, retyped and moved.
        [
            R(2, "PGD-KIMBOI", "SGD-HOABINH", name="Phòng Giáo dục Kim Bôi", type="office"),
            R(3, "THCS-KIMBOI", "PGD-LACSON", type="school"),
        ],
        stored(
            E("SGD-HOABINH", type="department"),
            E("PGD-KIMBOI", type="school"),
            E("PGD-LACSON", "SGD-HOABINH", "office"),
            E("THCS-KIMBOI", "PGD-KIMBOI"),
        ),
        id="upsert over stored units",
    ),
    pytest.param(
        # Stored A ← B; the file swaps them: B becomes the root and A its child. Not a cycle.
        [R(2, "B", ""), R(3, "A", "B")],
        stored(E("A"), E("B", "A")),
        id="swap parent and child",
    ),
    pytest.param(
        [R(2, "SGD-HOABINH", type="department"), R(3, "SGD-PHUTHO", type="department")],
        {},
        id="several roots",
    ),
    pytest.param(
        [R(2, "  THCS_A.1 ", " SGD-HOABINH\u00a0"), DEPT],
        {},
        id="codes trimmed, underscore and dot allowed",
    ),
    pytest.param(
        [R(2, "A", "B")],
        # A cycle among stored units that the file does not touch is not the file's fault.
        stored(E("B"), E("X", "Y"), E("Y", "X")),
        id="stored cycle elsewhere",
    ),
]


@pytest.mark.parametrize(("rows", "existing"), VALID_CASES)
def test_validate_accepts(rows: list[UnitRow], existing: dict[str, ExistingUnit]) -> None:
    assert validate_units(rows, existing, TYPES) == []


def test_parent_row_with_its_own_error_is_still_a_parent() -> None:
    """A child should not get a second, misleading error because its parent's row is bad."""
    rows = [R(2, "PGD-A", type="bogus"), R(3, "TH-A", "PGD-A")]
    errors = validate_units(rows, {}, TYPES)
    assert [e.line for e in errors] == [2]


def test_no_types_configured() -> None:
    errors = validate_units([R(2, "A")], {}, [])
    assert errors == [RowError(2, "dòng 2: loại đơn vị 'school' không hợp lệ; các loại hợp lệ: (chưa khai báo loại nào)")]


# ---------------------------------------------------------------------------------------------
# Normalisation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Trường THCS  Kim Bôi ", "Trường THCS Kim Bôi"),
        ("Trường\u00a0THCS\tKim\nBôi", "Trường THCS Kim Bôi"),
        (unicodedata.normalize("NFD", "Trường THCS Kim Bôi"), "Trường THCS Kim Bôi"),
    ],
)
def test_names_are_normalised(raw: str, expected: str) -> None:
    row = normalize_row(UnitRow(2, " TH-A ", raw, " school ", " PGD-A "))
    assert row == UnitRow(2, "TH-A", expected, "school", "PGD-A")
    assert unicodedata.is_normalized("NFC", row.name)


def test_name_length_counts_nfc_characters() -> None:
    """200 precomposed Vietnamese letters are 200, even if the file had them decomposed."""
    name = unicodedata.normalize("NFD", "ễ" * 200)
    assert len(name) > 200
    assert validate_units([R(2, "A", name=name)], {}, TYPES) == []


# ---------------------------------------------------------------------------------------------
# order_for_insert


def _positions(rows: list[UnitRow]) -> dict[str, int]:
    return {r.code: i for i, r in enumerate(rows)}


@pytest.mark.parametrize(
    ("rows", "existing", "expected"),
    [
        pytest.param(
            [DEPT, R(3, "PGD", "SGD-HOABINH"), R(4, "TH", "PGD")], {}, ["SGD-HOABINH", "PGD", "TH"], id="already ordered"
        ),
        pytest.param(
            [R(3, "TH", "PGD"), R(4, "PGD", "SGD-HOABINH"), R(5, "X"), DEPT],
            {},
            ["SGD-HOABINH", "PGD", "TH", "X"],
            id="reversed",
        ),
        pytest.param(
            [R(2, "TH1", "PGD"), R(3, "TH2", "SGD"), R(4, "PGD", "SGD")],
            stored(E("SGD", type="department")),
            ["PGD", "TH1", "TH2"],
            id="stored parent needs nothing first",
        ),
        pytest.param(
            # Stored A ← B swapped by the file: B must be written (as a root) before A moves under it.
            [R(2, "A", "B"), R(3, "B", "")],
            stored(E("A"), E("B", "A")),
            ["B", "A"],
            id="swap",
        ),
    ],
)
def test_order_for_insert(rows: list[UnitRow], existing: dict[str, ExistingUnit], expected: list[str]) -> None:
    ordered = order_for_insert(rows, existing)
    assert [r.code for r in ordered] == expected
    assert sorted(ordered, key=lambda r: r.line) == sorted(rows, key=lambda r: r.line)


def test_order_for_insert_large_shuffled_tree() -> None:
    """Every parent from the file precedes its children, whatever the file order."""
    rng = random.Random(7)
    rows = [R(2, "U0", type="department")]
    for i in range(1, 300):
        rows.append(R(i + 2, f"U{i}", f"U{rng.randrange(i)}"))
    rng.shuffle(rows)
    assert validate_units(rows, {}, TYPES) == []
    ordered = order_for_insert(rows, {})
    where = _positions(ordered)
    assert len(ordered) == len(rows)
    for row in ordered:
        if row.parent:
            assert where[row.parent] < where[row.code]


def test_order_for_insert_returns_normalised_rows() -> None:
    ordered = order_for_insert([UnitRow(2, " A ", " Tên  A ", "school", " ")], {})
    assert ordered == [UnitRow(2, "A", "Tên A", "school", "")]


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([R(2, "A", "B"), R(3, "B", "A")], id="cycle"),
        pytest.param([R(2, "A", "A")], id="own parent"),
        pytest.param([R(2, "A"), R(3, "A")], id="duplicate"),
        pytest.param([R(2, "A", "NOPE")], id="unknown parent"),
    ],
)
def test_order_for_insert_refuses_invalid_input(rows: list[UnitRow]) -> None:
    with pytest.raises(ValueError):
        order_for_insert(rows, {})


# ---------------------------------------------------------------------------------------------
# Join and admin codes


def test_alphabet_has_no_look_alikes() -> None:
    assert not set("0O1IL") & set(CODE_ALPHABET)
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET) == 31
    assert CODE_ALPHABET == CODE_ALPHABET.upper()
    assert CODE_ALPHABET.isascii() and CODE_ALPHABET.isalnum()


@pytest.mark.parametrize("rng", [random.Random(1), secrets.SystemRandom()], ids=["seeded", "system"])
def test_generate_code_shape(rng: random.Random) -> None:
    for _ in range(200):
        code = generate_code(rng)
        assert len(code) == 8
        assert set(code) <= set(CODE_ALPHABET)
    assert len(generate_code(rng, 12)) == 12


def test_generate_code_is_reproducible_with_a_seed_and_varied() -> None:
    assert generate_code(random.Random(42)) == generate_code(random.Random(42))
    rng = random.Random(42)
    codes = [generate_code(rng) for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    # Every symbol is used, and none dominates: a rough check that choice() spans the alphabet.
    counts = {c: 0 for c in CODE_ALPHABET}
    for code in codes:
        for c in code:
            counts[c] += 1
    expected = 2000 * 8 / len(CODE_ALPHABET)
    assert all(0.7 * expected < n < 1.3 * expected for n in counts.values())


def test_generate_code_rejects_bad_length() -> None:
    with pytest.raises(ValueError):
        generate_code(random.Random(0), 0)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ABCD2345", "ABCD2345"),
        ("abcd 2345", "ABCD2345"),
        (" abcd-2345 ", "ABCD2345"),
        ("ab cd – 23 45", "ABCD2345"),  # an en dash, as phone keyboards make it
        ("ＡＢＣＤ２３４５", "ABCD2345"),  # full-width
        ("abcd\u00a02345\n", "ABCD2345"),
    ],
)
def test_normalize_code_input(typed: str, expected: str) -> None:
    assert normalize_code_input(typed) == expected


def test_generated_codes_survive_typing() -> None:
    rng = random.Random(3)
    for _ in range(50):
        code = generate_code(rng)
        typed = f"{code[:4].lower()} {code[4:].lower()}"
        assert normalize_code_input(typed) == code
