"""Every Vietnamese sentence the bot says, rendered from plain data.

The readers are teachers on their phones: short lines, the plan's own words ("lan tỏa",
"đơn vị", "chỉ tiêu"), "thầy cô" for the people, dates as dd/mm/yyyy.
"""

from __future__ import annotations

from datetime import date

from bot.domain.periods import format_date

ACK_FALLBACK = "✅ Đã ghi nhận."
APOLOGY = "Xin lỗi, bot gặp sự cố khi xử lý tin nhắn này. Thầy cô vui lòng thử lại sau ít phút."


def help_text(staff_weekly: int, max_links: int) -> str:
    quota = (
        f"Mỗi người cần lan tỏa tối thiểu {staff_weekly} bài mỗi tuần; mỗi bài chỉ tính một lần cho mỗi người."
        if staff_weekly > 0
        else "Mỗi bài chỉ tính một lần cho mỗi người."
    )
    return "\n".join([
        "Lan Tỏa giúp đơn vị theo dõi việc lan tỏa thông tin tích cực về giáo dục trên mạng xã hội.",
        "Thầy cô chỉ cần dán đường link bài mình đã đăng hoặc chia sẻ vào nhóm; bot ghi nhận bằng một 👍.",
        quota,
        "",
        "Các lệnh:",
        "/toi — kết quả của tôi tuần này, tháng này",
        "/tinhhinh — tình hình của đơn vị tuần này (/tinhhinh thang: tháng này)",
        "/xephang — bảng xếp hạng (tuan, thang, hocky, namhoc)",
        "/huy — trả lời (reply) một tin nhắn để rút lại các liên kết trong đó",
        "/dangky <mã tham gia> — trong nhóm: quản trị viên gắn nhóm với đơn vị; nhắn riêng: chọn đơn vị của mình",
        "Quản trị viên: /trang them <link trang>, /trang canbo, /dangvien (nhắn riêng), /nghi dd/mm, /nhacnho",
        "Tiêu điểm tuần: /tieudiem <link trang hoặc bài> (cấp trên chọn), /tieudiem xem, "
        "/guilen <link bài> (gửi bài lên cấp trên), /dexuat (xem bài cấp dưới đề xuất)",
        "/huongdan — xem lại hướng dẫn này",
        f"(Mỗi tin nhắn tính tối đa {max_links} liên kết.)",
    ])


# --- link capture -------------------------------------------------------------------------------

def already_credited(first_credited: date, several: bool) -> str:
    if several:
        return f"Các bài này đều đã được ghi nhận trước đó (lần đầu ngày {format_date(first_credited)})."
    return f"Bài này đã được ghi nhận ngày {format_date(first_credited)}."


ALREADY_CREDITED_UNDATED = "Bài này đã được ghi nhận trước đó."
NOT_A_POST = "Đây là link trang, kênh hoặc nhóm, chưa phải link bài viết: thầy cô vui lòng gửi link của chính bài viết."


def too_many_links(limit: int) -> str:
    return f"Mỗi tin nhắn chỉ tính tối đa {limit} liên kết: bot đã tính {limit} liên kết đầu tiên."


def not_allowed_source(host: str) -> str:
    return f"Liên kết từ {host} không thuộc các nguồn được công nhận nên không được tính."


UNBOUND_GROUP_HINT = (
    "Nhóm này chưa được gắn với đơn vị nào nên liên kết chưa được ghi nhận. "
    "Quản trị viên nhóm hãy gửi /dangky <mã tham gia> (mã do Sở hoặc Phòng GD&ĐT cung cấp)."
)
NO_PERSON_TO_CREDIT = (
    "Tin nhắn gửi dưới danh nghĩa kênh, nhóm hoặc bot nên không được ghi nhận cho ai. "
    "Thầy cô hãy gửi link bằng tài khoản cá nhân."
)
CREDITED_WITHOUT_UNIT = (
    "Đã ghi nhận. Thầy cô chưa thuộc đơn vị nào: hãy gửi /dangky <mã tham gia> để bài được tính cho đơn vị."
)


# --- /dangky -------------------------------------------------------------------------------------

REGISTER_USAGE = "Cú pháp: /dangky <mã tham gia> (quản trị viên gửi trong nhóm của đơn vị)."
REGISTER_USAGE_PRIVATE = "Cú pháp: /dangky <mã tham gia> để chọn đơn vị của mình, hoặc /dangky <mã quản trị>."
GROUP_ADMINS_ONLY = "Chỉ quản trị viên nhóm mới dùng được lệnh này."


def unknown_code(code: str) -> str:
    return f"Mã «{code}» không đúng. Thầy cô kiểm tra lại mã do Sở hoặc Phòng GD&ĐT cung cấp."


ADMIN_CODE_IN_GROUP = (
    "Tin nhắn vừa rồi có mã quản trị nên bot không xử lý. Mã quản trị chỉ dùng khi nhắn riêng với bot, "
    "không gửi trong nhóm. Nếu bot không tự xóa được tin nhắn đó, quản trị viên hãy xóa giúp để giữ bí mật mã."
)


def register_extra_words(words: str, *, in_group: bool) -> str:
    if in_group:
        return (
            f"Bot không hiểu «{words}» sau mã tham gia nên chưa gắn nhóm. Cú pháp: /dangky <mã tham gia>, "
            "hoặc /dangky <mã tham gia> congdong cho nhóm cộng đồng."
        )
    return f"Bot không hiểu «{words}» sau mã nên chưa ghi nhận gì. Cú pháp: /dangky <mã>."


ANONYMOUS_ADMIN_COMMAND = (
    "Lệnh này được gửi dưới danh nghĩa nhóm nên bot không biết ai gửi. "
    "Thầy cô hãy gửi lại bằng tài khoản cá nhân (tắt chế độ ẩn danh của quản trị viên)."
)


def group_bound(unit_name: str, unit_code: str, community: bool) -> str:
    if community:
        return (
            f"Đã gắn nhóm này với {unit_name} ({unit_code}) là nhóm cộng đồng: liên kết vẫn được ghi nhận, "
            "nhưng tham gia nhóm này không xác định đơn vị của người gửi."
        )
    return f"Đã gắn nhóm này với {unit_name} ({unit_code}). Từ giờ, liên kết thầy cô gửi vào đây sẽ được ghi nhận."


def rebind_pending(old_name: str, old_code: str, unit_name: str, unit_code: str, *, old_community: bool,
                   community: bool, minutes: int) -> str:
    """A bound group asked to change: what would change, and how to confirm (SPEC §3.2)."""
    if old_community:
        head = f"Nhóm này đang là nhóm cộng đồng của {old_name} ({old_code})."
    else:
        head = f"Nhóm này đang gắn với {old_name} ({old_code})."
    changes = []
    if old_code != unit_code:
        changes.append(f"chuyển nhóm sang {unit_name} ({unit_code})")
    if old_community and not community:
        changes.append("kết thúc chế độ nhóm cộng đồng")
    if community and not old_community:
        changes.append("chuyển thành nhóm cộng đồng")
    return f"{head} Gửi lại đúng lệnh này trong {minutes} phút để {' và '.join(changes)}."


