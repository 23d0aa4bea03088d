"""What one SELECT costs through each layer, beside raw aiosqlite measured in the same run.

    .venv/bin/python bench/statement_cost.py [N]

Ingest speed is bounded by statements per message times the cost of one statement; this shows
how much of that cost is the database and how much is the async ORM on top of it.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import bindparam, select  # noqa: E402

from bot.app import open_storage  # noqa: E402
from bot.config import default_config  # noqa: E402
from storage.models import Unit  # noqa: E402


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cost.db"
        cfg = default_config()
        storage = await open_storage(replace(cfg, database=replace(cfg.database, url=f"sqlite+aiosqlite:///{path}")))
        figures: dict[str, float] = {}
        async with storage.uow() as uow:
            session = uow.session
            start = time.perf_counter()
            for i in range(n):
                (await session.execute(select(Unit).where(Unit.code == f"X{i}"))).scalar_one_or_none()
            figures["ORM select, built per call"] = time.perf_counter() - start
            prebuilt = select(Unit.__table__).where(Unit.__table__.c.code == bindparam("code"))
            start = time.perf_counter()
            for i in range(n):
                (await session.execute(prebuilt, {"code": f"X{i}"})).first()
            figures["Core select, prebuilt"] = time.perf_counter() - start
            conn = await session.connection()
            start = time.perf_counter()
            for i in range(n):
                (await conn.exec_driver_sql("SELECT * FROM units WHERE code = ?", (f"X{i}",))).first()
            figures["driver SQL through SQLAlchemy"] = time.perf_counter() - start
        await storage.close()
        import aiosqlite

        async with aiosqlite.connect(path) as db:
            start = time.perf_counter()
            for i in range(n):
                async with db.execute("SELECT * FROM units WHERE code = ?", (f"X{i}",)) as cursor:
                    await cursor.fetchone()
            reference = time.perf_counter() - start
    for name, seconds in figures.items():
        print(f"{name}: {seconds / n * 1e3:.3f} ms per statement ({seconds / reference:.1f}× raw)")
    print(f"reference: raw aiosqlite {reference / n * 1e3:.3f} ms per statement")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
