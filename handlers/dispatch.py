"""The dispatcher: one unit of work per incoming event; route; commit; then send."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Sequence

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from bot.config import Config
from bot.domain import texts_vi
from bot.domain.types import (
    BotMembershipChanged,
    ChatMigrated,
    ChatRef,
    Delivery,
    DeliveryStatus,
    Clock,
    Incoming,
    IncomingMessage,
    MemberLeft,
    MembersJoined,
    Messenger,
    SendText,
    SenderKind,
)
from handlers import accounts, admin, links, me, members, remind, status, unit_admin
from handlers.commands import (CommandSpec, CommandTable, LinksInCommand, ParsedCommand, links_in_command,
                               parse_command, runs_before_credit)
from handlers.context import CLAIM_LEASE, CLAIM_MAX_RETRIES, CLAIM_RETRY_BACKOFF, Claim, Context
from handlers.outbox import Outbox
from storage.accounts import first_delivery
from storage.models import Group, GroupMembership, Member, Person
from storage.repositories import SEEN_RESOLUTION, IngestRepository
from storage.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)

# Telegram's longest message is 4,096 characters; anything far longer is not a teacher's post.
# Reading only the head bounds the work a hostile message can cause.
MAX_TEXT = 16_384


class DatabaseUnavailable(Exception):
    """The database did not answer: the update must not be confirmed, so it comes again.

    ``handled``: in a batch handled one by one, how many leading events were committed first."""

    handled: int = 0


def _takes_args(handler, **options):
    """A handler of (ctx, args) as a command table entry."""
    async def run(ctx: Context, cmd: ParsedCommand) -> None:
        await handler(ctx, cmd.args, **options)
    return run


def _takes_ctx(handler):
    """A handler of (ctx) alone as a command table entry."""
    async def run(ctx: Context, cmd: ParsedCommand) -> None:
        await handler(ctx)
    return run


def _lazy(module: str, name: str):
    """A command whose module is imported on first use: reports (xlsx, charts), the pages of the
    week and the dashboard's sign-in cost the running bot nothing until someone asks."""
    async def run(ctx: Context, cmd: ParsedCommand) -> None:
        import importlib

        await getattr(importlib.import_module(module), name)(ctx, cmd.args)
    return run


def build_command_table() -> CommandTable:
    """The commands, in the order the platform's menu shows them."""
    help_ = _takes_ctx(me.cmd_help)
    return CommandTable([
        CommandSpec("toi", "me", texts_vi.MENU_TOI, _takes_ctx(me.cmd_toi)),
        CommandSpec("tinhhinh", "status", texts_vi.MENU_TINHHINH, _takes_args(status.cmd_tinhhinh)),
        CommandSpec("xephang", "top", texts_vi.MENU_XEPHANG, _takes_args(status.cmd_xephang)),
        CommandSpec("huy", "undo", texts_vi.MENU_HUY, _takes_ctx(links.cmd_huy)),
        CommandSpec("dangky", "register", texts_vi.MENU_DANGKY, _takes_args(admin.cmd_dangky)),
        CommandSpec("nhacnho", "remind", texts_vi.MENU_NHACNHO, _takes_args(remind.cmd_nhacnho)),
        CommandSpec("trang", "page", texts_vi.MENU_TRANG, _takes_args(unit_admin.cmd_trang)),
        CommandSpec("dangvien", "party", texts_vi.MENU_DANGVIEN, _takes_args(unit_admin.cmd_dangvien, mark=True)),
        CommandSpec("bodangvien", "unparty", texts_vi.MENU_BODANGVIEN,
                    _takes_args(unit_admin.cmd_dangvien, mark=False)),
        CommandSpec("nghi", "leave", texts_vi.MENU_NGHI, _takes_args(unit_admin.cmd_nghi)),
        CommandSpec("tieudiem", "focus", texts_vi.MENU_TIEUDIEM, _lazy("handlers.focus", "cmd_tieudiem")),
        CommandSpec("guilen", "nominate", texts_vi.MENU_GUILEN, _lazy("handlers.focus", "cmd_guilen")),
        CommandSpec("dexuat", "nominations", texts_vi.MENU_DEXUAT, _lazy("handlers.focus", "cmd_dexuat")),
        CommandSpec("baocao", "report", texts_vi.MENU_BAOCAO, _lazy("handlers.reports", "cmd_baocao")),
        CommandSpec("web", "dashboard", texts_vi.MENU_WEB, _lazy("handlers.web_login", "cmd_web")),
        CommandSpec("lienket", "link", texts_vi.MENU_LIENKET, _takes_args(accounts.cmd_lienket)),
        CommandSpec("huongdan", "help", texts_vi.MENU_HUONGDAN, help_),
        CommandSpec("batdau", "start", texts_vi.MENU_BATDAU, help_),
    ])


