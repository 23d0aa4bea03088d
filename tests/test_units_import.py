"""Importing the unit tree into storage: upsert, all-or-nothing, paths, codes."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta, timezone

from bot.app import open_storage
from bot.domain.types import ChatKind, ChatRef, UserRef
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
            assert (await codes_csv(uow)) == "\ufeffcode,name,join_code,admin_code\n".encode("utf-8")
    finally:
        await storage.close()


async def test_a_row_with_two_problems_is_one_bad_row_listing_both(config):
    storage = await open_storage(config)
    try:
        async with storage.uow() as uow:
            result = await import_units(uow, rows(
                ("SGD", "", "truong", ""),  # no name and an unknown type: one bad row
                ("TH-1", "Trường 1", "school", "KHONG-CO"),
            ), TYPES, NOW)
        assert [e.line for e in result.errors] == [2, 2, 3]
        assert result.bad_rows == 2
    finally:
        await storage.close()


async def test_a_move_repaths_every_descendant(config):
    storage = await open_storage(config)
    try:
        async with storage.uow() as uow:
            await import_units(uow, rows(
                ("SGD", "Sở", "department", ""),
                ("PGD-A", "Phòng A", "office", "SGD"),
                ("PGD-B", "Phòng B", "office", "SGD"),
                ("TH-1", "Trường 1", "school", "PGD-A"),
                ("TH-1-CS2", "Trường 1 cơ sở 2", "school", "TH-1"),
            ), TYPES, NOW, random.Random(1))
        # PGD-A goes two levels down, under PGD-B's new school; its whole subtree follows.
        async with storage.uow() as uow:
            await import_units(uow, rows(("TH-2", "Trường 2", "school", "PGD-B"),
                                         ("PGD-A", "Phòng A", "office", "TH-2")), TYPES, NOW)
        async with storage.uow() as uow:
            u = {unit.code: unit for unit in await uow.units.all()}
        ids = lambda *codes: "/" + "".join(f"{u[c].id}/" for c in codes)  # noqa: E731
        assert u["PGD-A"].path == ids("SGD", "PGD-B", "TH-2", "PGD-A") and u["PGD-A"].depth == 3
        assert u["TH-1"].path == ids("SGD", "PGD-B", "TH-2", "PGD-A", "TH-1") and u["TH-1"].depth == 4
        assert u["TH-1-CS2"].path == ids("SGD", "PGD-B", "TH-2", "PGD-A", "TH-1", "TH-1-CS2")
        assert u["TH-1-CS2"].depth == 5
    finally:
        await storage.close()


async def _seen_in(uow, chat_id: str, unit_code: str, user: UserRef, when: datetime) -> None:
    """``user`` is seen in a group bound to ``unit_code`` at ``when``."""
    group = await uow.groups.ensure(ChatRef("test", chat_id, ChatKind.GROUP, chat_id), when)
    group.unit_id = (await uow.units.by_code(unit_code)).id
    member, _ = await uow.members.ensure(user, when)
    await uow.members.touch_membership(group, member, when)
    await uow.members.refresh_home_unit(await uow.members.person(member.person_id))


async def test_moving_a_subtree_re_derives_the_home_units_it_changes(config):
    # The home unit is the deepest of a person's groups' units (SPEC §2); a move changes depths.
    lan, binh = UserRef("test", "lan", "Cô Lan"), UserRef("test", "binh", "Thầy Bình")
    storage = await open_storage(config)
    try:
        async with storage.uow() as uow:
            await import_units(uow, rows(
                ("SGD", "Sở", "department", ""),
                ("PGD-A", "Phòng A", "office", "SGD"),
                ("PGD-B", "Phòng B", "office", "SGD"),
            ), TYPES, NOW, random.Random(1))
        async with storage.uow() as uow:
            # Lan: PGD-A's group first, then PGD-B's (equal depth: the first seen wins).
            await _seen_in(uow, "g-a", "PGD-A", lan, NOW)
            await _seen_in(uow, "g-b", "PGD-B", lan, NOW + timedelta(minutes=1))
            await _seen_in(uow, "g-b", "PGD-B", binh, NOW)
            # Bình chose his unit himself: an explicit home unit never moves.
            (await uow.members.person((await uow.members.get("test", "binh")).person_id)).home_unit_explicit = True
        async with storage.uow() as uow:
            ids = {u.code: u.id for u in await uow.units.all()}
            lan_person = (await uow.members.get("test", "lan")).person
            assert lan_person.home_unit_id == ids["PGD-A"]
        # PGD-B becomes a part of PGD-A: it is now the deeper unit of Lan's two groups.
        async with storage.uow() as uow:
            result = await import_units(uow, rows(("PGD-B", "Phòng B", "office", "PGD-A")), TYPES, NOW)
        assert result.errors == [] and result.homes_changed == 1
        async with storage.uow() as uow:
            assert (await uow.members.get("test", "lan")).person.home_unit_id == ids["PGD-B"]
            assert (await uow.members.get("test", "binh")).person.home_unit_id == ids["PGD-B"]
        # And back: PGD-B a sibling again, both at depth 1, Lan's first-seen group wins again.
        async with storage.uow() as uow:
            result = await import_units(uow, rows(("PGD-B", "Phòng B", "office", "SGD")), TYPES, NOW)
        assert result.homes_changed == 1
        async with storage.uow() as uow:
            assert (await uow.members.get("test", "lan")).person.home_unit_id == ids["PGD-A"]
    finally:
        await storage.close()


async def test_codes_csv_is_utf8_with_bom_and_neutralises_formulas(config):
    storage = await open_storage(config)
    try:
        async with storage.uow() as uow:
            await import_units(uow, rows(
                ("SGD", "=HYPERLINK(\"http://x.example\",\"Bấm\")", "department", ""),
                ("-A", "+Trường 1", "school", "SGD"),
                ("B", "@SUM(1)", "school", "SGD"),
                ("C", "Trường \"Kim Bôi\", -1", "school", "SGD"),
            ), TYPES, NOW, random.Random(1))
        async with storage.uow() as uow:
            data = await codes_csv(uow)
        # Excel reads UTF-8 only with the BOM; without it every Vietnamese name is garbled.
        assert data.startswith(b"\xef\xbb\xbf")
        table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        assert [(r["code"], r["name"]) for r in table] == [
            ("SGD", "'=HYPERLINK(\"http://x.example\",\"Bấm\")"),
            ("'-A", "'+Trường 1"),
            ("B", "'@SUM(1)"),
            ("C", "Trường \"Kim Bôi\", -1"),  # only a cell's first character matters
        ]
    finally:
        await storage.close()


async def test_staff_is_imported_kept_when_not_given_and_updated(config):
    storage = await open_storage(config)
    try:
        async with storage.uow() as uow:
            result = await import_units(uow, [
                UnitRow(2, "SGD", "Sở", "department", "", "120"),
                UnitRow(3, "TH-1", "Trường 1", "school", "SGD", "45"),
                UnitRow(4, "TH-2", "Trường 2", "school", "SGD", ""),
            ], TYPES, NOW, random.Random(1))
        assert result.errors == []
        async with storage.uow() as uow:
            assert {u.code: u.staff for u in await uow.units.all()} == {"SGD": 120, "TH-1": 45, "TH-2": None}
        # A file without the column (or with an empty cell) keeps what an earlier file gave.
        async with storage.uow() as uow:
            result = await import_units(uow, [
                UnitRow(2, "SGD", "Sở", "department", ""),
                UnitRow(3, "TH-1", "Trường 1", "school", "SGD", ""),
                UnitRow(4, "TH-2", "Trường 2", "school", "SGD", "0"),
            ], TYPES, NOW)
        assert (result.created, result.updated) == (0, 1)
        async with storage.uow() as uow:
            assert {u.code: u.staff for u in await uow.units.all()} == {"SGD": 120, "TH-1": 45, "TH-2": 0}
        async with storage.uow() as uow:
            result = await import_units(uow, [UnitRow(2, "TH-1", "Trường 1", "school", "SGD", "50"),
                                              UnitRow(3, "TH-2", "Trường 2", "school", "SGD", "-3"),
                                              UnitRow(4, "TH-3", "Trường 3", "school", "SGD", "4,5")], TYPES, NOW)
        assert [(e.line, "biên chế" in e.message) for e in result.errors] == [(3, True), (4, True)]
        async with storage.uow() as uow:
            assert (await uow.units.by_code("TH-1")).staff == 45  # nothing written
    finally:
        await storage.close()
