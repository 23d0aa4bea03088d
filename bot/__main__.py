"""`python -m bot run|console|units|migrate` (SPEC §4.1); the same as the `lantoa` script."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path

from bot.config import Config, ConfigError, load_config
from bot.domain import texts_vi
from bot.domain.types import PlatformRefused
from bot.logs import redact, setup_logging

logger = logging.getLogger("bot")

EXIT_USAGE = 2


class UserError(Exception):
    """Something the operator can fix: printed as one line, exit 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Lan Tỏa — bot lan tỏa thông tin tích cực.")
    config_opt = argparse.ArgumentParser(add_help=False)
    config_opt.add_argument("-c", "--config", help="tệp cấu hình (mặc định ./config.toml)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="LỆNH")

    sub.add_parser("run", parents=[config_opt], help="chạy bot trên các nền tảng đã bật")
    sub.add_parser("console", parents=[config_opt], help="trình mô phỏng trò chuyện trên terminal")
    sub.add_parser("migrate", parents=[config_opt], help="cập nhật lược đồ cơ sở dữ liệu")

    units = sub.add_parser("units", help="danh sách đơn vị")
    units_sub = units.add_subparsers(dest="units_command", required=True, metavar="LỆNH")
    imp = units_sub.add_parser("import", parents=[config_opt], help="nhập đơn vị từ CSV hoặc XLSX")
    imp.add_argument("file", metavar="FILE")
    units_sub.add_parser("codes", parents=[config_opt], help="in mã tham gia và mã quản trị (CSV)")
    return parser


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config, explicit=args.config is not None)


async def _cmd_run(args: argparse.Namespace) -> int:
    from bot.app import run_bot

    return await run_bot(_config(args))


async def _cmd_console(args: argparse.Namespace) -> int:
    from bot.app import run_console

    if args.config is None and not Path("config.toml").exists():
        from bot.config import default_config

        return await run_console(default_config(), demo=True)
    return await run_console(_config(args), demo=False)


async def _cmd_migrate(args: argparse.Namespace) -> int:
    from bot.app import open_storage

    storage = await open_storage(_config(args))
    await storage.close()
    print(texts_vi.SCHEMA_UP_TO_DATE)
    return 0


async def _cmd_units_import(args: argparse.Namespace) -> int:
    from bot.app import open_storage
    from bot.unitfile import UnitFileError, read_units_file
    from handlers.units import import_units

    config = _config(args)
    try:
        rows = read_units_file(args.file)
    except UnitFileError as exc:
        raise UserError(str(exc)) from exc
    storage = await open_storage(config)
    try:
        async with storage.uow() as uow:
            result = await import_units(uow, rows, config.unit_types.keys(), datetime.now(timezone.utc))
    finally:
        await storage.close()
    if result.errors:
        for error in result.errors:
            print(error.message, file=sys.stderr)
        print(texts_vi.units_not_imported(len(result.errors), args.file), file=sys.stderr)
        return EXIT_USAGE
    print(texts_vi.units_imported(len(rows), result.created, result.updated))
    return 0


async def _cmd_units_codes(args: argparse.Namespace) -> int:
    from bot.app import open_storage
    from handlers.units import codes_csv

    storage = await open_storage(_config(args))
    try:
        async with storage.uow() as uow:
            sys.stdout.write(await codes_csv(uow))
    finally:
        await storage.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup_logging(console=args.command == "console" or args.command == "units")
    handler = {
        "run": _cmd_run,
        "console": _cmd_console,
        "migrate": _cmd_migrate,
        "units": lambda a: (_cmd_units_import if a.units_command == "import" else _cmd_units_codes)(a),
    }[args.command]
    try:
        return asyncio.run(handler(args))
    except (ConfigError, UserError, PlatformRefused) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for the operator; the traceback goes to the log
        logger.debug("unexpected failure", exc_info=True)
        print(redact(texts_vi.unexpected_error(type(exc).__name__, str(exc))), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
