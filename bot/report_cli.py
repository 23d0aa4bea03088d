"""`python -m bot report` (SPEC §4.1): the operator's reports, with everything in them (§3.5).

The file is written next to its destination under a temporary name and moved into place at the
end, so an interrupted report never leaves a half-written .xlsx that looks complete. A progress
bar goes to stderr only when stderr is a terminal (nothing extra when piped).
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from bot.config import Config
from bot.domain import texts_vi
from bot.domain.periods import parse_period


class ReportCliError(Exception):
    """One line for the operator (exit 2)."""


class ProgressBar:
    """``[#####-----] 45% 450.000/1.000.000`` redrawn in place on a terminal; silent otherwise."""

    def __init__(self, stream: TextIO, *, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        share = min(1.0, done / total)
        filled = int(share * self.width)
        counts = f"{done:,}/{total:,}".replace(",", ".")
        self.stream.write(f"\r[{'#' * filled}{'-' * (self.width - filled)}] {round(share * 100):3d}% {counts}")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _temporary(out: Path) -> Path:
    return out.with_name(f".{out.name}.{os.getpid()}.tmp")


def _check_writable(out: Path) -> Path:
    """The temporary file, created now: an unwritable destination fails before any work."""
    tmp = _temporary(out)
    try:
        with open(tmp, "wb"):
            pass
    except OSError as exc:
        import errno

        reason = {errno.ENOENT: "thư mục không tồn tại", errno.EACCES: "không có quyền ghi",
                  errno.EPERM: "không có quyền ghi", errno.EISDIR: "đó là một thư mục",
                  errno.EROFS: "ổ đĩa chỉ đọc", errno.ENOSPC: "ổ đĩa đã đầy"}.get(exc.errno, exc.strerror or "lỗi hệ thống")
        raise ReportCliError(texts_vi.report_cannot_write(str(out), reason)) from None
    return tmp


async def run_report(args, config: Config, *, now: datetime | None = None, stderr: TextIO | None = None) -> int:
    from bot.app import open_storage
    from handlers.reports import setup_rows, setup_table, write_report, write_setup

    now = now or datetime.now(timezone.utc)
    stderr = stderr or sys.stderr
    if not args.setup and not (args.unit and args.period and args.out):
        raise ReportCliError(texts_vi.REPORT_UNIT_NEEDED)
    period = None
    if not args.setup:
        try:
            period = parse_period(args.period, now, config.bot.tz, config.calendar)
        except ValueError as exc:
            raise ReportCliError(str(exc)) from None
    out = Path(args.out) if args.out else None
    tmp = _check_writable(out) if out is not None else None
    done = False
    storage = await open_storage(config)
    try:
        async with storage.uow() as uow:
            unit = None
            if args.unit:
                unit = await uow.units.by_code(args.unit) or await uow.units.by_code(args.unit.upper())
                if unit is None:
                    raise ReportCliError(texts_vi.report_unknown_unit(args.unit[:64]))
            if args.setup:
                rows = await setup_rows(uow, config, unit)
                if tmp is None:
                    print(setup_table(rows))
                else:
                    write_setup(rows, str(tmp), now=now, tz=config.bot.tz, root=unit)
                    os.replace(tmp, out)
                    print(texts_vi.setup_written(str(out)))
                done = True
                return 0
            bar = ProgressBar(stderr)
            try:
                stats = await write_report(uow, config, unit, period, now, str(tmp), progress=bar)
            finally:
                bar.finish()
            os.replace(tmp, out)
            done = True
    finally:
        await storage.close()
        if not done and tmp is not None:
            tmp.unlink(missing_ok=True)
    print(texts_vi.report_written(str(out), stats.links))
    return 0
