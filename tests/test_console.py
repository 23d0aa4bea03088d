"""The console refuses what a real chat could not do, each time with one `console>` line saying why."""

from __future__ import annotations

import io

from bot.app import run_console
from bot.config import default_config
from bot.platforms.console import clean_name
from tests.test_cli import run


async def console(script: str) -> list[str]:
    out = io.StringIO()
    code = await run_console(default_config(), demo=True, stdin=io.StringIO(script), stdout=out)
    assert code == 0
    return out.getvalue().splitlines()


POST = "https://www.facebook.com/thptkimboi/posts/123456789"


async def test_time_outside_a_sane_range_is_refused_and_toi_still_works():
    lines = await console(":time 9999-12-31\n:time 1999-12-31 23:59\n:time 2100-12-31 10:00\n:time 2026-13-01\n/toi\n")
    assert lines[:3] == [
        "console> không hiểu: :time 9999-12-31 — chỉ nhận năm từ 2000 đến 2100",
        "console> không hiểu: :time 1999-12-31 23:59 — chỉ nhận năm từ 2000 đến 2100",
        "console> không hiểu: :time 2026-13-01 — viết :time YYYY-MM-DD HH:MM, ví dụ :time 2026-11-27 15:00",
    ]
    assert lines[3].startswith("bot> 📊 Nguyễn Văn An")
    # The accepted 2100-12-31 is the clock /toi read; its week runs into 2101.
    assert lines[4].startswith("bot> Tuần này (27/12/2100–02/01/2101): 0 bài")


async def test_time_tolerates_extra_spaces():
    lines = await console(":time   2026-11-27    10:00\n/toi\n")
    assert lines[1] == "bot> Tuần này (23/11–29/11/2026): 0 bài — chưa đạt (tối thiểu 1 bài)."


async def test_a_week_across_two_years_shows_both_years():
    lines = await console(":time 2025-12-31 10:00\n/toi\n")
    assert lines[1].startswith("bot> Tuần này (29/12/2025–04/01/2026): 0 bài")


async def test_reply_to_a_message_of_another_chat_is_refused():
    lines = await console(f"{POST}\n:private\n:reply 1 /huy\n:reply 7 /huy\n:reply 1\n")
    assert lines[1:] == [
        "console> không hiểu: :reply 1 /huy — tin nhắn #1 ở cuộc trò chuyện khác; "
        "chỉ trả lời được tin nhắn trong cuộc trò chuyện đang nói",
        "console> không hiểu: :reply 7 /huy — không có tin nhắn #7 trong lần chạy này",
        "console> không hiểu: :reply 1 — viết :reply <số tin nhắn> <nội dung>",
    ]


async def test_edit_by_someone_else_is_refused_with_why():
    lines = await console(f"{POST}\n:as Lan\n:edit 1 {POST}?x=1\n")
    assert lines[1:] == [
        "console> không hiểu: :edit 1 https://www.facebook.com/thptkimboi/posts/123456789?x=1 — "
        "tin nhắn #1 không phải của người đang nói; chỉ người gửi sửa được tin nhắn của mình",
    ]


async def test_names_empty_after_removing_invisible_characters_or_too_long_are_refused():
    invisible = "\u200b\u200d\u202e\u2066\ufeff\u3164"
    lines = await console(f":as {invisible}\n:as {'A' * 65}\n:as \u200bLan\u202e\n/toi\n")
    assert lines[0] == f"console> không hiểu: :as {invisible} — tên trống (sau khi bỏ các ký tự vô hình)"
    assert lines[1] == f"console> không hiểu: :as {'A' * 65} — tên dài quá 64 ký tự"
    assert lines[2] == "bot> 📊 Lan — Trường THCS Kim Bôi"


def test_clean_name():
    assert clean_name("  Nguyễn\u200b  Thị \u00adLan\u202e ") == "Nguyễn Thị Lan"
    assert clean_name("\u200bLan\u200d") == "Lan"
    assert clean_name("\u2067\u2069") == ""


