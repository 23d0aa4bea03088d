"""Batches (issue 15): events handled together in one transaction give exactly what handling them
one by one gives — the same rows, the same audit, the same claims, the same replies per chat.

The property test replays one random history twice in the same database, under two platform
names: once event by event (``Dispatcher.handle``), once in random batches
(``Dispatcher.handle_batch``), then compares everything each platform left behind.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
from sqlalchemy import text

import handlers.links as links_mod
from bot.domain.types import (
    ChatKind,
    ChatRef,
    IncomingMessage,
    MemberLeft,
    MembersJoined,
    React,
    ReplyTarget,
    SenderKind,
    SendText,
    UserRef,
)
from handlers.dispatch import DatabaseUnavailable
from tests.conftest import T0, FakeMessenger

POSTS = [
    "https://www.facebook.com/thcskimboi/posts/1001",
    "https://m.facebook.com/thcskimboi/posts/1001?mibextid=abc",  # the same post as the first
    "https://www.facebook.com/thcskimboi/posts/1002",
    "https://youtu.be/dQw4w9WgXcQ",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ&si=x",  # the same video
    "https://www.tiktok.com/@truong/video/7300000000000000001",
    "https://vnexpress.net/giao-duc-hom-nay-4800001.html",
    "https://www.facebook.com/share/p/1AbCdEfGh/",
]
NOT_A_POST = "https://www.facebook.com/thcskimboi"
PEOPLE = ["lan", "binh", "chi", "dung", "hoa", "lan2"]
ADMIN = "lan"  # an administrator of group g1
SECOND_ACCOUNT = ("lan2", "lan")  # lan2 is a second account of lan's (one person, two accounts)


@dataclass
class History:
    """Abstract events; ``materialise`` puts them on a platform."""

    steps: list[tuple] = field(default_factory=list)


def random_history(seed: int, length: int = 70) -> History:
    rng = random.Random(seed)
    history = History()
    sent: list[tuple[str, str, str]] = []  # (chat, message id, sender) of plain messages so far
    newcomers = 0
    for i in range(length):
        minutes = i * rng.choice([1, 1, 2, 30, 400])  # now and then past midnight: a new day's hint
        roll = rng.random()
        chat = rng.choice(["g1", "g1", "g2", "g3", "private"])
        who = rng.choice(PEOPLE)
        if rng.random() < 0.05:
            who += "|renamed"  # the same account under a new display name
        fresh = rng.random() < 0.08  # someone never seen before, now and then twice in a row
        if (roll < 0.45 or not sent) and fresh:
            newcomers += 1
            who = f"new{newcomers}"
            for again in range(rng.choice([1, 1, 2, 3])):
                where, mid = rng.choice(["g1", "g2", chat]), f"{100 + i}.{again}"
                later = minutes + again * rng.choice([0, 90])  # past the seen-times' resolution
                history.steps.append(("msg", where, who, mid, "Em mới vào " + rng.choice(POSTS), later))
                sent.append((where, mid, who))
        elif roll < 0.45 or not sent:
            links = rng.sample(POSTS, rng.choice([1, 1, 1, 2, 3]))
            if rng.random() < 0.1:
                links.append(NOT_A_POST)
            if rng.random() < 0.03:
                links = [f"https://www.facebook.com/thcskimboi/posts/{2000 + k}" for k in range(12)]
            words = "#trang " if rng.random() < 0.08 else ""
            mid = str(100 + i)
            history.steps.append(("msg", chat, who, mid, words + "Em chia sẻ " + " ".join(links), minutes))
            sent.append((chat, mid, who))
        elif roll < 0.55:
            history.steps.append(("again", rng.randrange(len(history.steps)), minutes))  # redelivery
        elif roll < 0.65:
            c, mid, author = rng.choice(sent)
            links = rng.sample(POSTS, rng.choice([0, 1, 2]))
            history.steps.append(("edit", c, author, mid, "sửa " + " ".join(links), minutes))
        elif roll < 0.72:
            c, mid, author = rng.choice(sent)
            undoer = author if rng.random() < 0.6 else rng.choice(PEOPLE)
            history.steps.append(("huy", c, undoer, str(100 + i), mid, author, minutes))
        elif roll < 0.76:
            history.steps.append(("msg", chat, who, str(100 + i), "/toi", minutes))
        elif roll < 0.82:
            newcomers += 1
            history.steps.append(("join", rng.choice(["g1", "g2"]), f"new{newcomers}", minutes))
        elif roll < 0.85:
            history.steps.append(("left", rng.choice(["g1", "g2"]), rng.choice(PEOPLE), minutes))
        elif roll < 0.9:
            history.steps.append(("channel", rng.choice(["g1", "g2"]), str(100 + i), rng.choice(POSTS), minutes))
        elif roll < 0.95:
            history.steps.append(("msg", chat, f"new{newcomers}" if newcomers else who, str(100 + i),
                                  "Chào cả nhà " + rng.choice(POSTS), minutes))
        else:
            history.steps.append(("msg", chat, who, str(100 + i), "Chào buổi sáng ạ", minutes))
    return history


def materialise(history: History, platform: str) -> list:
    def user(name: str) -> UserRef:
        uid, _, renamed = name.partition("|")
        return UserRef(platform, uid, f"Cô {uid.title()}" + (" Anh" if renamed else ""))

    def chat_of(name: str, who: str) -> ChatRef:
        if name == "private":
            return ChatRef(platform, who.partition("|")[0], ChatKind.PRIVATE)
        return ChatRef(platform, name, ChatKind.GROUP, title=f"Nhóm {name}")

    events: list = []
    for step in history.steps:
        kind = step[0]
        if kind == "again":
            events.append(events[step[1]])
            continue
        at = T0 + timedelta(minutes=step[-1])
        if kind in ("msg", "edit"):
            _, chat, who, mid, body, _ = step
            events.append(IncomingMessage(chat=chat_of(chat, who), message_id=mid, sender=user(who), date=at,
                                          text=body, edited=kind == "edit"))
        elif kind == "huy":
            _, chat, who, mid, target, author, _ = step
            events.append(IncomingMessage(chat=chat_of(chat, who), message_id=mid, sender=user(who), date=at,
                                          text="/huy", reply_to=ReplyTarget(target, user(author))))
        elif kind == "join":
            events.append(MembersJoined(chat_of(step[1], ""), (user(step[2]),), at))
        elif kind == "left":
            events.append(MemberLeft(chat_of(step[1], ""), user(step[2]), at))
        elif kind == "channel":
            _, chat, mid, link, _ = step
            events.append(IncomingMessage(chat=chat_of(chat, ""), message_id=mid, sender=None, date=at,
                                          text=f"Kênh: {link}", sender_kind=SenderKind.CHANNEL))
    return events


async def rows(harness, sql: str, **params) -> list[tuple]:
    async with harness.storage.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]


async def snapshot(harness, platform: str) -> dict:
    """Everything one platform left, with database ids replaced by what they stand for."""
    person = dict(await rows(harness, "select person_id, min(user_id) from members where platform = :p "
                                      "group by person_id", p=platform))

    def norm(value):
        return json.loads(json.dumps(value).replace(f'"{platform}', '"P'))

    def detail(raw):
        data = json.loads(raw) if raw else None
        if isinstance(data, dict):
            for key in ("author_person_ids",):
                if key in data:
                    data[key] = [person.get(v) for v in data[key]]
            if data.get("admin_person_id") is not None:
                data["admin_person_id"] = person.get(data["admin_person_id"])
        return norm(data)

    subs = await rows(harness, "select s.person_id, s.unit_id, g.chat_id, s.chat_id, s.message_id, s.original_url, "
                               "s.canonical_url, s.link_platform, s.page_key, s.is_page_post, s.page_unit_id, s.created_at, "
                               "s.withdrawn_at, s.withdrawn_reason from submissions s left join groups g on g.id = s.group_id "
                               "where s.chat_platform = :p order by s.id", p=platform)
    audit = await rows(harness, "select at, action, actor, person_id, chat, unit_id, detail from audit_log "
                                "where chat like :c or actor like :c order by id", c=f"{platform}:%")
    return dict(
        submissions=[(person.get(r[0]),) + r[1:] for r in subs],
        audit=[(r[0], r[1], norm(r[2]), person.get(r[3]), norm(r[4]), r[5], detail(r[6])) for r in audit],
        claims=[r[:3] + (r[3], norm(json.loads(r[4])) if r[4] else None) for r in await rows(
            harness, "select chat_id, kind, period, status, payload from sent_messages where chat_platform = :p "
                     "order by chat_id, kind, period", p=platform)],
        members=await rows(harness, "select m.user_id, m.display_name, m.username, m.active, m.private_chat_id, "
                                    "m.unreachable, m.created_at, m.last_seen_at, p.home_unit_id, "
                                    "p.home_unit_explicit, p.party_member, p.created_at from members m "
                                    "join persons p on p.id = m.person_id "
                                    "where m.platform = :p order by m.user_id", p=platform),
        memberships=await rows(harness, "select g.chat_id, m.user_id, gm.active, gm.first_seen_at, gm.last_seen_at from "
                                        "group_memberships gm join groups g on g.id = gm.group_id join members m on "
                                        "m.id = gm.member_id where g.platform = :p order by 1, 2", p=platform),
        groups=await rows(harness, "select chat_id, unit_id, active, title from groups where platform = :p "
                                   "order by chat_id", p=platform),
    )


def transcript_by_chat(messenger: FakeMessenger) -> dict[str, list]:
    by_chat: dict[str, list] = {}
    for action in messenger.transcript:
        if isinstance(action, React):
            shown = ("react", action.message_id, action.emoji)
        elif isinstance(action, SendText):
            shown = ("text", action.reply_to, action.plain)
        else:
            shown = (type(action).__name__, getattr(action, "message_id", None))
        by_chat.setdefault(action.chat.chat_id, []).append(shown)
    return by_chat


async def one_by_one(harness, events) -> None:
    """The reference: each event alone, every message through the per-message path."""
    harness.dispatcher.set_based = False
    try:
        for event in events:
            await harness.dispatcher.handle(event)
    finally:
        harness.dispatcher.set_based = True


async def two_platforms(harness):
    """Platforms "one" and "two" on the same dispatcher and database, set up alike."""
    messengers = {}
    for platform in ("one", "two"):
        messenger = FakeMessenger(platform=platform)
        messenger.admins["g1"] = {ADMIN}
        harness.dispatcher.attach(messenger, inline=True)
        messengers[platform] = messenger
        for chat, unit in (("g1", "THCS-KIMBOI"), ("g2", "PGD-KIMBOI")):
            assert await harness.dispatcher.bind_group(ChatRef(platform, chat, ChatKind.GROUP, title=f"Nhóm {chat}"),
                                                       unit, T0)
        # Two accounts of one person, as /lienket leaves them, before either has written.
        second, first = SECOND_ACCOUNT
        async with harness.storage.uow() as uow:
            one, _ = await uow.members.ensure(UserRef(platform, first, f"Cô {first.title()}"), T0)
            other, _ = await uow.members.ensure(UserRef(platform, second, f"Cô {second.title()}"), T0)
            orphan, other.person_id = other.person_id, one.person_id
            await uow.session.flush()
            await uow.session.execute(text("delete from persons where id = :id"), dict(id=orphan))
    return messengers


def random_batches(rng: random.Random, events: list) -> list[list]:
    batches, i = [], 0
    while i < len(events):
        size = rng.choice([1, 2, 3, 5, 8, 13, 30])
        batches.append(events[i:i + size])
        i += size
    return batches


async def assert_same(harness, messengers) -> None:
    one, two = await snapshot(harness, "one"), await snapshot(harness, "two")
    for part in one:
        assert one[part] == two[part], part
    assert transcript_by_chat(messengers["one"]) == transcript_by_chat(messengers["two"])


@pytest.mark.parametrize("seed", range(8))
async def test_random_batches_give_exactly_what_one_by_one_gives(harness, seed):
    history = random_history(seed)
    messengers = await two_platforms(harness)
    await one_by_one(harness, materialise(history, "one"))
    for batch in random_batches(random.Random(seed), materialise(history, "two")):
        await harness.dispatcher.handle_batch(batch)
    one = await snapshot(harness, "one")
    assert one["submissions"] and one["audit"]  # the history did credit and withdraw things
    await assert_same(harness, messengers)


async def test_one_batch_of_everything_gives_what_one_by_one_gives(harness):
    history = random_history(99, length=120)
    messengers = await two_platforms(harness)
    await one_by_one(harness, materialise(history, "one"))
    await harness.dispatcher.handle_batch(materialise(history, "two"))
    await assert_same(harness, messengers)


def plain(platform: str, chat: str, who: str, mid: str, body: str, minutes: int = 0) -> IncomingMessage:
    return IncomingMessage(chat=ChatRef(platform, chat, ChatKind.GROUP, title=f"Nhóm {chat}"), message_id=mid,
                           sender=UserRef(platform, who, f"Cô {who}"), date=T0 + timedelta(minutes=minutes),
                           text=body)


async def test_a_batch_of_plain_messages_costs_a_fixed_number_of_statements(harness):
    """The hot path: the statements of a batch do not grow with the number of messages in it."""
    await two_platforms(harness)
    # Everyone has written once: the steady state is known people in known groups.
    await harness.dispatcher.handle_batch([plain("one", "g1", f"t{k}", f"w{k}", f"xin chào {k}") for k in range(60)])
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()[:3]).upper())

    from sqlalchemy import event

    sync_engine = harness.storage.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        small = [plain("one", "g1", f"t{k}", f"a{k}", f"bài https://www.facebook.com/thcskimboi/posts/{5000 + k}")
                 for k in range(3)]
        await harness.dispatcher.handle_batch(small)
        few = len(statements)
        statements.clear()
        large = [plain("one", "g1", f"t{k}", f"b{k}", f"bài https://www.facebook.com/thcskimboi/posts/{6000 + k} "
                       f"và https://youtu.be/v{k:010d}") for k in range(60)]
        await harness.dispatcher.handle_batch(large)
        many = len(statements)
        counts = []
        for size in (2, 30):  # people never seen before, one of them twice, in two groups
            statements.clear()
            newcomers = [plain("one", f"g{1 + k % 2}", f"n{size}-{k}", f"n{size}-{k}",
                               f"bài https://youtu.be/n{size:04d}{k:05d}") for k in range(size)]
            await harness.dispatcher.handle_batch(newcomers + [replace(newcomers[0], message_id=f"again{size}")])
            # (the explanation's settle after the commit is the outbox's, not the batch's)
            counts.append([st for st in statements if not st.startswith("UPDATE SENT_MESSAGES")])
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)
    # groups, members with their persons, memberships; the submissions; the audit rows; the view
    # stamp (cached views learn that links arrived; COMMIT is not a cursor statement)
    assert few == many == 6, statements
    # Newcomers (one of them twice, the second time a repeat to explain): the groups and accounts
    # (no membership to read), their persons, accounts and memberships in three multi-row
    # INSERTs, the submissions, the repeat's two SELECTs, the audit rows, the explanation's claim,
    # the view stamp.
    assert counts[0] == counts[1] and len(counts[0]) == 11, " | ".join(map(str, counts))
    assert await harness.scalar("select count(*) from submissions where chat_platform = 'one'") == 3 + 120 + 32
    assert await harness.scalar("select count(*) from audit_log where action = 'credit' and chat like 'one:%'") == 155
    assert await harness.scalar("select count(*) from members where platform = 'one' and user_id like 'n%'") == 32


async def test_a_bug_in_one_event_loses_only_that_event(harness, monkeypatch, caplog):
    """The batch's transaction fails; it is handled again one event per transaction: the others
    commit, the faulty one is logged and answered with the apology, as one by one."""
    messengers = await two_platforms(harness)
    real = links_mod.select_candidates

    def select_candidates(raw, ctx):
        if "poison" in ctx.msg.text:
            raise ValueError("a bug")
        return real(raw, ctx)

    monkeypatch.setattr(links_mod, "select_candidates", select_candidates)
    for platform in ("one", "two"):
        batch = [plain(platform, "g1", "lan", "1", f"a {POSTS[0]}"),
                 plain(platform, "g1", "binh", "2", f"poison {POSTS[2]}"),
                 plain(platform, "g2", "chi", "3", f"c {POSTS[3]}")]
        if platform == "one":
            await one_by_one(harness, batch)
        else:
            with caplog.at_level(logging.WARNING):
                await harness.dispatcher.handle_batch(batch)
    assert "handling them one by one" in caplog.text
    await assert_same(harness, messengers)
    assert await harness.scalar("select count(*) from submissions where chat_platform = 'two'") == 2
    assert transcript_by_chat(messengers["two"])["g1"][1][0] == "text"  # the apology to binh


async def test_an_absent_database_in_the_one_by_one_fallback_says_how_many_were_committed(harness, monkeypatch):
    await two_platforms(harness)
    real = links_mod.select_candidates
    calls = []

    def select_candidates(raw, ctx):
        if "poison" in ctx.msg.text:
            raise ValueError("a bug")
        return real(raw, ctx)

    monkeypatch.setattr(links_mod, "select_candidates", select_candidates)
    real_factory = harness.dispatcher.uow_factory

    def factory():
        calls.append(1)
        if len(calls) >= 4:  # the batch, then one by one: event 0, event 1 (the bug), then away
            raise DatabaseUnavailable("gone")
        return real_factory()

    harness.dispatcher.uow_factory = factory
    batch = [plain("one", "g1", "lan", "1", f"a {POSTS[0]}"), plain("one", "g1", "binh", "2", f"poison {POSTS[2]}"),
             plain("one", "g2", "chi", "3", f"c {POSTS[3]}")]
    with pytest.raises(DatabaseUnavailable) as raised:
        await harness.dispatcher.handle_batch(batch)
    assert raised.value.handled == 2
    harness.dispatcher.uow_factory = real_factory
    assert await harness.scalar("select count(*) from submissions where chat_platform = 'one'") == 1


async def test_a_revived_link_in_a_batch_is_handled_message_by_message(harness):
    """A redelivered message whose link an edit had removed gets it back — unless a later message
    of the same batch took it first: the order of statements matters, so the batch is redone."""
    messengers = await two_platforms(harness)
    for platform in ("one", "two"):
        first = plain(platform, "g1", "lan", "1", f"a {POSTS[0]}")
        edited = IncomingMessage(chat=first.chat, message_id="1", sender=first.sender, date=T0, text="đã sửa",
                                 edited=True)
        await harness.dispatcher.handle(first)
        await harness.dispatcher.handle(edited)
        later = [first, plain(platform, "g1", "lan", "2", f"lại {POSTS[1]}", minutes=1)]
        if platform == "one":
            await one_by_one(harness, later)
        else:
            await harness.dispatcher.handle_batch(later)
    await assert_same(harness, messengers)
    revived = await harness.scalar("select count(*) from submissions where chat_platform = 'two' "
                                   "and message_id = '1' and withdrawn_at is null")
    assert revived == 1


async def test_the_ingest_benchmark_credits_its_whole_mix(tmp_path):
    """bench/ingest.py at a tiny scale: every link of the mix is credited once through batches."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "ingest.py"
    spec = importlib.util.spec_from_file_location("bench_ingest", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rate, credited = await bench.whole_path(300, 50, tmp_path, False)
    from bot.domain.links import canonicalize, extract_links

    # The same seeded mix again: a link counts once per person (the warm-up's included).
    mix, seen, expected = bench.Mix(), set(), 0
    warm = [mix.update(warm=(g, p)) for g in range(bench.GROUPS) for p in range(bench.PEOPLE_PER_GROUP)]
    for k, data in enumerate(warm + [mix.update() for _ in range(300)]):
        message = data["message"]
        for link in extract_links(message["text"]):
            pair = (message["from"]["id"], canonicalize(link))
            if pair not in seen:
                seen.add(pair)
                expected += k >= len(warm)
    assert rate > 0 and credited == expected
