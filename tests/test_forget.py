"""`members forget PLATFORM:ID` (SPEC §3.4): the person goes, the unit's totals stay."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import String, Text, func, select, text

from bot.__main__ import main
from bot.domain.links import canonicalize, page_key
from bot.domain.outbound_json import dump_actions, load_actions
from bot.domain.periods import week_of
from bot.domain.types import ChatKind, ChatRef, Mention, SendText, UserRef
from handlers.forget import BadAccount, forget, parse_account
from handlers.views import build_view
from storage.models import Base

UNIT = "THCS-KIMBOI"
PAGE_POST = "https://www.facebook.com/thcskimboi/posts/1001"
LAN_NAME = "Nguyễn Thị Hoàng Lan"
LAN_ID = "7100000001"
LAN_USERNAME = "colanhoangvan"


async def setup_unit(h):
    """A bound group; Lan and Bình share links (Lan one of the unit's page posts too); Lan has a
    private chat, a leave, a role, and is named in a sent reminder and in one still to be sent."""
    group = h.group("g-kimboi")
    await h.bind(group, UNIT)
    lan = UserRef("test", LAN_ID, LAN_NAME, LAN_USERNAME)
    binh = h.user("Trần Văn Bình", "7100000002")
    async with h.storage.uow() as uow:
        unit = await uow.units.by_code(UNIT)
        await uow.session.execute(text(
            "insert into unit_pages (unit_id, page_key, url, created_at) values (:u, :k, :url, :t)"),
            dict(u=unit.id, k=page_key(canonicalize(PAGE_POST)), url="https://www.facebook.com/thcskimboi",
                 t=h.clock.now().replace(tzinfo=None)))
    await h.send(group, lan, f"Em chia sẻ {PAGE_POST}")
    await h.send(group, lan, "https://www.facebook.com/baogiaoduc/posts/2002")
    await h.send(group, binh, "https://www.facebook.com/baogiaoduc/posts/2002")
    await h.send(h.private(lan), lan, "https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    _, admin_code = await h.codes(UNIT)
    await h.send(h.private(lan), lan, f"/dangky {admin_code}")  # Lan becomes an admin of the unit
    async with h.storage.uow() as uow:
        chat = ChatRef("test", "g-kimboi", ChatKind.GROUP)
        for status, period in (("sent", "2026-W47"), ("claimed", "2026-W48")):
            payload = dump_actions([SendText(chat, ("⏰ Còn ", Mention(lan), ", Trần Văn Bình chưa chia sẻ."))])
            assert await uow.sent.claim("test", "g-kimboi", "reminder", period, "test",
                                        __import__("datetime").timedelta(minutes=10), payload=payload)
            if status == "sent":
                await uow.sent.mark_sent("test", "g-kimboi", "reminder", period)
    return group, lan, binh


async def figures(h):
    async with h.storage.uow() as uow:
        unit = await uow.units.by_code(UNIT)
        view = await build_view(uow, h.dispatcher.config, None, week_of(h.clock.now(), h.dispatcher.config.bot.tz),
                                h.clock.now())
    return view.own[unit.id], view.rollup[view.units[unit.id].parent_id]


async def traces_of_lan(h) -> list[str]:
    """Every text column of every table that still holds Lan's name, username or account id."""
    found = []
    async with h.storage.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, (String, Text)):
                    continue
                for needle in (LAN_NAME, "Hoàng Lan", LAN_USERNAME, LAN_ID):
                    n = (await conn.execute(
                        select(func.count()).select_from(table).where(column.contains(needle, autoescape=True))
                    )).scalar()
                    if n:
                        found.append(f"{table.name}.{column.name} ~ {needle}")
    return found


