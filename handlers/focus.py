"""The pages of the week and posts sent up the tree (SPEC §1 the plan's "page of the week", §3.2
/tieudiem, /guilen, /dexuat; §3.3 sends once).

A parent unit (the department, an office) picks the week's focus items for its subtree: pages
(any post of the page counts) or single posts. Every active group below hears ONE announcement
per (group, week, set of items): the announcement is claimed in ``sent_messages`` (kind
``focus``, period = the week and a short hash of the sorted item keys) in the same transaction
that changes the items, so the change and the promise to announce it commit together, and a
fan-out whose instance died is finished by the sweeper from the stored payload. A unit sends a
post up with /guilen (once per unit and post, a unique index), and the parent's admins see the
pending ones, with their children's page posts of the week, numbered, in /dexuat.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import exists, select

from bot.domain import texts_vi
from bot.domain.links import canonicalize, is_post, page_key
from bot.domain.outbound_json import dump_actions
from bot.domain.periods import local_date, week_of
from bot.domain.types import ChatKind, ChatRef, Period, SendText
from handlers.commands import fold
from handlers.context import CLAIM_LEASE, Claim, Context
from handlers.scope import is_admin_of, record_chat_admin, resolve_unit
from storage.focus import Candidate, FocusEntry, FocusRepository, Target
from storage.models import PAGE_KEY_MAX, Unit

logger = logging.getLogger(__name__)

FOCUS_KIND = "focus"  # sent_messages.kind of the announcement
NOMINATION_KIND = "nomination"  # sent_messages.kind of a /guilen notice in a parent's group
# The plan asks for 1–2 school pages and one office page a week; ten leaves room for a few posts
# and keeps the announcement one short message.
MAX_ITEMS = 10
# Platforms whose bots cannot sit in groups (Zalo today): their people hear the announcement in
# their private chat with the bot instead (SPEC §3.6), at that platform's own pace.
DM_PLATFORMS = ("zalo",)
# How many candidates /dexuat prints (more can still be picked by number).
SHOWN_CANDIDATES = 40
CONSOLE = "console"

ADD_WORDS = ("them", "add")
REMOVE_WORDS = ("xoa", "remove", "del")
VIEW_WORDS = ("xem", "view", "list")
ALL_WORDS = ("tatca", "all")


def set_period(week: str, item_keys: list[str]) -> str:
    """``2026-W48#1a2b3c4d``: the claim period of one announcement. A changed set has another
    hash, so it is announced again; the same set (re-typed, or back after a removal) is not."""
    digest = hashlib.sha256("\n".join(sorted(item_keys)).encode()).hexdigest()[:8]
    return f"{week}#{digest}"


@dataclass(frozen=True)
class _Parsed:
    entries: list[FocusEntry]
    promoted_posts: list[str]


async def _unit_and_admin(ctx: Context, args: tuple[str, ...]) -> tuple[Unit | None, tuple[str, ...]]:
    await record_chat_admin(ctx)
    return await resolve_unit(ctx, args)


async def _unit_as_admin(ctx: Context, args: tuple[str, ...]) -> tuple[Unit | None, tuple[str, ...]]:
    """The unit a command names, when the sender administers it; None after saying why not."""
    unit, rest = await _unit_and_admin(ctx, args)
    if unit is not None and not await is_admin_of(ctx, unit):
        ctx.reply(texts_vi.ADMINS_ONLY)
        return None, rest
    return unit, rest


async def _has_children(ctx: Context, unit: Unit) -> bool:
    return bool((await ctx.uow.session.execute(select(exists().where(Unit.parent_id == unit.id)))).scalar())


def _week(ctx: Context) -> Period:
    return week_of(ctx.now, ctx.tz)


def _label(week: Period) -> str:
    return texts_vi.period_label(week.kind.value, week.key, week.first_day, week.last_day)


# ---------------------------------------------------------------------------------------------
# /tieudiem


async def cmd_tieudiem(ctx: Context, args: tuple[str, ...]) -> None:
    """/tieudiem <url>… (replace), them|xoa <url|số>…, xem (or nothing): the week's focus items."""
    unit, rest = await _unit_and_admin(ctx, args)
    if unit is None:
        return
    action = fold(rest[0]) if rest else "xem"
    if action in VIEW_WORDS:
        if len(rest) > 1:
            ctx.reply(texts_vi.FOCUS_USAGE)
            return
        await _show(ctx, unit)
        return
    if not await is_admin_of(ctx, unit):
        ctx.reply(texts_vi.ADMINS_ONLY)
        return
    if not await _has_children(ctx, unit):
        ctx.reply(texts_vi.FOCUS_PARENT_ONLY)
        return
    repo = FocusRepository(ctx.uow.session)
    week = _week(ctx)
    if action in ADD_WORDS + REMOVE_WORDS:
        tokens = rest[1:]
        if not tokens:
            ctx.reply(texts_vi.FOCUS_USAGE)
            return
    else:
        tokens = rest
    if action in REMOVE_WORDS:
        await _remove(ctx, repo, unit, week, tokens)
        return
    parsed = await _parse_items(ctx, unit, week, tokens)
    if parsed is None:
        return
    if action in ADD_WORDS:
        current = await repo.own_items(unit.id, week.key)
        keys = {e.item_key for e in current}
        if len(keys | {e.item_key for e in parsed.entries}) > MAX_ITEMS:
            ctx.reply(texts_vi.focus_too_many(MAX_ITEMS))
            return
    else:  # the whole list is replaced
        await repo.remove(unit.id, week.key, None)
    for entry in parsed.entries:
        await repo.add(unit.id, week.key, entry, ctx.person.id if ctx.person else None, ctx.now)
    await repo.promote(unit, parsed.promoted_posts, ctx.now)
    items = await repo.own_items(unit.id, week.key)
    ctx.uow.audit.add(ctx.now, "focus_add" if action in ADD_WORDS else "focus_set", actor=ctx.actor,
                      chat=ctx.msg.chat.key, unit_id=unit.id, week=week.key,
                      items=[e.item_key for e in parsed.entries])
    await _announce(ctx, repo, unit, week, items)


