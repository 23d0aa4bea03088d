"""SQLAlchemy 2 typed models: the whole schema of SPEC §2.

Times are stored in UTC (``UtcDateTime`` turns SQLite's naive values back into aware ones).
Uniqueness that the product promises (one credit per person and post, one scheduled message per
chat, kind and period, a redelivered message changing nothing) is enforced here, by the database,
never by a check-then-insert in Python: several instances may handle the same update at once.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations on SQLite (batch mode) and PostgreSQL agree.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; times are stored in UTC")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Column widths that input can reach; handlers check them (SQLite would not, PostgreSQL does).
PAGE_KEY_MAX = 300
ID_MAX = 64  # platform user and chat ids, message ids

# A 64-bit integer primary key on PostgreSQL (a nation's links outgrow 2**31) that is still
# SQLite's INTEGER PRIMARY KEY rowid alias (only the exact type INTEGER gets autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Unit(Base):
    """A node of the unit tree (department, office, school…); the tree has any depth."""

    __tablename__ = "units"
    # PostgreSQL under a non-C collation (Debian's and Docker's default) serves `path LIKE 'p%'`
    # (storage.subtree) from no plain btree: every subtree statement scanned all units (a nation's
    # school: 26 → 16 ms p50, bench/README.md). SQLite uses ix_units_path as a range instead.
    __table_args__ = (
        Index("ix_units_path_pattern", "path", postgresql_ops={"path": "varchar_pattern_ops"})
        .ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    # Materialised path of ids ("/1/4/17/"): a subtree is one indexed range of paths
    # (storage.subtree), whatever the depth, instead of one query per level.
    path: Mapped[str] = mapped_column(String(1024), index=True)
    depth: Mapped[int] = mapped_column(Integer)
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    admin_code: Mapped[str] = mapped_column(String(16), unique=True)
    # The unit's headcount of staff ("biên chế") from the import, when known: /tinhhinh and the
    # reports show the people the bot knows against it ("đã tham gia 31/45", SPEC §3.4).
    staff: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UnitPage(Base):
    """A fanpage registered for a unit (``/trang them``); its posts count as page posts."""

    __tablename__ = "unit_pages"
    __table_args__ = (UniqueConstraint("unit_id", "page_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    page_key: Mapped[str] = mapped_column(String(PAGE_KEY_MAX), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Person(Base):
    """One human being; counts and quotas are per person, whatever accounts they use."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    home_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    # True once the person chose the home unit with a private /dangky: it then stays.
    home_unit_explicit: Mapped[bool] = mapped_column(Boolean, default=False)
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Leave(Base):
    """A span of leave (/nghi), inclusive of both days. Kept as rows rather than one column on
    the person, so that recording a new leave never takes an exemption away from a past week."""

    __tablename__ = "leaves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Member(Base):
    """One account on one platform (platform + user id as text) belonging to a person."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(ID_MAX))
    display_name: Mapped[str] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The person has opened a private chat with the bot (so private messages can reach them).
    private_chat_id: Mapped[str | None] = mapped_column(String(64))
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)

    person: Mapped[Person] = relationship(lazy="raise")


class Group(Base):
    """One group chat on one platform, bound to exactly one unit once registered."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(255))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    community: Mapped[bool] = mapped_column(Boolean, default=False)
    # False once the bot was removed: nothing is sent there until it is added back.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    can_read: Mapped[bool] = mapped_column(Boolean, default=True)
    bound_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class GroupMembership(Base):
    """A member seen in a group; the home-unit rule reads ``first_seen_at`` and ``active``."""

    __tablename__ = "group_memberships"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UnitRole(Base):
    """A person's role in a unit: ``admin`` (by admin code), ``chat_admin`` (seen as a group
    administrator, for the dashboard), ``officer`` (communications officer, SPEC §3.1 item 7)."""

    __tablename__ = "unit_roles"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Submission(Base):
    """One link one person submitted (SPEC §2 Submission)."""

    __tablename__ = "submissions"
    __table_args__ = (
        # A redelivered message (same chat, message id and link) is a conflict: it changes nothing.
        UniqueConstraint("chat_platform", "chat_id", "message_id", "canonical_url"),
        # A person is credited once per post, over the submissions not withdrawn.
        Index(
            "uq_submissions_person_link_live",
            "person_id",
            "canonical_url",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL AND person_id IS NOT NULL"),
            postgresql_where=text("withdrawn_at IS NULL AND person_id IS NOT NULL"),
        ),
        Index("ix_submissions_unit_created", "unit_id", "created_at"),
        Index("ix_submissions_person_created", "person_id", "created_at"),
        # Province-wide views and reports scan one period of every unit.
        Index("ix_submissions_created", "created_at"),
        # Page posts of a subtree: each registered page's live links over a period (with the
        # post's URL, so that the index alone answers), and the few links marked #trang per
        # unit (SQLite matches a partial index by its condition's text).
        Index("ix_submissions_page_key_created", "page_key", "created_at", "canonical_url",
              sqlite_where=text("withdrawn_at IS NULL"), postgresql_where=text("withdrawn_at IS NULL")),
        Index("ix_submissions_page_post", "page_unit_id", "created_at",
              sqlite_where=text("is_page_post = 1"), postgresql_where=text("is_page_post")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # NULL after `members forget`: the unit keeps the count, the person is gone.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    chat_platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(ID_MAX))
    message_id: Mapped[str] = mapped_column(String(ID_MAX))
    original_url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(String(2048))
    link_platform: Mapped[str] = mapped_column(String(16))
    page_key: Mapped[str | None] = mapped_column(String(PAGE_KEY_MAX))
    # Marked with #trang by an admin or communications officer: a page post of ``page_unit_id``
    # whatever its page key (share links name no page). Posts of registered pages are found by
    # joining ``page_key`` with ``unit_pages`` when counting, so they need no mark.
    is_page_post: Mapped[bool] = mapped_column(Boolean, default=False)
    page_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # "edit" (the link left the message: an edit may bring it back) or "undo" (/huy: final).
    withdrawn_reason: Mapped[str | None] = mapped_column(String(16))


# The sweeper reads only claims still held (their lease may have expired) or released for a retry.
OPEN_CLAIM = "status IN ('claimed', 'released')"


class SentMessage(Base):
    """The scheduled-send log: one row per (chat, kind, period), claimed before the send.

    ``status``: claimed (committed before the send; ``lease_until`` says until when the claiming
    instance owns it), sent, failed (for good: never retried), released (a transient failure:
    free to be claimed again; the row stays, with ``attempts``). ``payload`` holds the message as
    it was composed, so that the sweeper can finish a send whose instance died without
    composing it again. Claim and lease times come from the database server's clock.
    """

    __tablename__ = "sent_messages"
    __table_args__ = (
        UniqueConstraint("chat_platform", "chat_id", "kind", "period"),
        # The sweeper's questions ("which claims outlived their lease?", "which may be retried?")
        # read only these rows, never the whole history of sends.
        Index("ix_sent_messages_open_lease", "lease_until",
              sqlite_where=text(OPEN_CLAIM), postgresql_where=text(OPEN_CLAIM)),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # reminder, leaderboard, monthly, manual, hint…
    period: Mapped[str] = mapped_column(String(64))  # "2026-W48", "2026-11", "2026-11-27"
    instance: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    lease_until: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="claimed")  # claimed|sent|failed|released
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    payload: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)


class AuditLog(Base):
    """Every credit, withdrawal and admin action: who, what, when, in which chat (SPEC §3.7)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str | None] = mapped_column(String(96))  # platform:user_id, "cli", "scheduler"
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32), index=True)
    chat: Mapped[str | None] = mapped_column(String(96))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    detail: Mapped[str | None] = mapped_column(Text)


# ---------------------------------------------------------------------------------------------
# Later features whose rows the core already knows (migration 0003): linked accounts, the pages
# of the week and nominations, the dashboard's sign-in, download links, seen webhook deliveries.


class LinkCode(Base):
    """A one-time code from /lienket: typed on another platform, it merges the two accounts'
    persons into one (SPEC §3.2)."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))  # where the code was shown
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class FocusItem(Base):
    """One of the week's focus items set by a parent unit for its subtree (/tieudiem): a page
    (any post of it counts) or a single post. ``item_key`` is the page key or the canonical URL."""

    __tablename__ = "focus_items"
    __table_args__ = (UniqueConstraint("unit_id", "week", "item_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    week: Mapped[str] = mapped_column(String(16), index=True)  # "2026-W48"
    kind: Mapped[str] = mapped_column(String(8))  # page | post
    item_key: Mapped[str] = mapped_column(String(2048))
    url: Mapped[str] = mapped_column(String(2048))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Nomination(Base):
    """A post a unit sent up to its parent (/guilen); pending until the parent puts it in focus."""

    __tablename__ = "nominations"
    __table_args__ = (UniqueConstraint("unit_id", "canonical_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    canonical_url: Mapped[str] = mapped_column(String(2048))
    original_url: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | promoted
    promoted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebToken(Base):
    """A signed-in secret of the dashboard, stored only as a hash: a one-use login link (``login``,
    10 minutes), a session cookie (``session``, 8 hours) or a report download link (``download``,
    24 hours; ``subject`` names the unit and period)."""

    __tablename__ = "web_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # login | session | download
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SeenDelivery(Base):
    """A platform delivery already handled (Zalo's webhook has no offset and may redeliver):
    inserted in the handling transaction, so a redelivery is recognised by the database."""

    __tablename__ = "seen_deliveries"
    __table_args__ = (UniqueConstraint("platform", "delivery_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(128))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ViewStamp(Base):
    """One row: how many committed transactions have written a table the views read. A cached
    view built at version v is true while the row still says v (handlers/views.py)."""

    __tablename__ = "view_stamp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