@dataclass
class _Prepared:
    """One event of a batch, with what was asked of the platform before the transaction."""

    event: Incoming
    platform: str
    msg: IncomingMessage | None = None
    command: ParsedCommand | None = None
    addressed: bool = True
    name: str = ""
    chat_admin: bool = False
    member_count: int | None = None
    plain: bool = False  # a new message from a person, no command, no #trang: the set-wise path
    skip: bool = False


def _describe_batch(prepared: list[_Prepared]) -> str:
    if len(prepared) == 1:
        one = prepared[0]
        return f"message {one.msg.chat.key}/{one.msg.message_id}" if one.msg else type(one.event).__name__
    return f"a batch of {len(prepared)} events"


@dataclass(frozen=True, slots=True)
class _PersonRow:
    """A sender's person as read for a run of plain messages (nothing about them changes)."""

    id: int
    home_unit_id: int | None


@dataclass
class _Known:
    """Who the senders of a run of plain messages are: a plain row for each group, account and
    person that no message of the run changes, the ORM object for the few that one does (a new
    title, a stale seen-time, a new or renewed membership that may move a home unit)."""

    groups: dict
    members: dict
    persons: dict
    unchanged_memberships: set

    @classmethod
    async def load(cls, ingest: IngestRepository, msgs: list[IncomingMessage], group_rows: dict,
                   member_rows: dict, membership_rows: dict) -> "_Known":
        # Judged against the rows as read, for every message of the run: an object is loaded for
        # anything any of them might change, so what runs next (the per-message rules on those
        # objects) decides exactly as register_sender would, in order.
        change_groups: set[int] = set()
        change_members: set[int] = set()
        change_persons: set[int] = set()
        change_memberships: set[tuple[int, int]] = set()
        for msg in msgs:
            member = member_rows.get((msg.sender.platform, msg.sender.user_id))
            if member is not None and (IngestRepository.member_needs_refresh(member, msg.sender, msg.date) or (
                    not msg.chat.is_group and (member.private_chat_id != msg.chat.chat_id or member.unreachable))):
                change_members.add(member.id)
            if not msg.chat.is_group:
                continue
            group = group_rows.get((msg.chat.platform, msg.chat.chat_id))
            if group is None:
                continue
            if not group.active or (msg.chat.title and group.title != msg.chat.title[:255]):
                change_groups.add(group.id)
            if member is None:
                continue
            row = membership_rows.get((group.id, member.id))
            if row is None or not row.active:
                change_persons.add(member.person_id)  # news: the home unit is derived again
            if row is not None and (not row.active or msg.date - row.last_seen_at > SEEN_RESOLUTION):
                change_memberships.add((group.id, member.id))
        loaded_groups = await ingest.objects(Group, change_groups)
        loaded_members = await ingest.objects(Member, change_members)
        loaded_persons = await ingest.objects(Person, change_persons)
        loaded_memberships = await ingest.objects(GroupMembership, change_memberships)
        groups = {key: loaded_groups.get(row.id, row) for key, row in group_rows.items()}
        members = {key: loaded_members.get(row.id, row) for key, row in member_rows.items()}
        persons = {row.person_id: loaded_persons.get(row.person_id) or _PersonRow(row.person_id, row.home_unit_id)
                   for row in member_rows.values()}
        unchanged = {pair for pair, row in membership_rows.items() if pair not in change_memberships}
        known = cls(groups, members, persons, unchanged)
        known._held = list(loaded_memberships.values())  # the session holds objects weakly
        return known


@dataclass(frozen=True, slots=True)
class _MemberRow:
    id: int
    person_id: int


