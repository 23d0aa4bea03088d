"""The unit tree from the operator's file: all-or-nothing upsert, codes to hand out."""

from __future__ import annotations

import csv
import io
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Collection, Sequence

from bot.domain.unit_tree import (
    ExistingUnit,
    RowError,
    UnitRow,
    generate_code,
    order_for_insert,
    parse_staff,
    validate_units,
)
from storage.models import Unit
from storage.uow import UnitOfWork


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    homes_changed: int = 0  # people whose implicit home unit moved with the tree

    @property
    def bad_rows(self) -> int:
        """Lines with at least one error: a row with two problems is one bad row."""
        return len({e.line for e in self.errors})


async def import_units(
    uow: UnitOfWork,
    rows: Sequence[UnitRow],
    unit_types: Collection[str],
    now: datetime,
    rng: random.Random | None = None,
) -> ImportResult:
    """Upsert units by code. With any bad row nothing is written and every error is returned."""
    rng = rng or secrets.SystemRandom()
    units = {u.code: u for u in await uow.units.all()}
    by_id = {u.id: u for u in units.values()}
    existing = {
        code: ExistingUnit(code=code, parent=by_id[u.parent_id].code if u.parent_id else "", type=u.type)
        for code, u in units.items()
    }
    errors = validate_units(rows, existing, unit_types)
    if errors:
        return ImportResult(errors=errors)
    result = ImportResult()
    placed = {u.id: (u.path, u.depth) for u in units.values()}
    taken = await uow.units.all_codes()
    for row in order_for_insert(rows, existing):
        parent = units[row.parent] if row.parent else None
        # An empty cell (or no staff column) keeps a headcount given by an earlier file.
        staff = parse_staff(row.staff)
        unit = units.get(row.code)
        if unit is None:
            unit = Unit(code=row.code, name=row.name, type=row.type, parent_id=parent.id if parent else None,
                        path="", depth=0, join_code=_fresh_code(rng, taken), admin_code=_fresh_code(rng, taken),
                        staff=staff, created_at=now, updated_at=now)
            uow.units.add(unit)
            await uow.units.flush()  # the id is part of the path
            units[row.code] = unit
            result.created += 1
        else:
            wanted = (row.name, row.type, parent.id if parent else None,
                      unit.staff if staff is None else staff)
            if (unit.name, unit.type, unit.parent_id, unit.staff) != wanted:
                unit.name, unit.type, unit.parent_id, unit.staff = wanted
                unit.updated_at = now
                result.updated += 1
    _recompute_paths(list(units.values()))
    await uow.units.flush()
    # The home unit is the deepest unit among a person's groups (SPEC §2): a moved subtree
    # changes depths, so people in groups bound anywhere in it may now belong elsewhere.
    moved = [unit_id for unit_id, before in placed.items() if before != (by_id[unit_id].path, by_id[unit_id].depth)]
    for person in await uow.members.persons_in_units(moved):
        if await uow.members.refresh_home_unit(person):
            result.homes_changed += 1
    uow.audit.add(now, "units_import", actor="cli", created=result.created, updated=result.updated,
                  homes_changed=result.homes_changed)
    return result


def _fresh_code(rng: random.Random, taken: set[str]) -> str:
    while True:
        code = generate_code(rng)
        if code not in taken:
            taken.add(code)
            return code


def _recompute_paths(units: list[Unit]) -> None:
    """Materialised paths from the parent links (a move re-paths the whole moved subtree)."""
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    stack = [(u, "/", 0) for u in children.get(None, [])]
    while stack:
        unit, prefix, depth = stack.pop()
        path = f"{prefix}{unit.id}/"
        if (unit.path, unit.depth) != (path, depth):  # unchanged rows stay out of the UPDATE
            unit.path, unit.depth = path, depth
        stack.extend((c, path, depth + 1) for c in children.get(unit.id, []))


# Excel (and LibreOffice, Google Sheets) run a cell starting with one of these as a formula, even
# in a CSV: "=HYPERLINK(…)" in a unit's name would run on the operator's machine (OWASP "CSV
# injection"). Tab and CR start formulas in some versions; the full-width forms are folded by
# some locales' input. A leading apostrophe makes the cell plain text and is not displayed.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


async def codes_csv(uow: UnitOfWork) -> bytes:
    """`units codes`: header code,name,join_code,admin_code, one row per unit, tree order.

    UTF-8 with a BOM: without it Excel on Windows reads the file as the ANSI code page and
    garbles every Vietnamese name.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "name", "join_code", "admin_code"])
    for unit in await uow.units.all():
        writer.writerow([_safe_cell(v) for v in (unit.code, unit.name, unit.join_code, unit.admin_code)])
    return buffer.getvalue().encode("utf-8-sig")