async def _show(ctx: Context, unit: Unit) -> None:
    week = _week(ctx)
    blocks = await FocusRepository(ctx.uow.session).applicable(unit, week.key)
    ctx.reply(texts_vi.focus_list(unit.name, _label(week),
                                  [(setter.name, [(e.kind, e.url) for e in entries]) for setter, entries in blocks]))


async def _remove(ctx: Context, repo: FocusRepository, unit: Unit, week: Period, tokens: tuple[str, ...]) -> None:
    if len(tokens) == 1 and fold(tokens[0]) in ALL_WORDS:
        keys = None
    else:
        parsed = await _parse_items(ctx, unit, week, tokens)
        if parsed is None:
            return
        keys = [e.item_key for e in parsed.entries]
    removed = await repo.remove(unit.id, week.key, keys)
    if not removed and keys is not None:
        ctx.reply(texts_vi.focus_not_there(tokens[0][:200]))
        return
    ctx.uow.audit.add(ctx.now, "focus_remove", actor=ctx.actor, chat=ctx.msg.chat.key, unit_id=unit.id,
                      week=week.key, items=keys or "all")
    items = await repo.own_items(unit.id, week.key)
    if not items:
        ctx.reply(texts_vi.focus_cleared(unit.name))
        return
    await _announce(ctx, repo, unit, week, items)


async def _parse_items(ctx: Context, unit: Unit, week: Period, tokens: tuple[str, ...]) -> _Parsed | None:
    """Each token a page URL, a post URL or a number from /dexuat; None after one line saying
    which token is wrong. Duplicates are dropped, the order kept."""
    entries: list[FocusEntry] = []
    promoted: list[str] = []
    candidates: list[Candidate] | None = None
    for token in tokens:
        if token.isdigit():
            if candidates is None:
                candidates = await FocusRepository(ctx.uow.session).candidates(unit, week.start, week.end)
            n = int(token)
            if not 1 <= n <= len(candidates):
                ctx.reply(texts_vi.focus_bad_number(token[:8], len(candidates)))
                return None
            entry = FocusEntry("post", candidates[n - 1].url, candidates[n - 1].url)
        else:
            entry = item_of(token)
            if entry is None:
                ctx.reply(texts_vi.focus_bad_item(token[:200]))
                return None
        if all(e.item_key != entry.item_key for e in entries):
            entries.append(entry)
            if entry.kind == "post":
                promoted.append(entry.item_key)
    if len(entries) > MAX_ITEMS:
        ctx.reply(texts_vi.focus_too_many(MAX_ITEMS))
        return None
    return _Parsed(entries, promoted)


def item_of(url: str) -> FocusEntry | None:
    """A post link is a single post (matched by its canonical URL, share links included); a page
    link is a page (matched by page key: any post of it). Anything else is refused."""
    canonical = canonicalize(url)
    if canonical is None:
        return None
    if is_post(canonical):
        return FocusEntry("post", canonical, canonical)
    key = page_key(url) or page_key(canonical)
    if key is None or len(key) > PAGE_KEY_MAX:
        return None  # a group, an invite, a bare site: nothing a share could be matched to
    return FocusEntry("page", key, canonical)


