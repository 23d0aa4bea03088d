"""`python -m bot run|console|units|migrate` (SPEC §4.1); the same as the `lantoa` script."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

from bot.config import DEFAULT_CONFIG_PATH, ENV_DATABASE_URL, Config, ConfigError, load_config
from bot.domain import texts_vi
from bot.domain.types import PlatformRefused
from bot.logs import redact, setup_logging

logger = logging.getLogger("bot")

EXIT_USAGE = 2


class UserError(Exception):
    """Something the operator can fix: printed as one line, exit 2."""


# ---------------------------------------------------------------------------------------------
# argparse in Vietnamese. argparse builds its texts from English gettext msgids and has no
# Vietnamese catalogue; its error messages reach ArgumentParser.error() already formatted, so
# they are matched here (first match wins). One that is not matched stays as argparse wrote it.

_ARGPARSE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), replacement) for pattern, replacement in (
        (r"the following arguments are required: (.+)", r"thiếu tham số bắt buộc: \1"),
        (r"one of the arguments (.+) is required", r"cần một trong các tham số \1"),
        (r"unrecognized arguments: (.+)", r"không hiểu tham số: \1"),
        (r"ambiguous option: (.+?) could match (.+)", r"tùy chọn \1 không rõ, có thể là \2"),
        (r"unexpected option string: (.+)", r"tùy chọn không mong đợi: \1"),
        (r"argument (.+?): invalid choice: (.+?) \(choose from (.+)\)",
         r"\1: không có lựa chọn \2 (chọn một trong: \3)"),
        (r"argument (.+?): expected one argument", r"\1: cần một giá trị"),
        (r"argument (.+?): expected at most one argument", r"\1: nhận nhiều nhất một giá trị"),
        (r"argument (.+?): expected at least one argument", r"\1: cần ít nhất một giá trị"),
        (r"argument (.+?): expected (\d+) arguments?", r"\1: cần \2 giá trị"),
        (r"argument (.+?): invalid \w+ value: (.+)", r"\1: giá trị không hợp lệ \2"),
        (r"argument (.+?): not allowed with argument (.+)", r"\1: không dùng cùng với \2"),
        (r"argument (.+?): ignored explicit argument (.+)", r"\1: không nhận giá trị \2"),
    )
)


def _vietnamese_error(message: str) -> str:
    for pattern, replacement in _ARGPARSE_ERRORS:
        if pattern.fullmatch(message):
            return pattern.sub(replacement, message)
    return message


class _HelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "Cách dùng: " if prefix is None else prefix)


class _ArgumentParser(argparse.ArgumentParser):
    """ArgumentParser whose usage, help and errors are Vietnamese (subparsers inherit it)."""

    def __init__(self, *args, add_help: bool = True, parents=(), **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "tham số"
        self._optionals.title = "tùy chọn"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="in hướng dẫn này rồi thoát")
        # Parents are merged by group title, so only now that the titles are Vietnamese (as
        # ArgumentParser.__init__ would, or a parent's options get a second "tùy chọn" heading).
        for parent in parents:
            self._add_container_actions(parent)
            self._defaults.update(parent._defaults)

    def error(self, message: str):
        # The usage line stays (SPEC §4.1 allows it); the error itself is one Vietnamese line.
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: lỗi: {_vietnamese_error(message)}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="python -m bot", description="Lan Tỏa — bot lan tỏa thông tin tích cực.")
    help_c = "tệp cấu hình (mặc định ./config.toml)"
    # -c is accepted before or after the command. After it, its default is SUPPRESS: otherwise
    # the subcommand's own default None would overwrite a -c given before the command.
    parser.add_argument("-c", "--config", metavar="TỆP", help=help_c)
    config_opt = _ArgumentParser(add_help=False)
    config_opt.add_argument("-c", "--config", metavar="TỆP", default=argparse.SUPPRESS, help=help_c)
    sub = parser.add_subparsers(dest="command", required=True, metavar="LỆNH", title="lệnh")

    sub.add_parser("run", parents=[config_opt], help="chạy bot trên các nền tảng đã bật")
    sub.add_parser("console", parents=[config_opt], help="trình mô phỏng trò chuyện trên terminal")
    sub.add_parser("migrate", parents=[config_opt], help="cập nhật lược đồ cơ sở dữ liệu")

    members = sub.add_parser("members", parents=[config_opt], help="thành viên")
    members_sub = members.add_subparsers(dest="members_command", required=True, metavar="LỆNH", title="lệnh")
    forget = members_sub.add_parser("forget", parents=[config_opt],
                                    help="xoá dữ liệu của một người theo yêu cầu (giữ số liệu của đơn vị)")
    forget.add_argument("account", metavar="NỀN_TẢNG:MÃ", help="tài khoản, ví dụ telegram:123456789")
    backup = sub.add_parser("backup", parents=[config_opt], help="sao lưu cơ sở dữ liệu SQLite khi bot đang chạy")
    backup.add_argument("--out", required=True, metavar="TỆP", help="tệp sao lưu sẽ được tạo")

    units = sub.add_parser("units", parents=[config_opt], help="danh sách đơn vị")
    units_sub = units.add_subparsers(dest="units_command", required=True, metavar="LỆNH", title="lệnh")
    imp = units_sub.add_parser("import", parents=[config_opt], help="nhập đơn vị từ CSV hoặc XLSX")
    imp.add_argument("file", metavar="TỆP", help="tệp CSV hoặc XLSX có các cột code,name,type,parent (staff nếu có)")
    units_sub.add_parser("codes", parents=[config_opt], help="in mã tham gia và mã quản trị (CSV)")

    report = sub.add_parser("report", parents=[config_opt], help="báo cáo Excel của một đơn vị, hoặc báo cáo thiết lập")
    report.add_argument("--unit", metavar="MÃ", help="mã đơn vị (báo cáo gồm cả các đơn vị cấp dưới)")
    report.add_argument("--period", metavar="KỲ",
                        help="tuan, thang, hocky, namhoc, YYYY-MM, YYYY-Www hoặc YYYY-MM-DD..YYYY-MM-DD")
    report.add_argument("--out", metavar="TỆP", help="tệp .xlsx sẽ được ghi")
    report.add_argument("--setup", action="store_true", help="báo cáo kết quả lập nhóm, lập trang Fanpage")

    webp = sub.add_parser("web", parents=[config_opt], help="trang quản lý trên web")
    web_sub = webp.add_subparsers(dest="web_command", required=True, metavar="LỆNH", title="lệnh")
    link = web_sub.add_parser("link", parents=[config_opt], help="in liên kết đăng nhập dùng một lần (10 phút)")
    link.add_argument("account", metavar="NỀN_TẢNG:MÃ", help="tài khoản, ví dụ telegram:123456789")
    return parser


def _config(args: argparse.Namespace, *, say_database: bool = False) -> Config:
    """The configuration; ``say_database``: without a file, tell on stderr which database is used."""
    config = load_config(args.config, explicit=args.config is not None)
    if say_database and config.source is None:
        # Run from the wrong folder, a command would quietly read (or create) ./lantoa.db.
        env_name = ENV_DATABASE_URL if os.environ.get(ENV_DATABASE_URL, "").strip() else None
        print(texts_vi.database_without_config(str(DEFAULT_CONFIG_PATH), _database_shown(config.database.url),
                                               env_name), file=sys.stderr)
    return config


def _database_shown(url: str) -> str:
    """Where the data is, for the operator: a SQLite file's full path, else the URL without password."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        return str(Path(database).expanduser().resolve()) if database and database != ":memory:" else ":memory:"
    return parsed.render_as_string(hide_password=True)