def group_rebound(old_name: str, unit_name: str, unit_code: str, *, old_community: bool = False,
                  community: bool = False) -> str:
    if old_name == unit_name:
        line = f"Đã đổi chế độ của nhóm này ({unit_name}, {unit_code})."
    else:
        line = f"Đã chuyển nhóm này từ {old_name} sang {unit_name} ({unit_code})."
    if old_community and not community:
        line += " Nhóm không còn là nhóm cộng đồng: tham gia nhóm này từ giờ xác định đơn vị của thành viên."
    elif community and not old_community:
        line += " Đây là nhóm cộng đồng: liên kết vẫn được ghi nhận, nhưng tham gia nhóm này không xác định đơn vị của người gửi."
    return line


def group_already_bound(unit_name: str, unit_code: str) -> str:
    return f"Nhóm này đã được gắn với {unit_name} ({unit_code})."


def home_unit_set(unit_name: str) -> str:
    return (
        f"Đã ghi nhận thầy cô thuộc {unit_name}. "
        "Liên kết thầy cô gửi ở bất kỳ nhóm nào cũng được tính cho đơn vị này."
    )


def unit_admin_granted(unit_name: str) -> str:
    return f"Từ giờ thầy cô là quản trị viên của {unit_name} và các đơn vị trực thuộc."


def unit_admin_already(unit_name: str) -> str:
    return f"Thầy cô đã là quản trị viên của {unit_name} từ trước, không cần đăng ký lại."


# --- /huy ------------------------------------------------------------------------------------------

UNDO_NEEDS_REPLY = "Hãy trả lời (reply) tin nhắn có liên kết cần rút rồi gửi /huy."
UNDO_NOT_ALLOWED = "Chỉ người gửi tin nhắn hoặc quản trị viên mới rút được liên kết của tin nhắn này."
UNDO_NOTHING = "Tin nhắn này không có liên kết nào đang được tính."


def undone(n: int) -> str:
    return f"Đã rút {n} liên kết của tin nhắn này."


LINK_WITH_UNDO_NOT_CREDITED = (
    "Liên kết gửi kèm lệnh /huy không được ghi nhận. Muốn gửi bài, thầy cô hãy dán link trong một tin nhắn riêng."
)


# --- /toi ------------------------------------------------------------------------------------------

def my_status(
    *,
    name: str,
    unit_name: str | None,
    week_first: date,
    week_last: date,
    week_count: int,
    month_label: str,
    month_count: int,
    staff_weekly: int,
    holiday_week: bool,
    leave_until: date | None,
    streak: int,
    party: tuple[int, int, int, int] | None = None,
) -> str:
    """``party`` = (weekly count, weekly target, monthly count, monthly target), private chat only."""
    head = f"📊 {name}" + (f" — {unit_name}" if unit_name else " — chưa thuộc đơn vị nào (/dangky <mã tham gia>)")
    week = f"Tuần này ({date_range(week_first, week_last)}): {week_count} bài"
    if holiday_week:
        week += " — tuần nghỉ, không tính chỉ tiêu."
    elif leave_until is not None:
        week += f" — đang nghỉ đến {format_date(leave_until)}, không tính chỉ tiêu."
    elif staff_weekly > 0:
        week += " — đã đạt ✅" if week_count >= staff_weekly else f" — chưa đạt (tối thiểu {staff_weekly} bài)"
        week += "."
    else:
        week += "."
    lines = [head, week, f"{month_label}: {month_count} bài."]
    if party is not None:
        pw, pw_target, pm, pm_target = party
        lines.append(
            f"Chỉ tiêu đảng viên: tuần {pw}/{pw_target}" + (" ✅" if pw >= pw_target else "")
            + f", tháng {pm}/{pm_target}" + (" ✅" if pm >= pm_target else "") + "."
        )
    if streak > 0:
        lines.append(f"🔥 {streak} tuần liên tiếp đạt chỉ tiêu.")
    return "\n".join(lines)


def date_range(first: date, last: date) -> str:
    """``23/11–29/11/2026``; both years when the range crosses one (``29/12/2025–04/01/2026``)."""
    if first.year == last.year:
        return f"{first:%d/%m}–{format_date(last)}"
    return f"{format_date(first)}–{format_date(last)}"


def month_label(year: int, month: int) -> str:
    return f"Tháng {month:02d}/{year}"


# --- commands in general -------------------------------------------------------------------------

def unknown_command(name: str) -> str:
    return f"Bot không hiểu lệnh /{name}. Gõ /huongdan để xem các lệnh."


MESSAGE_TOO_LONG_IGNORED = "Tin nhắn quá dài, bot chỉ đọc phần đầu."

# --- platform events ---------------------------------------------------------------------------------

BOT_JOINED_UNBOUND = (
    "Chào các thầy cô! Bot Lan Tỏa sẽ ghi nhận các link bài viết thầy cô lan tỏa trong nhóm này. "
    "Quản trị viên nhóm hãy gửi /dangky <mã tham gia> để gắn nhóm với đơn vị."
)
BOT_CANNOT_READ = (
    "Bot chưa đọc được tin nhắn trong nhóm này nên chưa ghi nhận được liên kết. "
    "Quản trị viên hãy đặt bot làm quản trị viên nhóm, hoặc nhờ người quản lý bot tắt chế độ riêng tư "
    "(@BotFather → /setprivacy → Disable) rồi mời bot vào nhóm lại."
)

# --- the command menu (Telegram's setMyCommands) ------------------------------------------------------

MENU_TOI = "Kết quả của tôi tuần này, tháng này"
MENU_TINHHINH = "Tình hình của đơn vị tuần này (thêm: thang)"
MENU_XEPHANG = "Bảng xếp hạng (tuan, thang, hocky, namhoc)"
MENU_TRANG = "Trang của đơn vị: them/xoa <link trang>, canbo"
MENU_DANGVIEN = "Đánh dấu đảng viên (quản trị viên đơn vị)"
MENU_BODANGVIEN = "Bỏ đánh dấu đảng viên"
MENU_NGHI = "Ghi nhận thầy cô nghỉ: /nghi dd/mm"
MENU_BAOCAO = "Báo cáo Excel của đơn vị, gửi riêng (quản trị viên): /baocao thang"
MENU_HUY = "Rút liên kết của tin nhắn được trả lời"
MENU_DANGKY = "Gắn nhóm hoặc bản thân với đơn vị: /dangky <mã>"
MENU_HUONGDAN = "Hướng dẫn sử dụng"
MENU_BATDAU = "Bắt đầu"
MENU_NHACNHO = "Gửi lời nhắc tuần này ngay (tatca: mọi nhóm trực thuộc)"

