"""Crediting links (SPEC §3.1): once per person and post, quietly, idempotently."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Sequence
from urllib.parse import urlsplit

from bot.domain import texts_vi
from bot.domain.links import canonicalize, classify, extract_links, is_allowed, is_post, page_key
from bot.domain.periods import local_date
from bot.domain.outbound_json import dump_actions
from bot.domain.types import React, SendText, SenderKind
from handlers.commands import LinksInCommand, links_in_command
from handlers.context import CLAIM_LEASE, Claim, Context
from storage.models import PAGE_KEY_MAX
from storage.repositories import CreditOutcome, IngestRepository

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
    await _credit_message(ctx, select_candidates(raw, ctx), ctx.person.home_unit_id)


async def _credit_message(ctx: Context, candidates: Candidates, unit_id: int | None) -> None:
    """Credit one message's candidates to the sender's ``unit_id`` (their home unit as it was
    when the message was registered), then acknowledge."""
    msg = ctx.msg
    if msg.edited:
        await _withdraw_removed(ctx, {canonical for _, canonical in candidates.links})
    # Inserted in a fixed order (by canonical link), so two instances crediting the same person's
    # links in different orders take the index locks in the same order and cannot deadlock.
    page_unit_id = await _page_post_unit(ctx) if candidates.links and marks_page_post(msg.text) else None
    outcomes = [await _credit(ctx, original, canonical, page_unit_id, unit_id)
                for original, canonical in _in_lock_order(candidates)]
    await _acknowledge(ctx, candidates, outcomes, unit_id)


def _in_lock_order(candidates: Candidates) -> list[tuple[str, str]]:
    return sorted(candidates.links, key=lambda pair: pair[1])


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


async def _credit(ctx: Context, original: str, canonical: str, page_unit_id: int | None,
                  unit_id: int | None) -> CreditOutcome:
    assert ctx.person is not None
    outcome = await ctx.uow.submissions.credit(_submission(ctx, original, canonical, page_unit_id, unit_id))
    if outcome.result == "credited":
        row = _credit_audit(ctx, canonical, unit_id)
        ctx.uow.audit.add(row["at"], row["action"], actor=row["actor"], person_id=row["person_id"], chat=row["chat"],
                          unit_id=row["unit_id"], **row["detail"])
    return outcome


def _submission(ctx: Context, original: str, canonical: str, page_unit_id: int | None,
                unit_id: int | None) -> dict:
    person, member = ctx.person, ctx.member
    assert person is not None and member is not None
    msg = ctx.msg
    return dict(
        person_id=person.id,
        member_id=member.id,
        unit_id=unit_id,
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
    )


def _credit_audit(ctx: Context, canonical: str, unit_id: int | None) -> dict:
    """The audit row of one credit, one by one or in a batch alike."""
    assert ctx.person is not None
    return dict(at=ctx.now, action="credit", actor=ctx.actor, person_id=ctx.person.id, chat=ctx.msg.chat.key,
                unit_id=unit_id, detail=dict(message_id=ctx.msg.message_id, url=canonical))


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


async def _acknowledge(ctx: Context, candidates: Candidates, outcomes: list[CreditOutcome],
                       unit_id: int | None) -> None:
    """A 👍 when something was newly credited; words only when something needs explaining."""
    text = _acknowledgement(ctx, candidates, outcomes, unit_id)
    if text:
        # Claimed per message: a redelivered update or a later edit repeats no explanation.
        await ctx.reply_once("explain", text, period=_explain_period(ctx))


def _explain_period(ctx: Context) -> str:
    return f"m{ctx.msg.message_id}"[:64]


def _acknowledgement(ctx: Context, candidates: Candidates, outcomes: list[CreditOutcome],
                     unit_id: int | None) -> str:
    """Queue the 👍 if something was newly credited; return the explanation to claim, if any.
    ``unit_id``: the unit credited, the sender's home unit as it was for this message (a later
    message of the same batch may move it; one by one, this one was answered before that)."""
    lines: list[str] = []
    credited = sum(o.result == "credited" for o in outcomes)
    duplicates = [o for o in outcomes if o.result == "duplicate"]
    if credited:
        ctx.out.append(React(ctx.msg.chat, ctx.msg.message_id, "👍", fallback=texts_vi.ACK_FALLBACK))
        if not ctx.msg.chat.is_group and ctx.person is not None and unit_id is None:
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
    return "\n".join(lines)


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


# --- a batch of plain messages, set-based (SPEC §5) -----------------------------------------------


class BatchNeedsOneByOne(Exception):
    """The batch met a case whose outcome depends on the order of statements: roll it back and
    handle it again with ``one_by_one``."""


async def credit_batch(items: Sequence[tuple[Context, int | None]], *, one_by_one: bool = False) -> None:
    """Credit the links of plain new messages, already registered in order, exactly as one by one
    would (same rows, same outcomes, same replies), in a fixed number of statements.

    ``items``: each message's context and its sender's home unit as it was right after that
    message was registered (a later message of the batch may move it, as it would one by one).
    Only new messages from people, with no command and no #trang, come here.
    """
    uow = items[0][0].uow if items else None
    plan: list[tuple[Context, int | None, Candidates, list[tuple[str, dict]]]] = []
    for ctx, unit_id in items:
        raw = message_links(ctx)
        if not raw:
            continue
        if ctx.msg.chat.is_group and (ctx.group is None or ctx.group.unit_id is None):
            await capture_links(ctx)  # the day's hint; nothing is credited, so order cannot matter
            continue
        candidates = select_candidates(raw, ctx)
        rows = [(canonical, _submission(ctx, original, canonical, None, unit_id))
                for original, canonical in _in_lock_order(candidates)]
        plan.append((ctx, unit_id, candidates, rows))
    if uow is None or not plan:
        return
    ingest = IngestRepository(uow.session)

    def key(values: dict) -> tuple[str, str, str, str]:
        return (values["chat_platform"], values["chat_id"], values["message_id"], values["canonical_url"])

    if one_by_one:
        for ctx, unit_id, candidates, _ in plan:
            await _credit_message(ctx, candidates, unit_id)
        return
    every = [values for *_, rows in plan for _, values in rows]
    inserted = await ingest.insert_submissions(every)
    missed = [key(v) for v in every if key(v) not in inserted]
    # Usually empty: a query only when something was not new (a redelivery or a repeated link).
    recorded = await ingest.same_message_links(missed) if missed else {}
    first: set[tuple] = set()
    outcome_of: list[str] = []
    for values in every:
        k = key(values)
        if k in inserted:
            # The same message twice in one batch: the second is a redelivery of the first.
            result = "redelivered" if k in first else "credited"
        elif k in recorded:
            withdrawn, reason = recorded[k]
            if withdrawn is not None and reason == "edit":
                # A redelivered message whose link an edit took out revives it, unless a later
                # message of this batch took it first: so rare that the batch is done again,
                # message by message.
                raise BatchNeedsOneByOne(k)
            result = "redelivered"
        else:
            result = "duplicate"
        first.add(k)
        outcome_of.append(result)
    wanted = [(v["person_id"], v["canonical_url"]) for v, r in zip(every, outcome_of) if r == "duplicate"]
    since = await ingest.live_credit_times(wanted) if wanted else {}
    audit: list[dict] = []
    explain: list[tuple[Context, str]] = []
    position = 0
    for ctx, unit_id, candidates, rows in plan:
        outcomes: list[CreditOutcome] = []
        for canonical, values in rows:
            result = outcome_of[position]
            position += 1
            if result == "duplicate":
                outcomes.append(CreditOutcome("duplicate", since.get((values["person_id"], canonical))))
            else:
                outcomes.append(CreditOutcome(result))
                if result == "credited":
                    audit.append(_credit_audit(ctx, canonical, unit_id))
        text = _acknowledgement(ctx, candidates, outcomes, unit_id)
        if text:
            explain.append((ctx, text))
    if audit:
        await ingest.add_audit(audit)
    if explain:
        await _explain_many(ingest, explain)


async def _explain_many(ingest: IngestRepository, explain: list[tuple[Context, str]]) -> None:
    """``reply_once("explain", …)`` for many messages: one INSERT claims the new ones; a key it
    did not take (claimed before, or released after a failed send) goes through reply_once."""
    actions = [(ctx, SendText.of(ctx.msg.chat, text, reply_to=ctx.msg.message_id)) for ctx, text in explain]
    claims = [(ctx.msg.chat.platform, ctx.msg.chat.chat_id, "explain", _explain_period(ctx), dump_actions([action]))
              for ctx, action in actions]
    instance = explain[0][0].instance
    taken = await ingest.claim_new(claims, instance, CLAIM_LEASE)
    for (ctx, action), (platform, chat_id, kind, period, _), (_, text) in zip(actions, claims, explain):
        if (platform, chat_id, kind, period) in taken:
            taken.discard((platform, chat_id, kind, period))  # the same message twice: the first speaks
            ctx.out.append(action)
            ctx.claims[id(action)] = Claim(platform, chat_id, kind, period)
        else:
            await ctx.reply_once("explain", text, period=period)
