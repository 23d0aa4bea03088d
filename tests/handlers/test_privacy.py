"""SPEC §3.4: party membership never changes who is listed, in what order or with what words in any
group message. The same week is played with and without party flags and every group message is
compared byte for byte, less the lines that carry the party count ("đảng viên")."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.types import SendText
from handlers.rhythm import compose
from tests.handlers.test_status import make_admin, school


def strip_party(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "đảng viên" not in line.lower())


async def group_messages(harness, g, principal, teacher) -> list[str]:
    harness.messenger.clear()
    for who in (principal, teacher):
        for command in ("/tinhhinh", "/tinhhinh thang", "/xephang", "/xephang thang"):
            await harness.send(g, who, command)
    office = harness.group("g-pgd")
    for command in ("/tinhhinh", "/xephang"):
        await harness.send(office, principal, command)
    texts = [a.plain for a in harness.messenger.transcript if isinstance(a, SendText) and a.chat.is_group]
    async with harness.storage.uow() as uow:
        for kind in ("reminder", "leaderboard"):
            now = harness.clock.now() + (timedelta(days=3) if kind == "leaderboard" else timedelta(0))
            for plan in await compose(uow, harness.dispatcher.config, kind, now):
                if plan.chat.is_group:
                    texts += [a.plain for a in plan.actions if isinstance(a, SendText)]
    return [strip_party(t) for t in texts]


async def test_group_messages_do_not_change_with_party_flags(harness):
    g, principal, (cuc, dung, anh, em) = await school(harness, 4)
    await harness.bind(harness.group("g-pgd"), "PGD-KIMBOI")
    harness.messenger.admins["g-pgd"] = {principal.user_id}
    await harness.send(harness.group("g-pgd"), principal, "chào phòng")
    await harness.send(g, cuc, "https://youtu.be/aaaaaaaaaa1")
    await harness.send(g, dung, "https://youtu.be/aaaaaaaaaa1 https://youtu.be/aaaaaaaaaa2")
    harness.advance(days=-7)
    await harness.send(g, anh, "https://youtu.be/aaaaaaaaaa3")
    harness.advance(days=7)
    before = await group_messages(harness, g, principal, em)

    await make_admin(harness, principal, "THCS-KIMBOI")
    # Party members among those who met and those who did not, the asker included.
    await harness.send(harness.private(principal), principal, "/dangvien THCS-KIMBOI 1 2 4")
    assert await harness.scalar("select count(*) from persons where party_member") == 3
    after = await group_messages(harness, g, principal, em)

    assert len(before) == len(after) > 10
    assert before == after