# --- /nhacnho and the console's :run ----------------------------------------------------------------

REMIND_ALREADY_TODAY = "Hôm nay nhóm này đã được nhắc rồi: mỗi nhóm chỉ nhận lời nhắc thủ công một lần mỗi ngày."
REMIND_ALL_DONE = "Tuần này mọi người trong đơn vị đã đạt chỉ tiêu, không cần nhắc. 👏"
REMIND_HOLIDAY_WEEK = "Tuần này là tuần nghỉ, không tính chỉ tiêu nên không nhắc."


def remind_fanout(reached: int, already: int) -> str:
    """The asker's one line after /nhacnho tatca (or /nhacnho in a private chat)."""
    if reached == 0 and already == 0:
        return "Không nhóm nào cần nhắc: mọi người đã đạt chỉ tiêu tuần này, hoặc chưa có nhóm nào được gắn."
    line = f"Đã gửi lời nhắc tới {reached} nhóm."
    if already:
        line += f" {already} nhóm đã được nhắc hôm nay nên không gửi lại."
    return line


JOB_NAMES = {"reminder": "nhắc việc tuần", "leaderboard": "bảng xếp hạng tuần", "monthly": "kiểm tra đảng viên cuối tháng",
             "setup": "nhắc hạn lập nhóm, lập trang"}


def console_run_summary(kind: str, outcome: str, sent: int) -> str:
    """The console's one line after ``:run`` (the messages themselves are printed as bot> lines)."""
    name = JOB_NAMES.get(kind, kind)
    if outcome == "off" and kind == "setup":
        return f"{name}: chưa đặt [calendar] setup_deadline nên không chạy."
    if outcome == "off":
        return f"{name}: đang tắt trong [schedule] nên không chạy."
    if outcome == "nothing":
        return f"{name}: không có tin nào cần gửi."
    if outcome == "already":
        return f"{name}: các tin của kỳ này đã gửi trước đó, không gửi lại."
    return f"{name}: đã gửi {sent} tin."


# --- the operator: command line and start-up ---------------------------------------------------------

NO_UNITS_YET = "Chưa có đơn vị nào: hãy nhập danh sách bằng `python -m bot units import TỆP`."
NO_PLATFORM = (
    "Chưa bật nền tảng nào: trong config.toml, mục [telegram] hoặc [zalo] cần enabled = true và token (xem README). "
    "Để thử bot không cần token: python -m bot console"
)
TOKEN_REFUSED = (
    "Telegram từ chối token của bot (sai hoặc đã bị thu hồi): kiểm tra [telegram] token hoặc LANTOA_TELEGRAM_TOKEN."
)
POLLING_CONFLICT = (
    "Telegram báo có tiến trình khác đang nhận tin của bot này (getUpdates) hoặc bot đang dùng webhook: "
    'chỉ chạy một tiến trình ở chế độ polling, hoặc dùng mode = "webhook".'
)
UNREACHABLE_REFUSED = "máy chủ từ chối kết nối"
UNREACHABLE_NO_HOST = "không tìm thấy tên máy chủ"
UNREACHABLE_TIMEOUT = "không có trả lời trong thời gian chờ"
UNREACHABLE_OTHER = "lỗi mạng"


def telegram_unreachable(base_url: str, reason: str) -> str:
    return (
        f"Không kết nối được tới Telegram theo [telegram] base_url = {base_url} ({reason}): "
        "kiểm tra địa chỉ này và kết nối mạng của máy chủ."
    )


def console_banner(unit_code: str, member: str) -> str:
    return (
        f"Lan Tỏa — nhóm mô phỏng {unit_code}, đang nói với tư cách {member}. "
        "Dán link để thử; :as, :group, :private, :reply, :edit, :time, :admin; Ctrl-D để thoát."
    )


def units_imported(total: int, created: int, updated: int) -> str:
    return f"Đã nhập {total} đơn vị: {created} mới, {updated} cập nhật."


def units_not_imported(bad_rows: int, file: str) -> str:
    return f"Không nhập gì: {bad_rows} dòng lỗi trong tệp {file}."


def schema_created(revision: str) -> str:
    return f"Đã khởi tạo cơ sở dữ liệu mới (phiên bản {revision})."


def schema_upgraded(before: str, after: str) -> str:
    return f"Đã nâng cấp cơ sở dữ liệu từ phiên bản {before} lên {after}."


def schema_up_to_date(revision: str) -> str:
    return f"Cơ sở dữ liệu đã ở phiên bản mới nhất ({revision}), không cần nâng cấp."


def schema_too_new(revision: str, known: str) -> str:
    return (
        f"Cơ sở dữ liệu ở phiên bản {revision}, mới hơn phiên bản mà bản bot này biết ({known}): "
        "hãy cài bản bot mới hơn rồi chạy lại."
    )


def database_without_config(config_file: str, where: str, env_name: str | None = None) -> str:
    if env_name:
        return f"Không có tệp cấu hình {config_file}: dùng cơ sở dữ liệu {where} (theo biến môi trường {env_name})."
    return f"Không có tệp cấu hình {config_file}: dùng cơ sở dữ liệu mặc định {where}."


def unexpected_error(kind: str, detail: str) -> str:
    return f"Lỗi: {kind}: {detail}"


# --- members forget, backup (SPEC §3.4, §4.1) -----------------------------------------------------

# Where a message still to be sent named a person erased on request.
ERASED_PERSON = "một thành viên"


def forget_bad_account(given: str) -> str:
    return f"Tài khoản «{given[:80]}» không hợp lệ: hãy ghi NỀN_TẢNG:ID, ví dụ telegram:123456789 hoặc zalo:8a1b2c."


def forget_unknown(account: str) -> str:
    return f"Bot chưa từng thấy tài khoản {account}: không có gì để xoá."


def forget_done(accounts: int, links: int) -> str:
    return (f"Đã xoá dữ liệu của người này: {accounts} tài khoản cùng tên hiển thị; "
            f"{links} liên kết vẫn được tính cho đơn vị nhưng không còn mang tên ai.")


def backup_done(path: str, size_mb: float) -> str:
    return f"Đã sao lưu cơ sở dữ liệu vào {path} ({size_mb:.1f} MB)."


def backup_postgres(database: str) -> str:
    return (f"Cơ sở dữ liệu {database} là PostgreSQL: hãy sao lưu bằng pg_dump "
            "(ví dụ: pg_dump -Fc -f lantoa.dump TÊN_CSDL), xem mục «Triển khai» trong README.")


