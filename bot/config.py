"""config.toml -> frozen dataclasses (SPEC §4.2); fails fast with one line naming the bad key.

Every key is optional; what is left out takes the default shown in ``config.example.toml``.
Three environment variables override the file (an empty variable counts as unset):

- ``LANTOA_TELEGRAM_TOKEN`` -> ``[telegram] token``
- ``LANTOA_ZALO_TOKEN``     -> ``[zalo] token``
- ``LANTOA_DATABASE_URL``   -> ``[database] url`` (keeps a database password out of the file)

Decisions where SPEC §4.2 is silent:

- A platform is on only with ``enabled = true`` (SPEC §4.2: ``enabled`` defaults to false, and
  the platform is off when its section or the file is absent): a section that merely holds a
  token, as the example file does, switches nothing on.
- ``[database] url`` must name a driver this build ships: ``sqlite+aiosqlite`` or
  ``postgresql+asyncpg``. Anything else (``sqlite:///``, ``postgresql://``, ``mysql+…``) is refused
  here with the async URL to write instead, rather than as a driver error at the first query.
- ``[unit_types.X]`` adds to or overrides the built-in types; a key left out of an overridden
  built-in keeps the built-in value, a new type without ``name`` is named by its key and one
  without ``weekly_page_posts`` has no page-post target (0).
- ``holidays`` entries are "YYYY-MM-DD..YYYY-MM-DD" (inclusive) or one "YYYY-MM-DD" day.
- ``super_admins`` entries are "platform:id" for a known platform; Telegram ids are numbers.

Secrets (tokens, webhook secrets, the database URL, which may hold a password) never appear in
an error message or a ``repr``.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.periods import SchoolCalendar
from bot.domain.schedule import MonthlyAt, WeeklyAt, parse_schedule

__all__ = [
    "ConfigError",
    "FrozenMap",
    "BotSection",
    "DatabaseSection",
    "TelegramSection",
    "ZaloSection",
    "WebSection",
    "ScheduleSection",
    "QuotaSection",
    "UnitType",
    "LinksSection",
    "Config",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_UNIT_TYPES",
    "ENV_TELEGRAM_TOKEN",
    "ENV_ZALO_TOKEN",
    "ENV_DATABASE_URL",
    "KNOWN_PLATFORMS",
    "load_config",
    "default_config",
]

DEFAULT_CONFIG_PATH = Path("config.toml")
ENV_TELEGRAM_TOKEN = "LANTOA_TELEGRAM_TOKEN"
ENV_ZALO_TOKEN = "LANTOA_ZALO_TOKEN"
ENV_DATABASE_URL = "LANTOA_DATABASE_URL"
KNOWN_PLATFORMS = ("telegram", "zalo", "console")

# Quotas and targets above this are typing mistakes, and they would overflow nothing but trust.
_MAX_COUNT = 1000

K = TypeVar("K")
V = TypeVar("V")


class ConfigError(Exception):
    """A configuration problem; ``str(e)`` is one Vietnamese line naming the file and the key."""

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None):
        self.source = source
        self.key = key
        self.message = message
        # One line whatever went in: the CLI prints it as is and exits 2.
        super().__init__(" ".join(": ".join(p for p in (source, key, message) if p).split()))


class FrozenMap(Mapping[K, V]):
    """A read-only, hashable mapping: frozen dataclasses stay frozen (and hashable) all the way."""

    __slots__ = ("_data",)

    def __init__(self, items: Mapping[K, V] | None = None) -> None:
        self._data: dict[K, V] = dict(items or {})

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


# ---------------------------------------------------------------------------------------------
# The sections


@dataclass(frozen=True)
class BotSection:
    """[bot]: the time zone of weeks and months, and the operator's super-admins."""

    timezone: str = "Asia/Ho_Chi_Minh"
    super_admins: tuple[str, ...] = ()
    log_format: str = "text"  # or "json": one JSON object a line, for log collectors

    @property
    def tz(self) -> ZoneInfo:
        """The configured zone (ZoneInfo caches instances, so this is cheap)."""
        return ZoneInfo(self.timezone)


_URL_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")
_MASK = r"\1***@"


