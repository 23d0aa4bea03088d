"""Binding groups and people to units: /dangky (SPEC §3.2, §3.6), and keeping admin codes secret."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from datetime import timedelta

from sqlalchemy import select

from bot.domain import texts_vi
from bot.domain.links import extract_links
from bot.domain.types import DeleteMessage, SenderKind
from bot.domain.unit_tree import CODE_ALPHABET, JOIN_CODE_LENGTH, normalize_code_input
from handlers.commands import fold
from handlers.context import Context
from handlers.members import refresh_group_members
from storage.models import Unit, UnitPage

logger = logging.getLogger(__name__)

# A bound group changes unit or mode only when the same /dangky comes again within this window
# (SPEC §3.2). The pending request is an audit row ("bind_pending"): it is durable, shared by
# every instance, and already records who asked what, where and when.
REBIND_WINDOW = timedelta(minutes=10)

# The one extra word /dangky takes in a group, however it is typed ("cộng đồng" as two words is
# refused: it is also how "cong dongg" or a second code would look).
_COMMUNITY_WORDS = frozenset({"congdong", "community"})
_WORD_NOISE = re.compile(r"[\-\u2010-\u2015\u2212_.,;:!?…]")

# Admin codes in group messages: words are runs of letters and digits; a code may be typed
# across several of them ("abcd 2345", "ABCD-2345"). Chunks holding "/" are links or commands.
_WORD = re.compile(r"[^\W_]+")
_ALPHABET = frozenset(CODE_ALPHABET)
_SCAN_CHARS = 4096
_MAX_CANDIDATES = 200


def is_community_word(word: str) -> bool:
    return _WORD_NOISE.sub("", fold(word)) in _COMMUNITY_WORDS


def admin_code_candidates(text: str) -> set[str]:
    """Every code-shaped run of words in ``text``, as normalize_code_input would store it."""
    text = unicodedata.normalize("NFKC", (text or "")[:_SCAN_CHARS])
    words = [w.upper() for chunk in text.split() if "/" not in chunk for w in _WORD.findall(chunk)]
    found: set[str] = set()
    for i in range(len(words)):
        joined = ""
        for word in words[i:]:
            if not _ALPHABET.issuperset(word):
                break  # a word no code contains (Vietnamese letters, O, I, L, 0, 1) ends the run
            joined += word
            if len(joined) >= JOIN_CODE_LENGTH:
                if len(joined) == JOIN_CODE_LENGTH:
                    found.add(joined)
                break
        if len(found) >= _MAX_CANDIDATES:
            break
    return found


def _actor(ctx: Context) -> str:
    # An anonymous admin posts as the group itself: the group is who acted.
    return ctx.actor or ctx.msg.chat.key


async def withhold_admin_code(ctx: Context) -> bool:
    """A group message carrying an admin code is taken down and warned about, and nothing in it
    is used (not the code, not its command, not its links). True when that happened."""
    candidates = admin_code_candidates(ctx.msg.text)
    if not candidates:
        return False
    unit = await ctx.uow.units.any_by_admin_code(candidates)
    if unit is None:
        return False
    logger.warning("an admin code of %s was posted in %s; the message is withheld", unit.code, ctx.msg.chat.key)
    ctx.out.append(DeleteMessage(ctx.msg.chat, ctx.msg.message_id))
    ctx.reply(texts_vi.ADMIN_CODE_IN_GROUP, quote=False)
    ctx.uow.audit.add(ctx.now, "admin_code_in_group", actor=_actor(ctx), chat=ctx.msg.chat.key, unit_id=unit.id,
                      message_id=ctx.msg.message_id)
    return True


async def cmd_dangky(ctx: Context, args: tuple[str, ...]) -> None:
    """In a group: an admin binds it to the unit of a join code. Privately: the join code sets
    the person's home unit, the admin code makes them an admin of that unit."""
    if ctx.msg.chat.is_group:
        await _bind_group(ctx, args)
    else:
        await _register_person(ctx, args)


async def _unit_of_code(ctx: Context, words: list[str], by_code) -> tuple[Unit | None, list[str]]:
    """The unit the words name, and the words left over. A code typed in pieces ("ABCD 2345")
    is one code; otherwise the first word is the code and the rest are extra."""
    unit = await by_code(normalize_code_input("".join(words)))
    if unit is not None or len(words) < 2:
        return unit, []
    return await by_code(normalize_code_input(words[0])), words[1:]


def _without_links(ctx: Context, args: tuple[str, ...]) -> list[str]:
    """The arguments but the links: a link typed with /dangky is credited, not read as a word."""
    marked = set(ctx.msg.links or ())
    return [a for a in args if a not in marked and not extract_links(a)]


