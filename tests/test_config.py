"""config.toml loading (SPEC §4.2): defaults, overrides, and one line naming every bad key."""

from __future__ import annotations

import dataclasses
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import (
    DEFAULT_UNIT_TYPES,
    Config,
    ConfigError,
    UnitType,
    default_config,
    load_config,
)
from bot.domain.periods import SchoolCalendar
from bot.domain.schedule import MonthlyAt, WeeklyAt

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config.example.toml"
TOKEN = "123456789:AAH-very-secret-token_value"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Every test runs where ./config.toml is whatever the test writes, never a developer's own.
    monkeypatch.chdir(tmp_path)
    return tmp_path


def load(text: str, env: dict[str, str] | None = None) -> Config:
    Path("config.toml").write_text(text, encoding="utf-8")
    return load_config(env=env or {})


def error_of(text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as e:
        load(text, env)
    message = str(e.value)
    assert "\n" not in message, message
    assert message.startswith("config.toml: "), message
    return message


# ---------------------------------------------------------------------------------------------
# Defaults and files


def test_no_file_gives_the_defaults() -> None:
    config = load_config(env={})
    assert config == default_config()
    assert config.source is None
    assert config.enabled_platforms == ()
    assert config.database.url == "sqlite+aiosqlite:///lantoa.db"
    assert config.bot.tz == ZoneInfo("Asia/Ho_Chi_Minh")
    assert not config.telegram.enabled and not config.zalo.enabled


def test_defaults_match_the_spec() -> None:
    c = default_config()
    assert c.bot.timezone == "Asia/Ho_Chi_Minh" and c.bot.super_admins == ()
    assert c.telegram.base_url == "https://api.telegram.org/bot"
    assert c.telegram.mode == "polling" and c.telegram.secret == ""
    assert c.zalo.base_url == "https://bot-api.zaloplatforms.com/bot"
    assert c.zalo.dm_per_second == 5
    assert (c.web.listen, c.web.port, c.web.public_url) == ("127.0.0.1", 8080, "")
    assert c.schedule.weekly_reminder == WeeklyAt(4, time(15, 0))
    assert c.schedule.weekly_leaderboard == WeeklyAt(0, time(8, 0))
    assert c.schedule.monthly_check == MonthlyAt(None, time(15, 0))
    assert c.schedule.grace_hours == 6
    assert dataclasses.astuple(c.quotas) == (1, 1, 4, 10)
    assert dict(c.unit_types) == {
        "school": UnitType("school", "Trường học", 1),
        "office": UnitType("office", "Phòng GD&ĐT", 3),
        "department": UnitType("department", "Sở GD&ĐT", 4),
    }
    assert c.calendar == SchoolCalendar((9, 1), (1, 15), (5, 31), ())
    assert c.links.allowed_domains == () and c.links.news_domains == ()


def test_config_is_frozen_and_hashable() -> None:
    c = default_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.bot = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        c.unit_types["x"] = UnitType("x", "X", 0)  # type: ignore[index]
    assert hash(c) == hash(default_config())


def test_the_example_file_loads_and_equals_the_defaults() -> None:
    config = load_config(EXAMPLE, explicit=True, env={})
    assert config.source == EXAMPLE
    assert dataclasses.replace(config, source=None) == default_config()


def test_the_example_file_loads_by_its_relative_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert load_config("config.example.toml", explicit=True, env={}).enabled_platforms == ()


def test_the_example_file_names_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in (
        "timezone", "super_admins", "url", "enabled", "token", "base_url", "mode", "secret",
        "dm_per_second", "listen", "port", "public_url", "weekly_reminder",
        "weekly_leaderboard", "monthly_check", "grace_hours", "staff_weekly", "party_weekly",
        "party_monthly", "max_links_per_message", "[unit_types.school]", "[unit_types.office]",
        "[unit_types.department]", "weekly_page_posts", "school_year_start", "semester2_start",
        "school_year_end", "holidays", "allowed_domains", "news_domains",
    ):
        assert key in text, key


def test_a_missing_default_file_is_fine_but_a_named_one_is_not(tmp_path: Path) -> None:
    assert load_config("nothing-here.toml", env={}) == default_config()
    with pytest.raises(ConfigError) as e:
        load_config("nothing-here.toml", explicit=True, env={})
    assert str(e.value).startswith("nothing-here.toml: ")
    assert "không tìm thấy" in str(e.value)


def test_a_directory_is_not_a_config(tmp_path: Path) -> None:
    (tmp_path / "d.toml").mkdir()
    with pytest.raises(ConfigError, match="d.toml"):
        load_config("d.toml", explicit=True, env={})


def test_syntax_error_names_the_line() -> None:
    message = error_of("[bot]\ntimezone = Asia/Ho_Chi_Minh\n")
    assert message.startswith("config.toml: dòng 2, cột 12: lỗi cú pháp TOML"), message
    message = error_of('[web]\nport = 8080\nport = 8081\n')
    assert "dòng 3" in message
    message = error_of('[bot]\ntimezone = "Asia/Ho_Chi_Minh"\nsuper_admins = [\n')
    assert "cuối tệp" in message and "TOML" in message


def test_not_utf8_is_refused() -> None:
    Path("config.toml").write_bytes('[bot]\ntimezone = "Hà"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(env={})


def test_a_byte_order_mark_is_accepted() -> None:
    Path("config.toml").write_bytes(b"\xef\xbb\xbf[web]\nport = 9000\n")
    assert load_config(env={}).web.port == 9000


def test_an_empty_file_gives_the_defaults_with_its_source() -> None:
    config = load("")
    assert config.source == Path("config.toml")
    assert dataclasses.replace(config, source=None) == default_config()


# ---------------------------------------------------------------------------------------------
# Every error names its key


@pytest.mark.parametrize(
    "text, key",
    [
        ("[bot]\ntimezonee = 'UTC'\n", "[bot] timezonee: khóa không được hỗ trợ"),
        ("[database]\npath = 'x.db'\n", "[database] path: khóa không được hỗ trợ"),
        ("[telegram]\nenabled = false\ntoken_file = 'x'\n", "[telegram] token_file"),
        ("[zalo]\nenabled = false\nrate = 1\n", "[zalo] rate"),
        ("[web]\nhost = '0.0.0.0'\n", "[web] host"),
        ("[schedule]\nreminder = 'fri 15:00'\n", "[schedule] reminder"),
        ("[quotas]\nweekly = 1\n", "[quotas] weekly"),
        ("[unit_types.school]\ntarget = 1\n", "[unit_types.school] target"),
        ("[calendar]\nholiday = []\n", "[calendar] holiday"),
        ("[links]\nblocked_domains = []\n", "[links] blocked_domains"),
        ("[botx]\ntimezone = 'UTC'\n", "[botx]: mục không được hỗ trợ"),
        ("timezone = 'UTC'\n", "timezone: khóa không được hỗ trợ"),
    ],
)
def test_unknown_keys_are_named(text: str, key: str) -> None:
    assert key in error_of(text)


def test_the_time_zone_message() -> None:
    assert (
        error_of('[bot]\ntimezone = "Asia/Hanoi"\n')
        == "config.toml: [bot] timezone: múi giờ không tồn tại: 'Asia/Hanoi'"
    )


@pytest.mark.parametrize(
    "text, key",
    [
        # Wrong types. TOML true is a bool, and bool must not pass for an int (or the reverse).
        ("[web]\nport = true\n", "[web] port"),
        ("[web]\nport = '8080'\n", "[web] port"),
        ("[web]\nport = 8080.0\n", "[web] port"),
        ("[quotas]\nstaff_weekly = true\n", "[quotas] staff_weekly"),
        ("[quotas]\nparty_monthly = 4.5\n", "[quotas] party_monthly"),
        ("[telegram]\nenabled = 1\n", "[telegram] enabled"),
        ("[telegram]\nenabled = 'yes'\n", "[telegram] enabled"),
        ("[bot]\ntimezone = 7\n", "[bot] timezone"),
        ("[bot]\nsuper_admins = 'telegram:1'\n", "[bot] super_admins"),
        ("[bot]\nsuper_admins = [1]\n", "[bot] super_admins[0]"),
        ("[schedule]\ngrace_hours = '6'\n", "[schedule] grace_hours"),
        ("[schedule]\ngrace_hours = true\n", "[schedule] grace_hours"),
        ("[schedule]\nweekly_reminder = 15\n", "[schedule] weekly_reminder"),
        ("[zalo]\nenabled = false\ndm_per_second = true\n", "[zalo] dm_per_second"),
        ("[database]\nurl = 1\n", "[database] url"),
        ("[links]\nallowed_domains = 'facebook.com'\n", "[links] allowed_domains"),
        ("[calendar]\nholidays = '2027-02-01..2027-02-14'\n", "[calendar] holidays"),
        ("[calendar]\nschool_year_start = 9\n", "[calendar] school_year_start"),
        ("[unit_types]\nschool = 1\n", "[unit_types.school]"),
        ("[unit_types.school]\nweekly_page_posts = '1'\n", "[unit_types.school] weekly_page_posts"),
        ("bot = 1\n", "bot"),
        # Impossible values.
        ("[bot]\ntimezone = ''\n", "[bot] timezone"),
        ("[bot]\ntimezone = 'localtime'\n", "[bot] timezone"),
        ("[bot]\ntimezone = '../etc/passwd'\n", "[bot] timezone"),
        ("[bot]\nsuper_admins = ['123456789']\n", "[bot] super_admins[0]"),
        ("[bot]\nsuper_admins = ['telegram:@lan']\n", "[bot] super_admins[0]"),
        ("[bot]\nsuper_admins = ['telegarm:1']\n", "[bot] super_admins[0]"),
        ("[bot]\nsuper_admins = ['telegram:1', 'zalo:']\n", "[bot] super_admins[1]"),
        ("[database]\nurl = ''\n", "[database] url"),
        ("[database]\nurl = 'lantoa.db'\n", "[database] url"),
        ("[telegram]\nenabled = false\nmode = 'push'\n", "[telegram] mode"),
        ("[zalo]\nenabled = false\nmode = ''\n", "[zalo] mode"),
        ("[telegram]\nenabled = false\nbase_url = 'api.telegram.org'\n", "[telegram] base_url"),
        ("[zalo]\nenabled = false\ndm_per_second = 0\n", "[zalo] dm_per_second"),
        ("[zalo]\nenabled = false\ndm_per_second = -1\n", "[zalo] dm_per_second"),
        ("[zalo]\nenabled = false\ndm_per_second = nan\n", "[zalo] dm_per_second"),
        ("[web]\nport = 0\n", "[web] port"),
        ("[web]\nport = 65536\n", "[web] port"),
        ("[web]\nport = -80\n", "[web] port"),
        ("[web]\nlisten = ''\n", "[web] listen"),
        ("[web]\npublic_url = 'lantoa.example.vn'\n", "[web] public_url"),
        ("[web]\npublic_url = 'ftp://lantoa.example.vn'\n", "[web] public_url"),
        ("[web]\npublic_url = 'https://lantoa.example.vn/?a=1'\n", "[web] public_url"),
        ("[schedule]\nweekly_reminder = 'friday'\n", "[schedule] weekly_reminder"),
        ("[schedule]\nweekly_reminder = 'fri 25:00'\n", "[schedule] weekly_reminder"),
        ("[schedule]\nweekly_reminder = 'last 15:00'\n", "[schedule] weekly_reminder"),
        ("[schedule]\nweekly_leaderboard = ''\n", "[schedule] weekly_leaderboard"),
        ("[schedule]\nmonthly_check = 'fri 15:00'\n", "[schedule] monthly_check"),
        ("[schedule]\nmonthly_check = '31 15:00'\n", "[schedule] monthly_check"),
        ("[schedule]\ngrace_hours = -1\n", "[schedule] grace_hours"),
        ("[quotas]\nstaff_weekly = -1\n", "[quotas] staff_weekly"),
        ("[quotas]\nparty_weekly = -1\n", "[quotas] party_weekly"),
        ("[quotas]\nparty_monthly = -4\n", "[quotas] party_monthly"),
        ("[quotas]\nmax_links_per_message = 0\n", "[quotas] max_links_per_message"),
        ("[quotas]\nstaff_weekly = 1000000\n", "[quotas] staff_weekly"),
        ("[unit_types.school]\nweekly_page_posts = -1\n", "[unit_types.school] weekly_page_posts"),
        ("[unit_types.center]\nweekly_page_posts = -2\n", "[unit_types.center] weekly_page_posts"),
        ("[unit_types.center]\nname = ' '\n", "[unit_types.center] name"),
        ('[unit_types."trung tâm"]\nname = "Trung tâm"\n', '[unit_types.trung tâm]'),
        ("[calendar]\nschool_year_start = '2026-09-01'\n", "[calendar] school_year_start"),
        ("[calendar]\nschool_year_start = '13-01'\n", "[calendar] school_year_start"),
        ("[calendar]\nsemester2_start = '02-30'\n", "[calendar] semester2_start"),
        ("[calendar]\nsemester2_start = '02-29'\n", "[calendar] semester2_start"),
        ("[calendar]\nsemester2_start = '09-01'\n", "[calendar] semester2_start"),
        ("[calendar]\nschool_year_end = '01-10'\n", "[calendar] school_year_end"),
        ("[calendar]\nholidays = ['2027-02-01']\nx = 1\n", "[calendar] x"),
        ("[calendar]\nholidays = ['2027-02-01...2027-02-14']\n", "[calendar] holidays[0]"),
        ("[calendar]\nholidays = ['01/02/2027..14/02/2027']\n", "[calendar] holidays[0]"),
        ("[calendar]\nholidays = ['2027-02-14..2027-02-01']\n", "[calendar] holidays[0]"),
        (
            "[calendar]\nholidays = ['2027-01-01', '2027-02-30..2027-03-02']\n",
            "[calendar] holidays[1]",
        ),
        ("[links]\nallowed_domains = ['https://facebook.com/']\n", "[links] allowed_domains[0]"),
        ("[links]\nnews_domains = ['vnexpress']\n", "[links] news_domains[0]"),
    ],
)
def test_bad_values_are_named(text: str, key: str) -> None:
    assert f": {key}: " in error_of(text)


# ---------------------------------------------------------------------------------------------
# Platforms, tokens and the environment


def test_an_enabled_platform_needs_a_token() -> None:
    message = error_of('[telegram]\nenabled = true\nmode = "polling"\n')
    assert ": [telegram] token: " in message
    assert "LANTOA_TELEGRAM_TOKEN" in message
    message = error_of("[zalo]\nenabled = true\n")
    assert ": [zalo] token: " in message and "LANTOA_ZALO_TOKEN" in message


def test_a_section_without_enabled_is_off() -> None:
    # SPEC §4.2: `enabled` defaults to false; a section (even with a token) switches nothing on.
    config = load(f'[telegram]\ntoken = "{TOKEN}"\n[zalo]\ntoken = "zalo-token"\n')
    assert not config.telegram.enabled and not config.zalo.enabled
    assert config.enabled_platforms == ()
    assert config.telegram.token == TOKEN  # kept for when the operator switches it on
    assert load('[telegram]\nmode = "polling"\n[zalo]\n').enabled_platforms == ()
    # ...and, being off, a section without enabled needs no token and no [web] public_url.
    assert load('[telegram]\nmode = "webhook"\n').enabled_platforms == ()


def test_token_from_the_file() -> None:
    config = load(f'[telegram]\nenabled = true\ntoken = "{TOKEN}"\n')
    assert config.telegram.enabled and config.telegram.token == TOKEN
    assert config.enabled_platforms == ("telegram",)


def test_token_from_the_environment_wins() -> None:
    config = load(
        '[telegram]\nenabled = true\ntoken = "file-token"\n[zalo]\nenabled = true\n',
        env={"LANTOA_TELEGRAM_TOKEN": TOKEN, "LANTOA_ZALO_TOKEN": " zalo-token\n"},
    )
    assert config.telegram.token == TOKEN
    assert config.zalo.token == "zalo-token"
    assert config.enabled_platforms == ("telegram", "zalo")


def test_an_empty_environment_variable_is_unset() -> None:
    message = error_of("[telegram]\nenabled = true\n", env={"LANTOA_TELEGRAM_TOKEN": ""})
    assert ": [telegram] token: " in message


def test_environment_token_alone_does_not_switch_a_platform_on() -> None:
    config = load_config(env={"LANTOA_TELEGRAM_TOKEN": TOKEN})
    assert not config.telegram.enabled and config.enabled_platforms == ()


def test_disabled_platform_needs_no_token() -> None:
    config = load("[telegram]\nenabled = false\n[zalo]\nenabled = false\n")
    assert config.enabled_platforms == ()


def test_database_url_from_the_environment() -> None:
    url = "postgresql+asyncpg://lantoa:pw@db/lantoa"
    assert load_config(env={"LANTOA_DATABASE_URL": url}).database.url == url
    in_file = "[database]\nurl = 'sqlite+aiosqlite:///x.db'\n"
    assert load(in_file, env={"LANTOA_DATABASE_URL": url}).database.url == url
    assert load(in_file).database.url == "sqlite+aiosqlite:///x.db"
    with pytest.raises(ConfigError, match="LANTOA_DATABASE_URL"):
        load_config(env={"LANTOA_DATABASE_URL": "not a url"})


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("sqlite:///x.db", '"sqlite+aiosqlite://"'),
        ("sqlite+pysqlite:///x.db", '"sqlite+aiosqlite://"'),
        ("postgresql://lantoa:db-password@db/lantoa", '"postgresql+asyncpg://"'),
        ("postgres://lantoa:db-password@db/lantoa", '"postgresql+asyncpg://"'),
        ("postgresql+psycopg2://lantoa:db-password@db/lantoa", '"postgresql+asyncpg://"'),
        ("mysql+aiomysql://lantoa:db-password@db/lantoa", "'mysql'"),
        ("oracle://lantoa:db-password@db", "'oracle'"),
        ("SQLITE+AIOSQLITE:///x.db", '"sqlite+aiosqlite://"'),
        ("postgresql+asyncpg://lantoa:db-password@db:port/lantoa", "cổng"),
        ("db-password@garbage", "sqlite+aiosqlite:///lantoa.db"),
    ],
)
def test_a_database_url_without_a_driver_we_ship_is_one_line_naming_the_key(url: str, hint: str) -> None:
    # Before: accepted here, then a raw SQLAlchemy error (exit 1) at the first connection.
    message = error_of(f'[database]\nurl = "{url}"\n')
    assert message.startswith("config.toml: [database] url: ") and hint in message
    assert "db-password" not in message
    Path("config.toml").unlink()
    with pytest.raises(ConfigError) as e:
        load_config(env={"LANTOA_DATABASE_URL": url})
    message = str(e.value)
    assert "\n" not in message and "db-password" not in message and hint in message
    # The operator learns the value came from the environment, and which key it stands for.
    assert message.startswith("LANTOA_DATABASE_URL (biến môi trường, thay cho [database] url): ")


