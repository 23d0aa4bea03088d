"""The unit tree as imported from a file: row checks, insert order, join/admin codes.

Pure: standard library only, no I/O. ``bot.unitfile`` reads the file into ``UnitRow``s; the CLI
validates them against the units already stored and writes nothing when any error comes back
(SPEC §3.4).

Decisions worth knowing:

- Codes are stable ASCII identifiers (``THCS-KIMBOI``): letters A–Z/a–z, digits, ``-``, ``_``,
  ``.``; at most 64 characters; surrounding whitespace is stripped. They are stored as written
  (case-sensitive), but two codes that differ only in case are rejected as a duplicate, in the
  file or against a stored unit, because an operator reading a printed list cannot tell them apart.
  A parent must be written exactly as its code; a case-only mismatch is an error that names the
  right spelling rather than a silent guess.
- Import is an upsert by code: a row with a stored code updates that unit's name, type and
  parent. Cycles are therefore checked on the tree that would result — stored units with the
  file's rows applied on top — so re-parenting a stored unit under its own descendant is caught.
- Several roots are allowed (a department plus, say, a second province's tree in one database).
- Names are NFC-normalised (Excel on Windows and macOS may hand us decomposed Vietnamese),
  stripped, inner whitespace collapsed to one space; at most 200 characters.
"""

from __future__ import annotations

import random
import re
import secrets
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

MAX_CODE_LENGTH = 64
MAX_NAME_LENGTH = 200

# Uppercase letters and digits without the pairs people misread or mistype from a printed sheet
# or a phone screen: 0/O, 1/I/L. 31 symbols, 8 of them: about 8.5e11 codes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
JOIN_CODE_LENGTH = 8

_CODE_RE = re.compile(r"[A-Za-z0-9._-]+")
_BAD_CODE_CHAR_RE = re.compile(r"[^A-Za-z0-9._-]")
# What a person may put between groups of a code when typing it: spaces and any kind of dash
# (phones turn "--" into an en or em dash).
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_CODE_INPUT_NOISE_RE = re.compile(r"[\s\-\u2010-\u2015\u2212_.]+")

# Every sentence below is shown to the operator as-is (one per bad row). They are kept here, not
# in texts_vi.py, because the import runs from the CLI, outside the chat handlers.
_MSG_EMPTY_CODE = "dòng {line}: thiếu mã đơn vị"
_MSG_CODE_TOO_LONG = "dòng {line}: mã '{code}' dài quá {max} ký tự"
_MSG_CODE_BAD_CHAR = (
    "dòng {line}: mã '{code}' có ký tự không hợp lệ {chars}; mã chỉ gồm chữ cái không dấu, "
    "chữ số và các dấu - _ ."
)
_MSG_EMPTY_NAME = "dòng {line}: thiếu tên đơn vị"
_MSG_NAME_TOO_LONG = "dòng {line}: tên đơn vị dài quá {max} ký tự"
_MSG_EMPTY_TYPE = "dòng {line}: thiếu loại đơn vị; các loại hợp lệ: {known}"
_MSG_UNKNOWN_TYPE = "dòng {line}: loại đơn vị '{type}' không hợp lệ; các loại hợp lệ: {known}"
_MSG_DUPLICATE = "dòng {line}: trùng mã '{code}' với dòng {first}"
_MSG_DUPLICATE_CASE = (
    "dòng {line}: trùng mã '{code}' với mã '{other}' ở dòng {first} "
    "(mã không phân biệt chữ hoa, chữ thường)"
)
_MSG_DUPLICATE_STORED_CASE = (
    "dòng {line}: trùng mã '{code}' với đơn vị đã có '{other}' "
    "(mã không phân biệt chữ hoa, chữ thường; hãy viết đúng '{other}' để cập nhật đơn vị đó)"
)
_MSG_SELF_PARENT = "dòng {line}: đơn vị '{code}' không thể là cấp trên của chính nó"
_MSG_UNKNOWN_PARENT = "dòng {line}: đơn vị cha '{parent}' không tồn tại"
_MSG_PARENT_CASE = "dòng {line}: đơn vị cha '{parent}' không tồn tại; có phải là '{other}'?"
_MSG_CYCLE = "dòng {line}: cấp trên tạo thành vòng lặp: {path}"
_MSG_NO_TYPES = "(chưa khai báo loại nào)"
_MSG_BAD_STAFF = (
    "dòng {line}: số biên chế '{staff}' không hợp lệ; cần một số nguyên từ 0 đến {max} "
    "(hoặc để trống)"
)
MAX_STAFF = 1_000_000


