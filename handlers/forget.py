"""`python -m bot members forget PLATFORM:ID` (SPEC §3.4, §4.1): erase one person on request.

The person's accounts, names, memberships, roles and leave go; their links stay with the unit
as anonymous counts (storage.tallies counts them in the unit's link totals, and no person is
expected for them, so n/N drop the person); the audit log and the stored messages keep no name
or account of theirs. One transaction: either all of it or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain import texts_vi
from bot.domain.outbound_json import PayloadError, dump_actions, load_actions
from bot.domain.types import Mention, SendText
from storage.erase import Erased, PersonTrace, erase_person, trace_of
from storage.uow import UnitOfWork


class BadAccount(ValueError):
    """Not of the form PLATFORM:ID."""


@dataclass(frozen=True)
class Forgotten:
    platform: str
    user_id: str
    erased: Erased


def parse_account(text: str) -> tuple[str, str]:
    """``telegram:123456`` -> ("telegram", "123456"); anything else raises BadAccount. Any
    platform name is accepted (the console's accounts too): an unknown one is an unknown account."""
    platform, sep, user_id = text.strip().partition(":")
    platform, user_id = platform.strip().lower(), user_id.strip()
    if not sep or not re.fullmatch(r"[a-z][a-z0-9_]{0,15}", platform) or not user_id or len(user_id) > 64 \
            or any(c.isspace() for c in user_id):
        raise BadAccount(texts_vi.forget_bad_account(text))
    return platform, user_id


async def forget(uow: UnitOfWork, platform: str, user_id: str, now: datetime) -> Forgotten | None:
    """Erase the person owning this account (every account of theirs); None if nobody has it."""
    trace = await trace_of(uow.session, platform, user_id)
    if trace is None:
        return None
    erased = await erase_person(uow.session, trace, clean_payload)
    # The erasure itself is audited, without naming whom (that would keep what was erased).
    uow.audit.add(now, "forget", actor="cli", accounts=erased.accounts, links=erased.links)
    return Forgotten(platform, user_id, erased)


def clean_payload(payload: str, trace: PersonTrace, still_open: bool) -> str | None | bool:
    """A stored message without the person. A sent one is dropped (nothing reads it again); one
    still to be sent (a claim, or released for a retry) names "một thành viên" instead."""
    try:
        actions = load_actions(payload)
    except PayloadError:
        return None  # unreadable, and it matched the person's id or name: keep nothing of it
    accounts = set(trace.accounts)
    # Longest first, so that "Nguyễn Thị Lan" goes before a username that is part of it.
    names = sorted(trace.names, key=len, reverse=True)
    found = False
    cleaned = []
    for action in actions:
        if isinstance(action, SendText):
            parts = []
            for part in action.parts:
                if isinstance(part, Mention) and (part.user.platform, part.user.user_id) in accounts:
                    parts.append(texts_vi.ERASED_PERSON)
                    found = True
                    continue
                if isinstance(part, str):
                    for name in names:
                        if name in part:
                            part = part.replace(name, texts_vi.ERASED_PERSON)
                            found = True
                parts.append(part)
            action = replace(action, parts=tuple(parts))
        cleaned.append(action)
    if not found:
        return False
    return dump_actions(cleaned) if still_open else None
