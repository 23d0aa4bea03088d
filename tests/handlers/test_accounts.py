"""/lienket: a one-time code on one platform, typed on another, makes one person (SPEC §3.2)."""

from __future__ import annotations

import io
import re

from bot.app import run_console
from bot.config import default_config
from bot.domain import texts_vi
from bot.domain.types import ChatKind, ChatRef, UserRef

POST = "https://www.facebook.com/thcskimboi/posts/111"
POST2 = "https://www.facebook.com/thcskimboi/posts/222"
CODE = re.compile(r"Mã liên kết của thầy cô: ([A-Z0-9]{8})")


def zalo_user(name: str = "Nguyễn Thị Lan", user_id: str = "z-lan") -> tuple[UserRef, ChatRef]:
    return UserRef("zalo", user_id, name), ChatRef("zalo", user_id, ChatKind.PRIVATE)


async def show_code(harness, chat, user) -> str:
    await harness.send(chat, user, "/lienket")
    found = CODE.search(harness.messenger.texts(chat.chat_id)[-1])
    assert found, harness.messenger.texts(chat.chat_id)
    return found.group(1)


async def test_merging_moves_links_roles_leave_and_party_flag_and_counts_a_shared_post_once(harness):
    join, admin = await harness.codes("THCS-KIMBOI")
    group = harness.group()
    await harness.bind(group, "THCS-KIMBOI")
    lan = harness.user("Nguyễn Thị Lan", "t-lan")
    await harness.send(group, lan, POST)  # first, on the test platform
    await harness.send(group, lan, POST2)
    zuser, zchat = zalo_user()
    harness.advance(minutes=5)
    await harness.send(zchat, zuser, f"/dangky {admin}")  # an admin by code on Zalo
    await harness.send(zchat, zuser, POST)  # later, the same post again
    await harness.send(zchat, zuser, "https://www.facebook.com/thcskimboi/posts/333")
    await harness.send(harness.private(lan), lan, "/lienket")
    code = CODE.search(harness.messenger.texts()[-1]).group(1)
    await harness.send(zchat, zuser, f"/lienket {code.lower()}")  # typed in lower case: still the code
    assert await harness.scalar("select count(*) from persons") == 1
    assert await harness.scalar("select count(*) from submissions where withdrawn_at is null") == 3
    # Of the pair, the later credit (on Zalo) was withdrawn.
    assert await harness.scalar("select chat_platform from submissions where withdrawn_reason = 'merge'") == "zalo"
    assert await harness.scalar("select count(*) from unit_roles where role = 'admin'") == 1
    assert await harness.scalar("select count(distinct person_id) from unit_roles") == 1
    audit = await harness.scalar("select detail from audit_log where action = 'merge_persons'")
    assert "zalo:z-lan" in audit and "test:t-lan" in audit and '"duplicates_withdrawn": 1' in audit
    # The merged person is an admin: /tinhhinh in her private chat on the test platform names laggards.
    await harness.send(harness.private(lan), lan, "/tinhhinh")
    assert harness.messenger.texts()[-1].startswith("📊")


async def test_explicit_home_unit_wins_and_party_flag_is_kept(harness):
    join, admin = await harness.codes("THCS-KIMBOI")
    lan = harness.user("Nguyễn Thị Lan", "t-lan")
    group = harness.group()
    await harness.bind(group, "THCS-KIMBOI")
    await harness.send(group, lan, "chào")  # derived home unit from the group
    zuser, zchat = zalo_user()
    other_join, _ = await harness.codes("TH-KIMBOI")
    await harness.send(zchat, zuser, f"/dangky {other_join}")  # explicit, on Zalo (the newer person)
    async with harness.storage.uow() as uow:
        member = await uow.members.get("test", "t-lan")
        person = await uow.members.person(member.person_id)
        person.party_member = True
    code = await show_code(harness, harness.private(lan), lan)
    await harness.send(zchat, zuser, f"/lienket {code}")
    assert await harness.scalar("select count(*) from persons") == 1
    assert await harness.scalar("select party_member from persons") == 1
    assert await harness.scalar("select home_unit_explicit from persons") == 1
    expected = await harness.scalar("select id from units where join_code = :c", c=other_join)
    assert await harness.scalar("select home_unit_id from persons") == expected


async def test_a_code_works_once_on_the_other_platform_only_and_expires(harness):
    lan = harness.user("Nguyễn Thị Lan", "t-lan")
    zuser, zchat = zalo_user()
    await harness.send(zchat, zuser, "xin chào")
    code = await show_code(harness, harness.private(lan), lan)
    other = harness.user("Trần Văn Bình", "t-binh")
    await harness.send(harness.private(other), other, f"/lienket {code}")
    assert harness.messenger.texts()[-1] == texts_vi.link_same_platform("test")
    # The refused attempt used the code up: a code is spent by its first use.
    await harness.send(zchat, zuser, f"/lienket {code}")
    assert await harness.scalar("select count(*) from persons") == 3
    code = await show_code(harness, harness.private(lan), lan)
    harness.advance(minutes=16)
    await harness.send(zchat, zuser, f"/lienket {code}")
    assert await harness.scalar("select count(*) from persons") == 3
    await harness.send(harness.private(lan), lan, "/lienket SAIMAXXX")
    assert harness.messenger.texts()[-1] == texts_vi.LINK_CODE_UNKNOWN


async def test_in_a_group_no_code_is_shown_and_a_code_typed_there_is_burnt(harness):
    group = harness.group()
    await harness.bind(group, "THCS-KIMBOI")
    lan = harness.user("Nguyễn Thị Lan", "t-lan")
    await harness.send(group, lan, "/lienket")
    assert harness.messenger.texts()[-1] == texts_vi.LINK_CODE_PRIVATE_ONLY
    zuser, zchat = zalo_user()
    await harness.send(zchat, zuser, "xin chào")
    code = await show_code(harness, harness.private(lan), lan)
    await harness.send(group, lan, f"/lienket {code}")
    assert harness.messenger.texts()[-1] == texts_vi.LINK_CODE_BURNT
    await harness.send(zchat, zuser, f"/lienket {code}")
    assert await harness.scalar("select count(*) from persons") == 2


async def test_a_delivery_seen_before_changes_nothing(harness):
    join, _ = await harness.codes("THCS-KIMBOI")
    lan = harness.user("Nguyễn Thị Lan", "t-lan")
    chat = harness.private(lan)
    await harness.send(chat, lan, f"/dangky {join}")
    before = len(harness.messenger.transcript)
    for _ in range(2):
        await harness.send(chat, lan, f"{POST} /toi", message_id="m-1", delivery_id="t-lan/m-1")
    assert await harness.scalar("select count(*) from submissions") == 1
    assert await harness.scalar("select count(*) from seen_deliveries") == 1
    assert len(harness.messenger.transcript) == before + 1  # the 👍 once, nothing for the repeat


async def test_console_shows_a_link_code_in_a_private_chat():
    out = io.StringIO()
    script = ":as Nguyễn Thị Lan\n:private\n/lienket\n/lienket ABCDEFGH\n"
    assert await run_console(default_config(), demo=True, stdin=io.StringIO(script), stdout=out) == 0
    text = out.getvalue()
    assert CODE.search(text), text
    assert texts_vi.LINK_CODE_UNKNOWN in text