def test_the_database_urls_we_ship_drivers_for_load() -> None:
    for url in ("sqlite+aiosqlite:///lantoa.db", "sqlite+aiosqlite:///:memory:",
                "postgresql+asyncpg://lantoa:pw@db:5432/lantoa?ssl=require"):
        assert load(f'[database]\nurl = "{url}"\n').database.url == url


def test_relative_sqlite_path_is_left_as_written() -> None:
    assert load("[database]\nurl = 'sqlite+aiosqlite:///data/lt.db'\n").database.url == (
        "sqlite+aiosqlite:///data/lt.db"
    )


def test_webhook_needs_a_secret_and_a_public_url() -> None:
    base = f'[telegram]\nenabled = true\ntoken = "{TOKEN}"\nmode = "webhook"\n'
    assert ": [telegram] secret: " in error_of(base)
    assert ": [web] public_url: " in error_of(base + 'secret = "s3cret"\n')
    config = load(base + 'secret = "s3cret"\n[web]\npublic_url = "https://lantoa.example.vn/"\n')
    assert config.telegram.mode == "webhook" and config.telegram.secret == "s3cret"
    assert config.web.public_url == "https://lantoa.example.vn"
    # A disabled platform's webhook settings are not checked against [web].
    load('[zalo]\nenabled = false\nmode = "webhook"\n')


