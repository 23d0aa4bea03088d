"""A generated province (seeded): the database every scale benchmark reads.

    .venv/bin/python bench/generate.py [--out /tmp/province.db | --url postgresql+asyncpg://…]
                                       [--scale 1] [--people N] [--links N] [--seed 2026]

1 department, 10 offices, 530 schools and centres (THPT and continuing-education centres straight
under the department, the rest under the offices), 18,000 people (a third party members, some on
leave, some with a second account), one bound Telegram group per school, each school's and
office's Facebook page registered, and a school year of links (≈ 1 M) with a weekly rhythm:
Friday peaks, the whole school sharing its own page's post (the same post many times), a few
same-person repeats that the product refuses (not stored), withdrawals, laggards who never or
rarely share, and holiday weeks (2/9, Tết) with almost nothing. ``--scale`` multiplies units,
people and links; ``--links`` overrides the number of links (smoke tests use a few hundred).

The schema comes from the product's own migration; rows go in with executemany in large
transactions (sqlite3 directly on SQLite) or asyncpg's COPY (PostgreSQL: the filled tables'
secondary indexes and keys are built once at the end from their own definitions), then ANALYZE.
The benchmarks' clock is ``BENCH_NOW``: Friday 22/05/2026 15:00 in Hà Nội, the last week of
the generated year, so that every week of history lies in the past.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import default_config  # noqa: E402
from bot.domain.periods import SchoolCalendar  # noqa: E402

UTC = timezone.utc
HANOI = timedelta(hours=7)
# The generated school year, and the benchmarks' "now" (its last Friday, 15:00 in Hà Nội).
YEAR_FIRST = date(2025, 9, 5)
YEAR_LAST = date(2026, 5, 24)
BENCH_NOW = datetime(2026, 5, 22, 8, 0, tzinfo=UTC)
HOLIDAYS = ((date(2025, 9, 1), date(2025, 9, 2)), (date(2026, 2, 14), date(2026, 2, 22)),
            (date(2026, 4, 30), date(2026, 5, 1)))
DEFAULT_OUT = "/tmp/province.db"

BASE_SCHOOLS = 530
BASE_OFFICES = 10
BASE_DIRECT = 50  # THPT schools and centres straight under the department
BASE_PEOPLE = 18_000
BASE_LINKS = 1_000_000

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
          "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Quách", "Bạch", "Hà"]
MIDDLE = ["Thị", "Văn", "Thị Thu", "Thị Minh", "Văn Đức", "Ngọc", "Minh", "Thanh", "Hữu", "Quang",
          "Thị Hồng", "Xuân", "Đình", "Thị Lan"]
GIVEN = ["An", "Anh", "Ánh", "Bình", "Cúc", "Chi", "Dũng", "Dung", "Đào", "Giang", "Hà", "Hải",
         "Hạnh", "Hiền", "Hoa", "Huệ", "Hùng", "Hương", "Khánh", "Lan", "Liên", "Linh", "Loan",
         "Mai", "Minh", "Nam", "Nga", "Ngọc", "Nhung", "Oanh", "Phương", "Quân", "Quỳnh", "Sơn",
         "Tâm", "Thảo", "Thắng", "Thủy", "Trang", "Tú", "Tuấn", "Uyên", "Vân", "Việt", "Xuân", "Yến"]
DISTRICTS = ["Kim Bôi", "Lạc Sơn", "Mai Châu", "Tân Lạc", "Cao Phong", "Lạc Thủy", "Yên Thủy",
             "Lương Sơn", "Đà Bắc", "Hòa Bình"]
PLACES = ["Vĩnh Đồng", "Hạ Bì", "Nam Thượng", "Sào Báy", "Mị Hòa", "Hợp Tiến", "Tú Sơn", "Bình Sơn",
          "Đông Bắc", "Thượng Bì", "Trung Bì", "Kim Lập", "Cuối Hạ", "Nuông Dăm", "Vụ Bản", "Ân Nghĩa"]
NEWS = ["vnexpress.net", "tuoitre.vn", "thanhnien.vn", "dantri.com.vn", "vietnamnet.vn",
        "giaoducthoidai.vn", "baohoabinh.com.vn", "nhandan.vn"]
# Monday … Sunday: Friday is reminder day and the peak.
DAY_WEIGHTS = [10, 11, 12, 14, 30, 14, 9]


def bench_config(url: str):
    """The configuration every benchmark uses: defaults, the database, the generated holidays."""
    cfg = default_config()
    return replace(cfg, database=replace(cfg.database, url=url),
                   calendar=SchoolCalendar(holidays=HOLIDAYS))


def sqlite_url(path: str | Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@dataclass
class Counts:
    units: int = 0
    people: int = 0
    members: int = 0
    groups: int = 0
    links: int = 0
    withdrawn: int = 0
    refused_repeats: int = 0
    party: int = 0
    on_leave: int = 0
    two_accounts: int = 0
    extra: dict = field(default_factory=dict)


class Progress:
    """A bar on stderr only when stderr is a terminal (SPEC §4.1); silent when piped."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done = max(total, 1), label, 0
        self.on = sys.stderr.isatty()
        self._last = 0.0

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.on and (now - self._last > 0.2 or self.done >= self.total):
            self._last = now
            width = 30
            filled = int(width * min(self.done, self.total) / self.total)
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                             f"{min(self.done, self.total):,}/{self.total:,}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.on:
            sys.stderr.write("\n")