@dataclass(frozen=True)
class UnitRow:
    """One unit as read from the import file; ``line`` is the spreadsheet line (header = 1)."""

    line: int
    code: str
    name: str
    type: str
    parent: str  # "" for a root
    # The optional headcount ("biên chế") as written; "" = not given, and a stored one is kept.
    staff: str = ""


@dataclass(frozen=True)
class RowError:
    """One problem with one line of the file, as a full Vietnamese sentence naming the line."""

    line: int
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ExistingUnit:
    """A unit already in the database, as far as the tree checks need it."""

    code: str
    parent: str  # "" for a root
    type: str


# ---------------------------------------------------------------------------------------------
# Normalisation


def normalize_code(text: str) -> str:
    """Strip the whitespace a spreadsheet leaves around a unit code (NBSP included)."""
    return text.strip()


def normalize_name(text: str) -> str:
    """NFC, trimmed, runs of whitespace (NBSP, tabs, line breaks) made one space, no controls."""
    text = " ".join(unicodedata.normalize("NFC", text).split())
    # Control characters (a NUL from a broken export; PostgreSQL refuses NUL in text) and the
    # invisible marks that text pasted from web pages carries would make two equal names differ.
    return "".join(c for c in text if c not in _INVISIBLE and unicodedata.category(c) != "Cc")


def normalize_row(row: UnitRow) -> UnitRow:
    """The row with every field normalised as it will be stored."""
    return replace(
        row,
        code=normalize_code(row.code),
        name=normalize_name(row.name),
        type=row.type.strip(),
        parent=normalize_code(row.parent),
        staff=row.staff.strip(),
    )


def parse_staff(text: str) -> int | None:
    """The headcount of a normalised row: None when not given; ValueError when not 0..MAX_STAFF."""
    if not text:
        return None
    # ASCII digits only: int() would also take "٤٥", "+45" or "4_5", and "1.200" is ambiguous.
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_STAFF:
        raise ValueError(text)
    return int(text)


# ---------------------------------------------------------------------------------------------
# Validation


def validate_units(
    rows: Sequence[UnitRow],
    existing: Mapping[str, ExistingUnit],
    unit_types: Collection[str],
) -> list[RowError]:
    """Every problem with importing ``rows`` over ``existing`` (keyed by code), sorted by line."""
    rows = [normalize_row(r) for r in rows]
    known_types = ", ".join(sorted(unit_types)) or _MSG_NO_TYPES
    errors: list[RowError] = []

    def add(line: int, template: str, **fields: object) -> None:
        errors.append(RowError(line, template.format(line=line, **fields)))

    existing_by_fold = {code.casefold(): code for code in existing}
    # The first row for each code (exact and case-folded) wins; later ones are the duplicates.
    first_by_code: dict[str, UnitRow] = {}
    first_by_fold: dict[str, UnitRow] = {}

    for row in rows:
        line, code = row.line, row.code
        code_ok = _check_code(row, add)

        if not row.name:
            add(line, _MSG_EMPTY_NAME)
        elif len(row.name) > MAX_NAME_LENGTH:
            add(line, _MSG_NAME_TOO_LONG, max=MAX_NAME_LENGTH)

        if not row.type:
            add(line, _MSG_EMPTY_TYPE, known=known_types)
        elif row.type not in unit_types:
            add(line, _MSG_UNKNOWN_TYPE, type=row.type, known=known_types)

        try:
            parse_staff(row.staff)
        except ValueError:
            add(line, _MSG_BAD_STAFF, staff=_shown(row.staff), max=MAX_STAFF)

        if not code_ok:
            continue
        fold = code.casefold()
        if code in first_by_code:
            add(line, _MSG_DUPLICATE, code=code, first=first_by_code[code].line)
            continue
        if fold in first_by_fold:
            other = first_by_fold[fold]
            add(line, _MSG_DUPLICATE_CASE, code=code, other=other.code, first=other.line)
            continue
        if code not in existing and fold in existing_by_fold:
            add(line, _MSG_DUPLICATE_STORED_CASE, code=code, other=existing_by_fold[fold])
            continue
        first_by_code[code] = row
        first_by_fold[fold] = row

    # Parents are checked against the whole file, so a child may come before its parent.
    file_by_fold = {fold: row.code for fold, row in first_by_fold.items()}
    for row in rows:
        parent = row.parent
        if not parent:
            continue
        if parent == row.code:
            add(row.line, _MSG_SELF_PARENT, code=row.code)
        elif parent not in first_by_code and parent not in existing:
            fold = parent.casefold()
            other = file_by_fold.get(fold) or existing_by_fold.get(fold)
            if other:
                add(row.line, _MSG_PARENT_CASE, parent=parent, other=other)
            else:
                add(row.line, _MSG_UNKNOWN_PARENT, parent=parent)

    for row, cycle in _cycles_through_file(first_by_code, existing):
        add(row.line, _MSG_CYCLE, path=" → ".join(cycle))

    errors.sort(key=lambda e: e.line)  # stable: a line's errors keep the order they were found
    return errors