async def test_forget_erases_the_person_and_keeps_the_units_totals(harness):
    await setup_unit(harness)
    own_before, parent_before = await figures(harness)
    assert own_before.known == 2 and own_before.links == 4 and own_before.page_posts == 1
    assert await traces_of_lan(harness)  # the search finds her before

    async with harness.storage.uow() as uow:
        done = await forget(uow, "test", LAN_ID, harness.clock.now())
    assert done is not None and done.erased.accounts == 1 and done.erased.links == 3

    own, parent = await figures(harness)
    assert own.links == own_before.links  # her links count for the unit, anonymously
    assert own.page_posts == own_before.page_posts == 1
    assert own.known == 1 and own.expected == own_before.expected - 1  # n/N drop her
    assert own.shared == own_before.shared - 1
    assert parent.links == parent_before.links and parent.known == parent_before.known - 1
    assert await traces_of_lan(harness) == []
    assert await harness.scalar("select count(*) from persons") == 1
    assert await harness.scalar("select count(*) from submissions where person_id is null and member_id is null") == 3
    assert await harness.scalar("select count(*) from submissions where unit_id is null") == 0
    assert await harness.scalar("select count(*) from unit_roles") == 0
    # The reminder still to be sent names "một thành viên"; the one already sent keeps no text.
    async with harness.storage.uow() as uow:
        open_claim = await uow.sent.get("test", "g-kimboi", "reminder", "2026-W48")
        sent = await uow.sent.get("test", "g-kimboi", "reminder", "2026-W47")
    [action] = load_actions(open_claim.payload)
    assert action.plain == "⏰ Còn một thành viên, Trần Văn Bình chưa chia sẻ."
    assert sent.payload is None and sent.status == "sent"
    # The audit log keeps what happened, not who: her credits stay as rows without her.
    assert await harness.scalar("select count(*) from audit_log where action = 'credit'") == 4
    assert await harness.scalar("select count(*) from audit_log where action = 'forget' and actor = 'cli'") == 1


async def test_the_same_person_writing_again_is_a_newcomer(harness):
    group, lan, _ = await setup_unit(harness)
    async with harness.storage.uow() as uow:
        await forget(uow, "test", LAN_ID, harness.clock.now())
    harness.messenger.clear()
    # The same post again: her old credit is anonymous now, so it is hers anew (a new person).
    await harness.send(group, lan, "https://www.facebook.com/baogiaoduc/posts/2002")
    assert len(harness.messenger.reactions()) == 1
    assert await harness.scalar("select count(*) from persons") == 2


async def test_an_unknown_account_changes_nothing(harness):
    await setup_unit(harness)
    async with harness.storage.uow() as uow:
        assert await forget(uow, "test", "999", harness.clock.now()) is None
    assert await harness.scalar("select count(*) from members") == 2


@pytest.mark.parametrize("given", ["", "telegram", "telegram:", ":123", "tele gram:1", "telegram:1 2", "Đ:1"])
def test_account_must_be_platform_colon_id(given):
    with pytest.raises(BadAccount):
        parse_account(given)


def test_account_parsing():
    assert parse_account(" Telegram:123456789 ") == ("telegram", "123456789")
    assert parse_account("zalo:8a1b2c") == ("zalo", "8a1b2c")


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "lantoa.toml"
    path.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    return path


async def test_cli_forget_prints_one_line_and_an_unknown_account_is_exit_2(harness, tmp_path, capsys):
    import asyncio

    await setup_unit(harness)
    cfg = write_config(tmp_path, harness.dispatcher.config.database.url)
    loop_free = asyncio.get_running_loop().run_in_executor  # main() runs its own event loop

    code = await loop_free(None, main, ["members", "forget", f"test:{LAN_ID}", "-c", str(cfg)])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert out.count("\n") == 1 and out.startswith("Đã xoá dữ liệu của người này: 1 tài khoản")
    assert "3 liên kết vẫn được tính cho đơn vị" in out
    assert await traces_of_lan(harness) == []

    code = await loop_free(None, main, ["members", "forget", f"test:{LAN_ID}", "-c", str(cfg)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == f"Bot chưa từng thấy tài khoản test:{LAN_ID}: không có gì để xoá.\n"

    code = await loop_free(None, main, ["members", "forget", "123456", "-c", str(cfg)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and "NỀN_TẢNG:ID" in err