async def _register_newcomers(ingest: IngestRepository, msgs: list[IncomingMessage], group_rows: dict,
                              member_rows: dict) -> dict[int, tuple]:
    """register_sender for the run's people the bot has never seen, set-wise: their persons,
    accounts and memberships in three statements, their home units derived here as
    MemberRepository.derived_home_unit would after each of their messages (SPEC §2: the deepest
    bound, active, non-community group's unit; between equal depths the one seen first).

    Only newcomers whose every message of the run is in a private chat or a group already known
    come here; the rest take the per-message path. Returns, by position in ``msgs``, the account
    and the person (home unit as it was right after that message)."""
    by_user: dict[tuple[str, str], list[int]] = {}
    for k, msg in enumerate(msgs):
        user = (msg.sender.platform, msg.sender.user_id)
        if user not in member_rows:
            by_user.setdefault(user, []).append(k)
    eligible = [(user, ks) for user, ks in by_user.items()
                if all(not msgs[k].chat.is_group or (msgs[k].chat.platform, msgs[k].chat.chat_id) in group_rows
                       for k in ks)]
    if not eligible:
        return {}
    persons, members, plans = [], [], []
    for user, ks in eligible:
        first = msgs[ks[0]]
        t0 = first.date
        account = dict(platform=user[0], user_id=user[1], display_name=IngestRepository.account_name(first.sender),
                       username=first.sender.username and first.sender.username[:64], active=True,
                       unreachable=False, created_at=t0, last_seen_at=t0)
        seen: dict[int, list] = {}  # group id -> [first_seen_at, last_seen_at, group row]
        homes: list[int | None] = []
        home = None
        for n, k in enumerate(ks):
            msg = msgs[k]
            if n:  # what MemberRepository.ensure does to an account it finds
                account["display_name"] = IngestRepository.account_name(msg.sender)
                if msg.sender.username is not None:
                    account["username"] = msg.sender.username[:64]
                if msg.date - account["last_seen_at"] > SEEN_RESOLUTION:
                    account["last_seen_at"] = msg.date
            if not msg.chat.is_group:
                account["private_chat_id"], account["unreachable"] = msg.chat.chat_id, False
            else:
                group = group_rows[(msg.chat.platform, msg.chat.chat_id)]
                row = seen.get(group.id)
                if row is None:
                    seen[group.id] = [msg.date, msg.date, group]
                    # the message made its group active; a plain run never deactivates one
                    bound = [(-g.unit_depth, f, g.unit_id) for f, _, g in seen.values()
                             if g.unit_id is not None and not g.community]
                    home = min(bound)[2] if bound else None
                elif msg.date - row[1] > SEEN_RESOLUTION:
                    row[1] = msg.date
            homes.append(home)
        persons.append(dict(home_unit_id=home, home_unit_explicit=False, party_member=False, created_at=t0))
        members.append(account)
        plans.append((ks, seen, homes))
    made = await ingest.insert_newcomers(persons, members)
    if any(member_id is None for _, member_id in made):
        # Another instance registered one of them meanwhile: rare; the batch again, one by one.
        raise links.BatchNeedsOneByOne("a newcomer registered elsewhere meanwhile")
    memberships: list[dict] = []
    fresh: dict[int, tuple] = {}
    for (ks, seen, homes), (person_id, member_id) in zip(plans, made):
        for group_id, (first_seen, last_seen, _) in seen.items():
            memberships.append(dict(group_id=group_id, member_id=member_id, active=True,
                                    first_seen_at=first_seen, last_seen_at=last_seen))
        member = _MemberRow(member_id, person_id)
        for k, home in zip(ks, homes):
            fresh[k] = (member, _PersonRow(person_id, home))
    await ingest.insert_memberships(memberships)
    return fresh


@dataclass
class PlatformLink:
    messenger: Messenger
    outbox: Outbox
    bot_username: str | None = None