def test_telegram_secret_characters() -> None:
    text = f'[telegram]\ntoken = "{TOKEN}"\nmode = "webhook"\nsecret = "bí mật"\n'
    text += '[web]\npublic_url = "https://x.example.vn"\n'
    message = error_of(text)
    assert ": [telegram] secret: " in message and "bí mật" not in message


def test_secrets_never_leak() -> None:
    # An error in the same section as the token, a repr of the loaded config.
    message = error_of(f'[telegram]\ntoken = "{TOKEN}"\nmode = "push"\n')
    assert "secret-token" not in message
    message = error_of(f'[telegram]\ntoken = "{TOKEN} x"\n')
    assert ": [telegram] token: " in message and "secret-token" not in message
    message = error_of("[telegram]\ntoken = 123456\n")
    assert "123456" not in message
    config = load(
        f'[telegram]\ntoken = "{TOKEN}"\nsecret = "hush-hush"\n'
        '[zalo]\ntoken = "zalo-secret-token"\nsecret = "zalo-hush"\n'
        '[database]\nurl = "postgresql+asyncpg://lantoa:db-password@db/lantoa"\n'
    )
    for text in (repr(config), str(config), repr(config.telegram), repr(config.database)):
        for secret in ("secret-token", "hush-hush", "zalo-hush", "db-password"):
            assert secret not in text
    message = error_of('[database]\nurl = "lantoa:db-password@db"\n')
    assert "db-password" not in message


