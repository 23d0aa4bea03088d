"""Builders of Bot API objects and updates, shaped (keys, order, extras) like Telegram's JSON.

Every builder returns plain dicts, so tests can push them to the fake server or feed them to
``telegram.Update.de_json``. Update builders return ``{"message": {...}}`` without an
``update_id`` unless one is given: ``FakeTelegramServer.push_update`` numbers them.
"""

from __future__ import annotations

import copy
import itertools
import time
from typing import Any

from tests.fake_telegram.entities import (
    auto_entities,
    command_entities,
    entity_text,
    text_link,
    url_entities,
    utf16_len,
    utf16_offset,
)

__all__ = [
    "GROUP_ANONYMOUS_BOT",
    "TELEGRAM_SERVICE",
    "administrator",
    "auto_entities",
    "channel",
    "chat_member",
    "command_entities",
    "document_object",
    "edited_message",
    "entity_text",
    "group",
    "inner_message",
    "left_chat_member",
    "member_object",
    "message",
    "migrate",
    "my_chat_member",
    "new_chat_members",
    "origin_channel",
    "origin_chat",
    "origin_hidden_user",
    "origin_user",
    "owner",
    "photo_sizes",
    "private_chat",
    "text_link",
    "update",
    "update_kind",
    "url_entities",
    "user",
    "utf16_len",
    "utf16_offset",
]

JSON = dict[str, Any]

_message_ids = itertools.count(1001)
_file_ids = itertools.count(1)


def _now() -> int:
    """Return the current Unix time, the default ``date`` of built messages."""
    return int(time.time())


def _drop_none(data: JSON) -> JSON:
    """Return ``data`` without keys whose value is ``None`` (Telegram omits empty fields)."""
    return {key: value for key, value in data.items() if value is not None}


# --- users and chats --------------------------------------------------------------------------


def user(
    id: int,  # noqa: A002 - the Bot API's own name
    first_name: str,
    last_name: str | None = None,
    username: str | None = None,
    is_bot: bool = False,
    language_code: str | None = None,
) -> JSON:
    """Build a User."""
    return _drop_none(
        {
            "id": id,
            "is_bot": is_bot,
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
        }
    )


GROUP_ANONYMOUS_BOT = user(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)
"""The ``from`` of messages sent by anonymous group admins (and of ``migrate_from_chat_id``)."""

TELEGRAM_SERVICE = user(777000, "Telegram")
"""The ``from`` of channel posts automatically forwarded into the linked discussion group."""


def group(
    id: int,  # noqa: A002
    title: str,
    type: str = "supergroup",  # noqa: A002
    username: str | None = None,
    is_forum: bool | None = None,
) -> JSON:
    """Build a group Chat: ``type`` is ``supergroup`` (ids -100…) or ``group`` (a basic group)."""
    chat = _drop_none(
        {"id": id, "title": title, "username": username, "is_forum": is_forum, "type": type}
    )
    if type == "group":
        chat["all_members_are_administrators"] = False
    return chat


def channel(id: int, title: str, username: str | None = None) -> JSON:  # noqa: A002
    """Build a channel Chat."""
    return _drop_none({"id": id, "title": title, "username": username, "type": "channel"})


def private_chat(user: JSON) -> JSON:
    """Build the private Chat between the bot and ``user``."""
    return _drop_none(
        {
            "id": user["id"],
            "first_name": user.get("first_name"),
            "last_name": user.get("last_name"),
            "username": user.get("username"),
            "type": "private",
        }
    )


# --- members ----------------------------------------------------------------------------------

_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "can_manage_chat": True,
    "can_change_info": True,
    "can_delete_messages": True,
    "can_invite_users": True,
    "can_restrict_members": True,
    "can_pin_messages": True,
    "can_manage_topics": False,
    "can_promote_members": False,
    "can_manage_video_chats": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "is_anonymous": False,
}
_RESTRICTIONS = {
    "is_member": True,
    "can_send_messages": False,
    "can_send_audios": False,
    "can_send_documents": False,
    "can_send_photos": False,
    "can_send_videos": False,
    "can_send_video_notes": False,
    "can_send_voice_notes": False,
    "can_send_polls": False,
    "can_send_other_messages": False,
    "can_add_web_page_previews": False,
    "can_react_to_messages": False,
    "can_change_info": False,
    "can_invite_users": False,
    "can_pin_messages": False,
    "can_manage_topics": False,
    "can_edit_tag": False,
    "until_date": 0,
}
STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")