@dataclass(frozen=True)
class DatabaseSection:
    """[database]: an SQLAlchemy async URL; a relative SQLite path is relative to the cwd."""

    url: str = "sqlite+aiosqlite:///lantoa.db"

    def __repr__(self) -> str:
        # A PostgreSQL URL may carry a password: logs must not.
        return f"DatabaseSection(url={_URL_PASSWORD.sub(_MASK, self.url)!r})"


@dataclass(frozen=True)
class TelegramSection:
    """[telegram]: off unless ``enabled = true``; the token never shows in a repr."""

    enabled: bool = False
    token: str = field(default="", repr=False)
    base_url: str = "https://api.telegram.org/bot"
    mode: str = "polling"
    secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class ZaloSection:
    """[zalo]: off unless ``enabled = true``; the token never shows in a repr."""

    enabled: bool = False
    token: str = field(default="", repr=False)
    base_url: str = "https://bot-api.zaloplatforms.com/bot"
    mode: str = "polling"
    secret: str = field(default="", repr=False)
    dm_per_second: float = 5.0


@dataclass(frozen=True)
class WebSection:
    """[web]: where webhooks, /healthz, downloads and the dashboard are served."""

    listen: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""  # without a trailing slash


@dataclass(frozen=True)
class ScheduleSection:
    """[schedule]: when the scheduled jobs run (None = off) and how late a missed run may be."""

    weekly_reminder: WeeklyAt | None = WeeklyAt(4, time(15, 0))
    weekly_leaderboard: WeeklyAt | None = WeeklyAt(0, time(8, 0))
    monthly_check: MonthlyAt | None = MonthlyAt(None, time(15, 0))
    grace_hours: float = 6.0


@dataclass(frozen=True)
class QuotaSection:
    """[quotas]: weekly and monthly minimums per person, and the links counted per message."""

    staff_weekly: int = 1
    party_weekly: int = 1
    party_monthly: int = 4
    max_links_per_message: int = 10


@dataclass(frozen=True)
class UnitType:
    """[unit_types.<key>]: a kind of unit, its display name and weekly page-post target."""

    key: str
    name: str
    weekly_page_posts: int


DEFAULT_UNIT_TYPES: Mapping[str, UnitType] = FrozenMap(
    {
        "school": UnitType("school", "Trường học", 1),
        "office": UnitType("office", "Phòng GD&ĐT", 3),
        "department": UnitType("department", "Sở GD&ĐT", 4),
    }
)


@dataclass(frozen=True)
class LinksSection:
    """[links]: the optional source policy and extra press outlets (lower-case host names)."""

    allowed_domains: tuple[str, ...] = ()
    news_domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    """The whole configuration; ``source`` is the file it came from (None: defaults only)."""

    bot: BotSection = field(default_factory=BotSection)
    database: DatabaseSection = field(default_factory=DatabaseSection)
    telegram: TelegramSection = field(default_factory=TelegramSection)
    zalo: ZaloSection = field(default_factory=ZaloSection)
    web: WebSection = field(default_factory=WebSection)
    schedule: ScheduleSection = field(default_factory=ScheduleSection)
    quotas: QuotaSection = field(default_factory=QuotaSection)
    unit_types: Mapping[str, UnitType] = field(default_factory=lambda: DEFAULT_UNIT_TYPES)
    calendar: SchoolCalendar = field(default_factory=SchoolCalendar)
    links: LinksSection = field(default_factory=LinksSection)
    source: Path | None = None

    @property
    def enabled_platforms(self) -> tuple[str, ...]:
        """Names of the chat platforms switched on, in a fixed order."""
        return tuple(
            name for name, section in (("telegram", self.telegram), ("zalo", self.zalo))
            if section.enabled
        )


def default_config() -> Config:
    """The configuration without a file: every platform off, SQLite ./lantoa.db."""
    return Config()


# ---------------------------------------------------------------------------------------------
# Reading values


_MISSING: Any = object()


