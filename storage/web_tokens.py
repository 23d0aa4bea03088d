"""The dashboard's secrets (SPEC §3.8): one-use login links and session cookies.

Only a SHA-256 of each secret is stored: a copy of the database (a backup, a report made from
it) signs nobody in. Spending a login link is one conditional UPDATE, so two presses of the
same link — on one instance or two — sign in once. Functions flush, never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebToken

LOGIN = "login"
SESSION = "session"
DOWNLOAD = "download"


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret() -> str:
    """256 random bits, URL-safe: unguessable, so the link needs no further signature."""
    return secrets.token_urlsafe(32)


async def issue(session: AsyncSession, kind: str, person_id: int, now: datetime, lifetime: timedelta,
                subject: str | None = None) -> str:
    """A new secret of ``kind`` for the person, valid for ``lifetime``; returns the secret."""
    secret = new_secret()
    session.add(WebToken(token_hash=token_hash(secret), kind=kind, person_id=person_id, subject=subject,
                         created_at=now, expires_at=now + lifetime))
    await session.flush()
    return secret


async def valid(session: AsyncSession, kind: str, secret: str, now: datetime) -> int | None:
    """The person a live (unused, unexpired) secret belongs to, without spending it."""
    if not secret or len(secret) > 128:
        return None
    stmt = select(WebToken.person_id).where(
        WebToken.token_hash == token_hash(secret), WebToken.kind == kind,
        WebToken.used_at.is_(None), WebToken.expires_at > now)
    return (await session.execute(stmt)).scalar_one_or_none()


async def spend(session: AsyncSession, kind: str, secret: str, now: datetime) -> int | None:
    """Spend a live secret once: the person it belonged to, or None (unknown, used, expired).

    The WHERE clause is the check: of two concurrent spends only one UPDATE matches a row."""
    if not secret or len(secret) > 128:
        return None
    digest = token_hash(secret)
    result = await session.execute(
        update(WebToken)
        .where(WebToken.token_hash == digest, WebToken.kind == kind, WebToken.used_at.is_(None),
               WebToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    if (result.rowcount or 0) != 1:
        return None
    return (await session.execute(select(WebToken.person_id).where(WebToken.token_hash == digest))).scalar_one()


async def purge(session: AsyncSession, now: datetime, keep: timedelta = timedelta(days=1)) -> None:
    """Forget secrets expired more than ``keep`` ago: the table stays the size of a day's use."""
    from sqlalchemy import delete

    await session.execute(delete(WebToken).where(WebToken.kind.in_((LOGIN, SESSION)),
                                                 WebToken.expires_at < now - keep))