# --- writers ------------------------------------------------------------------------------------

def _sqlite_value(v):
    # The same text SQLAlchemy's SQLite DateTime/Date types write, so comparisons in queries agree.
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v


class SqliteWriter:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA synchronous=OFF")  # a generator: a crash means run it again
        self.db.execute("PRAGMA foreign_keys=OFF")
        self.db.execute("BEGIN")

    async def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        self.db.executemany(sql, ([_sqlite_value(v) for v in r] for r in rows))

    async def commit(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    async def close(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("ANALYZE")
        self.db.close()


class CopyWriter:
    """PostgreSQL: asyncpg's COPY on one plain connection (46 M links in ≈ 23 min here; SQLAlchemy's
    executemany binds and sends every row's parameters one statement at a time).

    The schema is the product's migration. Before the first row, the filled tables' secondary
    indexes, unique constraints and foreign keys are dropped, and at the end re-created from the
    very definitions PostgreSQL gave for them (``pg_get_constraintdef``, ``pg_indexes``), then
    checked to be the same: building an index once over sorted rows is much faster than keeping
    it up to date row by row, and foreign keys are checked once by one join, not per row.
    """

    TABLES = ("units", "unit_pages", "persons", "members", "leaves", "groups", "group_memberships",
              "unit_roles", "submissions")

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = None
        self.saved: tuple[list, list] | None = None

    async def _connect(self):
        if self.conn is None:
            import asyncpg

            self.conn = await asyncpg.connect(self.dsn)
            self.saved = await self._definitions()
            await self._drop(*self.saved)
        return self.conn

    async def _definitions(self) -> tuple[list, list]:
        """(constraints, indexes) of the filled tables other than their primary keys."""
        constraints = await self.conn.fetch(
            "SELECT c.conrelid::regclass::text AS tab, c.conname AS name, c.contype::text AS kind, "
            "       pg_get_constraintdef(c.oid) AS def "
            "FROM pg_constraint c WHERE c.conrelid = ANY($1::regclass[]) AND c.contype IN ('u', 'f') "
            "ORDER BY 1, 2", list(self.TABLES))
        indexes = await self.conn.fetch(
            "SELECT i.tablename AS tab, i.indexname AS name, i.indexdef AS def FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[]) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname "
            "                AND c.conrelid = (quote_ident(i.tablename))::regclass) "
            "ORDER BY 1, 2", list(self.TABLES))
        return [tuple(r) for r in constraints], [tuple(r) for r in indexes]

    async def _drop(self, constraints, indexes) -> None:
        for tab, name, kind, _ in sorted(constraints, key=lambda c: c[2] != "f"):  # foreign keys first
            await self.conn.execute(f'ALTER TABLE {tab} DROP CONSTRAINT "{name}"')
        for _, name, _ in indexes:
            await self.conn.execute(f'DROP INDEX "{name}"')

    async def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if rows:
            conn = await self._connect()
            await conn.copy_records_to_table(table, records=rows, columns=list(columns))

    async def commit(self) -> None:
        pass  # COPY commits each batch itself (autocommit): a crash means run it again

    async def close(self) -> None:
        conn = await self._connect()
        constraints, indexes = self.saved
        for tab, name, kind, definition in sorted(constraints, key=lambda c: c[2] == "f"):  # keys last
            await conn.execute(f'ALTER TABLE {tab} ADD CONSTRAINT "{name}" {definition}')
        for _, _, definition in indexes:
            await conn.execute(definition)
        if await self._definitions() != self.saved:
            raise RuntimeError("the re-created indexes and constraints differ from the migration's")
        # Ids were given explicitly: move the sequences past them for the bot's own rows.
        for table in ("units", "persons", "members", "groups", "submissions", "leaves", "unit_pages"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT coalesce(max(id), 1) FROM {table}))")
        # VACUUM too: rows just copied have no visibility map yet, so an index-only scan would
        # visit the heap until autovacuum came by; a database in use has been vacuumed.
        await conn.execute("VACUUM (ANALYZE)")
        await conn.close()


# --- the province -------------------------------------------------------------------------------

def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _code(rng: random.Random, taken: set[str]) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        c = "".join(rng.choice(alphabet) for _ in range(8))
        if c not in taken:
            taken.add(c)
            return c


def _school_weeks() -> list[date]:
    """Mondays of the generated school year."""
    monday = YEAR_FIRST - timedelta(days=YEAR_FIRST.weekday())
    out = []
    while monday <= YEAR_LAST:
        out.append(monday)
        monday += timedelta(days=7)
    return out


def _is_holiday(day: date) -> bool:
    return any(lo <= day <= hi for lo, hi in HOLIDAYS)


def _holiday_share(monday: date) -> float:
    """The share of a week's days that are holidays (0 … 1)."""
    return sum(1 for i in range(7) if _is_holiday(monday + timedelta(days=i))) / 7


async def build(writer, *, scale: float = 1.0, people: int | None = None, links: int | None = None,
                seed: int = 2026, since: date | None = None, progress: bool = True) -> Counts:
    rng = random.Random(seed)
    counts = Counts()
    created = datetime(2025, 8, 25, 1, 0, tzinfo=UTC)
    n_schools = max(2, round(BASE_SCHOOLS * scale))
    n_offices = max(1, round(BASE_OFFICES * scale))
    n_direct = max(1, round(BASE_DIRECT * scale))
    n_people = people if people is not None else max(10, round(BASE_PEOPLE * scale))
    n_links = links if links is not None else round(BASE_LINKS * scale)
    taken: set[str] = set()

    # Units: ids are assigned here so paths need no second pass.
    unit_cols = ("id", "code", "name", "type", "parent_id", "path", "depth", "join_code", "admin_code",
                 "staff", "created_at", "updated_at")
    units: list[tuple] = []
    dept_id = 1
    units.append((dept_id, "SGD-TINH", "Sở GD&ĐT tỉnh Hòa Bình", "department", None, "/1/", 0,
                  _code(rng, taken), _code(rng, taken), 60, created, created))
    office_ids = []
    for i in range(n_offices):
        uid = len(units) + 1
        office_ids.append(uid)
        district = DISTRICTS[i % len(DISTRICTS)] + ("" if i < len(DISTRICTS) else f" {i // len(DISTRICTS) + 1}")
        units.append((uid, f"PGD-{i + 1:03d}", f"Phòng GD&ĐT {district}", "office", dept_id,
                      f"/1/{uid}/", 1, _code(rng, taken), _code(rng, taken), 12, created, created))
    school_ids = []
    kinds = ["Mầm non", "Tiểu học", "THCS", "TH&THCS"]
    for i in range(n_schools):
        uid = len(units) + 1
        school_ids.append(uid)
        place = f"{PLACES[i % len(PLACES)]} {i // len(PLACES) + 1}"
        if i < n_direct:
            parent = dept_id
            name = (f"Trung tâm GDNN-GDTX {place}" if i % 5 == 4 else f"Trường THPT {place}")
            path, depth = f"/1/{uid}/", 1
        else:
            parent = office_ids[i % n_offices]
            name = f"Trường {kinds[i % len(kinds)]} {place}"
            path, depth = f"/1/{parent}/{uid}/", 2
        units.append((uid, f"TRUONG-{i + 1:05d}", name, "school", parent, path, depth,
                      _code(rng, taken), _code(rng, taken), None, created, created))
    await writer.insert("units", unit_cols, units)
    counts.units = len(units)
    slug = {u[0]: u[1].lower().replace("-", "") for u in units}

    # Registered pages: every office's and school's own page, the department's.
    pages = [(u[0], f"facebook:{slug[u[0]]}", f"https://www.facebook.com/{slug[u[0]]}", created) for u in units]
    await writer.insert("unit_pages", ("unit_id", "page_key", "url", "created_at"), pages)

    # People: a few at the department and offices, the rest spread over schools (THPT larger).
    weights = [3.0 if i < n_direct else 1.0 + rng.random() for i in range(n_schools)]
    staff_units = [dept_id] * 40 + [o for o in office_ids for _ in range(10)]
    homes = staff_units[:n_people] + rng.choices(school_ids, weights=weights, k=max(0, n_people - len(staff_units)))
    person_rows, member_rows, leave_rows, membership_rows, role_rows = [], [], [], [], []
    # Each person: (person id, home unit, member ids, activity level).
    people_info: list[tuple[int, int, list[int], float, datetime]] = []
    member_id = 0
    school_year_start = datetime(2025, 9, 5, 1, 0, tzinfo=UTC)
    for pid in range(1, len(homes) + 1):
        home = homes[pid - 1]
        party = rng.random() < 1 / 3
        # Most joined at the start of the year; some came later (new staff, late joiners).
        joined = school_year_start if rng.random() < 0.85 else school_year_start + timedelta(
            days=rng.randint(7, 200), hours=rng.randint(0, 12))
        person_rows.append((pid, home, False, party, joined))
        counts.party += party
        name = _name(rng)
        accounts = 2 if rng.random() < 0.05 else 1
        counts.two_accounts += accounts == 2
        ids = []
        for a in range(accounts):
            member_id += 1
            ids.append(member_id)
            platform = "telegram" if a == 0 else "zalo"
            user_id = str(6_000_000_000 + pid) if a == 0 else f"z{pid:09d}"
            username = f"gv{pid}" if rng.random() < 0.4 else None
            private = user_id if rng.random() < 0.35 else None
            active = rng.random() > 0.01
            member_rows.append((member_id, pid, platform, user_id, name, username, active, private, False,
                                joined, joined))
        if rng.random() < 0.03:  # maternity or sick leave: weeks to months
            first = YEAR_FIRST + timedelta(days=rng.randint(0, 240))
            leave_rows.append((pid, first, first + timedelta(days=rng.randint(6, 120)), joined))
            counts.on_leave += 1
        # Activity: a tenth never share (the laggards), a fifth rarely, the rest weekly or more.
        r = rng.random()
        level = 0.0 if r < 0.10 else (0.3 if r < 0.30 else (1.0 if r < 0.85 else 2.5))
        people_info.append((pid, home, ids, level, joined))
    await writer.insert("persons", ("id", "home_unit_id", "home_unit_explicit", "party_member", "created_at"),
                        person_rows)
    await writer.insert("members", ("id", "person_id", "platform", "user_id", "display_name", "username",
                                    "active", "private_chat_id", "unreachable", "created_at", "last_seen_at"),
                        member_rows)
    await writer.insert("leaves", ("person_id", "first_day", "last_day", "created_at"), leave_rows)
    counts.people, counts.members = len(person_rows), len(member_rows)

    # One bound Telegram group per school; the first person of each school is its admin.
    group_rows = []
    group_of: dict[int, tuple[int, str]] = {}
    for n, uid in enumerate(school_ids, start=1):
        chat_id = str(-1001_000_000_000 - uid)
        group_rows.append((n, "telegram", chat_id, f"Truyền thông {units[uid - 1][2]}", uid, False, True, True,
                           created, created))
        group_of[uid] = (n, chat_id)
    await writer.insert("groups", ("id", "platform", "chat_id", "title", "unit_id", "community", "active",
                                   "can_read", "bound_at", "created_at"), group_rows)
    counts.groups = len(group_rows)
    first_of: dict[int, int] = {}
    for pid, home, ids, _, joined in people_info:
        first_of.setdefault(home, pid)
        if home in group_of:
            membership_rows.append((group_of[home][0], ids[0], True, joined, joined))
    role_rows = [(uid, pid, "admin", created) for uid, pid in first_of.items()]
    await writer.insert("group_memberships", ("group_id", "member_id", "active", "first_seen_at", "last_seen_at"),
                        membership_rows)
    await writer.insert("unit_roles", ("unit_id", "person_id", "role", "created_at"), role_rows)
    await writer.commit()

    await _links(writer, rng, counts, units, people_info, group_of, slug, n_links, since, progress)
    await writer.close()
    return counts


async def _links(writer, rng, counts, units, people_info, group_of, slug, n_links, since, progress) -> None:
    parent_of = {u[0]: u[4] for u in units}
    weeks = _school_weeks()
    week_weight = [(1 - _holiday_share(m)) * (0.9 + 0.2 * rng.random()) + 0.01 for m in weeks]
    total_weight = sum(week_weight)
    activity = sum(p[3] for p in people_info) or 1.0
    cols = ("id", "person_id", "member_id", "unit_id", "group_id", "chat_platform", "chat_id", "message_id",
            "original_url", "canonical_url", "link_platform", "page_key", "is_page_post", "page_unit_id",
            "created_at", "withdrawn_at", "withdrawn_reason")
    bar = Progress(n_links, "links") if progress and since is None else None
    next_id = 1
    message_ids: dict[str, int] = {}
    post_seq = 0
    # Hashes of (person, post) already credited over the year (a hash clash only skips a link).
    seen: set[int] = set()
    batch: list[tuple] = []
    for w, monday in enumerate(weeks):
        quota = round(n_links * week_weight[w] / total_weight)
        if quota <= 0 or (since is not None and monday + timedelta(days=6) < since):
            continue  # ``since``: only the recent weeks, at the rate a whole year would have
        # This week's posts: each unit publishes a few; people share their own school's, their
        # office's and the department's (the same post shared by many people).
        week_posts: dict[int, list[str]] = {}
        for u in units:
            n_posts = 1 + (u[3] != "school") * 2 + (rng.random() < 0.4)
            posts = []
            for _ in range(n_posts):
                post_seq += 1
                posts.append(f"https://www.facebook.com/{slug[u[0]]}/posts/{10_000_000 + post_seq}")
            week_posts[u[0]] = posts
        # Nobody shares on a holiday: its days get no links, the rest of the week keeps its rhythm.
        day_weights = [0 if _is_holiday(monday + timedelta(days=i)) else DAY_WEIGHTS[i] for i in range(7)]
        if not any(day_weights):
            continue
        done_this_week = 0
        # Who shares how often this week: activity level times noise, scaled to the quota.
        per_unit = quota / activity
        order = list(people_info)
        rng.shuffle(order)
        for pid, home, member_ids, level, joined in order:
            if level == 0.0 or done_this_week >= quota:
                continue
            k = int(per_unit * level * (0.5 + rng.random()) + rng.random())
            for _ in range(k):
                if done_this_week >= quota:
                    break
                day = rng.choices(range(7), weights=day_weights)[0]
                local = datetime.combine(monday + timedelta(days=day), datetime.min.time()) + timedelta(
                    hours=rng.randint(6, 21), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))
                at = (local - HANOI).replace(tzinfo=UTC)
                if at < joined or at > BENCH_NOW:
                    continue
                r = rng.random()
                page_key = None
                if r < 0.55:
                    url = rng.choice(week_posts[home])
                    page_key = f"facebook:{url.split('/')[3]}"
                elif r < 0.75:
                    up = parent_of.get(home) or home
                    url = rng.choice(week_posts[up])
                    page_key = f"facebook:{url.split('/')[3]}"
                elif r < 0.9:
                    url = f"https://{rng.choice(NEWS)}/giao-duc/bai-{rng.randint(1, 4_000_000)}.html"
                else:
                    url = f"https://www.youtube.com/watch?v={rng.getrandbits(48):012x}"
                if hash((pid, url)) in seen:
                    # The product credits a person once per post: the repeat is not stored, and
                    # the person goes on to share something else.
                    counts.refused_repeats += 1
                    while hash((pid, url)) in seen:
                        url, page_key = f"https://{rng.choice(NEWS)}/giao-duc/bai-{rng.randint(1, 9_999_999)}.html", None
                seen.add(hash((pid, url)))
                gid, chat_id = group_of.get(home, (None, f"private-{pid}"))
                message_ids[chat_id] = message_ids.get(chat_id, 0) + 1
                withdrawn = reason = None
                if rng.random() < 0.01:
                    withdrawn, reason = at + timedelta(minutes=rng.randint(1, 90)), rng.choice(("undo", "edit"))
                    counts.withdrawn += 1
                platform = "facebook" if "facebook" in url else ("youtube" if "youtube" in url else "news")
                batch.append((next_id, pid, member_ids[0], home, gid, "telegram" if gid else "private",
                              chat_id, str(message_ids[chat_id]), url, url, platform, page_key, False, None,
                              at, withdrawn, reason))
                next_id += 1
                done_this_week += 1
                if len(batch) >= 20_000:
                    await writer.insert("submissions", cols, batch)
                    if bar:
                        bar.add(len(batch))
                    batch = []
        if batch:
            await writer.insert("submissions", cols, batch)
            if bar:
                bar.add(len(batch))
            batch = []
        await writer.commit()
    counts.links = next_id - 1
    if bar:
        bar.close()