def backup_failed(path: str, reason: str) -> str:
    return f"Không sao lưu được vào {path}: {reason}"


# --- quotas: /tinhhinh, /xephang, the weekly rhythm (SPEC §3.2, §3.3) ---------------------------
#
# How figures are written: `a/b` in digits; the party figure on a line of its own that holds the
# words "đảng viên" and no other a/b figure and no date (so no line mixes it with anything else).

def period_label(kind: str, key: str, first: date, last: date) -> str:
    if kind == "week":
        return f"tuần {date_range(first, last)}"
    if kind == "month":
        return f"tháng {first.month:02d}/{first.year}"
    if kind == "semester":
        number = "I" if key.endswith("HK1") else "II"
        return f"học kỳ {number} năm học {key[:4]}–{key[5:9]}"
    if kind == "school_year":
        return f"năm học {key[:4]}–{key[5:9]}"
    return f"từ {format_date(first)} đến {format_date(last)}"


def figure(a: int, b: int) -> str:
    return f"{a}/{b}"


# /web and the web dashboard (SPEC §3.8)

MENU_WEB = "Liên kết đăng nhập trang quản lý trên web (quản trị viên)"
WEB_ADMINS_ONLY = "Trang quản lý trên web dành cho quản trị viên của đơn vị; bot chưa ghi nhận thầy cô quản trị đơn vị nào."


def web_private_only(link: str | None) -> str:
    if link:
        return f"Liên kết đăng nhập chỉ gửi trong tin nhắn riêng: thầy cô hãy mở {link} rồi gửi /web."
    return "Liên kết đăng nhập chỉ gửi trong tin nhắn riêng: thầy cô hãy nhắn riêng cho bot /web."


def web_login_link(url: str) -> str:
    return f"Liên kết đăng nhập trang quản lý (dùng một lần, trong 10 phút, đừng chuyển cho người khác):\n{url}"


def web_bad_account(account: str) -> str:
    return f"Không hiểu tài khoản \"{account}\": hãy viết NỀN_TẢNG:MÃ, ví dụ telegram:123456789."


def web_unknown_account(account: str) -> str:
    return f"Bot chưa từng thấy tài khoản {account}."


def web_not_admin(account: str) -> str:
    return f"Tài khoản {account} không quản trị đơn vị nào nên không đăng nhập được trang quản lý."


WEB_TITLE = "Lan Tỏa — trang quản lý"
WEB_LOGIN_HEAD = "Đăng nhập trang quản lý Lan Tỏa"
WEB_LOGIN_EXPLAIN = "Bấm nút dưới đây để đăng nhập. Liên kết chỉ dùng được một lần, trong 10 phút."
WEB_LOGIN_BUTTON = "Đăng nhập"
WEB_LINK_INVALID = ("Liên kết đăng nhập này không còn dùng được (đã dùng hoặc đã quá 10 phút). "
                    "Thầy cô hãy nhắn riêng cho bot /web để nhận liên kết mới.")
WEB_SIGN_IN_FIRST = ("Thầy cô chưa đăng nhập hoặc phiên đăng nhập đã hết hạn (8 giờ). "
                     "Hãy nhắn riêng cho bot /web để nhận liên kết đăng nhập.")
WEB_SIGNED_OUT = "Thầy cô đã đăng xuất."
WEB_LOGOUT = "Đăng xuất"
WEB_NOT_FOUND = "Không tìm thấy trang này."
WEB_BACK_HOME = "Về trang đầu"
WEB_MY_UNITS = "Đơn vị thầy cô quản lý"
WEB_PERIOD = "Kỳ"
WEB_SHOW = "Xem"
WEB_PERIOD_HINT = "tuan, thang, hocky, namhoc, YYYY-MM, YYYY-Www hoặc YYYY-MM-DD..YYYY-MM-DD"
WEB_PAGE_POSTS = "Bài trên trang"
WEB_SHARED = "Đã chia sẻ"
WEB_MET = "Đạt chỉ tiêu"
WEB_PARTY = "Đảng viên đạt chỉ tiêu"
WEB_JOINED = "Đã tham gia / biên chế"
WEB_CHILDREN = "Đơn vị trực thuộc"
WEB_RANK = "Hạng"
WEB_UNIT = "Đơn vị"
WEB_TREND = "12 tuần"
WEB_TREND_OWN = "Tỉ lệ đạt chỉ tiêu 12 tuần gần đây"
WEB_NO_GROUP = "chưa có nhóm"
WEB_NO_PEOPLE = "chưa có ai"
WEB_LAGGARDS = "Chưa đạt chỉ tiêu"
WEB_ALL_MET = "Mọi người đã đạt chỉ tiêu."
WEB_PARTY_SHORT = "Đảng viên chưa đạt chỉ tiêu (chỉ quản trị viên của chính đơn vị thấy)"
WEB_PARTY_ALL_MET = "Đảng viên đều đã đạt chỉ tiêu."
WEB_REPORT = "Tải báo cáo (.xlsx)"
WEB_HOLIDAY_WEEK = "tuần nghỉ"
WEB_FOCUS = "Đã chia sẻ bài tiêu điểm"


def web_trend_point(week_label: str, met: int, expected: int) -> str:
    return f"{week_label}: {met}/{expected} đạt"


def web_bad_period(detail: str) -> str:
    return f"{detail} Đang hiển thị tuần này."


def status_head(unit_name: str, label: str) -> str:
    return f"📊 {unit_name} — {label}"


HOLIDAY_PERIOD = "Tuần nghỉ: không tính chỉ tiêu."


def page_posts_line(posts: int, target: int) -> str:
    mark = " ✅" if posts >= target else ""
    return f"Bài trên trang của đơn vị: {posts}/{target}{mark}"


def shared_line(shared: int, expected: int) -> str:
    return f"Thầy cô đã chia sẻ: {shared}/{expected} người"


def met_line(met: int, expected: int) -> str:
    return f"Đạt chỉ tiêu: {met}/{expected} người"


def joined_line(known: int, staff: int, chat_members: int | None = None) -> str:
    line = f"Đã tham gia: {known}/{staff} (theo biên chế)"
    if chat_members is not None:
        line += f"; nhóm có {chat_members} thành viên"
    return line


def party_line(met: int, expected: int) -> str:
    return f"Đảng viên đạt chỉ tiêu: {met}/{expected}"


def party_month_line(met: int, expected: int) -> str:
    return f"{met}/{expected} đảng viên đã đạt chỉ tiêu tháng."


NOBODY_EXPECTED = "Chưa có thầy cô nào của đơn vị được ghi nhận: hãy mời mọi người nhắn tin trong nhóm."
STAFF_QUOTA_OFF = "Đơn vị không đặt chỉ tiêu cá nhân: chỉ theo dõi số liệu của đơn vị."