async def _announce(ctx: Context, repo: FocusRepository, unit: Unit, week: Period, items: list[FocusEntry]) -> None:
    """One announcement per target of the subtree, claimed now (committed with the change), and
    one line for the asker."""
    text = texts_vi.focus_announcement(unit.name, _label(week), [(e.kind, e.url) for e in items])
    targets = sendable(ctx, await repo.subtree_targets(unit, DM_PLATFORMS))
    period = set_period(week.key, [e.item_key for e in items])
    groups = people = already = 0
    for target in targets:
        if await fan_out_one(ctx, target, FOCUS_KIND, period, text):
            groups += target.group
            people += not target.group
        else:
            already += 1
    ctx.reply(texts_vi.focus_saved(len(items), unit.name, groups, people, already))


def sendable(ctx: Context, targets: list[Target]) -> list[Target]:
    """The console on a live database never messages real chats, and no real instance sweeps
    the console's simulated ones: each reaches only its own."""
    here = ctx.msg.chat.platform
    return [t for t in targets if t.platform == here or CONSOLE not in (t.platform, here)]


async def fan_out_one(ctx: Context, target: Target, kind: str, period: str, text: str) -> bool:
    """Claim one send to ``target`` (False: it was claimed before) and queue it after the commit.

    A chat on this message's platform leaves through this instance's outbox. A chat on another
    platform is claimed with a lease that has already run out, so the sweeper of an instance
    running that platform (every minute) sends the stored payload: a handler's replies leave
    only through its own platform's outbox."""
    here = target.platform == ctx.msg.chat.platform
    chat = ChatRef(target.platform, target.chat_id, ChatKind.GROUP if target.group else ChatKind.PRIVATE,
                   target.title)
    action = SendText.of(chat, text)
    if not await ctx.uow.sent.claim(target.platform, target.chat_id, kind, period, ctx.instance,
                                    CLAIM_LEASE if here else timedelta(0), payload=dump_actions([action])):
        return False
    if here:
        ctx.out.append(action)
        ctx.claims[id(action)] = Claim(target.platform, target.chat_id, kind, period)
    return True


# ---------------------------------------------------------------------------------------------
# /guilen


async def cmd_guilen(ctx: Context, args: tuple[str, ...]) -> None:
    """/guilen <url>: the unit sends a post up to its parent, once per unit and post."""
    unit, rest = await _unit_as_admin(ctx, args)
    if unit is None:
        return
    if unit.parent_id is None:
        ctx.reply(texts_vi.GUILEN_NO_PARENT)
        return
    if len(rest) != 1:
        ctx.reply(texts_vi.GUILEN_USAGE)
        return
    canonical = canonicalize(rest[0])
    if canonical is None or not is_post(canonical):
        ctx.reply(texts_vi.GUILEN_NEEDS_POST)
        return
    parent = await ctx.uow.units.get(unit.parent_id)
    repo = FocusRepository(ctx.uow.session)
    nomination, new = await repo.nominate(unit, canonical, rest[0][:2048], ctx.person.id if ctx.person else None,
                                          ctx.now)
    if not new:
        ctx.reply(texts_vi.nominated_before(parent.name, local_date(nomination.created_at, ctx.tz),
                                            nomination.status == "promoted"))
        return
    ctx.uow.audit.add(ctx.now, "nominate", actor=ctx.actor, chat=ctx.msg.chat.key, unit_id=unit.id,
                      parent_id=parent.id, url=canonical)
    text = texts_vi.nomination_notice(unit.name, canonical)
    reached = 0
    for target in sendable(ctx, await repo.unit_groups(parent.id)):
        reached += await fan_out_one(ctx, target, NOMINATION_KIND, f"n{nomination.id}", text)
    ctx.reply(texts_vi.nominated(parent.name, reached))


# ---------------------------------------------------------------------------------------------
# /dexuat


async def cmd_dexuat(ctx: Context, args: tuple[str, ...]) -> None:
    """/dexuat: the children's pending nominations and page posts of the week, numbered."""
    unit, rest = await _unit_as_admin(ctx, args)
    if unit is None:
        return
    if not await _has_children(ctx, unit):
        ctx.reply(texts_vi.DEXUAT_NO_CHILDREN)
        return
    week = _week(ctx)
    repo = FocusRepository(ctx.uow.session)
    candidates = await repo.candidates(unit, week.start, week.end)
    focused = {e.item_key for e in await repo.own_items(unit.id, week.key)}
    rows = [(i, c.kind, c.unit_name, c.url, c.url in focused or not c.pending)
            for i, c in enumerate(candidates[:SHOWN_CANDIDATES], start=1)]
    ctx.reply(texts_vi.candidates_list(unit.name, _label(week), rows, max(0, len(candidates) - SHOWN_CANDIDATES)))
