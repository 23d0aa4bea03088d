"""Crediting links (SPEC §3.1): once per person and post, quietly, idempotently."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.domain import texts_vi
from bot.domain.links import canonicalize, classify, extract_links, is_allowed, is_post, page_key
from bot.domain.periods import local_date
from bot.domain.types import React, SenderKind
from handlers.commands import LinksInCommand, links_in_command
from handlers.context import Context
from storage.models import PAGE_KEY_MAX
from storage.repositories import CreditOutcome

logger = logging.getLogger(__name__)


@dataclass
class Candidates:
    """The links of one message that may be credited, and what to say about the others."""

    links: list[tuple[str, str]] = field(default_factory=list)  # (original, canonical), in order
    not_post: bool = False
    refused_hosts: list[str] = field(default_factory=list)
    over_limit: bool = False


def message_links(ctx: Context) -> list[str]:
    msg = ctx.msg
    return list(msg.links) if msg.links is not None else extract_links(msg.text)


def select_candidates(raw: list[str], ctx: Context) -> Candidates:
    """Canonicalise, drop what is not a link we accept, apply the policy and the per-message cap."""
    cfg = ctx.config
    result = Candidates()
    seen: set[str] = set()
    for original in raw:
        canonical = canonicalize(original)
        if canonical is None or canonical in seen:
            continue  # not a link we accept (§4.4), or the same post twice in one message
        seen.add(canonical)
        if not is_allowed(canonical, cfg.links.allowed_domains):
            host = urlsplit(canonical).hostname or canonical
            if host not in result.refused_hosts:
                result.refused_hosts.append(host)
            continue
        if not is_post(canonical):
            result.not_post = True
            continue
        if len(result.links) >= cfg.quotas.max_links_per_message:
            result.over_limit = True
            continue
        result.links.append((original, canonical))
    return result


async def capture_links(ctx: Context) -> None:
    """Credit the links of a new message, or re-scan an edited one."""
    msg = ctx.msg
    raw = message_links(ctx)
    if not raw and not msg.edited:
        return
    if msg.sender is None or msg.sender_kind is not SenderKind.USER or msg.sender.is_bot:
        if raw and any(canonicalize(u) for u in raw):
            await ctx.reply_once("no_person", texts_vi.NO_PERSON_TO_CREDIT)
        return
    if msg.chat.is_group and (ctx.group is None or ctx.group.unit_id is None):
        if any(canonicalize(u) for u in raw):
            await ctx.reply_once("hint", texts_vi.UNBOUND_GROUP_HINT)
        return
    assert ctx.person is not None and ctx.member is not None
    candidates = select_candidates(raw, ctx)
    if msg.edited:
        await _withdraw_removed(ctx, {canonical for _, canonical in candidates.links})
    # Inserted in a fixed order (by canonical link), so two instances crediting the same person's
    # links in different orders take the index locks in the same order and cannot deadlock.
    page_unit_id = await _page_post_unit(ctx) if candidates.links and marks_page_post(msg.text) else None
    outcomes = [await _credit(ctx, original, canonical, page_unit_id)
                for original, canonical in sorted(candidates.links, key=lambda pair: pair[1])]
    await _acknowledge(ctx, candidates, outcomes)


_PAGE_TAG = re.compile(r"(?<![\w#])#trang(?!\w)", re.IGNORECASE)


def marks_page_post(text: str) -> bool:
    """``#trang`` in a message marks its links as the unit's page posts (SPEC §3.1 item 7)."""
    return bool(text) and "#" in text and _PAGE_TAG.search(unicodedata.normalize("NFC", text)) is not None


async def _page_post_unit(ctx: Context) -> int | None:
    """The unit a #trang message marks page posts for: the group's unit, when the sender is an
    admin or one of its communications officers; otherwise one line says who may."""
    unit = await ctx.group_unit() if ctx.msg.chat.is_group else None
    if unit is not None and ctx.person is not None:
        if ctx.chat_admin or await ctx.administers(unit) or \
                await ctx.uow.members.has_role(ctx.person.id, [unit.id], "officer"):
            return unit.id
    await ctx.reply_once("explain_page", texts_vi.PAGE_MARK_NOT_ALLOWED, period=f"m{ctx.msg.message_id}"[:64])
    return None


async def _credit(ctx: Context, original: str, canonical: str, page_unit_id: int | None = None) -> CreditOutcome:
    person, member = ctx.person, ctx.member
    assert person is not None and member is not None
    msg = ctx.msg
    outcome = await ctx.uow.submissions.credit(dict(
        person_id=person.id,
        member_id=member.id,
        unit_id=person.home_unit_id,
        group_id=ctx.group.id if ctx.group else None,
        chat_platform=msg.chat.platform,
        chat_id=msg.chat.chat_id,
        message_id=msg.message_id,
        original_url=original[:4096],
        canonical_url=canonical,
        link_platform=classify(canonical, ctx.config.links.news_domains),
        page_key=_storable_page_key(original, canonical),
        is_page_post=page_unit_id is not None,
        page_unit_id=page_unit_id,
        created_at=ctx.now,
    ))
    if outcome.result == "credited":
        ctx.uow.audit.add(ctx.now, "credit", actor=ctx.actor, person_id=person.id, chat=msg.chat.key,
                          unit_id=person.home_unit_id, message_id=msg.message_id, url=canonical)
    return outcome


