"""Importing the unit tree into storage: upsert, all-or-nothing, paths, codes."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from bot.app import open_storage
from bot.domain.unit_tree import UnitRow
from handlers.units import codes_csv, import_units

NOW = datetime(2026, 11, 27, tzinfo=timezone.utc)
TYPES = {"school", "office", "department"}


def rows(*items):
    return [UnitRow(i + 2, *item) for i, item in enumerate(items)]


async def test_import_then_move_a_subtree_repaths_it(config):
    storage = await open_storage(config)
    try:
        async with storage.uow() as uow:
            result = await import_units(uow, rows(
                ("SGD", "Sở", "department", ""),
                ("PGD-A", "Phòng A", "office", "SGD"),
                ("PGD-B", "Phòng B", "office", "SGD"),
                ("TH-1", "Trường 1", "school", "PGD-A"),
            ), TYPES, NOW, random.Random(1))
        assert (result.created, result.updated, result.errors) == (4, 0, [])
        async with storage.uow() as uow:
            result = await import_units(uow, rows(("PGD-A", "Phòng A mới", "office", "PGD-B")), TYPES, NOW)
        assert (result.created, result.updated) == (0, 1)
        async with storage.uow() as uow:
            units = {u.code: u for u in await uow.units.all()}
        assert units["TH-1"].path == f"/{units['SGD'].id}/{units['PGD-B'].id}/{units['PGD-A'].id}/{units['TH-1'].id}/"
        assert units["TH-1"].depth == 3 and units["PGD-A"].name == "Phòng A mới"
        codes = [u.join_code for u in units.values()] + [u.admin_code for u in units.values()]
        assert len(set(codes)) == 8
    finally:
        await storage.close()


async def test_one_bad_row_writes_nothing(config):
    storage = await open_storage(config)
    try:
        async with storage.uow() as uow:
            result = await import_units(uow, rows(
                ("SGD", "Sở", "department", ""),
                ("TH-1", "Trường 1", "school", "KHONG-CO"),
            ), TYPES, NOW)
        assert [e.line for e in result.errors] == [3]
        async with storage.uow() as uow:
            assert await uow.units.count() == 0
            assert (await codes_csv(uow)) == "code,name,join_code,admin_code\n"
    finally:
        await storage.close()