def _check_code(row: UnitRow, add: Callable[..., None]) -> bool:
    """Report what is wrong with the row's own code; True when it is usable as a key."""
    code = row.code
    if not code:
        add(row.line, _MSG_EMPTY_CODE)
        return False
    ok = True
    if len(code) > MAX_CODE_LENGTH:
        add(row.line, _MSG_CODE_TOO_LONG, code=code, max=MAX_CODE_LENGTH)
        ok = False
    if not _CODE_RE.fullmatch(code):
        bad = dict.fromkeys(_BAD_CODE_CHAR_RE.findall(code))  # unique, in order of appearance
        chars = " ".join(f"'{c}'" if c.isprintable() else _shown(c) for c in bad)
        add(row.line, _MSG_CODE_BAD_CHAR, code=_shown(code), chars=chars)
        ok = False
    return ok


def _shown(text: str) -> str:
    """Text with invisible characters spelled out, so the operator can find them in the cell."""
    return "".join(c if c.isprintable() else f"<U+{ord(c):04X}>" for c in text)


def _cycles_through_file(
    file_rows: Mapping[str, UnitRow], existing: Mapping[str, ExistingUnit]
) -> list[tuple[UnitRow, list[str]]]:
    """Each file row lying on a cycle of the merged tree, with the cycle read from that row."""
    parent_of = {code: unit.parent for code, unit in existing.items()}
    for code, row in file_rows.items():
        # A self-parent is reported on its own; here it must not count as a cycle too.
        parent_of[code] = "" if row.parent == code else row.parent

    found: list[tuple[UnitRow, list[str]]] = []
    done: set[str] = set()
    for start in parent_of:
        path: list[str] = []
        on_path: dict[str, int] = {}
        node = start
        while node and node in parent_of and node not in done and node not in on_path:
            on_path[node] = len(path)
            path.append(node)
            node = parent_of[node]
        if node in on_path:
            cycle = path[on_path[node] :]
            for i, code in enumerate(cycle):
                # Cycles only among stored units are not the file's doing; nothing to report.
                if code in file_rows:
                    rotated = cycle[i:] + cycle[:i]
                    found.append((file_rows[code], rotated + [code]))
        done.update(path)
    return found


# ---------------------------------------------------------------------------------------------
# Insert order


def order_for_insert(
    rows: Sequence[UnitRow], existing: Mapping[str, ExistingUnit]
) -> list[UnitRow]:
    """Normalised rows with every parent from the file before its children (file order kept)."""
    rows = [normalize_row(r) for r in rows]
    by_code = {r.code: r for r in rows}
    if len(by_code) != len(rows):
        raise ValueError("duplicate unit codes: validate_units first")
    ordered: list[UnitRow] = []
    placed: set[str] = set()
    for row in rows:
        # Walk up to the first ancestor that is placed or not in the file (then it is stored
        # already, or is a root), and place that chain top-down.
        chain: list[UnitRow] = []
        seen: set[str] = set()
        node: UnitRow | None = row
        while node is not None and node.code not in placed:
            if node.code in seen:
                raise ValueError(f"cycle through unit {node.code!r}: validate_units first")
            seen.add(node.code)
            chain.append(node)
            parent = node.parent
            if parent == node.code:
                raise ValueError(f"unit {parent!r} is its own parent: validate_units first")
            if parent and parent not in by_code and parent not in existing:
                raise ValueError(f"unknown parent {parent!r}: validate_units first")
            node = by_code.get(parent) if parent else None
        for unit in reversed(chain):
            ordered.append(unit)
            placed.add(unit.code)
    return ordered


# ---------------------------------------------------------------------------------------------
# Join and admin codes


def generate_code(
    rng: random.Random | secrets.SystemRandom, length: int = JOIN_CODE_LENGTH
) -> str:
    """A random code from ``CODE_ALPHABET``; pass ``secrets.SystemRandom()`` outside tests."""
    if length < 1:
        raise ValueError("length must be positive")
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(length))


def normalize_code_input(text: str) -> str:
    """A typed join/admin code as stored: upper case, no spaces, dashes, dots ("abcd 2345")."""
    # NFKC folds full-width letters and digits from some phone keyboards into ASCII.
    text = unicodedata.normalize("NFKC", text)
    return _CODE_INPUT_NOISE_RE.sub("", text).upper()
