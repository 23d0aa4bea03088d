"""The command line as the operator meets it: subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

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
        "console> không hiểu: :khongco",
        "console> không hiểu: :edit 99 x",
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
        "console> không hiểu: :group KHONG-CO",
        f"console> không hiểu: :as {long_name.strip()}",
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
    table = list(csv.DictReader(io.StringIO(codes.stdout)))
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
