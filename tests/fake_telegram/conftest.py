"""Make the fake Telegram fixtures available to the tests of the fake itself."""

from tests.fake_telegram.fixtures import *  # noqa: F401,F403