async def _cmd_run(args: argparse.Namespace) -> int:
    from bot.app import run_bot

    config = _config(args)
    if config.bot.log_format == "json":
        setup_logging(json_lines=True)
    return await run_bot(config)


async def _cmd_console(args: argparse.Namespace) -> int:
    from bot.app import run_console

    if args.config is None and not Path("config.toml").exists():
        from bot.config import default_config

        return await run_console(default_config(), demo=True)
    return await run_console(_config(args), demo=False)


async def _cmd_migrate(args: argparse.Namespace) -> int:
    from storage.db import create_engine
    from storage.migrate import migrate

    engine = create_engine(_config(args, say_database=True).database.url)
    try:
        result = await migrate(engine)
    finally:
        await engine.dispose()
    if result.created:
        print(texts_vi.schema_created(result.after))
    elif result.upgraded:
        print(texts_vi.schema_upgraded(result.before, result.after))
    else:
        print(texts_vi.schema_up_to_date(result.after))
    return 0


async def _cmd_members_forget(args: argparse.Namespace) -> int:
    """`members forget PLATFORM:ID` (SPEC §3.4): one line on success; an unknown account is exit 2."""
    from bot.app import open_storage
    from handlers.forget import BadAccount, forget, parse_account

    config = _config(args, say_database=True)
    try:
        platform, user_id = parse_account(args.account)
    except BadAccount as exc:
        raise UserError(str(exc)) from exc
    storage = await open_storage(config)
    try:
        async with storage.uow() as uow:
            done = await forget(uow, platform, user_id, datetime.now(timezone.utc))
    finally:
        await storage.close()
    if done is None:
        raise UserError(texts_vi.forget_unknown(f"{platform}:{user_id}"))
    print(texts_vi.forget_done(done.erased.accounts, done.erased.links))
    return 0


