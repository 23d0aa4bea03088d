"""The unit tree from the operator's file: all-or-nothing upsert, codes to hand out."""

from __future__ import annotations

import csv
import io
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Collection, Sequence

from bot.domain.unit_tree import ExistingUnit, RowError, UnitRow, generate_code, order_for_insert, validate_units
from storage.models import Unit
from storage.uow import UnitOfWork


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


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
    taken = await uow.units.all_codes()
    for row in order_for_insert(rows, existing):
        parent = units[row.parent] if row.parent else None
        unit = units.get(row.code)
        if unit is None:
            unit = Unit(code=row.code, name=row.name, type=row.type, parent_id=parent.id if parent else None,
                        path="", depth=0, join_code=_fresh_code(rng, taken), admin_code=_fresh_code(rng, taken),
                        created_at=now, updated_at=now)
            uow.units.add(unit)
            await uow.units.flush()  # the id is part of the path
            units[row.code] = unit
            result.created += 1
        else:
            changed = (unit.name, unit.type, unit.parent_id) != (row.name, row.type, parent.id if parent else None)
            unit.name, unit.type, unit.parent_id = row.name, row.type, parent.id if parent else None
            if changed:
                unit.updated_at = now
                result.updated += 1
    _recompute_paths(list(units.values()))
    await uow.units.flush()
    uow.audit.add(now, "units_import", actor="cli", created=result.created, updated=result.updated)
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
        unit.path, unit.depth = f"{prefix}{unit.id}/", depth
        stack.extend((c, unit.path, depth + 1) for c in children.get(unit.id, []))


async def codes_csv(uow: UnitOfWork) -> str:
    """`units codes`: header code,name,join_code,admin_code, one row per unit, tree order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "name", "join_code", "admin_code"])
    for unit in await uow.units.all():
        writer.writerow([unit.code, unit.name, unit.join_code, unit.admin_code])
    return buffer.getvalue()