async def _bind_group(ctx: Context, args: tuple[str, ...]) -> None:
    words = _without_links(ctx, args)
    if not words:
        ctx.reply(texts_vi.REGISTER_USAGE)
        return
    community = len(words) > 1 and is_community_word(words[-1])
    if community:
        words.pop()
    unit, extra = await _unit_of_code(ctx, words, ctx.uow.units.by_join_code)
    # The group's own admins (an anonymous admin is one: only admins may post as the group), or
    # an admin by code of the unit being bound (or above it).
    anonymous_admin = ctx.msg.sender_kind is SenderKind.ANONYMOUS_ADMIN
    if not (anonymous_admin or await ctx.is_admin() or (unit is not None and await ctx.administers(unit))):
        ctx.reply(texts_vi.GROUP_ADMINS_ONLY)
        return
    if unit is None:
        ctx.reply(texts_vi.unknown_code(words[0][:32]))
        return
    if extra:
        ctx.reply(texts_vi.register_extra_words(" ".join(extra)[:64], in_group=True))
        return
    group = ctx.group
    assert group is not None
    if group.unit_id == unit.id and group.community == community:
        ctx.reply(texts_vi.group_already_bound(unit.name, unit.code))
        return
    old = await ctx.uow.units.get(group.unit_id) if group.unit_id is not None else None
    old_community = group.community
    if old is not None and not await _rebind_confirmed(ctx, unit, community):
        ctx.reply(texts_vi.rebind_pending(old.name, old.code, unit.name, unit.code, old_community=old_community,
                                          community=community, minutes=int(REBIND_WINDOW.total_seconds() // 60)))
        return
    group.unit_id, group.community, group.bound_at, group.active = unit.id, community, ctx.now, True
    await ctx.uow.session.flush()
    await refresh_group_members(ctx.uow, group)
    ctx.uow.audit.add(ctx.now, "bind_group", actor=_actor(ctx), chat=ctx.msg.chat.key, unit_id=unit.id,
                      community=community, previous=old.code if old else None,
                      previous_community=old_community if old else None)
    if old is not None:
        text = texts_vi.group_rebound(old.name, unit.name, unit.code, old_community=old_community,
                                      community=community)
    else:
        text = texts_vi.group_bound(unit.name, unit.code, community)
    ctx.reply(text + await _pages_to_follow(ctx, unit))


async def _pages_to_follow(ctx: Context, unit: Unit) -> str:
    """The registered pages of the unit, its parent and the root, to like and follow (SPEC §3.2:
    a successful /dangky names them; nothing is counted for following them)."""
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    wanted = list(dict.fromkeys([unit.id, *ids[-2:-1], *ids[:1]]))
    stmt = (select(Unit.id, Unit.name, UnitPage.url).join(UnitPage, UnitPage.unit_id == Unit.id)
            .where(Unit.id.in_(wanted)).order_by(Unit.depth.desc(), UnitPage.id))
    rows = (await ctx.uow.session.execute(stmt)).all()
    if not rows:
        return ""
    return "\n" + texts_vi.pages_to_follow([(name, url) for _, name, url in rows])


async def _rebind_confirmed(ctx: Context, unit: Unit, community: bool) -> bool:
    """Whether this /dangky repeats one asked in this chat within the window (and since the
    group's last binding); if not, it becomes the pending one."""
    group = ctx.group
    assert group is not None
    since = ctx.now - REBIND_WINDOW
    if group.bound_at is not None and group.bound_at > since:
        since = group.bound_at  # a request older than the last change asked about another state
    pending = await ctx.uow.audit.latest("bind_pending", ctx.msg.chat.key, since)
    detail = json.loads(pending.detail or "{}") if pending is not None else {}
    same = pending is not None and pending.unit_id == unit.id and detail.get("community") == community
    if same and detail.get("message_id") != ctx.msg.message_id:
        return True
    if not same:  # a redelivered first request is not its own confirmation, nor a new request
        ctx.uow.audit.add(ctx.now, "bind_pending", actor=_actor(ctx), chat=ctx.msg.chat.key, unit_id=unit.id,
                          community=community, message_id=ctx.msg.message_id,
                          previous=group.unit_id, previous_community=group.community)
    return False


async def _register_person(ctx: Context, args: tuple[str, ...]) -> None:
    words = _without_links(ctx, args)
    if not words:
        ctx.reply(texts_vi.REGISTER_USAGE_PRIVATE)
        return
    if ctx.person is None:
        return
    unit, extra = await _unit_of_code(ctx, words, ctx.uow.units.by_join_code)
    if unit is not None and not extra:
        ctx.person.home_unit_id = unit.id
        ctx.person.home_unit_explicit = True
        ctx.uow.audit.add(ctx.now, "set_home_unit", actor=ctx.actor, person_id=ctx.person.id,
                          chat=ctx.msg.chat.key, unit_id=unit.id)
        ctx.reply(texts_vi.home_unit_set(unit.name) + await _pages_to_follow(ctx, unit))
        return
    if unit is None:
        unit, extra = await _unit_of_code(ctx, words, ctx.uow.units.by_admin_code)
        if unit is not None and not extra:
            if await ctx.uow.members.add_role(ctx.person.id, unit.id, "admin", ctx.now):
                ctx.uow.audit.add(ctx.now, "grant_admin", actor=ctx.actor, person_id=ctx.person.id,
                                  chat=ctx.msg.chat.key, unit_id=unit.id)
                ctx.reply(texts_vi.unit_admin_granted(unit.name))
            else:
                ctx.reply(texts_vi.unit_admin_already(unit.name))
            return
    if unit is not None:
        ctx.reply(texts_vi.register_extra_words(" ".join(extra)[:64], in_group=False))
        return
    logger.info("wrong registration code from %s", ctx.actor)
    ctx.reply(texts_vi.unknown_code(words[0][:32]))