async def _cmd_backup(args: argparse.Namespace) -> int:
    """`backup --out FILE`: SQLite's online backup; for PostgreSQL one line pointing to pg_dump."""
    from bot.backup import BackupError, backup_sqlite, sqlite_path

    config = _config(args, say_database=True)
    path = sqlite_path(config.database.url)
    if path is None:
        print(texts_vi.backup_postgres(_database_shown(config.database.url)), file=sys.stderr)
        return EXIT_USAGE
    try:
        size = await backup_sqlite(path, Path(args.out), progress=sys.stderr.isatty())
    except BackupError as exc:
        raise UserError(texts_vi.backup_failed(args.out, str(exc))) from exc
    print(texts_vi.backup_done(args.out, size / 1_000_000))
    return 0


async def _cmd_units_import(args: argparse.Namespace) -> int:
    from bot.app import open_storage
    from bot.unitfile import UnitFileError, read_units_file
    from handlers.units import import_units

    config = _config(args, say_database=True)
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
        print(texts_vi.units_not_imported(result.bad_rows, args.file), file=sys.stderr)
        return EXIT_USAGE
    print(texts_vi.units_imported(len(rows), result.created, result.updated))
    return 0


async def _cmd_units_codes(args: argparse.Namespace) -> int:
    from bot.app import open_storage
    from handlers.units import codes_csv

    storage = await open_storage(_config(args, say_database=True))
    try:
        async with storage.uow() as uow:
            data = await codes_csv(uow)
    finally:
        await storage.close()
    # Bytes, not text: the BOM and UTF-8 must reach the file whatever the console's encoding.
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # stdout replaced by a text-only stream (an embedding caller)
        sys.stdout.write(data.decode("utf-8"))
        return 0
    sys.stdout.flush()
    buffer.write(data)
    buffer.flush()
    return 0


async def _cmd_web_link(args: argparse.Namespace) -> int:
    """`web link PLATFORM:ID`: exactly one line, the one-use dashboard login link (SPEC §4.1)."""
    from bot.app import open_storage
    from handlers.web_login import NoDashboard, login_link_for_account

    config = _config(args)
    storage = await open_storage(config)
    try:
        async with storage.uow() as uow:
            url = await login_link_for_account(uow, config, args.account, datetime.now(timezone.utc))
    except NoDashboard as exc:
        raise UserError(str(exc)) from exc
    finally:
        await storage.close()
    print(url)
    return 0


async def _cmd_report(args: argparse.Namespace) -> int:
    """`report --unit CODE --period P --out FILE.xlsx` and `report --setup [--out FILE.xlsx]`."""
    from bot.report_cli import ReportCliError, run_report

    try:
        return await run_report(args, _config(args, say_database=True))
    except ReportCliError as exc:
        raise UserError(str(exc)) from exc


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # The operator's commands print their own one line; the log speaks only when something is wrong.
    setup_logging(console=args.command in ("console", "units", "migrate", "members", "backup", "web", "report"))
    handler = {
        "run": _cmd_run,
        "console": _cmd_console,
        "migrate": _cmd_migrate,
        "members": _cmd_members_forget,
        "backup": _cmd_backup,
        "units": lambda a: (_cmd_units_import if a.units_command == "import" else _cmd_units_codes)(a),
        "web": _cmd_web_link,
        "report": _cmd_report,
    }[args.command]
    from storage.migrate import SchemaTooNew

    try:
        return asyncio.run(handler(args))
    except (ConfigError, UserError, PlatformRefused) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except SchemaTooNew as exc:
        print(texts_vi.schema_too_new(exc.revision, exc.head or "?"), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for the operator; the traceback goes to the log
        logger.debug("unexpected failure", exc_info=True)
        print(redact(texts_vi.unexpected_error(type(exc).__name__, str(exc))), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
