"""What the dispatcher does when the database fails: retry, refuse to confirm, or apologise."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from bot.domain.types import ChatKind, ChatRef, IncomingMessage, UserRef
from handlers.dispatch import DatabaseUnavailable, Dispatcher, classify_db_error
from tests.conftest import T0, FakeClock, FakeMessenger


class PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"pg error {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize("exc, kind", [
    (IntegrityError("insert", {}, Exception("UNIQUE constraint failed")), "conflict"),
    (DBAPIError("select", {}, PgError("40P01")), "conflict"),
    (DBAPIError("select", {}, PgError("40001")), "conflict"),
    (DBAPIError("select", {}, PgError("57P03")), "unavailable"),
    (DBAPIError("select", {}, PgError("53300")), "unavailable"),
    (DBAPIError("select", {}, PgError("08006")), "unavailable"),
    (OperationalError("select", {}, Exception("database is locked")), "unavailable"),
    (ConnectionRefusedError(111, "Connect call failed"), "unavailable"),
    (TimeoutError(), "unavailable"),
    (DBAPIError("insert", {}, PgError("22001")), None),  # value too long: a bug, not the weather
    (ProgrammingError("select", {}, Exception("no such column")), None),
    (ValueError("bug"), None),
])
def test_database_errors_are_classified(exc, kind):
    assert classify_db_error(exc) == kind


class BrokenUow:
    """A unit of work whose database never answers."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.attempts = 0

    def __call__(self):
        self.attempts += 1
        raise self.exc


async def test_unreachable_database_is_not_confirmed_and_not_apologised_for(config):
    uow = BrokenUow(ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"))
    messenger = FakeMessenger()
    dispatcher = Dispatcher(uow, config, FakeClock(), instance="t")
    dispatcher.attach(messenger, inline=True)
    msg = IncomingMessage(ChatRef("test", "g", ChatKind.GROUP), "1", UserRef("test", "u", "Lan"), T0,
                          "https://youtu.be/dQw4w9WgXcQ")
    with pytest.raises(DatabaseUnavailable):
        await dispatcher.handle(msg)
    assert uow.attempts == 3
    assert messenger.transcript == []  # nothing said: the platform will deliver it again


async def test_a_bug_is_apologised_for_once_and_the_update_confirmed(config):
    uow = BrokenUow(ValueError("bug"))
    messenger = FakeMessenger()
    dispatcher = Dispatcher(uow, config, FakeClock(), instance="t")
    dispatcher.attach(messenger, inline=True)
    msg = IncomingMessage(ChatRef("test", "g", ChatKind.GROUP), "1", UserRef("test", "u", "Lan"), T0, "/toi")
    await dispatcher.handle(msg)
    assert uow.attempts == 1
    assert len(messenger.texts()) == 1 and messenger.texts()[0].startswith("Xin lỗi")


async def test_a_page_key_too_long_for_its_column_is_not_stored(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    await harness.send(g, harness.user("Lan"), f"https://www.facebook.com/{'a' * 400}/posts/123456789")
    assert len(harness.messenger.reactions()) == 1
    assert await harness.scalar("select page_key from submissions") is None