def _show(value: object, limit: int = 40) -> str:
    """A value echoed in an error, shortened (never call this on a secret)."""
    # Show booleans the way the file spells them: `true`, not Python's `True`.
    text = ("true" if value else "false") if isinstance(value, bool) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Reader:
    """Type-checked access to one table of the file, raising ConfigError naming the key."""

    def __init__(self, source: str, where: str, table: Mapping[str, Any]) -> None:
        self.source = source
        self.where = where  # "[bot]", "[unit_types.school]"
        self.table = table

    def error(self, key: str | None, message: str) -> ConfigError:
        return ConfigError(
            message, source=self.source, key=f"{self.where} {key}" if key else self.where
        )

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.error(key, "khóa không được hỗ trợ")

    def get(self, key: str) -> Any:
        return self.table.get(key, _MISSING)

    def string(self, key: str, default: str, *, secret: bool = False) -> str:
        value = self.get(key)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            shown = "" if secret else f", không phải {_show(value)}"
            raise self.error(key, f"phải là chuỗi trong dấu ngoặc kép{shown}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"phải là true hoặc false, không phải {_show(value)}")
        return value

    def integer(self, key: str, default: int, *, low: int, high: int) -> int:
        value = self.get(key)
        if value is _MISSING:
            return default
        # TOML true/false are Python bools, and bool is an int subclass: refuse them explicitly.
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"phải là số nguyên, không phải {_show(value)}")
        if not low <= value <= high:
            raise self.error(key, f"phải từ {low} đến {high}, không phải {value}")
        return value

    def number(self, key: str, default: float, *, low: float, strict_low: bool = False) -> float:
        value = self.get(key)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"phải là một số, không phải {_show(value)}")
        if not math.isfinite(value):
            raise self.error(key, f"phải là số hữu hạn, không phải {_show(value)}")
        if value < low or (strict_low and value == low):
            rule = f"phải lớn hơn {low:g}" if strict_low else f"không được nhỏ hơn {low:g}"
            raise self.error(key, f"{rule}, không phải {value:g}")
        return float(value)

    def strings(self, key: str) -> list[str] | None:
        value = self.get(key)
        if value is _MISSING:
            return None
        if not isinstance(value, list):
            raise self.error(
                key, f'phải là danh sách chuỗi, ví dụ ["a", "b"], không phải {_show(value)}'
            )
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(f"{key}[{i}]", f"phải là chuỗi, không phải {_show(item)}")
        return value


def _sub_table(source: str, raw: Mapping[str, Any], name: str) -> _Reader | None:
    """The reader of top-level table ``name``, None when the file has no such table."""
    value = raw.get(name, _MISSING)
    if value is _MISSING:
        return None
    if not isinstance(value, dict):
        raise ConfigError(
            f"phải là một mục [{name}], không phải một giá trị", source=source, key=name
        )
    return _Reader(source, f"[{name}]", value)


def _env(env: Mapping[str, str], name: str) -> str | None:
    """An environment override, stripped; empty counts as unset (docker passes empty vars)."""
    value = env.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


# ---------------------------------------------------------------------------------------------
# Sections


_SECTIONS = (
    "bot", "database", "telegram", "zalo", "web", "schedule", "quotas", "unit_types",
    "calendar", "links",
)


def _bot(r: _Reader | None) -> BotSection:
    if r is None:
        return BotSection()
    r.check_keys(("timezone", "super_admins", "log_format"))
    name = r.string("timezone", BotSection.timezone).strip()
    if not name:
        raise r.error("timezone", "không được để trống (ví dụ \"Asia/Ho_Chi_Minh\")")
    # "localtime" would silently follow the host's own zone: the one thing this key prevents.
    try:
        if name.lower() == "localtime":
            raise ZoneInfoNotFoundError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise r.error("timezone", f"múi giờ không tồn tại: {_show(name)}") from None
    admins: list[str] = []
    for i, entry in enumerate(r.strings("super_admins") or ()):
        admin = _super_admin(r, f"super_admins[{i}]", entry)
        if admin not in admins:
            admins.append(admin)
    log_format = r.string("log_format", BotSection.log_format).strip().lower()
    if log_format not in ("text", "json"):
        raise r.error("log_format", f"chỉ nhận \"text\" hoặc \"json\", không phải {_show(log_format)}")
    return BotSection(timezone=name, super_admins=tuple(admins), log_format=log_format)