class Dispatcher:
    """Turns neutral events into committed changes and queued replies."""

    def __init__(self, uow_factory: UnitOfWorkFactory, config: Config, clock: Clock, *,
                 instance: str = "main") -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.config = config
        self.instance = instance
        self.commands = build_command_table()
        self.platforms: dict[str, PlatformLink] = {}
        # False: every message takes the per-message path (the reference the batch path must equal).
        self.set_based = True
        self._settle_queue: list[tuple[Claim, Delivery, asyncio.Future]] = []
        self._settler: asyncio.Task | None = None

    def attach(self, messenger: Messenger, *, inline: bool = False, bot_username: str | None = None) -> Outbox:
        """Connect a platform: its replies leave through a new outbox."""
        outbox = Outbox(messenger, self.settle_claim, inline=inline, renew=self.renew_claims)
        self.platforms[messenger.platform] = PlatformLink(messenger, outbox, bot_username)
        return outbox

    def set_bot_username(self, platform: str, username: str | None) -> None:
        self.platforms[platform].bot_username = username

    def command_menu(self) -> list[tuple[str, str]]:
        return self.commands.menu()

    # --- incoming ---------------------------------------------------------------------------------

    async def handle(self, event: Incoming) -> None:
        """Handle one event. Returns once its changes are committed and its replies queued;
        raises DatabaseUnavailable when nothing could be committed (do not confirm the update)."""
        await self.handle_batch([event])

    async def handle_batch(self, events: Sequence[Incoming]) -> None:
        """Handle events that arrived together (one getUpdates answer, webhook POSTs a few ms
        apart) in one transaction, in order; their replies are queued after that one commit.

        The result is what handling them one by one gives (SPEC §3.7 group commit). Plain new
        messages with links are credited set-wise, a fixed number of statements per run of them;
        commands, edits and membership events take the per-message path at their place. If the
        batch hits a bug, it is handled again one event per transaction, so that only the faulty
        event is lost (logged, confirmed). Raises DatabaseUnavailable when the database did not
        answer; its ``handled`` says how many leading events were committed before that."""
        prepared = [await self._prepare(event) for event in events]
        if not prepared:
            return
        results: list[tuple[list, dict] | None] = []
        one_by_one = [False]

        async def work(uow) -> None:
            results[:] = await self._run_batch(uow, prepared, one_by_one[0])

        try:
            try:
                await self._in_transaction(work, describe=_describe_batch(prepared))
            except links.BatchNeedsOneByOne:
                one_by_one[0] = True  # rolled back; the same transaction again, statement by statement
                await self._in_transaction(work, describe=_describe_batch(prepared))
        except DatabaseUnavailable:
            raise
        except Exception:
            if len(prepared) == 1:
                await self._after_bug(prepared[0])
                return
            logger.warning("a batch of %d events failed; handling them one by one", len(prepared), exc_info=True)
            for done, one in enumerate(prepared):
                try:
                    await self.handle_batch([one.event])
                except DatabaseUnavailable as exc:
                    exc.handled = done
                    raise
            return
        for one, result in zip(prepared, results):
            link = self.platforms.get(one.platform)
            if link is not None and result is not None:
                await link.outbox.put(*result)

    async def _after_bug(self, one: "_Prepared") -> None:
        """A bug or bad data: logged, and the update confirmed anyway (retrying cannot help)."""
        msg = one.msg
        if msg is None:
            logger.exception("handling %s failed", type(one.event).__name__)
            return
        logger.exception("handling message %s in %s failed", msg.message_id, msg.chat.key)
        link = self.platforms.get(msg.chat.platform)
        if link is not None and msg.sender_kind is SenderKind.USER:
            await link.outbox.put([SendText.of(msg.chat, texts_vi.APOLOGY, reply_to=msg.message_id)])

    async def _run_batch(self, uow, prepared: list["_Prepared"], one_by_one: bool = False,
                         ) -> list[tuple[list, dict] | None]:
        """Inside the batch's transaction: runs of plain messages set-wise, the rest one by one,
        in arrival order. Returns each event's (actions, claims) to queue after the commit."""
        results: list[tuple[list, dict] | None] = [None] * len(prepared)
        run: list[int] = []
        for i, one in enumerate(prepared):
            if one.skip:
                continue
            if one.plain:
                run.append(i)
                continue
            if run:
                await self._plain_run(uow, prepared, run, results, one_by_one)
                run = []
            results[i] = await (self._message_work(uow, one) if one.msg is not None else self._event_work(uow, one.event))
        if run:
            await self._plain_run(uow, prepared, run, results, one_by_one)
        return results

    async def _plain_run(self, uow, prepared: list["_Prepared"], run: list[int],
                         results: list[tuple[list, dict] | None], one_by_one: bool) -> None:
        """Plain new messages from people: who they are from three queries of plain rows for the
        whole run (ORM objects only for the few rows that change), then their links credited
        together (links.credit_batch)."""
        # What the per-message path left pending is written first, so rows keep arrival order.
        await uow.session.flush()
        ingest = IngestRepository(uow.session)
        msgs = [prepared[i].msg for i in run]
        group_rows = await ingest.group_rows((m.chat.platform, m.chat.chat_id) for m in msgs if m.chat.is_group)
        member_rows = await ingest.member_rows((m.sender.platform, m.sender.user_id) for m in msgs)
        pairs = {(group_rows[(m.chat.platform, m.chat.chat_id)].id, member_rows[(m.sender.platform, m.sender.user_id)].id)
                 for m in msgs if m.chat.is_group and (m.chat.platform, m.chat.chat_id) in group_rows
                 and (m.sender.platform, m.sender.user_id) in member_rows}
        membership_rows = await ingest.membership_rows(pairs) if pairs else {}
        known = await _Known.load(ingest, msgs, group_rows, member_rows, membership_rows)
        fresh = await _register_newcomers(ingest, msgs, group_rows, member_rows) if not one_by_one else {}
        items: list[tuple[Context, int | None]] = []
        for k, (i, msg) in enumerate(zip(run, msgs)):
            link = self.platforms.get(msg.chat.platform)
            ctx = Context(uow=uow, config=self.config, msg=msg, instance=self.instance,
                          bot_username=link.bot_username if link is not None else None)
            await self._register_known(uow, ingest, ctx, known, fresh.get(k))
            assert ctx.person is not None
            items.append((ctx, ctx.person.home_unit_id))
            results[i] = (ctx.out, ctx.claims)
        await links.credit_batch(items, one_by_one=one_by_one)

    async def _register_known(self, uow, ingest: IngestRepository, ctx: Context, known: "_Known",
                              fresh: tuple | None = None) -> None:
        """members.register_sender for a plain message, from what the run loaded: no query unless
        the group, the account or the membership is new. ``fresh``: (account, person) of a
        newcomer already registered set-wise, as they were right after this message."""
        msg = ctx.msg
        assert msg.sender is not None
        if msg.chat.is_group:
            key = (msg.chat.platform, msg.chat.chat_id)
            group = known.groups.get(key)
            if group is None:
                group = known.groups[key] = await uow.groups.ensure(msg.chat, ctx.now)
            elif msg.chat.title and group.title != msg.chat.title[:255]:
                group.title = msg.chat.title[:255]
            if not group.active:
                group.active = True  # a message from the group proves the bot is back in it
            ctx.group = group
        if fresh is not None:
            ctx.member, ctx.person = fresh
            return
        user = (msg.sender.platform, msg.sender.user_id)
        member = known.members.get(user)
        if member is None:
            member, _ = await uow.members.ensure(msg.sender, ctx.now)
            known.members[user] = member
            person = known.persons[member.person_id] = await uow.members.person(member.person_id)
        else:
            if isinstance(member, Member):
                ingest.refresh_member(member, msg.sender, ctx.now)
            person = known.persons[member.person_id]
        ctx.member = member
        ctx.person = person
        if not msg.chat.is_group:
            if member.private_chat_id != msg.chat.chat_id or member.unreachable:
                member.private_chat_id = msg.chat.chat_id
                member.unreachable = False
            return
        pair = (ctx.group.id, member.id)
        if pair in known.unchanged_memberships:
            return
        if await uow.members.touch_membership(ctx.group, member, ctx.now):
            if not isinstance(person, Person):  # a group new in this run: its memberships are news
                person = known.persons[member.person_id] = await uow.members.person(member.person_id)
                ctx.person = person
            await uow.members.refresh_home_unit(person)

    async def _prepare(self, event: Incoming) -> "_Prepared":
        """What is asked of the platform before the transaction opens (a slow platform must not
        hold a database lock): the command, whether the sender administers the chat, the count."""
        if not isinstance(event, IncomingMessage):
            platform = event.platform if isinstance(event, ChatMigrated) else event.chat.platform
            return _Prepared(event, platform)
        msg = event
        link = self.platforms.get(msg.chat.platform)
        if len(msg.text) > MAX_TEXT:
            msg = _truncated(msg)
        command = parse_command(msg.text, self.commands.names())
        addressed = command is None or self._addressed_to_us(command, link)
        if not addressed and msg.chat.is_group:
            # another bot's command: none of our business, and no link to credit
            return _Prepared(event, msg.chat.platform, msg, skip=True)
        spec = self.commands.get(command.name) if command is not None and addressed else None
        # What the command is called in its rules: its Vietnamese name, or the unknown name as typed.
        name = spec.name if spec is not None else command.name if command is not None else ""
        if msg.edited:
            # An edit only re-scans links; a link that is a command's argument never counts.
            if command is not None and links_in_command(name) != LinksInCommand.CREDIT:
                msg = replace(msg, text="", links=())
            command = None
        page_mark = links.marks_page_post(msg.text)
        plain = (self.set_based and command is None and not msg.edited and not page_mark and msg.sender is not None
                 and msg.sender_kind is SenderKind.USER and not msg.sender.is_bot and msg.delivery_id is None
                 and not (msg.chat.is_group and admin.admin_code_candidates(msg.text)))
        chat_admin = False
        if (command is not None or page_mark) and msg.chat.is_group and link is not None:
            if msg.sender_kind is SenderKind.ANONYMOUS_ADMIN:
                chat_admin = True  # only a group's administrators may post as the group itself
            else:
                chat_admin = await self._is_chat_admin(link.messenger, msg)
        # An admin's /tinhhinh shows the group's own member count beside the headcount (SPEC §3.4).
        member_count = None
        if chat_admin and spec is not None and spec.name == "tinhhinh" and link is not None:
            member_count = await self._chat_member_count(link.messenger, msg.chat)
        return _Prepared(event, msg.chat.platform, msg, command=command, addressed=addressed, name=name,
                         chat_admin=chat_admin, member_count=member_count, plain=plain)

    async def _event_work(self, uow, event: Incoming) -> tuple[list, dict]:
        out: list = []
        if isinstance(event, MembersJoined):
            await members.on_members_joined(uow, event)
        elif isinstance(event, MemberLeft):
            await members.on_member_left(uow, event)
        elif isinstance(event, ChatMigrated):
            await members.on_chat_migrated(uow, event)
        elif isinstance(event, BotMembershipChanged):
            await members.on_bot_membership(uow, event, out)
        return out, {}

    async def _message_work(self, uow, one: "_Prepared") -> tuple[list, dict]:
        msg, command, name = one.msg, one.command, one.name
        assert msg is not None
        link = self.platforms.get(msg.chat.platform)
        ctx = Context(uow=uow, config=self.config, msg=msg, instance=self.instance, chat_admin=one.chat_admin,
                      bot_username=link.bot_username if link is not None else None,
                      chat_member_count=one.member_count)
        if msg.delivery_id is not None and not await first_delivery(uow.session, msg.chat.platform,
                                                                    msg.delivery_id, ctx.now):
            return [], {}  # a redelivered webhook (Zalo has no offset): handled once already
        await members.register_sender(ctx)
        if msg.chat.is_group and await admin.withhold_admin_code(ctx):
            return ctx.out, ctx.claims  # deleted and warned about; nothing in it is used
        if command is None:
            await links.capture_links(ctx)
            return ctx.out, ctx.claims
        # A link typed in a command message is not dropped: it is credited as if sent alone
        # (after a command that changes what it counts for, before one that reports), or,
        # for /huy, one line says why not.
        credit_first = not runs_before_credit(name)
        if credit_first:
            await links.links_in_command_message(ctx, name)
        await self._run_command(ctx, command, one.addressed)
        if not credit_first:
            await links.links_in_command_message(ctx, name)
        return ctx.out, ctx.claims

    async def _run_command(self, ctx: Context, command: ParsedCommand, addressed: bool = True) -> None:
        spec: CommandSpec | None = self.commands.get(command.name) if addressed else None
        if spec is None:
            # In a group an unknown command is often another bot's: stay quiet there unless it
            # names us. In a private chat it is always answered (even one naming another bot).
            if not ctx.msg.chat.is_group or command.addressed_to:
                shown = command.typed or command.name
                if command.addressed_to and not addressed:
                    shown += "@" + command.addressed_to
                ctx.reply(texts_vi.unknown_command(shown[:48]))
            return
        if ctx.msg.sender_kind is SenderKind.ANONYMOUS_ADMIN and ctx.msg.chat.is_group:
            # Only admins may post as the group, so /dangky works; other commands need a person.
            if spec.name == "dangky":
                await spec.handler(ctx, command)
            else:
                ctx.reply(texts_vi.ANONYMOUS_ADMIN_COMMAND)
            return
        if ctx.msg.sender_kind is not SenderKind.USER or ctx.person is None:
            return  # channels and bots give no commands we can attribute
        await spec.handler(ctx, command)

    def _addressed_to_us(self, command: ParsedCommand, link: PlatformLink | None) -> bool:
        if command.addressed_to is None or link is None or link.bot_username is None:
            return True
        return command.addressed_to.lower() == link.bot_username.lower()

    async def _is_chat_admin(self, messenger: Messenger, msg: IncomingMessage) -> bool:
        """Asked before the transaction opens: a slow platform must not hold a database lock."""
        if msg.sender is None:
            return False
        try:
            # The adapter bounds this read (Telegram: a few seconds, then the last known list);
            # on failure only admins by code and super-admins count.
            return msg.sender.user_id in await messenger.chat_admin_ids(msg.chat)
        except Exception:
            logger.warning("could not fetch the administrators of %s", msg.chat.key, exc_info=True)
            return False

    async def _chat_member_count(self, messenger: Messenger, chat: ChatRef) -> int | None:
        """The platform's member count less the bot itself; None when it cannot tell."""
        counter = getattr(messenger, "chat_member_count", None)
        if counter is None:
            return None
        try:
            count = await asyncio.wait_for(counter(chat), 5.0)
        except Exception:
            logger.warning("could not count the members of %s", chat.key, exc_info=True)
            return None
        return max(count - 1, 0) if count is not None else None

    async def _in_transaction(self, work, *, describe: str, attempts: int = 3) -> None:
        """Run ``work`` in a fresh unit of work, retrying what a concurrent writer can cause."""
        for attempt in range(1, attempts + 1):
            try:
                async with self.uow_factory() as uow:
                    await work(uow)
                return
            except Exception as exc:
                kind = classify_db_error(exc)
                if kind is None:
                    raise
                if attempt == attempts:
                    if kind == "unavailable":
                        raise DatabaseUnavailable(_describe(exc)) from exc
                    raise
                logger.warning("%s: %s (%s), retrying (%d)", describe,
                               "conflicting write" if kind == "conflict" else "database busy or unavailable",
                               _describe(exc), attempt)
                if kind == "unavailable":
                    await asyncio.sleep(0.2 * attempt)

    # --- outgoing -----------------------------------------------------------------------------------

    async def settle_claim(self, claim: Claim, delivery: Delivery) -> None:
        """Record what became of a claimed send: sent, failed for good, or released for a retry.

        Settles that arrive while another is being written are written together, in one
        transaction (one commit, not one per reply: the outbox drains on the ingest's core and
        the database's single writer). Returns once this one is committed; raises what its
        own settling raised."""
        waiter = asyncio.get_running_loop().create_future()
        self._settle_queue.append((claim, delivery, waiter))
        if self._settler is None or self._settler.done():
            self._settler = asyncio.create_task(self._settle_pending(), name="settle claims")
        outcome = await asyncio.shield(waiter)
        if delivery.status is DeliveryStatus.FAILED_FOR_GOOD:
            logger.warning("%s to %s failed for good, not retried: %s", claim.kind, claim.chat_id, delivery.error)
        elif outcome == "failed":
            logger.warning("%s to %s given up after %d retries: %s", claim.kind, claim.chat_id,
                           CLAIM_MAX_RETRIES, delivery.error)

    async def _settle_pending(self) -> None:
        """Write the queued settles, each group in one transaction, until none is left."""
        while self._settle_queue:
            await asyncio.sleep(0)  # the settles of one drained round of sends go together
            group, self._settle_queue = self._settle_queue, []
            try:
                outcomes = await self._settle_group([(c, d) for c, d, _ in group])
            except Exception as exc:
                if len(group) == 1 or isinstance(exc, DatabaseUnavailable):
                    for *_, waiter in group:
                        if not waiter.done():
                            waiter.set_exception(exc)
                    continue
                # One bad settle must not lose the others: each again in its own transaction.
                for claim, delivery, waiter in group:
                    try:
                        (outcome,) = await self._settle_group([(claim, delivery)])
                    except Exception as one:
                        if not waiter.done():
                            waiter.set_exception(one)
                    else:
                        if not waiter.done():
                            waiter.set_result(outcome)
                continue
            for (*_, waiter), outcome in zip(group, outcomes):
                if not waiter.done():
                    waiter.set_result(outcome)

    async def _settle_group(self, group: list[tuple[Claim, Delivery]]) -> list[str | None]:
        outcomes: list[str | None] = []

        async def work(uow) -> None:
            outcomes.clear()
            for claim, delivery in group:
                outcome = None
                if delivery.status is DeliveryStatus.SENT:
                    detail = f"message {delivery.message_id}" if delivery.message_id else None
                    await uow.sent.mark_sent(*claim.key, detail)
                elif delivery.status is DeliveryStatus.FAILED_FOR_GOOD:
                    await uow.sent.mark_failed(*claim.key, delivery.error)
                else:
                    outcome = await uow.sent.release(*claim.key, delivery.error, backoff=CLAIM_RETRY_BACKOFF,
                                                     max_retries=CLAIM_MAX_RETRIES)
                outcomes.append(outcome)

        describe = f"settle {group[0][0]}" if len(group) == 1 else f"settle {len(group)} claims"
        await self._in_transaction(work, describe=describe)
        return outcomes

    async def renew_claims(self, claims: list[Claim]) -> None:
        """Extend the leases of claims whose sends still wait in an outbox (SPEC §3.3)."""

        async def work(uow) -> None:
            await uow.sent.renew([c.key for c in claims], self.instance, CLAIM_LEASE)

        await self._in_transaction(work, describe=f"renew {len(claims)} leases")

    async def bind_group(self, chat: ChatRef, unit_code: str, now: datetime) -> bool:
        """Bind a chat to a unit directly, as the operator would (the console's simulated groups)."""
        bound = False

        async def work(uow) -> None:
            nonlocal bound
            unit = await uow.units.by_code(unit_code)
            if unit is None:
                return
            group = await uow.groups.ensure(chat, now)
            if group.unit_id != unit.id:
                group.unit_id, group.bound_at, group.active = unit.id, now, True
                await uow.session.flush()
                await members.refresh_group_members(uow, group)
            bound = True

        await self._in_transaction(work, describe=f"bind {chat.key}")
        return bound


