"""Signing in to the web dashboard (SPEC §3.8): `/web` in an admin's private chat and
`python -m bot web link PLATFORM:ID` give a one-use, 10-minute link; whose units a person sees.

A person's units are those the bot last recorded them administering: admins by code, group
administrators recorded when seen giving a command, and super-admins (every unit)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.config import Config
from bot.domain import texts_vi
from handlers.context import Context
from handlers.scope import ADMIN_ROLES, record_chat_admin, start_link
from storage import web_tokens
from storage.models import Member, Unit, UnitRole
from storage.uow import UnitOfWork

LOGIN_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=8)
LOGIN_PATH = "/web/login/"


def base_url(config: Config) -> str:
    """Where the dashboard is reached: ``public_url``, or the address the server listens on."""
    web = config.web
    if web.public_url:
        return web.public_url.rstrip("/")
    host = f"[{web.listen}]" if ":" in web.listen else web.listen
    return f"http://{host}:{web.port}"


async def issue_login_link(uow: UnitOfWork, config: Config, person_id: int, now: datetime) -> str:
    """A new one-use login link for the person; older unused ones stay valid (SPEC §3.8)."""
    await web_tokens.purge(uow.session, now)
    secret = await web_tokens.issue(uow.session, web_tokens.LOGIN, person_id, now, LOGIN_LIFETIME)
    return f"{base_url(config)}{LOGIN_PATH}{secret}"


async def is_super_admin(uow: UnitOfWork, config: Config, person_id: int) -> bool:
    if not config.bot.super_admins:
        return False
    rows = (await uow.session.execute(
        select(Member.platform, Member.user_id).where(Member.person_id == person_id))).all()
    return any(f"{p}:{u}" in config.bot.super_admins for p, u in rows)


async def dashboard_roots(uow: UnitOfWork, config: Config, person_id: int) -> list[Unit]:
    """The top units the person sees (each with everything below it), outermost only, by path."""
    if await is_super_admin(uow, config, person_id):
        stmt = select(Unit).where(Unit.parent_id.is_(None))
    else:
        stmt = (select(Unit).join(UnitRole, UnitRole.unit_id == Unit.id)
                .where(UnitRole.person_id == person_id, UnitRole.role.in_(ADMIN_ROLES)).distinct())
    units = sorted((await uow.session.execute(stmt)).scalars(), key=lambda u: u.path)
    roots: list[Unit] = []
    for unit in units:
        if not any(unit.path.startswith(r.path) for r in roots):
            roots.append(unit)
    return roots


async def own_admin_of(uow: UnitOfWork, config: Config, person_id: int, unit: Unit) -> bool:
    """An admin of that unit itself (or a super-admin): the only ones who see party members'
    names (SPEC §3.4)."""
    if await is_super_admin(uow, config, person_id):
        return True
    stmt = select(UnitRole.unit_id).where(UnitRole.person_id == person_id, UnitRole.unit_id == unit.id,
                                          UnitRole.role.in_(ADMIN_ROLES)).limit(1)
    return (await uow.session.execute(stmt)).first() is not None


async def cmd_web(ctx: Context, args: tuple[str, ...]) -> None:
    """/web: a one-use, 10-minute sign-in link to the dashboard, in an admin's private chat."""
    if ctx.msg.chat.is_group:
        # Remembered, so that the link asked for privately next knows this group's unit.
        await record_chat_admin(ctx)
        ctx.reply(texts_vi.web_private_only(start_link(ctx)))
        return
    if ctx.person is None:
        return
    if not await dashboard_roots(ctx.uow, ctx.config, ctx.person.id):
        ctx.reply(texts_vi.WEB_ADMINS_ONLY)
        return
    url = await issue_login_link(ctx.uow, ctx.config, ctx.person.id, ctx.now)
    # SendText turns link previews off: a preview robot must not even fetch the link.
    ctx.reply(texts_vi.web_login_link(url))


class NoDashboard(Exception):
    """The account cannot sign in (never seen, or administers nothing): one line for the operator."""


async def login_link_for_account(uow: UnitOfWork, config: Config, account: str, now: datetime) -> str:
    """`web link PLATFORM:ID`: the link, or NoDashboard with one Vietnamese line."""
    platform, sep, user_id = account.partition(":")
    if not sep or not platform or not user_id:
        raise NoDashboard(texts_vi.web_bad_account(account[:80]))
    member = await uow.members.get(platform.strip().lower(), user_id.strip())
    if member is None:
        raise NoDashboard(texts_vi.web_unknown_account(account[:80]))
    if not await dashboard_roots(uow, config, member.person_id):
        raise NoDashboard(texts_vi.web_not_admin(account[:80]))
    return await issue_login_link(uow, config, member.person_id, now)
