"""Hourly housekeeping: delivery ids (Zalo's redeliveries are recognised by them) are kept a week,
then forgotten, so the table does not keep a row for every message ever handled."""

from __future__ import annotations

from datetime import timedelta

from handlers.jobs import DELIVERIES_KEPT, Jobs
from storage.accounts import first_delivery


async def test_delivery_ids_older_than_a_week_are_forgotten(harness):
    now = harness.clock.now()
    async with harness.storage.uow() as uow:
        assert await first_delivery(uow.session, "zalo", "old", now - DELIVERIES_KEPT - timedelta(minutes=1))
        assert await first_delivery(uow.session, "zalo", "recent", now - DELIVERIES_KEPT + timedelta(minutes=1))
    jobs = Jobs(harness.dispatcher)
    assert await jobs.housekeep(now) == 1
    assert await jobs.housekeep(now) == 0  # again (or by a second instance): nothing more
    async with harness.storage.uow() as uow:
        assert not await first_delivery(uow.session, "zalo", "recent", now)  # still a redelivery
    assert await harness.scalar("SELECT count(*) FROM seen_deliveries WHERE delivery_id = 'old'") == 0
