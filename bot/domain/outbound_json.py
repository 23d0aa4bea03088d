"""Outbound actions to JSON and back, so that a claimed send can be finished by another instance.

A claim's ``payload`` (``sent_messages.payload``) holds the message exactly as it was composed;
the sweeper sends that, never a fresh composition (which could differ, or name other people).
PURE: standard library only.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Iterable

from bot.domain.types import (
    ChatKind,
    ChatRef,
    DeleteMessage,
    Mention,
    Outbound,
    React,
    SendDocument,
    SendPhoto,
    SendText,
    UserRef,
)

__all__ = ["dump_actions", "load_actions", "PayloadError"]

VERSION = 1


class PayloadError(ValueError):
    """A payload that this version cannot read back (corrupt, or written by a newer version)."""


def _chat(chat: ChatRef) -> dict[str, Any]:
    return {"platform": chat.platform, "id": chat.chat_id, "kind": chat.kind.value, "title": chat.title}


def _user(user: UserRef) -> dict[str, Any]:
    return {"platform": user.platform, "id": user.user_id, "name": user.display_name,
            "username": user.username, "bot": user.is_bot}


def _action(action: Outbound) -> dict[str, Any]:
    if isinstance(action, SendText):
        parts = [p if isinstance(p, str) else {"mention": _user(p.user)} for p in action.parts]
        return {"type": "text", "chat": _chat(action.chat), "parts": parts, "reply_to": action.reply_to,
                "disable_preview": action.disable_preview}
    if isinstance(action, React):
        return {"type": "react", "chat": _chat(action.chat), "message_id": action.message_id,
                "emoji": action.emoji, "fallback": action.fallback}
    if isinstance(action, SendDocument):
        return {"type": "document", "chat": _chat(action.chat), "filename": action.filename,
                "data": base64.b64encode(action.data).decode("ascii"), "caption": action.caption,
                "reply_to": action.reply_to}
    if isinstance(action, SendPhoto):
        return {"type": "photo", "chat": _chat(action.chat), "filename": action.filename,
                "data": base64.b64encode(action.data).decode("ascii"), "caption": action.caption,
                "reply_to": action.reply_to}
    if isinstance(action, DeleteMessage):
        return {"type": "delete", "chat": _chat(action.chat), "message_id": action.message_id}
    raise TypeError(f"not an outbound action: {type(action).__name__}")


def dump_actions(actions: Iterable[Outbound]) -> str:
    """The actions as one JSON text (UTF-8 as is: Vietnamese stays readable in the database)."""
    return json.dumps({"v": VERSION, "actions": [_action(a) for a in actions]}, ensure_ascii=False,
                      separators=(",", ":"))


def _read_chat(data: dict[str, Any]) -> ChatRef:
    return ChatRef(str(data["platform"]), str(data["id"]), ChatKind(data["kind"]), data.get("title"))


def _read_user(data: dict[str, Any]) -> UserRef:
    return UserRef(str(data["platform"]), str(data["id"]), str(data["name"]), data.get("username"),
                   bool(data.get("bot", False)))


def _read_action(data: dict[str, Any]) -> Outbound:
    kind = data["type"]
    chat = _read_chat(data["chat"])
    if kind == "text":
        parts = tuple(p if isinstance(p, str) else Mention(_read_user(p["mention"])) for p in data["parts"])
        return SendText(chat, parts, data.get("reply_to"), bool(data.get("disable_preview", True)))
    if kind == "react":
        return React(chat, str(data["message_id"]), data.get("emoji", "👍"), data.get("fallback", ""))
    if kind == "document":
        return SendDocument(chat, str(data["filename"]), base64.b64decode(data["data"]), data.get("caption", ""),
                            data.get("reply_to"))
    if kind == "photo":
        return SendPhoto(chat, base64.b64decode(data["data"]), str(data.get("filename", "chart.png")),
                         data.get("caption", ""), data.get("reply_to"))
    if kind == "delete":
        return DeleteMessage(chat, str(data["message_id"]))
    raise PayloadError(f"unknown action type {kind!r}")


def load_actions(text: str) -> tuple[Outbound, ...]:
    """The actions ``dump_actions`` wrote; PayloadError for anything else."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != VERSION:
            raise PayloadError(f"unsupported payload version {data.get('v') if isinstance(data, dict) else None!r}")
        return tuple(_read_action(item) for item in data["actions"])
    except PayloadError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PayloadError(f"unreadable payload: {type(exc).__name__}: {exc}") from None