def laggards_line(count: int, *, reminder: bool = False) -> str:
    lead = "Nhắc thầy cô chưa đạt chỉ tiêu" if reminder else "Chưa đạt chỉ tiêu"
    return f"{lead} ({count} người): "


def and_more(n: int) -> str:
    return f" và {n} người khác"


EVERYONE_DONE = "Tất cả thầy cô đã đạt chỉ tiêu. 🎉"


def own_state(count: int, target: int) -> str:
    if target <= 0:
        return f"Bạn: {count} bài."
    return f"Bạn: {count} bài — " + ("đã đạt ✅" if count >= target else "chưa đạt") + "."


CHILDREN_HEAD = "Các đơn vị trực thuộc:"


def child_line(name: str, posts: int, target: int, shared: int, met: int, expected: int) -> str:
    return f"• {name}: trang {posts}/{target}; chia sẻ {shared}/{expected}; đạt {met}/{expected}"


def child_line_empty(name: str, reason: str) -> str:
    return f"• {name}: — ({reason})"


NO_GROUP = "chưa có nhóm"
NO_PEOPLE = "chưa có ai"


def party_laggards_private(unit_name: str, names: list[str]) -> str:
    return f"Đảng viên của {unit_name} chưa đạt chỉ tiêu: " + ", ".join(names) + "."


def status_unit_needed(codes: list[str]) -> str:
    return "Thầy cô quản trị nhiều đơn vị: hãy thêm mã đơn vị, ví dụ /tinhhinh " + codes[0] + "."


NO_UNIT_HERE = "Nhóm này chưa được gắn với đơn vị nào: quản trị viên hãy gửi /dangky <mã tham gia>."
NO_HOME_UNIT = "Thầy cô chưa thuộc đơn vị nào: hãy gửi /dangky <mã tham gia> (mã do đơn vị cung cấp)."


def unknown_unit(code: str) -> str:
    return f"Không có đơn vị mã {code} trong phạm vi thầy cô quản lý."


def bad_period_arg(arg: str, allowed: str) -> str:
    return f"Không hiểu khoảng thời gian \"{arg}\". Dùng: {allowed}."


ADMINS_ONLY = "Chỉ quản trị viên của đơn vị mới dùng được lệnh này."
OWN_ADMINS_ONLY = "Chỉ quản trị viên của chính đơn vị này mới đánh dấu được đảng viên."


def open_private_chat(link: str | None) -> str:
    if link:
        return f"Danh sách có tên người nên bot gửi riêng: thầy cô hãy mở {link} rồi gửi lại lệnh."
    return "Danh sách có tên người nên bot gửi riêng: thầy cô hãy nhắn riêng cho bot rồi gửi lại lệnh."


SENT_PRIVATELY = "Bot đã gửi riêng cho thầy cô."


# /baocao and `python -m bot report` (SPEC §3.5)

REPORT_PERIODS = "tuan | thang | hocky | namhoc | YYYY-MM | thietlap"


def report_open_private(link: str | None) -> str:
    if link:
        return f"Báo cáo có tên người nên bot gửi riêng: thầy cô hãy mở {link} rồi gửi lại /baocao."
    return "Báo cáo có tên người nên bot gửi riêng: thầy cô hãy nhắn riêng cho bot rồi gửi lại /baocao."


def report_caption(unit_name: str, label: str) -> str:
    return f"Báo cáo {label} — {unit_name}."


REPORT_WITHOUT_LINKS = ("Tệp vượt quá 50 MB mà Telegram cho phép nên không có trang \"Liên kết\"; "
                        "người vận hành lấy được tệp đầy đủ bằng lệnh python -m bot report.")
REPORT_NO_FILES_HERE = ("Nền tảng này không gửi được tệp: thầy cô tải báo cáo trên trang quản trị "
                        "(lệnh /web) hoặc nhờ người vận hành lấy bằng lệnh python -m bot report.")


def report_download_link(unit_name: str, label: str, url: str) -> str:
    return (f"Báo cáo {label} của {unit_name}: tải tại {url}\n"
            "(Link dùng được trong 24 giờ, chỉ dành cho thầy cô: xin đừng chuyển tiếp.)")


def report_title(unit_name: str, label: str, made: str) -> str:
    return f"{unit_name} — {label} (lập lúc {made})"


SETUP_TITLE = "Báo cáo kết quả lập các nhóm, lập trang Fanpage"
SHEET_SUMMARY = "Tóm tắt"
SHEET_UNITS = "Đơn vị"
SHEET_MEMBERS = "Thành viên"
SHEET_LINKS = "Liên kết"
SHEET_SETUP = "Thiết lập"
UNIT_HEADERS = ("Mã đơn vị", "Tên đơn vị", "Loại", "Đơn vị cấp trên", "Bài trên trang", "Chỉ tiêu bài trên trang",
                "Đạt chỉ tiêu trang", "Người cần tham gia", "Người đã chia sẻ", "Người đạt chỉ tiêu",
                "Tỷ lệ tham gia", "Đảng viên", "Đảng viên đạt chỉ tiêu", "Đã tham gia", "Biên chế")
MEMBER_HEADERS = ("Mã đơn vị", "Tên đơn vị", "Họ tên", "Tài khoản", "Số liên kết", "Tuần đạt",
                  "Số tuần tính chỉ tiêu", "Đạt chỉ tiêu", "Đảng viên", "Đảng viên đạt chỉ tiêu")
LINK_HEADERS = ("Thời gian", "Mã đơn vị", "Người chia sẻ", "Nền tảng", "Liên kết", "Bài trên trang đơn vị")
SETUP_HEADERS = ("Mã đơn vị", "Tên đơn vị", "Loại", "Đơn vị cấp trên", "Có nhóm", "Tên nhóm",
                 "Tên nhóm đúng mẫu \"Truyền thông + tên đơn vị\"", "Trang Fanpage", "Đã tham gia", "Biên chế")
YES = "Có"
NO = "Không"
EXEMPT = "Miễn"
FORGOTTEN_PERSON = "(đã xóa theo yêu cầu)"


def summary_opening(unit_name: str, label: str, made: str) -> str:
    return f"Kết quả lan tỏa thông tin tích cực của {unit_name} {label}, số liệu tính đến {made}."


def summary_people(shared: int, met: int, expected: int, percent: str) -> str:
    return (f"Có {shared}/{expected} cán bộ, giáo viên, nhân viên đã chia sẻ ít nhất một bài "
            f"(tỷ lệ tham gia {percent}), {met}/{expected} người đạt chỉ tiêu chia sẻ hằng tuần.")


SUMMARY_NOBODY = "Trong kỳ chưa có cán bộ, giáo viên, nhân viên nào được tính chỉ tiêu."
SUMMARY_HOLIDAY = "Kỳ này là kỳ nghỉ nên không tính chỉ tiêu."