def member_object(user: JSON, status: str = "member", **fields: Any) -> JSON:
    """Build a ChatMember of any status with every field PTB requires; ``fields`` override them."""
    if status not in STATUSES:
        raise ValueError(f"unknown chat member status {status!r}; use one of {STATUSES}")
    member: JSON = {"user": user, "status": status}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(_ADMIN_RIGHTS)
    elif status == "restricted":
        member.update(_RESTRICTIONS)
    elif status == "kicked":
        member["until_date"] = 0
    member.update(fields)
    return member


def owner(user: JSON, **fields: Any) -> JSON:
    """Build the ChatMember of a chat's creator."""
    return member_object(user, "creator", **fields)


def administrator(user: JSON, **fields: Any) -> JSON:
    """Build the ChatMember of an administrator (usual rights, ``fields`` override them)."""
    return member_object(user, "administrator", **fields)


# --- messages ---------------------------------------------------------------------------------


def update_kind(data: JSON) -> str:
    """Return the kind of an update dict (``message``, ``my_chat_member``…)."""
    kinds = [key for key in data if key != "update_id"]
    if len(kinds) != 1:
        raise ValueError(f"an update holds exactly one object besides update_id, got {kinds}")
    return kinds[0]


def inner_message(data: JSON) -> JSON:
    """Return the Message dict inside a message/edited_message update, or ``data`` itself."""
    for kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
        if kind in data:
            return data[kind]
    return data


def update(kind: str, payload: JSON, update_id: int | None = None) -> JSON:
    """Wrap ``payload`` in an update of the given kind."""
    return {"update_id": update_id, kind: payload} if update_id is not None else {kind: payload}


def origin_user(sender: JSON, date: int | None = None) -> JSON:
    """Build a MessageOrigin of a forward from a user who allows linking to their account."""
    return {"type": "user", "date": date or _now(), "sender_user": sender}


def origin_hidden_user(name: str, date: int | None = None) -> JSON:
    """Build a MessageOrigin of a forward from a user who hides their account."""
    return {"type": "hidden_user", "date": date or _now(), "sender_user_name": name}


def origin_chat(sender_chat: JSON, date: int | None = None) -> JSON:
    """Build a MessageOrigin of a forward of a message sent on behalf of a group."""
    return {"type": "chat", "date": date or _now(), "sender_chat": sender_chat}


def origin_channel(
    chat: JSON, message_id: int, date: int | None = None, author_signature: str | None = None
) -> JSON:
    """Build a MessageOrigin of a forward of a channel post."""
    return _drop_none(
        {
            "type": "channel",
            "date": date or _now(),
            "chat": chat,
            "message_id": message_id,
            "author_signature": author_signature,
        }
    )


def _legacy_forward(origin: JSON) -> JSON:
    """Return the legacy ``forward_*`` fields the Bot API still sends beside ``forward_origin``."""
    legacy: JSON = {}
    if origin["type"] == "user":
        legacy["forward_from"] = origin["sender_user"]
    elif origin["type"] == "hidden_user":
        legacy["forward_sender_name"] = origin["sender_user_name"]
    elif origin["type"] == "chat":
        legacy["forward_from_chat"] = origin["sender_chat"]
    elif origin["type"] == "channel":
        legacy["forward_from_chat"] = origin["chat"]
        legacy["forward_from_message_id"] = origin["message_id"]
        if "author_signature" in origin:
            legacy["forward_signature"] = origin["author_signature"]
    legacy["forward_date"] = origin["date"]
    return legacy