def _super_admin(r: _Reader, key: str, entry: str) -> str:
    text = unicodedata.normalize("NFC", entry).strip()
    platform, sep, user_id = text.partition(":")
    platform, user_id = platform.strip().lower(), user_id.strip()
    if not sep or not platform or not user_id:
        raise r.error(
            key,
            f'phải có dạng "nền_tảng:mã", ví dụ "telegram:123456789", không phải {_show(entry)}',
        )
    if platform not in KNOWN_PLATFORMS:
        known = ", ".join(KNOWN_PLATFORMS)
        raise r.error(key, f"nền tảng {_show(platform)} không có (dùng {known})")
    if platform == "telegram" and not re.fullmatch(r"[0-9]+", user_id):
        raise r.error(key, f"Telegram cần mã số người dùng (user id), không phải {_show(user_id)}")
    return f"{platform}:{user_id}"


def _database(r: _Reader | None, env: Mapping[str, str]) -> DatabaseSection:
    url = DatabaseSection.url
    if r is not None:
        r.check_keys(("url",))
        url = r.string("url", url, secret=True).strip()
        if not url:
            raise r.error("url", "không được để trống (mặc định \"sqlite+aiosqlite:///lantoa.db\")")
        problem = _db_url_problem(url)
        if problem:
            raise r.error("url", problem)
    override = _env(env, ENV_DATABASE_URL)
    if override is not None:
        problem = _db_url_problem(override)
        if problem:
            # The operator may not know the variable is set: name it, and the key it replaces.
            raise ConfigError(
                problem, key=f"{ENV_DATABASE_URL} (biến môi trường, thay cho [database] url)"
            )
        url = override
    return DatabaseSection(url=url)


# The drivers this build installs (pyproject dependencies), by the dialect they serve.
_ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
# Spellings of the dialects seen in other tools' URLs (Heroku's postgres://, libpq's postgresql://).
_DIALECT_ALIASES = {"sqlite": "sqlite", "sqlite3": "sqlite", "postgresql": "postgresql",
                    "postgres": "postgresql", "pgsql": "postgresql"}
_DB_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
_DB_EXAMPLES = '"sqlite+aiosqlite:///lantoa.db" hoặc "postgresql+asyncpg://user:pass@host/db"'