def summary_pages(posts: int, target: int) -> str:
    verdict = "đạt" if posts >= target else "chưa đạt"
    return f"Trang Fanpage của đơn vị đăng {posts}/{target} bài theo kế hoạch, {verdict} chỉ tiêu."


def summary_children(met: int, total: int) -> str:
    return f"Có {met}/{total} đơn vị cấp dưới đạt chỉ tiêu bài đăng trên trang Fanpage."


def summary_party(met: int, expected: int) -> str:
    return f"Số đảng viên đạt chỉ tiêu: {met}/{expected}."


def summary_focus(shared: int, expected: int) -> str:
    return f"Bài trọng tâm: {shared}/{expected} người đã chia sẻ ít nhất một bài trọng tâm được giao."


SUMMARY_NO_FOCUS = "Trong kỳ chưa có bài trọng tâm nào được giao."


def setup_summary(units: int, with_group: int, with_page: int, titled: int) -> list[str]:
    return [
        f"Có {with_group}/{units} đơn vị đã lập nhóm và gắn nhóm với bot.",
        f"Có {titled}/{with_group} nhóm đặt tên đúng mẫu \"Truyền thông + tên đơn vị\"." if with_group else
        "Chưa có nhóm nào được gắn với bot.",
        f"Có {with_page}/{units} đơn vị đã đăng ký trang Fanpage.",
    ]


def setup_known_line(known: int, staff: int) -> str:
    return f"Số người bot đã biết so với biên chế: {known}/{staff}."


def report_written(path: str, links: int) -> str:
    return f"Đã ghi báo cáo vào {path} ({links} liên kết)."


def setup_written(path: str) -> str:
    return f"Đã ghi báo cáo thiết lập vào {path}."


def report_unknown_unit(code: str) -> str:
    return f"Không có đơn vị mã {code}."


REPORT_UNIT_NEEDED = "Cần --unit MÃ_ĐƠN_VỊ, --period KỲ và --out TỆP.xlsx (hoặc --setup)."


def report_cannot_write(path: str, reason: str) -> str:
    return f"Không ghi được tệp {path}: {reason}."


def setup_deadline_unit(unit_name: str, deadline: str, missing: str) -> str:
    return (f"⏰ Hạn báo cáo lập nhóm, lập trang Fanpage là {deadline}. {unit_name} {missing}: "
            "quản trị viên hãy gửi /trang them <địa chỉ trang>.")


def setup_deadline_parent(unit_name: str, deadline: str, lines: list[str]) -> str:
    return "\n".join([f"⏰ Hạn báo cáo lập nhóm, lập trang Fanpage là {deadline}. "
                      f"Các đơn vị trực thuộc {unit_name} còn thiếu:", *lines])


SETUP_NO_GROUP = "chưa có nhóm"
SETUP_NO_PAGE = "chưa đăng ký trang Fanpage"


def chart_title(unit_name: str, label: str) -> str:
    return f"Tỷ lệ đạt chỉ tiêu — {unit_name}, {label}"


CHART_AXIS = "Tỷ lệ người đạt chỉ tiêu"


# /xephang and the Monday leaderboard

def ranking_head(unit_name: str, label: str) -> str:
    return f"🏆 Bảng xếp hạng {label} — {unit_name}"


def ranked_line(rank: int, name: str, met: int, expected: int, posts: int, target: int) -> str:
    return f"{rank}. {name} — đạt {met}/{expected} người; trang {posts}/{target}"


def unranked_line(name: str, reason: str) -> str:
    return f"— {name} ({reason})"


TOP_MEMBERS_HEAD = "Thầy cô tích cực nhất:"


def top_member_line(rank: int, name: str, links: int) -> str:
    return f"{rank}. {name} — {links} bài"


NO_LINKS_YET = "Chưa có bài nào được ghi nhận trong thời gian này."


def leaderboard_own_line(shared: int, met: int, expected: int) -> str:
    return f"Đơn vị: {shared}/{expected} người đã chia sẻ; {met}/{expected} người đạt chỉ tiêu."


# The Friday reminder and the month-end party check

def reminder_head(unit_name: str, label: str) -> str:
    return f"⏰ Nhắc việc {label} — {unit_name}"


def page_behind_line(posts: int, target: int) -> str:
    return f"Trang của đơn vị: {posts}/{target} bài — còn thiếu {target - posts} bài."


CHILDREN_BEHIND_HEAD = "Đơn vị trực thuộc chưa hoàn thành:"


def child_behind_line(name: str, posts: int, target: int, met: int, expected: int) -> str:
    return f"• {name}: trang {posts}/{target}; đạt {met}/{expected} người"


def monthly_head(unit_name: str, label: str) -> str:
    return f"📋 Kiểm tra chỉ tiêu {label} — {unit_name}"


def party_nudge(label: str, count: int, target: int) -> str:
    return (f"Nhắc nhẹ: chỉ tiêu {label} của thầy cô là {target} bài; bot mới ghi nhận {count} bài. "
            "Thầy cô dán link bài đã chia sẻ vào nhóm của đơn vị nhé.")


def party_week_nudge(count: int, target: int) -> str:
    return (f"Nhắc nhẹ: tuần này thầy cô mới có {count} bài, chỉ tiêu của thầy cô là {target} bài mỗi tuần. "
            "Thầy cô dán link bài đã chia sẻ vào nhóm của đơn vị nhé.")


def party_admin_report(label: str, blocks: list[tuple[str, list[str]]]) -> str:
    lines = [f"🔒 Đảng viên chưa đạt chỉ tiêu {label} (chỉ gửi riêng cho quản trị viên đơn vị):"]
    for unit_name, names in blocks:
        lines.append(f"{unit_name}: " + ", ".join(names))
    return "\n".join(lines)


# /dangvien, /bodangvien

def party_list(unit_name: str, rows: list[tuple[int, str, bool]]) -> str:
    lines = [f"Danh sách thầy cô của {unit_name} (☑ = đảng viên):"]
    lines += [f"{n}. {'☑' if party else '☐'} {name}" for n, name, party in rows]
    lines.append("Đánh dấu: /dangvien 3 7 — bỏ đánh dấu: /bodangvien 7")
    return "\n".join(lines)


PARTY_LIST_EMPTY = "Đơn vị chưa có thầy cô nào được bot ghi nhận."
PARTY_UPDATED = "Đã cập nhật."


def party_marked(names: list[str], on: bool) -> str:
    verb = "Đã đánh dấu đảng viên" if on else "Đã bỏ đánh dấu đảng viên"
    return f"{verb}: " + ", ".join(names) + "."


def bad_numbers(bad: list[str], top: int) -> str:
    return f"Không có số {', '.join(bad)} trong danh sách (1–{top}). Gửi /dangvien để xem lại danh sách."