def photo_sizes(width: int = 1280, height: int = 960) -> list[JSON]:
    """Build the three PhotoSize dicts Telegram sends for a photo (thumbnail to full size)."""
    n = next(_file_ids)
    sizes = []
    for scale, size in ((0.0703125, 1_511), (0.25, 19_344), (1.0, 148_207)):
        w, h = max(int(width * scale), 1), max(int(height * scale), 1)
        sizes.append(
            {
                "file_id": f"AgACAgUAAxkBAAIB{n:04d}{w}x{h}",
                "file_unique_id": f"AQAD{n:04d}{w}",
                "file_size": size,
                "width": w,
                "height": h,
            }
        )
    return sizes


def document_object(
    file_name: str, mime_type: str = "application/octet-stream", file_size: int = 1024
) -> JSON:
    """Build a Document as it appears in a message."""
    n = next(_file_ids)
    return {
        "file_name": file_name,
        "mime_type": mime_type,
        "file_id": f"BQACAgUAAxkBAAIC{n:06d}",
        "file_unique_id": f"AgAD{n:06d}",
        "file_size": file_size,
    }


def message(
    chat: JSON,
    from_user: JSON | None,
    text: str | None = None,
    message_id: int | None = None,
    entities: list[JSON] | None = None,
    date: int | None = None,
    caption: str | None = None,
    caption_entities: list[JSON] | None = None,
    reply_to: JSON | None = None,
    forward_origin: JSON | None = None,
    sender_chat: JSON | None = None,
    *,
    photo: list[JSON] | None = None,
    document: JSON | None = None,
    is_automatic_forward: bool | None = None,
    via_bot: JSON | None = None,
    author_signature: str | None = None,
    message_thread_id: int | None = None,
    edit_date: int | None = None,
    kind: str = "message",
    update_id: int | None = None,
    **extra: Any,
) -> JSON:
    """Build a message update; entities default to what a client detects (links, commands, #, @).

    Pass ``entities=[]`` for none. ``reply_to`` is an update or message dict; ``extra`` adds
    fields such as ``new_chat_members``. ``message_id`` defaults to a process-wide counter.
    """
    if entities is None:
        entities = auto_entities(text)
    if caption_entities is None:
        caption_entities = auto_entities(caption)
    body: JSON = {"message_id": message_id if message_id is not None else next(_message_ids)}
    if message_thread_id is not None:
        body["message_thread_id"] = message_thread_id
    if from_user is not None:
        body["from"] = from_user
    if sender_chat is not None:
        body["sender_chat"] = sender_chat
    body["chat"] = chat
    body["date"] = date if date is not None else _now()
    if forward_origin is not None:
        body["forward_origin"] = forward_origin
        body.update(_legacy_forward(forward_origin))
    if is_automatic_forward is not None:
        body["is_automatic_forward"] = is_automatic_forward
    if reply_to is not None:
        replied = dict(inner_message(reply_to))
        replied.pop("reply_to_message", None)  # Telegram nests one level only
        body["reply_to_message"] = replied
    if via_bot is not None:
        body["via_bot"] = via_bot
    if edit_date is not None:
        body["edit_date"] = edit_date
    if author_signature is not None:
        body["author_signature"] = author_signature
    if text is not None:
        body["text"] = text
        if entities:
            body["entities"] = entities
    if photo is not None:
        body["photo"] = photo
    if document is not None:
        body["document"] = document
    if caption is not None:
        body["caption"] = caption
        if caption_entities:
            body["caption_entities"] = caption_entities
    body.update(extra)
    return update(kind, body, update_id)


def edited_message(
    original: JSON,
    text: str | None = None,
    *,
    entities: list[JSON] | None = None,
    caption: str | None = None,
    caption_entities: list[JSON] | None = None,
    edit_date: int | None = None,
    update_id: int | None = None,
) -> JSON:
    """Build the ``edited_message`` update of ``original`` (update or message dict), new text."""
    body = copy.deepcopy(inner_message(original))
    if text is not None:
        body["text"] = text
        body.pop("entities", None)
        found = auto_entities(text) if entities is None else entities
        if found:
            body["entities"] = found
    if caption is not None:
        body["caption"] = caption
        body.pop("caption_entities", None)
        found = auto_entities(caption) if caption_entities is None else caption_entities
        if found:
            body["caption_entities"] = found
    body["edit_date"] = edit_date if edit_date is not None else max(_now(), body["date"] + 1)
    return update("edited_message", body, update_id)