# PostgreSQL SQLSTATE classes: 08 connection, 53 insufficient resources (too many connections),
# 57 operator intervention (shutdown, "cannot connect now"); 40001 serialization, 40P01 deadlock.
_UNAVAILABLE_SQLSTATE = ("08", "53", "57")
_CONFLICT_SQLSTATE = ("40001", "40P01")


def classify_db_error(exc: BaseException) -> str | None:
    """``conflict`` (another writer: retry at once), ``unavailable`` (the database did not answer:
    retry, then do not confirm the update), or None (a bug or bad data: no retry helps)."""
    if isinstance(exc, IntegrityError):
        return "conflict"  # two instances raced on the same row; the retry sees the winner's row
    if isinstance(exc, (OSError, asyncio.TimeoutError)):
        return "unavailable"  # asyncpg's refused connection arrives unwrapped
    if isinstance(exc, DBAPIError):
        code = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
        if code in _CONFLICT_SQLSTATE:
            return "conflict"
        if exc.connection_invalidated or code.startswith(_UNAVAILABLE_SQLSTATE):
            return "unavailable"
        if isinstance(exc, (OperationalError, InterfaceError)) and not code:
            return "unavailable"  # SQLite "database is locked", a dropped connection
    return None


def _describe(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return f"{type(orig or exc).__name__}: {orig or exc}"[:300]


def _truncated(msg: IncomingMessage) -> IncomingMessage:
    links = msg.links[:100] if msg.links is not None else None
    return replace(msg, text=msg.text[:MAX_TEXT], links=links)