PARTY_HOW_IN_GROUP = "Để đánh dấu đảng viên, thầy cô hãy trả lời (reply) tin nhắn của người đó, hoặc nhắn riêng cho bot /dangvien."


def party_how_private(link: str | None) -> str:
    where = f"mở {link} và " if link else "nhắn riêng cho bot và "
    return f"Để đánh dấu đảng viên mà không ai khác thấy, thầy cô hãy {where}gửi /dangvien."


# /trang

def pages_list(unit_name: str, urls: list[str]) -> str:
    if not urls:
        return (f"{unit_name} chưa đăng ký trang nào. Quản trị viên gửi /trang them <link trang> "
                "để bài của trang được tính.")
    return "\n".join([f"Trang của {unit_name}:"] + [f"• {u}" for u in urls])


def page_added(url: str, unit_name: str) -> str:
    return f"Đã đăng ký trang {url} cho {unit_name}: bài của trang này được tính là bài trên trang của đơn vị."


def page_already(url: str) -> str:
    return f"Trang {url} đã được đăng ký trước đó."


def page_taken(url: str, other_unit: str) -> str:
    return f"Trang {url} đã được đăng ký cho {other_unit}."


def page_removed(url: str) -> str:
    return f"Đã xóa trang {url} khỏi danh sách trang của đơn vị."


def page_not_registered(url: str) -> str:
    return f"Trang {url} chưa được đăng ký cho đơn vị này."


PAGE_NEEDS_PAGE_URL = "Cần link của trang (fanpage, kênh), không phải link một bài viết: ví dụ /trang them https://www.facebook.com/thcskimboi"
PAGE_USAGE = "Cú pháp: /trang them <link trang>, /trang xoa <link trang>, /trang canbo (trả lời tin nhắn của người đó hoặc @tên)."


def officer_named(name: str, unit_name: str) -> str:
    return f"Đã giao {name} làm cán bộ truyền thông của {unit_name}: bài gửi kèm #trang được tính là bài trên trang."


NAME_SOMEONE = "Hãy trả lời (reply) tin nhắn của người đó, hoặc ghi @tên người dùng."


def unknown_username(username: str) -> str:
    return f"Bot chưa thấy ai có tên người dùng @{username} trong các nhóm của đơn vị."


PAGE_POST_MARKED = "Đã tính là bài trên trang của đơn vị."
PAGE_MARK_NOT_ALLOWED = "Chỉ quản trị viên hoặc cán bộ truyền thông của đơn vị mới gắn được #trang."


# /tieudiem, /guilen, /dexuat: the pages of the week and posts sent up (SPEC §3.2)

MENU_TIEUDIEM = "Trang, bài tiêu điểm tuần cho các đơn vị trực thuộc: <link>…, them, xoa, xem"
MENU_GUILEN = "Gửi một bài lên đơn vị cấp trên: /guilen <link bài>"
MENU_DEXUAT = "Bài cấp dưới đề xuất và bài trên trang của họ tuần này"
FOCUS_KIND = {"page": "Trang", "post": "Bài"}


def focus_line(done: int, expected: int) -> str:
    return f"Chia sẻ trang tiêu điểm: {done}/{expected} người"


def _focus_items(entries: list[tuple[str, str]]) -> list[str]:
    return [f"• {FOCUS_KIND.get(kind, kind)}: {url}" for kind, url in entries]


def focus_announcement(setter_name: str, label: str, entries: list[tuple[str, str]]) -> str:
    """Sent once to every group below the unit that set the items (and by private message on
    platforms without groups)."""
    return "\n".join(
        [f"📌 Tiêu điểm {label} do {setter_name} chọn:"] + _focus_items(entries)
        + ["Thầy cô hãy thích, chia sẻ (bài nào của trang tiêu điểm cũng được) rồi gửi link bài đã "
           "chia sẻ vào nhóm để được ghi nhận."])


def focus_list(unit_name: str, label: str, blocks: list[tuple[str, list[tuple[str, str]]]]) -> str:
    if not blocks:
        return f"{label[:1].upper()}{label[1:]}: {unit_name} chưa có trang hay bài tiêu điểm nào."
    lines = [f"📌 Tiêu điểm {label} của {unit_name}:"]
    for setter, entries in blocks:
        lines.append(f"Do {setter} chọn:")
        lines += _focus_items(entries)
    return "\n".join(lines)


def focus_saved(count: int, unit_name: str, groups: int, people: int, already: int) -> str:
    """The asker's one line after /tieudiem changed (or repeated) the week's items."""
    line = f"Đã đặt {count} mục tiêu điểm tuần này cho {unit_name} và các đơn vị trực thuộc."
    if groups or people:
        reached = f"{groups} nhóm" + (f" và {people} người qua tin nhắn riêng" if people else "")
        line += f" Đã thông báo tới {reached}."
    elif already:
        line += " Các nhóm đã nhận đúng danh sách này trước đó nên không gửi lại."
    else:
        line += " Chưa có nhóm nào trực thuộc được gắn với bot để thông báo."
    return line


def focus_cleared(unit_name: str) -> str:
    return f"Đã xóa hết tiêu điểm tuần này của {unit_name}."


def focus_not_there(arg: str) -> str:
    return f"{arg} không có trong tiêu điểm tuần này của đơn vị."


def focus_bad_item(arg: str) -> str:
    return (f"\"{arg}\" không phải link trang hay link bài viết dùng được: hãy gửi link fanpage "
            "(ví dụ https://www.facebook.com/thcskimboi), link một bài viết, hoặc số thứ tự trong /dexuat.")


def focus_bad_number(arg: str, count: int) -> str:
    if count == 0:
        return f"Không có mục số {arg}: danh sách /dexuat tuần này đang trống."
    return f"Không có mục số {arg}: danh sách /dexuat tuần này có {count} mục."


def focus_too_many(limit: int) -> str:
    return f"Mỗi tuần chọn tối đa {limit} mục tiêu điểm."


FOCUS_PARENT_ONLY = "Chỉ đơn vị có đơn vị trực thuộc (Sở, Phòng) mới chọn trang, bài tiêu điểm cho tuần."
FOCUS_USAGE = ("Cú pháp: /tieudiem <link trang hoặc bài> … (thay cả danh sách), /tieudiem them <link hoặc số "
               "trong /dexuat>, /tieudiem xoa <link> (hoặc xoa tatca), /tieudiem xem.")
GUILEN_USAGE = "Cú pháp: /guilen <link bài viết> — gửi một bài lên đơn vị cấp trên để được chọn làm tiêu điểm."
GUILEN_NO_PARENT = "Đơn vị này không có đơn vị cấp trên để gửi bài lên."
GUILEN_NEEDS_POST = "Cần link của một bài viết cụ thể, không phải link trang, kênh hay nhóm."


