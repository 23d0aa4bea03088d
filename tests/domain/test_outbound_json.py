"""A claim's payload: outbound actions to JSON and back, unchanged."""

from __future__ import annotations

import pytest

from bot.domain.outbound_json import PayloadError, dump_actions, load_actions
from bot.domain.types import ChatKind, ChatRef, DeleteMessage, Mention, React, SendDocument, SendText, UserRef

GROUP = ChatRef("telegram", "-1001", ChatKind.GROUP, title="Truyền thông THCS Kim Bôi")
PRIVATE = ChatRef("zalo", "a1b2c3", ChatKind.PRIVATE)
LAN = UserRef("telegram", "61", "Nguyễn Thị Lan")  # no username: mentioned by id
HUNG = UserRef("telegram", "62", "Trần Văn Hùng", username="thayhung")


@pytest.mark.parametrize("action", [
    SendText(GROUP, ("⏰ Nhắc: ", Mention(LAN), ", ", Mention(HUNG), " chưa chia sẻ bài nào.\nTrang: 0/1"),
             reply_to="77", disable_preview=False),
    SendText.of(PRIVATE, "Chỉ một dòng"),
    React(GROUP, "12", "👍", fallback="✅ Đã ghi nhận."),
    SendDocument(GROUP, "báo cáo.xlsx", bytes(range(256)) * 3, caption="Tháng 11", reply_to="5"),
    DeleteMessage(GROUP, "9"),
])
def test_every_action_survives_the_round_trip(action):
    assert load_actions(dump_actions([action])) == (action,)


def test_several_actions_keep_their_order_and_vietnamese_stays_readable():
    actions = [SendText.of(GROUP, "Tuần 48: đã đạt"), React(GROUP, "3")]
    text = dump_actions(actions)
    assert "Tuần 48: đã đạt" in text  # readable in the database, not \\u escapes
    assert load_actions(text) == tuple(actions)


@pytest.mark.parametrize("text", [
    "", "null", "[]", '{"v": 2, "actions": []}', '{"v": 1}', '{"v": 1, "actions": [{"type": "poll"}]}',
    '{"v": 1, "actions": [{"type": "text", "chat": {"platform": "x", "id": "1", "kind": "channel"}, "parts": []}]}',
])
def test_an_unreadable_payload_is_one_clear_error(text):
    with pytest.raises(PayloadError):
        load_actions(text)