async def generate(*, out: str | None = None, url: str | None = None, **kw) -> Counts:
    """Create the schema with the product's migration, then fill it. ``out``: a SQLite file
    (replaced if it exists); ``url``: any database URL (PostgreSQL: an empty database)."""
    from bot.app import open_storage

    if url is None:
        path = Path(out or DEFAULT_OUT)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = sqlite_url(path)
    storage = await open_storage(bench_config(url))
    await storage.close()
    if url.startswith("sqlite"):
        writer = SqliteWriter(url.split(":///", 1)[1])
    elif url.startswith("postgresql"):
        writer = CopyWriter(url)
    else:
        raise ValueError(f"bench/generate.py writes SQLite or PostgreSQL, not {url.split(':', 1)[0]}")
    return await build(writer, **kw)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=None, help=f"SQLite file to (re)create (default {DEFAULT_OUT})")
    p.add_argument("--url", default=None, help="a database URL instead (PostgreSQL: an empty database)")
    p.add_argument("--scale", type=float, default=1.0, help="1 = a province; 50 = a nation")
    p.add_argument("--people", type=int, default=None, help="override the number of people")
    p.add_argument("--links", type=int, default=None, help="override the number of links")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--since", type=date.fromisoformat, default=None,
                   help="links only from this day (YYYY-MM-DD), at a whole year's rate")
    a = p.parse_args(argv)
    start = time.perf_counter()
    c = asyncio.run(generate(out=a.out, url=a.url, scale=a.scale, people=a.people, links=a.links, seed=a.seed,
                                 since=a.since))
    print(f"generated in {time.perf_counter() - start:.1f} s: {c.units} units, {c.people} people "
          f"({c.party} party members, {c.on_leave} with a leave, {c.two_accounts} with two accounts), "
          f"{c.members} accounts, {c.groups} groups, {c.links} links ({c.withdrawn} withdrawn; "
          f"{c.refused_repeats} same-person repeats not stored)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
