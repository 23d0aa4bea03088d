"""The command line as the operator meets it: subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LANTOA_")}
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, encoding="utf-8", env=full_env, timeout=120)


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "cli.db"}"\n{extra}', encoding="utf-8")
    return path


DEMO = """\
:time 2026-11-27 10:00
Em đã chia sẻ bài https://www.facebook.com/thptkimboi/posts/123456789 nhé
https://m.facebook.com/thptkimboi/posts/123456789?mibextid=Nif5oz&fbclid=abc
/toi
:as Trần Văn Bình
👉 youtu.be/dQw4w9WgXcQ?si=xyz và https://www.facebook.com/thptkimboi
:reply 4 /huy
:private
:edit 4 giờ là https://www.tiktok.com/@truongthcs/video/7301234567890123456?is_from_webapp=1
/toi
:khongco
:edit 99 x
"""


def test_console_demo_script(tmp_path):
    result = run("console", cwd=tmp_path, stdin=DEMO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "bot> [👍 on #1]",
        "bot> Bài này đã được ghi nhận ngày 27/11/2026.",
        "bot> 📊 Nguyễn Văn An — Trường THCS Kim Bôi",
        "bot> Tuần này (23/11–29/11/2026): 1 bài — đã đạt ✅.",
        "bot> Tháng 11/2026: 1 bài.",
        "bot> 🔥 1 tuần liên tiếp đạt chỉ tiêu.",
        "bot> [👍 on #4]",
        "bot> Đây là link trang, kênh hoặc nhóm, chưa phải link bài viết: thầy cô vui lòng gửi link của chính bài viết.",
        "bot> Đã rút 1 liên kết của tin nhắn này.",
        "bot> [THCS-KIMBOI] [👍 on #4]",
        "bot> 📊 Trần Văn Bình — Trường THCS Kim Bôi",
        "bot> Tuần này (23/11–29/11/2026): 1 bài — đã đạt ✅.",
        "bot> Tháng 11/2026: 1 bài.",
        "bot> 🔥 1 tuần liên tiếp đạt chỉ tiêu.",
        "console> không hiểu: :khongco — các lệnh điều khiển: :as, :admin, :group, :private, :reply, :edit, :time, :run",
        "console> không hiểu: :edit 99 x — không có tin nhắn #99 trong lần chạy này",
    ]
    # The same script gives the same output every time (a fresh demo database each start).
    assert run("console", cwd=tmp_path, stdin=DEMO).stdout == result.stdout


def test_console_group_and_dangky_private(tmp_path):
    long_name = "Nguyễn " * 12
    script = (":time 2026-11-27 10:00\n:group KHONG-CO\n:group PGD-KIMBOI\n"
              f":as {long_name}\nhttps://vnexpress.net/giao-duc-4812345.html\n")
    script += "/toi@OtherBot\n/lenhla\n:private\n/lenhla@LanToaBot\n"
    result = run("console", cwd=tmp_path, stdin=script)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "console> không hiểu: :group KHONG-CO — không có đơn vị mã KHONG-CO",
        f"console> không hiểu: :as {long_name.strip()} — tên dài quá 64 ký tự",
        "bot> [👍 on #1]",
        "bot> Bot không hiểu lệnh /lenhla. Gõ /huongdan để xem các lệnh.",
    ]


def test_run_without_platform_exits_2_and_points_to_console(tmp_path):
    result = run("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "console" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_config_is_one_line_naming_the_key(tmp_path):
    config = write_config(tmp_path, '[bot]\ntimezone = "Asia/Hanoi"\n')
    result = run("migrate", "-c", str(config), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "timezone" in lines[0]


def test_missing_explicit_config_exits_2(tmp_path):
    result = run("units", "codes", "-c", str(tmp_path / "khong.toml"), cwd=tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_units_import_codes_and_a_bad_row(tmp_path):
    config = write_config(tmp_path)
    good = tmp_path / "units.csv"
    good.write_text("code;name;type;parent\r\nSGD;Sở GD&ĐT;department;\r\nTHCS-A;Trường THCS A;school;SGD\r\n",
                    encoding="utf-8-sig")
    result = run("units", "import", str(good), "-c", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    codes = run("units", "codes", "-c", str(config), cwd=tmp_path)
    assert codes.stdout.startswith("\ufeffcode,name,join_code,admin_code\n")  # UTF-8 with BOM, for Excel
    table = list(csv.DictReader(io.StringIO(codes.stdout.removeprefix("\ufeff"))))
    assert [r["code"] for r in table] == ["SGD", "THCS-A"]
    assert all(len(r["join_code"]) == 8 and len(r["admin_code"]) == 8 for r in table)

    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,type,parent\nTHCS-B,Trường THCS B,school,SGD\nTHCS-C,Trường C,truong,SGD\n",
                   encoding="utf-8")
    result = run("units", "import", str(bad), "-c", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "dòng 3" in result.stderr
    again = run("units", "codes", "-c", str(config), cwd=tmp_path)
    assert again.stdout == codes.stdout  # nothing written


def test_units_import_unreadable_file(tmp_path):
    config = write_config(tmp_path)
    result = run("units", "import", str(tmp_path / "khong-co.csv"), "-c", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_console_with_a_config_uses_its_database(tmp_path):
    config = write_config(tmp_path)
    empty = run("console", "-c", str(config), cwd=tmp_path, stdin="")
    assert empty.returncode == 2 and "units import" in empty.stdout
    units = tmp_path / "units.csv"
    units.write_text("code,name,type,parent\nTHCS-A,Trường THCS A,school,\n", encoding="utf-8")
    assert run("units", "import", str(units), "-c", str(config), cwd=tmp_path).returncode == 0
    script = ":as Cô Lan\nhttps://youtu.be/dQw4w9WgXcQ\n"
    assert run("console", "-c", str(config), cwd=tmp_path, stdin=script).stdout == "bot> [👍 on #1]\n"
    # A later run on the same database: the same person, the same post, not counted twice.
    second = run("console", "-c", str(config), cwd=tmp_path, stdin=script)
    assert second.stdout.startswith("bot> Bài này đã được ghi nhận ngày")


def test_pytest_prints_its_summary_line_with_and_without_q(tmp_path):
    # `addopts = "-q"` made `pytest -q` run as -qq, which drops the "1 passed" line.
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n", encoding="utf-8")
    for extra in ([], ["-q"]):
        result = subprocess.run(
            [sys.executable, "-m", "pytest", *extra, "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path),
             "-p", "no:cacheprovider", "test_one.py"],
            cwd=tmp_path, capture_output=True, text=True, encoding="utf-8", timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert re.search(r"^=*\s*1 passed in ", result.stdout, re.MULTILINE), (extra, result.stdout)


# ---------------------------------------------------------------------------------------------
# Config and the command line (issue 13, item 8)


@pytest.mark.parametrize("url", ["sqlite:///x.db", "postgresql://lantoa:db-password@localhost/lantoa",
                                 "mysql+aiomysql://lantoa:db-password@localhost/lantoa", "rác"])
def test_a_database_url_we_cannot_use_is_one_line_naming_the_key(tmp_path, url):
    # Before: a raw SQLAlchemy exception at the first connection, exit 1.
    (tmp_path / "config.toml").write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    for args in (("migrate",), ("units", "codes")):
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "[database] url" in lines[0], lines
        assert "db-password" not in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "config.toml").unlink()
    result = run("migrate", cwd=tmp_path, env={"LANTOA_DATABASE_URL": url})
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1
    assert lines[0].startswith("LANTOA_DATABASE_URL (biến môi trường, thay cho [database] url): ")


def test_a_telegram_section_without_enabled_is_off(tmp_path):
    # SPEC §4.2: enabled defaults to false; before, the section alone switched Telegram on.
    config = write_config(tmp_path, '[telegram]\ntoken = "123456:not-a-real-token"\nbase_url = "http://127.0.0.1:9/bot"\n')
    result = run("run", "-c", str(config), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "enabled = true" in lines[0] and "console" in lines[0]


def test_config_option_before_or_after_the_command(tmp_path):
    config = write_config(tmp_path)
    units = tmp_path / "units.csv"
    units.write_text("code,name,type,parent\nTHCS-A,Trường THCS A,school,\n", encoding="utf-8")
    assert run("-c", str(config), "units", "import", str(units), cwd=tmp_path).returncode == 0
    outputs = [run(*args, cwd=tmp_path) for args in (
        ("-c", str(config), "units", "codes"),
        ("units", "codes", "-c", str(config)),
        ("units", "-c", str(config), "codes"),
        ("--config", str(config), "units", "codes"),
    )]
    assert all(r.returncode == 0 and r.stderr == "" for r in outputs), [r.stderr for r in outputs]
    assert len({r.stdout for r in outputs}) == 1 and "THCS-A" in outputs[0].stdout
    # No ./lantoa.db was created: every form used the file's database.
    assert not (tmp_path / "lantoa.db").exists()


ENGLISH = ("usage:", "error:", "required", "invalid choice", "unrecognized", "expected", "argument",
           "options", "positional", "show this help")


@pytest.mark.parametrize(("args", "vietnamese"), [
    ((), "thiếu tham số bắt buộc: LỆNH"),
    (("chay",), "không có lựa chọn 'chay'"),
    (("units",), "thiếu tham số bắt buộc: LỆNH"),
    (("units", "import"), "thiếu tham số bắt buộc: TỆP"),
    (("units", "codes", "thua"), "không hiểu tham số: thua"),
    (("migrate", "-c"), "-c/--config: cần một giá trị"),
    (("migrate", "--khong-co"), "không hiểu tham số: --khong-co"),
])
def test_argparse_errors_are_vietnamese_with_the_usage_line(tmp_path, args, vietnamese):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("Cách dùng: python -m bot")
    assert ": lỗi: " in lines[-1] and vietnamese in lines[-1], lines
    assert not any(word in result.stderr.lower() for word in ENGLISH), result.stderr


@pytest.mark.parametrize("args", [("-h",), ("units", "--help"), ("units", "import", "-h"), ("migrate", "-h")])
def test_help_is_vietnamese(tmp_path, args):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("Cách dùng: python -m bot")
    assert "in hướng dẫn này rồi thoát" in result.stdout and "tùy chọn:" in result.stdout
    assert "-c TỆP, --config TỆP" in result.stdout
    assert not any(word in result.stdout.lower() for word in ENGLISH), result.stdout


# ---------------------------------------------------------------------------------------------
# Operator files (item 9)


def test_units_codes_is_excel_ready_and_neutralises_formulas(tmp_path):
    config = write_config(tmp_path)
    units = tmp_path / "units.csv"
    units.write_text('code,name,type,parent\nSGD,"=HYPERLINK(""http://x.example"",""Bấm"")",department,\n'
                     "TH-A,-Trường A,school,SGD\nTH-B,@Trường B,school,SGD\nTH-C,+Trường C,school,SGD\n",
                     encoding="utf-8")
    assert run("units", "import", str(units), "-c", str(config), cwd=tmp_path).returncode == 0
    result = subprocess.run([sys.executable, "-m", "bot", "units", "codes", "-c", str(config)], cwd=tmp_path,
                            capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    # Bytes as Excel reads them: a UTF-8 BOM, then UTF-8, whatever the terminal's encoding.
    assert result.stdout.startswith(b"\xef\xbb\xbfcode,name,join_code,admin_code\n")
    table = list(csv.DictReader(io.StringIO(result.stdout.decode("utf-8-sig"))))
    assert [r["name"] for r in table] == ["'=HYPERLINK(\"http://x.example\",\"Bấm\")", "'-Trường A",
                                          "'@Trường B", "'+Trường C"]


def test_import_counts_bad_rows_not_errors(tmp_path):
    config = write_config(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,type,parent\nSGD,,truong,\nTH-A,Trường A,school,KHONG-CO\n", encoding="utf-8")
    result = run("units", "import", str(bad), "-c", str(config), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    # Both problems of line 2 are listed, but line 2 is one bad row: two bad rows in all.
    assert [line.split(":")[0] for line in lines[:-1]] == ["dòng 2", "dòng 2", "dòng 3"]
    assert lines[-1] == f"Không nhập gì: 2 dòng lỗi trong tệp {bad}."


def test_units_codes_without_a_config_says_which_database_it_read(tmp_path):
    result = run("units", "codes", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr.strip().splitlines() == [
        f"Không có tệp cấu hình config.toml: dùng cơ sở dữ liệu mặc định {(tmp_path / 'lantoa.db').resolve()}."
    ]
    env_db = tmp_path / "khac.db"
    result = run("units", "codes", cwd=tmp_path, env={"LANTOA_DATABASE_URL": f"sqlite+aiosqlite:///{env_db}"})
    assert result.stderr.strip().splitlines() == [
        f"Không có tệp cấu hình config.toml: dùng cơ sở dữ liệu {env_db} (theo biến môi trường LANTOA_DATABASE_URL)."
    ]
    # With a configuration the operator chose the database: nothing is said.
    config = write_config(tmp_path)
    assert run("units", "codes", cwd=tmp_path).stderr == "" and config.exists()


# ---------------------------------------------------------------------------------------------
# migrate (item 11)


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrate_says_what_it_did(tmp_path):
    import asyncio

    from storage.db import create_engine
    from storage.migrate import migrate

    config = write_config(tmp_path)
    head = _head_revision()
    created = run("migrate", "-c", str(config), cwd=tmp_path)
    assert (created.returncode, created.stdout, created.stderr) == (
        0, f"Đã khởi tạo cơ sở dữ liệu mới (phiên bản {head}).\n", "")
    again = run("migrate", "-c", str(config), cwd=tmp_path)
    assert again.stdout == f"Cơ sở dữ liệu đã ở phiên bản mới nhất ({head}), không cần nâng cấp.\n"

    # A database left at the first revision by an older version of the bot.
    assert head != "0001"
    old = tmp_path / "old.db"

    async def make_old() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{old}")
        await migrate(engine, "0001")
        await engine.dispose()

    asyncio.run(make_old())
    old_config = tmp_path / "old.toml"
    old_config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{old}"\n', encoding="utf-8")
    upgraded = run("migrate", "-c", str(old_config), cwd=tmp_path)
    assert upgraded.returncode == 0
    assert upgraded.stdout == f"Đã nâng cấp cơ sở dữ liệu từ phiên bản 0001 lên {head}.\n"


def test_a_database_from_a_newer_bot_is_one_line(tmp_path):
    import sqlite3

    config = write_config(tmp_path)
    assert run("migrate", "-c", str(config), cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "cli.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    for args in (("migrate",), ("units", "codes")):
        result = run(*args, "-c", str(config), cwd=tmp_path)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and "9999" in lines[0], result.stderr