def _db_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be used (one Vietnamese phrase, never echoing the URL), or None.

    The URL may hold a password, so only its scheme is ever shown back.
    """
    m = _DB_URL_SCHEME.match(url)
    if m is None:
        return f"phải là URL cơ sở dữ liệu dạng SQLAlchemy, ví dụ {_DB_EXAMPLES}"
    dialect, _, driver = m[1].partition("+")
    known = _DIALECT_ALIASES.get(dialect.lower())
    if known is None:
        return f"không hỗ trợ cơ sở dữ liệu {_show(dialect)}; chỉ dùng được {_DB_EXAMPLES}"
    wanted = f"{known}+{_ASYNC_DRIVERS[known]}"
    if m[1] != wanted:  # SQLAlchemy looks drivers up by their exact lower-case name
        # sqlite:// and postgresql:// pick a synchronous driver, which the async engine refuses.
        what = f"không hỗ trợ trình điều khiển {_show(driver)}" if driver else (
            "thiếu trình điều khiển bất đồng bộ"
        )
        return f"{what}: hãy viết URL bắt đầu bằng \"{wanted}://\""
    try:
        from sqlalchemy.engine import make_url

        make_url(url)
    except Exception:  # ArgumentError, ValueError (a bad port): the message would echo the URL
        return f"URL không đọc được (kiểm tra cổng và ký tự đặc biệt), ví dụ {_DB_EXAMPLES}"
    return None


def _http_url(r: _Reader, key: str, value: str, *, allow_empty: bool) -> str:
    value = value.strip()
    if not value and allow_empty:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise r.error(key, f"phải là địa chỉ http(s)://…, không phải {_show(value)}")
    try:
        parts.port  # raises ValueError on a port that is not a number or out of range
    except ValueError:
        raise r.error(key, f"cổng không hợp lệ trong {_show(value)}") from None
    return value


# Telegram accepts only these characters in a webhook secret_token (Bot API, setWebhook).
_TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _platform(r: _Reader | None, env: Mapping[str, str], *, env_token: str, cls: type) -> Any:
    """The Telegram or Zalo section: on only with ``enabled = true`` (SPEC §4.2)."""
    defaults = cls()
    override = _env(env, env_token)
    if r is None:
        return cls(token=override or "")
    allowed = ("enabled", "token", "base_url", "mode", "secret")
    if cls is ZaloSection:
        allowed += ("dm_per_second",)
    r.check_keys(allowed)
    # SPEC §4.2: `enabled` defaults to false, so a section copied from the example with only a
    # token filled in does not start talking to a platform the operator has not switched on.
    enabled = r.boolean("enabled", False)
    token = r.string("token", "", secret=True).strip()
    if override is not None:
        token = override
    if token and any(c.isspace() or not c.isprintable() for c in token):
        raise r.error("token", "có khoảng trắng hoặc ký tự lạ (token không được in ra đây)")
    if enabled and not token:
        raise r.error(
            "token",
            f"enabled = true nhưng chưa có token: đặt token trong tệp hoặc biến môi trường "
            f"{env_token} (hoặc đặt enabled = false)",
        )
    base_url = _http_url(r, "base_url", r.string("base_url", defaults.base_url), allow_empty=False)
    mode = r.string("mode", defaults.mode).strip().lower()
    if mode not in ("polling", "webhook"):
        raise r.error("mode", f"phải là \"polling\" hoặc \"webhook\", không phải {_show(mode)}")
    secret = r.string("secret", "", secret=True).strip()
    if secret and cls is TelegramSection and not _TELEGRAM_SECRET.fullmatch(secret):
        raise r.error("secret", "chỉ được gồm A-Z, a-z, 0-9, _ và -, dài 1–256 ký tự (Telegram)")
    if enabled and mode == "webhook" and not secret:
        raise r.error("secret", "mode = \"webhook\" cần một secret không rỗng")
    kwargs: dict[str, Any] = dict(
        enabled=enabled, token=token, base_url=base_url, mode=mode, secret=secret
    )
    if cls is ZaloSection:
        kwargs["dm_per_second"] = r.number(
            "dm_per_second", defaults.dm_per_second, low=0, strict_low=True
        )
    return cls(**kwargs)


def _web(r: _Reader | None) -> WebSection:
    if r is None:
        return WebSection()
    r.check_keys(("listen", "port", "public_url"))
    listen = r.string("listen", WebSection.listen).strip()
    if not listen:
        raise r.error("listen", "không được để trống (ví dụ \"127.0.0.1\" hoặc \"0.0.0.0\")")
    port = r.integer("port", WebSection.port, low=1, high=65535)
    public_url = _http_url(r, "public_url", r.string("public_url", ""), allow_empty=True)
    if public_url:
        parts = urlsplit(public_url)
        if parts.query or parts.fragment:
            raise r.error("public_url", f"không được có ?… hay #…: {_show(public_url)}")
    # Stored without a trailing slash so that f"{public_url}/telegram/webhook" is right.
    return WebSection(listen=listen, port=port, public_url=public_url.rstrip("/"))


def _schedule(r: _Reader | None) -> ScheduleSection:
    defaults = ScheduleSection()
    if r is None:
        return defaults
    r.check_keys(("weekly_reminder", "weekly_leaderboard", "monthly_check", "grace_hours"))
    values: dict[str, Any] = {}
    for key, want, what in (
        ("weekly_reminder", WeeklyAt, "hằng tuần, ví dụ \"fri 15:00\""),
        ("weekly_leaderboard", WeeklyAt, "hằng tuần, ví dụ \"mon 08:00\""),
        ("monthly_check", MonthlyAt, "hằng tháng, ví dụ \"last 15:00\""),
    ):
        text = r.get(key)
        if text is _MISSING:
            values[key] = getattr(defaults, key)
            continue
        if not isinstance(text, str):
            raise r.error(key, f'phải là chuỗi như "fri 15:00" hay "off", không phải {_show(text)}')
        try:
            spec = parse_schedule(text)
        except ValueError as e:
            raise r.error(key, str(e)) from None
        if spec is not None and not isinstance(spec, want):
            raise r.error(key, f"phải là lịch {what} hoặc \"off\", không phải {_show(text)}")
        values[key] = spec
    values["grace_hours"] = r.number("grace_hours", defaults.grace_hours, low=0)
    return ScheduleSection(**values)


def _quotas(r: _Reader | None) -> QuotaSection:
    defaults = QuotaSection()
    if r is None:
        return defaults
    keys = ("staff_weekly", "party_weekly", "party_monthly", "max_links_per_message")
    r.check_keys(keys)
    return QuotaSection(
        staff_weekly=r.integer("staff_weekly", defaults.staff_weekly, low=0, high=_MAX_COUNT),
        party_weekly=r.integer("party_weekly", defaults.party_weekly, low=0, high=_MAX_COUNT),
        party_monthly=r.integer("party_monthly", defaults.party_monthly, low=0, high=_MAX_COUNT),
        max_links_per_message=r.integer(
            "max_links_per_message", defaults.max_links_per_message, low=1, high=_MAX_COUNT
        ),
    )


_UNIT_TYPE_KEY = re.compile(r"[\w-]+")


def _unit_types(source: str, r: _Reader | None) -> Mapping[str, UnitType]:
    if r is None:
        return DEFAULT_UNIT_TYPES
    types = dict(DEFAULT_UNIT_TYPES)
    for key, table in r.table.items():
        where = f"[unit_types.{key}]"
        if not _UNIT_TYPE_KEY.fullmatch(key):
            raise ConfigError(
                "mã loại đơn vị chỉ gồm chữ, số, _ và - (đây là giá trị cột type khi nhập đơn vị)",
                source=source, key=where,
            )
        if not isinstance(table, dict):
            raise ConfigError(
                "phải là một mục có name và weekly_page_posts", source=source, key=where
            )
        t = _Reader(source, where, table)
        t.check_keys(("name", "weekly_page_posts"))
        base = types.get(key)
        name = t.string("name", base.name if base else key).strip()
        if not name:
            raise t.error("name", "không được để trống")
        target = t.integer(
            "weekly_page_posts", base.weekly_page_posts if base else 0, low=0, high=_MAX_COUNT
        )
        name = unicodedata.normalize("NFC", name)
        types[key] = UnitType(key=key, name=name, weekly_page_posts=target)
    return FrozenMap(types)


_MONTH_DAY = re.compile(r"(\d{1,2})-(\d{1,2})")
_ISO_DATE = r"(\d{4})-(\d{2})-(\d{2})"
_HOLIDAY = re.compile(_ISO_DATE + r"(?:\s*\.\.\s*" + _ISO_DATE + r")?")


def _calendar(r: _Reader | None) -> SchoolCalendar:
    defaults = SchoolCalendar()
    if r is None:
        return defaults
    r.check_keys(("school_year_start", "semester2_start", "school_year_end", "holidays", "setup_deadline"))
    values: dict[str, Any] = {}
    for key in ("school_year_start", "semester2_start", "school_year_end"):
        text = r.get(key)
        if text is _MISSING:
            values[key] = getattr(defaults, key)
            continue
        if not isinstance(text, str) or not (m := _MONTH_DAY.fullmatch(text.strip())):
            raise r.error(key, f"phải có dạng \"MM-DD\", ví dụ \"09-01\", không phải {_show(text)}")
        values[key] = (int(m[1]), int(m[2]))
    holidays: list[tuple[date, date]] = []
    for i, text in enumerate(r.strings("holidays") or ()):
        key = f"holidays[{i}]"
        m = _HOLIDAY.fullmatch(text.strip())
        if not m:
            raise r.error(
                key, f"phải có dạng \"YYYY-MM-DD..YYYY-MM-DD\", không phải {_show(text)}"
            )
        try:
            first = date(int(m[1]), int(m[2]), int(m[3]))
            last = date(int(m[4]), int(m[5]), int(m[6])) if m[4] else first
        except ValueError:
            raise r.error(key, f"ngày không tồn tại: {_show(text)}") from None
        holidays.append((first, last))
    values["holidays"] = tuple(holidays)
    deadline = r.get("setup_deadline")
    if type(deadline) is date:  # a bare TOML date (a TOML date-time is not a deadline)
        values["setup_deadline"] = deadline
    elif deadline is not _MISSING:
        m = re.fullmatch(_ISO_DATE, deadline.strip()) if isinstance(deadline, str) else None
        if not m:
            raise r.error("setup_deadline", f"phải có dạng \"YYYY-MM-DD\", không phải {_show(deadline)}")
        try:
            values["setup_deadline"] = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise r.error("setup_deadline", f"ngày không tồn tại: {_show(deadline)}") from None
    try:
        return SchoolCalendar(**values)
    except ValueError as e:
        # SchoolCalendar's messages start with the field at fault: "school_year_end: …".
        field_name, _, message = str(e).partition(": ")
        raise r.error(field_name, message) from None


_DOMAIN = re.compile(r"[^\s/:@?#]+\.[^\s/:@?#.]+")


def _domains(r: _Reader, key: str) -> tuple[str, ...]:
    result: list[str] = []
    for i, text in enumerate(r.strings(key) or ()):
        domain = unicodedata.normalize("NFC", text).strip().lower().rstrip(".")
        if not _DOMAIN.fullmatch(domain):
            raise r.error(
                f"{key}[{i}]",
                f'phải là tên miền như "vnexpress.net" (không có https:// hay /…), '
                f"không phải {_show(text)}",
            )
        if domain not in result:
            result.append(domain)
    return tuple(result)


def _links(r: _Reader | None) -> LinksSection:
    if r is None:
        return LinksSection()
    r.check_keys(("allowed_domains", "news_domains"))
    return LinksSection(
        allowed_domains=_domains(r, "allowed_domains"), news_domains=_domains(r, "news_domains")
    )


# ---------------------------------------------------------------------------------------------
# Loading


def _read_toml(path: Path) -> dict[str, Any]:
    source = str(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ConfigError("là một thư mục, không phải tệp cấu hình", source=source) from None
    except OSError as e:
        raise ConfigError(f"không đọc được tệp: {e.strerror or e}", source=source) from None
    # Windows Notepad may save UTF-8 with a byte-order mark, which TOML does not allow.
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("tệp phải được lưu bằng mã UTF-8", source=source) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        # tomllib's messages end with "(at line L, column C)" or "(at end of document)".
        message = str(e)
        m = re.search(r"\(at line (\d+), column (\d+)\)", message)
        if m:
            where = f"dòng {m[1]}, cột {m[2]}"
        elif (m := re.search(r"\(at end of document\)", message)) is not None:
            where = "cuối tệp"
        else:
            where = None
        detail = message[: m.start()].strip() if m else message
        raise ConfigError(f"lỗi cú pháp TOML ({detail})", source=source, key=where) from None


def _build(
    raw: Mapping[str, Any], env: Mapping[str, str], source: str, path: Path | None
) -> Config:
    for key, value in raw.items():
        if key not in _SECTIONS:
            if isinstance(value, dict):
                raise ConfigError("mục không được hỗ trợ", source=source, key=f"[{key}]")
            raise ConfigError(
                "khóa không được hỗ trợ (các khóa phải nằm trong một mục như [bot])",
                source=source, key=key,
            )
    sections = {name: _sub_table(source, raw, name) for name in _SECTIONS}
    web = _web(sections["web"])
    telegram = _platform(
        sections["telegram"], env, env_token=ENV_TELEGRAM_TOKEN, cls=TelegramSection
    )
    zalo = _platform(sections["zalo"], env, env_token=ENV_ZALO_TOKEN, cls=ZaloSection)
    # Webhooks are served from [web]: the platform must be told where, so the address is needed.
    for name, section in (("telegram", telegram), ("zalo", zalo)):
        if section.enabled and section.mode == "webhook" and not web.public_url:
            raise ConfigError(
                f'[{name}] mode = "webhook" cần public_url, ví dụ "https://lantoa.sgd.example.vn"',
                source=source, key="[web] public_url",
            )
    return Config(
        bot=_bot(sections["bot"]),
        database=_database(sections["database"], env),
        telegram=telegram,
        zalo=zalo,
        web=web,
        schedule=_schedule(sections["schedule"]),
        quotas=_quotas(sections["quotas"]),
        unit_types=_unit_types(source, sections["unit_types"]),
        calendar=_calendar(sections["calendar"]),
        links=_links(sections["links"]),
        source=path,
    )


def load_config(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    explicit: bool = False,
) -> Config:
    """Load and check the configuration; ConfigError (one line, naming the key) when it is wrong.

    ``path`` None means ./config.toml. A missing file gives the defaults, unless ``explicit``
    (the operator named it with ``-c``), when it is an error. ``env`` defaults to os.environ.
    """
    env = os.environ if env is None else env
    file = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    if not file.exists():
        if explicit:
            raise ConfigError("không tìm thấy tệp cấu hình", source=str(file))
        return _build({}, env, str(file), None)
    return _build(_read_toml(file), env, str(file), file)