def _storable_page_key(original: str, canonical: str) -> str | None:
    """The page a link names, if it is one a page could really have (not 300+ characters)."""
    key = page_key(original) or page_key(canonical)
    return key if key is not None and len(key) <= PAGE_KEY_MAX else None


async def _withdraw_removed(ctx: Context, now_in_message: set[str]) -> None:
    """An edit took links out of the message: withdraw them (reason 'edit', so they may return)."""
    assert ctx.person is not None
    msg = ctx.msg
    rows = await ctx.uow.submissions.for_message(msg.chat.platform, msg.chat.chat_id, msg.message_id)
    gone = [r for r in rows if r.withdrawn_at is None and r.person_id == ctx.person.id
            and r.canonical_url not in now_in_message]
    if await ctx.uow.submissions.withdraw(gone, "edit", ctx.now):
        ctx.uow.audit.add(ctx.now, "withdraw_edit", actor=ctx.actor, person_id=ctx.person.id, chat=msg.chat.key,
                          message_id=msg.message_id, urls=[r.canonical_url for r in gone])


async def _acknowledge(ctx: Context, candidates: Candidates, outcomes: list[CreditOutcome]) -> None:
    """A 👍 when something was newly credited; words only when something needs explaining."""
    lines: list[str] = []
    credited = sum(o.result == "credited" for o in outcomes)
    duplicates = [o for o in outcomes if o.result == "duplicate"]
    if credited:
        ctx.out.append(React(ctx.msg.chat, ctx.msg.message_id, "👍", fallback=texts_vi.ACK_FALLBACK))
        if not ctx.msg.chat.is_group and ctx.person is not None and ctx.person.home_unit_id is None:
            lines.append(texts_vi.CREDITED_WITHOUT_UNIT)
    elif duplicates and len(duplicates) == len(outcomes):
        dates = [o.since for o in duplicates if o.since is not None]
        if dates:
            lines.append(texts_vi.already_credited(local_date(min(dates), ctx.tz), len(duplicates) > 1))
        else:
            lines.append(texts_vi.ALREADY_CREDITED_UNDATED)
    if candidates.over_limit:
        lines.append(texts_vi.too_many_links(ctx.config.quotas.max_links_per_message))
    if candidates.not_post and not ctx.msg.edited:
        lines.append(texts_vi.NOT_A_POST)
    for host in candidates.refused_hosts:
        lines.append(texts_vi.not_allowed_source(host))
    if lines:
        # Claimed per message: a redelivered update or a later edit repeats no explanation.
        await ctx.reply_once("explain", "\n".join(lines), period=f"m{ctx.msg.message_id}"[:64])


async def cmd_huy(ctx: Context) -> None:
    """/huy replying to a message: withdraw its links (the sender, or an admin for anyone)."""
    msg = ctx.msg
    if msg.reply_to is None:
        ctx.reply(texts_vi.UNDO_NEEDS_REPLY)
        return
    author = msg.reply_to.sender
    own = author is not None and msg.sender is not None and author.key == msg.sender.key
    if not own and not await ctx.is_admin():
        ctx.reply(texts_vi.UNDO_NOT_ALLOWED)
        return
    rows = await ctx.uow.submissions.for_message(msg.chat.platform, msg.chat.chat_id, msg.reply_to.message_id)
    live = [r for r in rows if r.withdrawn_at is None]
    if not live:
        ctx.reply(texts_vi.UNDO_NOTHING)
        return
    n = await ctx.uow.submissions.withdraw(live, "undo", ctx.now)
    # The row names whose links went (person_id, and the account as platform:user id) and who
    # withdrew them (actor, and their person when it was an admin acting on someone else's).
    authors = sorted({r.person_id for r in live if r.person_id is not None})
    ctx.uow.audit.add(ctx.now, "withdraw_undo", actor=ctx.actor, person_id=authors[0] if authors else None,
                      chat=msg.chat.key, message_id=msg.reply_to.message_id, urls=[r.canonical_url for r in live],
                      author=author.key if author is not None else None, author_person_ids=authors,
                      by_admin=not own, admin_person_id=ctx.person.id if ctx.person and not own else None)
    ctx.reply(texts_vi.undone(n))


async def links_in_command_message(ctx: Context, command: str) -> None:
    """Links typed in a command message: credited as if sent alone, unless they are the command's
    argument (a page to register) or the command is /huy, which says in one line why not."""
    policy = links_in_command(command)
    if policy == LinksInCommand.CREDIT:
        await capture_links(ctx)
    elif policy == LinksInCommand.REFUSE and any(canonicalize(u) for u in message_links(ctx)):
        ctx.reply(texts_vi.LINK_WITH_UNDO_NOT_CREDITED)