async def test_group_is_case_insensitive_and_an_unknown_code_says_so():
    lines = await console(f":group th-kimboi\n{POST}\n:group KHONG-CO\n:group a b\n")
    assert lines == [
        "bot> [👍 on #1]",
        "console> không hiểu: :group KHONG-CO — không có đơn vị mã KHONG-CO",
        "console> không hiểu: :group a b — viết :group <mã đơn vị>, ví dụ :group THCS-KIMBOI",
    ]


async def test_a_group_entered_in_small_letters_is_the_same_chat_as_in_capitals():
    lines = await console(f":group thcs-kimboi\n{POST}\n:group THCS-KIMBOI\n:reply 1 /huy\n")
    assert lines == ["bot> [👍 on #1]", "bot> Đã rút 1 liên kết của tin nhắn này."]


async def test_an_unknown_or_malformed_directive_says_why():
    lines = await console(":foo\n:admin maybe\n:private\n:admin on\n:private now\n")
    assert lines == [
        "console> không hiểu: :foo — các lệnh điều khiển: :as, :admin, :group, :private, :reply, :edit, :time, :run",
        "console> không hiểu: :admin maybe — viết :admin on hoặc :admin off",
        "console> không hiểu: :admin on — cuộc trò chuyện riêng không có quản trị viên; hãy :group <mã đơn vị> trước",
        "console> không hiểu: :private now — :private không nhận thêm gì",
    ]


def test_hostile_session_gives_no_wrong_credit_no_misreading_and_no_traceback(tmp_path):
    script = "\n".join([
        ":time 2026-11-27 10:00",
        "/dangky WF3TDPFG cong dong",  # not an admin
        ":admin on",
        "/dangky WF3TDPFG congdongg",
        "/đăng ký VSHDFJSN",  # another unit: asks first
        f"/tôi {POST}",  # credited, and counted by the /toi it came with
        ":reply 99 /huy",
        ":time 9999-12-31",
        "/toi",
        ":as \u200b",
        ":as \u202eLan",
        ":group thcs-kimboi",
        "/xyz",
        ":private",
        "/xyz",
        "/hủy",
        ":reply 4 /huy",
    ]) + "\n"
    result = run("console", cwd=tmp_path, stdin=script)
    assert result.returncode == 0 and result.stderr == ""
    toi = [
        "bot> 📊 Nguyễn Văn An — Trường THCS Kim Bôi",
        "bot> Tuần này (23/11–29/11/2026): 1 bài — đã đạt ✅.",
        "bot> Tháng 11/2026: 1 bài.",
        "bot> 🔥 1 tuần liên tiếp đạt chỉ tiêu.",
    ]
    assert result.stdout.splitlines() == [
        "bot> Chỉ quản trị viên nhóm mới dùng được lệnh này.",
        "bot> Bot không hiểu «congdongg» sau mã tham gia nên chưa gắn nhóm. Cú pháp: /dangky <mã tham gia>, "
        "hoặc /dangky <mã tham gia> congdong cho nhóm cộng đồng.",
        "bot> Nhóm này đang gắn với Trường THCS Kim Bôi (THCS-KIMBOI). "
        "Gửi lại đúng lệnh này trong 10 phút để chuyển nhóm sang Phòng GD&ĐT Kim Bôi (PGD-KIMBOI).",
        "bot> [👍 on #4]",
        *toi,
        "console> không hiểu: :reply 99 /huy — không có tin nhắn #99 trong lần chạy này",
        "console> không hiểu: :time 9999-12-31 — chỉ nhận năm từ 2000 đến 2100",
        *toi,
        "console> không hiểu: :as \u200b — tên trống (sau khi bỏ các ký tự vô hình)",
        "bot> Bot không hiểu lệnh /xyz. Gõ /huongdan để xem các lệnh.",
        "bot> Hãy trả lời (reply) tin nhắn có liên kết cần rút rồi gửi /huy.",
        "console> không hiểu: :reply 4 /huy — tin nhắn #4 ở cuộc trò chuyện khác; "
        "chỉ trả lời được tin nhắn trong cuộc trò chuyện đang nói",
    ]
