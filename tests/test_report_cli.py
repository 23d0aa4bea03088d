"""`python -m bot report` as the operator meets it (SPEC §4.1): the files, the setup table, the
one-line errors with exit 2, and no progress bar when stderr is not a terminal."""

from __future__ import annotations

import argparse
import io
from datetime import datetime, timezone

import openpyxl

from bot.report_cli import ProgressBar, run_report
from tests.test_cli import run, write_config


def imported(tmp_path):
    cfg = write_config(tmp_path)
    units = tmp_path / "units.csv"
    units.write_text("code,name,type,parent,staff\nSGD-HB,Sở GD&ĐT Hòa Bình,department,,40\n"
                     "THCS-KB,Trường THCS Kim Bôi,school,SGD-HB,31\n", encoding="utf-8")
    assert run("units", "import", str(units), "-c", str(cfg), cwd=tmp_path).returncode == 0
    return cfg


def test_report_writes_the_workbook_and_says_so_in_one_line(tmp_path):
    cfg = imported(tmp_path)
    out = tmp_path / "bc.xlsx"
    result = run("report", "--unit", "SGD-HB", "--period", "2026-W48", "--out", str(out), "-c", str(cfg), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Đã ghi báo cáo vào {out} (0 liên kết).\n"
    assert result.stderr == ""  # piped: no progress bar
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Tóm tắt", "Đơn vị", "Thành viên", "Liên kết"]
    assert [r[0] for r in wb["Đơn vị"].iter_rows(min_row=3, values_only=True)] == ["SGD-HB", "THCS-KB"]
    assert wb["Đơn vị"]["A1"].value.startswith("Sở GD&ĐT Hòa Bình — tuần 23/11–29/11/2026")
    assert not list(tmp_path.glob(".bc.xlsx.*"))  # no temporary file left


async def test_every_period_form_is_accepted(harness, tmp_path):
    now = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)
    for period in ("tuan", "thang", "hocky", "namhoc", "2026-11", "2026-W48", "2026-11-01..2026-11-15"):
        out = tmp_path / "p.xlsx"
        args = argparse.Namespace(setup=False, unit="thcs-kimboi", period=period, out=str(out))
        assert await run_report(args, harness.dispatcher.config, now=now, stderr=io.StringIO()) == 0, period
        assert openpyxl.load_workbook(out)["Đơn vị"]["A3"].value == "THCS-KIMBOI"


def test_setup_report_prints_a_table_or_writes_a_file(tmp_path):
    cfg = imported(tmp_path)
    result = run("report", "--setup", "-c", str(cfg), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Mã đơn vị\tTên đơn vị\tLoại")
    assert lines[2].split("\t")[:5] == ["THCS-KB", "Trường THCS Kim Bôi", "Trường học", "SGD-HB", "Không"]
    assert "Có 0/2 đơn vị đã lập nhóm và gắn nhóm với bot." in lines
    assert "Số người bot đã biết so với biên chế: 0/71." in lines
    out = tmp_path / "tl.xlsx"
    result = run("report", "--setup", "--out", str(out), "-c", str(cfg), cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == f"Đã ghi báo cáo thiết lập vào {out}.\n"
    assert openpyxl.load_workbook(out).sheetnames == ["Tóm tắt", "Thiết lập"]


def test_errors_are_one_line_and_exit_2(tmp_path):
    cfg = imported(tmp_path)
    out = str(tmp_path / "x.xlsx")
    cases = {
        ("--unit", "KHONGCO", "--period", "thang", "--out", out): "Không có đơn vị mã KHONGCO.",
        ("--unit", "THCS-KB", "--period", "2026-13", "--out", out): None,
        ("--unit", "THCS-KB", "--period", "thang", "--out", str(tmp_path / "khong" / "x.xlsx")):
            f"Không ghi được tệp {tmp_path / 'khong' / 'x.xlsx'}: thư mục không tồn tại.",
        ("--unit", "THCS-KB", "--period", "thang"): "Cần --unit MÃ_ĐƠN_VỊ, --period KỲ và --out TỆP.xlsx (hoặc --setup).",
    }
    for args, expected in cases.items():
        result = run("report", *args, "-c", str(cfg), cwd=tmp_path)
        assert result.returncode == 2, args
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1, result.stderr
        if expected:
            assert result.stderr.strip() == expected
        else:
            assert "2026-13" in result.stderr
    assert not (tmp_path / "x.xlsx").exists()


def test_the_progress_bar_draws_only_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = ProgressBar(stream, width=10)
        bar(500, 1000)
        bar(1000, 1000)
        bar.finish()
    assert pipe.getvalue() == ""
    assert tty.getvalue() == "\r[#####-----]  50% 500/1.000\r[##########] 100% 1.000/1.000\n"


async def test_the_operators_report_has_every_party_column(harness, tmp_path):
    g = harness.group("g-thcs")
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Nguyễn Thị Lan", "lan")
    await harness.send(g, lan, "https://www.facebook.com/someone/posts/1")
    async with harness.storage.engine.begin() as conn:
        from sqlalchemy import text

        await conn.execute(text("update persons set party_member=true"))
    out = tmp_path / "op.xlsx"
    args = argparse.Namespace(setup=False, unit="SGD-HOABINH", period="tuan", out=str(out))
    now = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)
    assert await run_report(args, harness.dispatcher.config, now=now, stderr=io.StringIO()) == 0
    members = list(openpyxl.load_workbook(out)["Thành viên"].iter_rows(min_row=3, values_only=True))
    assert [(r[2], r[4], r[8], r[9]) for r in members] == [("Nguyễn Thị Lan", 1, "Có", "Có")]


def test_baocao_in_the_console_prints_the_file_as_a_line(tmp_path):
    script = (":time 2026-11-27 10:00\nhttps://www.facebook.com/thptkimboi/posts/1\n:admin on\n/baocao\n"
              ":private\n/baocao\n:run setup\n")
    result = run("console", cwd=tmp_path, stdin=script)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "bot> Báo cáo có tên người nên bot gửi riêng: thầy cô hãy nhắn riêng cho bot rồi gửi lại /baocao." in lines
    files = [line for line in lines if line.startswith("bot> [tệp ")]
    assert len(files) == 1 and files[0].startswith("bot> [tệp baocao_THCS-KIMBOI_2026-11.xlsx, ")
    assert "bot> Báo cáo tháng 11/2026 — Trường THCS Kim Bôi." in lines
    assert lines[-1] == "console> nhắc hạn lập nhóm, lập trang: chưa đặt [calendar] setup_deadline nên không chạy."