# ---------------------------------------------------------------------------------------------
# Values that load


def test_a_full_file() -> None:
    config = load(
        """
[bot]
timezone = "Asia/Bangkok"
super_admins = ["telegram:123456789", " Zalo:abc123 ", "telegram:123456789"]
[web]
listen = "0.0.0.0"
port = 9000
[schedule]
weekly_reminder = "T6 16:30"
weekly_leaderboard = "off"
monthly_check = "25 09:00"
grace_hours = 1.5
[quotas]
staff_weekly = 0
party_weekly = 2
party_monthly = 8
max_links_per_message = 5
[calendar]
school_year_start = "08-15"
semester2_start = "01-01"
school_year_end = "06-15"
holidays = ["2027-02-01..2027-02-14", "2026-09-02", "2027-04-30 .. 2027-05-01"]
[links]
allowed_domains = ["Facebook.com", "facebook.com", "zalo.me."]
news_domains = ["baohoabinh.com.vn"]
"""
    )
    assert config.bot.tz == ZoneInfo("Asia/Bangkok")
    assert config.bot.super_admins == ("telegram:123456789", "zalo:abc123")
    assert (config.web.listen, config.web.port) == ("0.0.0.0", 9000)
    assert config.schedule.weekly_reminder == WeeklyAt(4, time(16, 30))
    assert config.schedule.weekly_leaderboard is None
    assert config.schedule.monthly_check == MonthlyAt(25, time(9, 0))
    assert config.schedule.grace_hours == 1.5
    assert dataclasses.astuple(config.quotas) == (0, 2, 8, 5)
    assert config.calendar == SchoolCalendar(
        (8, 15),
        (1, 1),
        (6, 15),
        (
            (date(2027, 2, 1), date(2027, 2, 14)),
            (date(2026, 9, 2), date(2026, 9, 2)),
            (date(2027, 4, 30), date(2027, 5, 1)),
        ),
    )
    assert config.links.allowed_domains == ("facebook.com", "zalo.me")
    assert config.links.news_domains == ("baohoabinh.com.vn",)


def test_unit_types_add_to_and_override_the_defaults() -> None:
    config = load(
        """
[unit_types.school]
weekly_page_posts = 2
[unit_types.center]
name = "Trung tâm GDNN-GDTX"
weekly_page_posts = 1
[unit_types.club]
"""
    )
    assert config.unit_types["school"] == UnitType("school", "Trường học", 2)
    assert config.unit_types["office"] == DEFAULT_UNIT_TYPES["office"]
    assert config.unit_types["department"] == DEFAULT_UNIT_TYPES["department"]
    assert config.unit_types["center"] == UnitType("center", "Trung tâm GDNN-GDTX", 1)
    assert config.unit_types["club"] == UnitType("club", "club", 0)


def test_integer_numbers_are_fine_for_float_keys() -> None:
    config = load("[schedule]\ngrace_hours = 0\n[zalo]\nenabled = false\ndm_per_second = 0.5\n")
    assert config.schedule.grace_hours == 0.0 and config.zalo.dm_per_second == 0.5


def test_config_error_attributes() -> None:
    with pytest.raises(ConfigError) as e:
        load("[web]\nport = 0\n")
    assert e.value.source == "config.toml" and e.value.key == "[web] port"