def nomination_notice(unit_name: str, url: str) -> str:
    return (f"📣 {unit_name} đề xuất bài viết: {url}\n"
            "Quản trị viên xem các đề xuất bằng /dexuat, chọn làm tiêu điểm bằng /tieudiem them <link>.")


def nominated(parent_name: str, groups: int) -> str:
    if groups:
        return f"Đã gửi bài lên {parent_name}: {groups} nhóm của đơn vị cấp trên nhận được thông báo."
    return (f"Đã gửi bài lên {parent_name}. {parent_name} chưa có nhóm nào gắn với bot; quản trị viên "
            "cấp trên vẫn xem được bằng /dexuat.")


def nominated_before(parent_name: str, day: date, promoted: bool) -> str:
    tail = " và đã được chọn làm tiêu điểm." if promoted else "; bài đang chờ cấp trên chọn."
    return f"Bài này đã được gửi lên {parent_name} ngày {format_date(day)}{tail}"


DEXUAT_NO_CHILDREN = "Đơn vị này không có đơn vị trực thuộc nên không có đề xuất nào."


def candidates_list(unit_name: str, label: str, rows: list[tuple[int, str, str, str, bool]], more: int) -> str:
    """/dexuat: (number, nomination|page_post, child unit, url, already in focus), oldest first."""
    if not rows:
        return (f"{label[:1].upper()}{label[1:]}: chưa có bài đề xuất nào, cũng chưa có bài nào trên trang "
                f"của các đơn vị trực thuộc {unit_name}.")
    lines = [f"📥 Đề xuất cho {unit_name} — {label}:"]
    for number, kind, child, url, focused in rows:
        what = f"{child} đề xuất" if kind == "nomination" else f"Bài trên trang {child}"
        lines.append(f"{number}. {what}: {url}" + (" ✅ đang là tiêu điểm" if focused else ""))
    if more:
        lines.append(f"… và {more} bài khác.")
    lines.append("Chọn làm tiêu điểm: /tieudiem them <số> (hoặc <link>).")
    return "\n".join(lines)


# /nghi

def leave_recorded(name: str, first: date, last: date) -> str:
    return f"Đã ghi nhận {name} nghỉ từ {format_date(first)} đến hết {format_date(last)}: không tính chỉ tiêu trong thời gian này."


LEAVE_USAGE = "Cú pháp: /nghi dd/mm (trả lời tin nhắn của người nghỉ) hoặc /nghi @tên dd/mm."


def bad_date(arg: str) -> str:
    return f"Không hiểu ngày \"{arg}\": hãy viết dd/mm hoặc dd/mm/yyyy."


LEAVE_TOO_LONG = "Chỉ ghi nghỉ tối đa một năm kể từ hôm nay."


def not_in_unit(unit_name: str) -> str:
    return f"Người này không thuộc {unit_name} hoặc các đơn vị trực thuộc."


def pages_to_follow(pages: list[tuple[str, str]]) -> str:
    """After /dangky: the pages of the unit, its parent and the root, to like and follow."""
    return "\n".join(["Thầy cô hãy thích và theo dõi các trang:"] + [f"• {name}: {url}" for name, url in pages])


# --- /lienket: one person on two platforms (SPEC §3.2) ------------------------------------------------

MENU_LIENKET = "Liên kết tài khoản trên hai nền tảng: /lienket [mã]"
PLATFORM_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "console": "bảng điều khiển thử"}


def link_code_shown(code: str, minutes: int) -> str:
    return (f"Mã liên kết của thầy cô: {code}\n"
            f"Trong {minutes} phút tới, hãy gửi /lienket {code} cho bot trên nền tảng kia (Telegram hoặc Zalo) "
            "để hai tài khoản được tính là một người. Đừng đưa mã này cho ai khác.")


LINK_CODE_PRIVATE_ONLY = "Vì an toàn, lệnh /lienket chỉ dùng trong tin nhắn riêng với bot."
LINK_CODE_BURNT = (
    "Mã liên kết đã bị hủy vì được gửi trong nhóm. Thầy cô hãy tạo mã mới bằng /lienket trong tin nhắn riêng với bot."
)
LINK_CODE_UNKNOWN = "Mã liên kết không đúng hoặc đã hết hạn. Hãy gửi /lienket trên nền tảng kia để lấy mã mới."
LINK_SAME_PERSON = "Hai tài khoản này đã là một người rồi."


def link_same_platform(platform: str) -> str:
    name = PLATFORM_NAMES.get(platform, platform)
    return f"Mã này được tạo trên {name}: hãy gửi nó từ tài khoản trên nền tảng kia."


def accounts_linked(platforms: list[str], unit_name: str | None) -> str:
    line = ("Đã liên kết tài khoản " + " và ".join(platforms) + ": từ nay thầy cô là một người với một chỉ tiêu "
            "(liên kết, ngày nghỉ, vai trò được gộp lại; bài đã gửi ở cả hai nơi chỉ tính một lần).")
    if unit_name:
        line += f"\nĐơn vị: {unit_name}."
    return line


# --- Zalo (SPEC §3.6) ---------------------------------------------------------------------------------

ZALO_TOKEN_REFUSED = "Zalo từ chối token của bot (sai hoặc đã bị thu hồi): kiểm tra [zalo] token hoặc LANTOA_ZALO_TOKEN."


def zalo_unreachable(base_url: str, reason: str) -> str:
    return f"Không kết nối được Zalo Bot API tại {base_url} ({reason}): kiểm tra [zalo] base_url và mạng."


def zalo_refused(detail: str) -> str:
    return f"Zalo Bot API từ chối khi khởi động ({detail}): kiểm tra mục [zalo] (secret dài 8–256 ký tự với webhook)."


ZALO_NO_FILES = "Zalo chưa gửi được tệp qua bot; thầy cô hãy mở báo cáo trên Telegram hoặc trang quản trị web."


def direct_reminder(unit_name: str, period_label: str, links: int, target: int) -> str:
    """The Friday reminder to someone the bot reaches only one-to-one (a Zalo-only teacher)."""
    return (f"Nhắc nhở {period_label} ({unit_name}): thầy cô mới chia sẻ {links}/{target} liên kết. "
            "Hãy gửi cho bot link bài viết mình đã chia sẻ để được ghi nhận.")


def direct_reached(count: int) -> str:
    """The admin's line after /nhacnho in a private chat on Zalo."""
    if count == 0:
        return "Không nhắn riêng được cho ai: người chưa đạt đều đã được nhắc hôm nay hoặc chưa nhắn tin cho bot."
    return f"Đã nhắn riêng lời nhắc tới {count} người chưa đạt."


def unreachable_line(names: list[str]) -> str:
    return "Không nhắn riêng được (Zalo từ chối tin nhắn): " + ", ".join(names)
