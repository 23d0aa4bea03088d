"""Command parsing: Telex diacritics, names split in words, @bot, and what is not a command."""

from __future__ import annotations

import unicodedata

import pytest

from handlers.commands import CommandSpec, CommandTable, LinksInCommand, fold, links_in_command, parse_command

# The names of SPEC §3.2, so that merging is tested whatever the table holds today.
KNOWN = frozenset({
    "toi", "me", "huy", "undo", "dangky", "register", "huongdan", "help", "batdau", "start", "tinhhinh",
    "status", "xephang", "top", "baocao", "report", "dangvien", "party", "bodangvien", "trang", "page",
    "tieudiem", "focus", "guilen", "nominate", "dexuat", "nominations", "web", "lienket", "link", "nhacnho",
    "remind", "nghi", "leave",
})


@pytest.mark.parametrize("text, name, args", [
    ("/toi", "toi", ()),
    ("/tôi", "toi", ()),
    ("/Tôi", "toi", ()),
    ("/TÔI", "toi", ()),
    ("/hủy", "huy", ()),
    ("/tình hình", "tinhhinh", ()),
    ("/tìnhhình", "tinhhinh", ()),
    ("/tình hình tháng", "tinhhinh", ("tháng",)),
    ("/Tình Hình THCS-KIMBOI", "tinhhinh", ("THCS-KIMBOI",)),
    ("/đăngký ABCD2345", "dangky", ("ABCD2345",)),
    ("/đăng ký ABCD2345 congdong", "dangky", ("ABCD2345", "congdong")),
    ("/xếphạng tuần", "xephang", ("tuần",)),
    ("/xếp hạng", "xephang", ()),
    ("/nhắcnhở tatca", "nhacnho", ("tatca",)),
    ("/nhắc nhở", "nhacnho", ()),
    ("/báocáo 2026-11", "baocao", ("2026-11",)),
    ("/báo cáo", "baocao", ()),
    ("/nghỉ @lan 30/11", "nghi", ("@lan", "30/11")),
    ("/đảngviên 3 7", "dangvien", ("3", "7")),
    ("/đảng viên 3 7", "dangvien", ("3", "7")),
    ("/bỏ đảng viên 7", "bodangvien", ("7",)),
    ("/trang thêm https://facebook.com/truong", "trang", ("thêm", "https://facebook.com/truong")),
    ("/hướng dẫn", "huongdan", ()),
    ("/toi.", "toi", ()),
    ("/toi?", "toi", ()),
    ("  /toi  ", "toi", ()),
    ("/ｔｏｉ", "toi", ()),  # full-width letters from some keyboards
])
def test_names_typed_with_diacritics_reach_their_command(text, name, args):
    parsed = parse_command(text, KNOWN)
    assert parsed is not None and (parsed.name, parsed.args) == (name, args)
    # The same text typed in decomposed form (NFD), as some phones send it.
    nfd = parse_command(unicodedata.normalize("NFD", text), KNOWN)
    assert nfd is not None and nfd.name == name
    assert tuple(unicodedata.normalize("NFC", a) for a in nfd.args) == args


@pytest.mark.parametrize("text, name, args", [
    ("/toi abc", "toi", ("abc",)),  # a known first word keeps what follows as arguments
    ("/toi huy", "toi", ("huy",)),
    ("/huy toi", "huy", ("toi",)),
    ("/dangky cong dong", "dangky", ("cong", "dong")),
    ("/tinh hinhh", "tinh", ("hinhh",)),  # no known name: an unknown command with arguments
    ("/xyz https://a.vn/b", "xyz", ("https://a.vn/b",)),
])
def test_a_second_word_is_merged_only_into_a_known_name(text, name, args):
    parsed = parse_command(text, KNOWN)
    assert parsed is not None and (parsed.name, parsed.args) == (name, args)


def test_a_name_split_across_lines_is_not_merged():
    parsed = parse_command("/tình\nhình", KNOWN)
    assert parsed is not None and parsed.name == "tinh" and parsed.args == ("hình",)


@pytest.mark.parametrize("text, name, bot, args", [
    ("/toi@LanToaBot", "toi", "LanToaBot", ()),
    ("/tôi@LanToaBot tuần", "toi", "LanToaBot", ("tuần",)),
    ("/tình hình@LanToaBot", "tinhhinh", "LanToaBot", ()),
    ("/toi@OtherBot", "toi", "OtherBot", ()),
])
def test_the_bot_a_command_is_addressed_to(text, name, bot, args):
    parsed = parse_command(text, KNOWN)
    assert parsed is not None and (parsed.name, parsed.addressed_to, parsed.args) == (name, bot, args)


@pytest.mark.parametrize("text", [
    "", "toi", "/", "/ toi", "//toi", "/path/to/file", "/😀", "/toi@", "/toi@a b", "/..", "https://x.vn/toi",
    "/中文",
])
def test_what_is_not_a_command(text):
    assert parse_command(text, KNOWN) is None


def test_the_name_as_typed_is_kept_for_answers():
    assert parse_command("/tình hình", KNOWN).typed == "tình hình"
    assert parse_command("/tôii", KNOWN).typed == "tôii"
    assert parse_command("/tôii", KNOWN).name == "toii"


def test_fold():
    assert fold("ĐĂNG KÝ") == "dang ky"
    assert fold("Xếp Hạng") == "xep hang"
    assert fold(unicodedata.normalize("NFD", "nhắc nhở")) == "nhac nho"


def test_the_table_finds_folded_names_and_parses_with_its_names():
    async def noop(ctx, cmd):
        return None

    table = CommandTable([CommandSpec("tinhhinh", "status", "", noop), CommandSpec("toi", "me", "", noop)])
    assert table.get("TìnhHình").name == "tinhhinh"
    assert table.parse("/tình hình").name == "tinhhinh"
    assert table.parse("/xếp hạng").name == "xep"  # not in this table: not merged
    assert table.names() == {"tinhhinh", "status", "toi", "me"}


def test_links_in_a_command_message_are_credited_except_arguments_and_undo():
    assert links_in_command("toi") == LinksInCommand.CREDIT
    assert links_in_command("dangky") == LinksInCommand.CREDIT
    assert links_in_command("lenhla") == LinksInCommand.CREDIT
    assert links_in_command("huy") == LinksInCommand.REFUSE
    assert links_in_command("trang") == LinksInCommand.ARGUMENT
    assert links_in_command("tieudiem") == LinksInCommand.ARGUMENT