def new_chat_members(
    chat: JSON,
    members: JSON | list[JSON],
    from_user: JSON | None = None,
    *,
    message_id: int | None = None,
    date: int | None = None,
    update_id: int | None = None,
) -> JSON:
    """Build the service message of members joining (added by ``from_user``, else themselves)."""
    joined = members if isinstance(members, list) else [members]
    return message(
        chat,
        from_user or joined[0],
        message_id=message_id,
        date=date,
        update_id=update_id,
        new_chat_participant=joined[0],
        new_chat_member=joined[0],
        new_chat_members=joined,
    )


def left_chat_member(
    chat: JSON,
    member: JSON,
    from_user: JSON | None = None,
    *,
    message_id: int | None = None,
    date: int | None = None,
    update_id: int | None = None,
) -> JSON:
    """Build the service message for a member leaving (or removed by ``from_user``)."""
    return message(
        chat,
        from_user or member,
        message_id=message_id,
        date=date,
        update_id=update_id,
        left_chat_participant=member,
        left_chat_member=member,
    )


def migrate(
    old_chat: JSON,
    new_chat_id: int,
    from_user: JSON,
    *,
    date: int | None = None,
    old_message_id: int | None = None,
) -> tuple[JSON, JSON]:
    """Build the two updates of a basic group upgraded to a supergroup: (in old, in new chat).

    Telegram sends ``migrate_to_chat_id`` in the old group (from the user who upgraded it) and
    ``migrate_from_chat_id`` as message 1 of the new supergroup, sent on behalf of the group.
    """
    date = date if date is not None else _now()
    new_chat = group(new_chat_id, old_chat["title"], "supergroup")
    in_old = message(
        old_chat, from_user, message_id=old_message_id, date=date, migrate_to_chat_id=new_chat_id
    )
    in_new = message(
        new_chat,
        GROUP_ANONYMOUS_BOT,
        message_id=1,
        date=date,
        sender_chat=new_chat,
        migrate_from_chat_id=old_chat["id"],
    )
    return in_old, in_new


def _member_change(
    kind: str,
    chat: JSON,
    member_user: JSON,
    old: str | JSON,
    new: str | JSON,
    by_user: JSON,
    date: int | None,
    update_id: int | None,
    **extra: Any,
) -> JSON:
    """Build a ChatMemberUpdated update; ``old``/``new`` are statuses or ChatMember dicts."""
    old_member = old if isinstance(old, dict) else member_object(member_user, old)
    new_member = new if isinstance(new, dict) else member_object(member_user, new)
    body = {
        "chat": chat,
        "from": by_user,
        "date": date if date is not None else _now(),
        "old_chat_member": old_member,
        "new_chat_member": new_member,
    }
    body.update(_drop_none(extra))
    return update(kind, body, update_id)


def my_chat_member(
    chat: JSON,
    bot_user: JSON,
    old_status: str | JSON,
    new_status: str | JSON,
    by_user: JSON,
    *,
    date: int | None = None,
    update_id: int | None = None,
) -> JSON:
    """Build a ``my_chat_member`` update: the bot's own status changed (added, promoted…)."""
    return _member_change(
        "my_chat_member", chat, bot_user, old_status, new_status, by_user, date, update_id
    )


def chat_member(
    chat: JSON,
    member_user: JSON,
    old_status: str | JSON,
    new_status: str | JSON,
    by_user: JSON | None = None,
    *,
    date: int | None = None,
    invite_link: JSON | None = None,
    via_join_request: bool | None = None,
    update_id: int | None = None,
) -> JSON:
    """Build a ``chat_member`` update (sent only where the bot is an admin and asked for it)."""
    return _member_change(
        "chat_member",
        chat,
        member_user,
        old_status,
        new_status,
        by_user or member_user,
        date,
        update_id,
        invite_link=invite_link,
        via_join_request=via_join_request,
    )
