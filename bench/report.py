"""The department's school-year report at province scale (SPEC §5: ≤ 30 s, ≤ 300 MB peak RSS),
beside XlsxWriter (constant memory), openpyxl (write-only) and the report's own XML rows writing
the same number of rows with no queries, in the same run on the same machine.

    .venv/bin/python bench/generate.py            # once: /tmp/province.db
    .venv/bin/python bench/report.py [--db /tmp/province.db] [--unit SGD-TINH] [--period namhoc]

Each measurement runs in its own child process, so each peak RSS (ru_maxrss of that process)
is its own: the report through ``handlers.reports.write_report`` exactly as
``python -m bot report`` runs it (the operator's full file, every sheet), then the two writers
alone.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_SECONDS = 30.0
GOAL_RSS_MB = 300.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def _report(db: str, unit_code: str, period_arg: str, out: str) -> dict:
    from bench.generate import BENCH_NOW, bench_config, sqlite_url
    from bot.app import open_storage
    from bot.domain.periods import parse_period
    from handlers.reports import write_report

    config = bench_config(sqlite_url(db))
    storage = await open_storage(config)
    try:
        start = time.perf_counter()
        async with storage.uow() as uow:
            unit = await uow.units.by_code(unit_code)
            if unit is None:
                raise SystemExit(f"no unit {unit_code} in {db}")
            period = parse_period(period_arg, BENCH_NOW, config.bot.tz, config.calendar)
            stats = await write_report(uow, config, unit, period, BENCH_NOW, out)
        seconds = time.perf_counter() - start
    finally:
        await storage.close()
    return {"seconds": seconds, "rows": stats.links, "units": stats.units, "people": stats.people,
            "bytes": os.path.getsize(out)}


def _rows(n: int):
    """Rows shaped like the "Liên kết" sheet's (a time, a code, a name, a platform, a URL, a flag)."""
    t0 = datetime(2025, 9, 5, 7, 30)
    for i in range(n):
        yield (t0 + timedelta(seconds=25 * i), f"THCS-{i % 530:04d}", f"Nguyễn Thị Lan {i % 18000}", "facebook",
               f"https://www.facebook.com/truong{i % 530}/posts/{10**15 + i}", "Có" if i % 7 == 0 else "")


def _xlsxwriter(n: int, out: str) -> dict:
    import xlsxwriter

    start = time.perf_counter()
    wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False,
                                   "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("Liên kết")
    fmt = wb.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    row = 2
    for at, code, name, platform, url, page in _rows(n):
        ws.write_datetime(row, 0, at, fmt)
        ws.write_string(row, 1, code)
        ws.write_string(row, 2, name)
        ws.write_string(row, 3, platform)
        ws.write_string(row, 4, url)
        if page:
            ws.write_string(row, 5, page)
        row += 1
    wb.close()
    return {"seconds": time.perf_counter() - start, "rows": n, "bytes": os.path.getsize(out)}


def _filler(n: int, out: str) -> dict:
    """The report's own path for the big sheet: XlsxWriter for the package, rows as XML."""
    from datetime import timezone
    from zoneinfo import ZoneInfo

    from bot.report_xlsx import HEADER_ROWS, Column, ReportWriter, SheetFiller

    columns = [Column("Thời gian", 17, "datetime")] + [Column(h, 20) for h in "BCDEF"]
    start = time.perf_counter()
    package = io.BytesIO()
    writer = ReportWriter(package)
    members = writer.placeholders("Liên kết", "title", columns, 1)
    writer.close()
    styles = {k: f.xf_index for k, f in writer.formats.items() if f is not None}
    filler = SheetFiller(package.getvalue(), out, members, columns, styles, 1_048_576 - HEADER_ROWS, n)
    utc = timezone.utc
    rows = ((at.replace(tzinfo=utc), *rest) for at, *rest in _rows(n))
    filler.write(rows, ZoneInfo("Asia/Ho_Chi_Minh"))
    filler.close()
    return {"seconds": time.perf_counter() - start, "rows": n, "bytes": os.path.getsize(out)}


def _openpyxl(n: int, out: str) -> dict:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    start = time.perf_counter()
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Liên kết")
    for at, code, name, platform, url, page in _rows(n):
        cell = WriteOnlyCell(ws, value=at)
        cell.number_format = "dd/mm/yyyy hh:mm"
        ws.append([cell, code, name, platform, url, page or None])
    wb.save(out)
    return {"seconds": time.perf_counter() - start, "rows": n, "bytes": os.path.getsize(out)}


def _child(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "out.xlsx")
        if args.child == "report":
            result = asyncio.run(_report(args.db, args.unit, args.period, out))
        elif args.child == "xlsxwriter":
            result = _xlsxwriter(args.rows, out)
        elif args.child == "filler":
            result = _filler(args.rows, out)
        else:
            result = _openpyxl(args.rows, out)
    result["peak_mb"] = _peak_mb()
    print(json.dumps(result))


def _run(*extra: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, *extra], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "child failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    from bench.generate import DEFAULT_OUT

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_OUT)
    parser.add_argument("--unit", default="SGD-TINH")
    parser.add_argument("--period", default="namhoc")
    parser.add_argument("--child", choices=("report", "xlsxwriter", "openpyxl", "filler"), help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    if not Path(args.db).exists():
        print(f"{args.db} not found: run bench/generate.py first", file=sys.stderr)
        return 2
    report = _run("--child", "report", "--db", args.db, "--unit", args.unit, "--period", args.period)
    n = report["rows"]
    xw = _run("--child", "xlsxwriter", "--rows", str(n))
    op = _run("--child", "openpyxl", "--rows", str(n))
    fi = _run("--child", "filler", "--rows", str(n))
    print(f"report {args.unit} {args.period}: {report['units']} units, {report['people']} people, {n:,} links")
    print(f"{'what':<38}{'seconds':>9}{'peak RSS MB':>13}{'file MB':>9}")
    for name, r in (("report (queries + every sheet)", report), ("XlsxWriter constant_memory, rows", xw),
                    ("openpyxl write_only, rows", op), ("rows as XML (the report's way), rows", fi)):
        print(f"{name:<38}{r['seconds']:>9.1f}{r['peak_mb']:>13.0f}{r['bytes'] / 2**20:>9.1f}")
    ok = report["seconds"] <= GOAL_SECONDS and report["peak_mb"] <= GOAL_RSS_MB
    print(f"goal ≤ {GOAL_SECONDS:.0f} s and ≤ {GOAL_RSS_MB:.0f} MB: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
