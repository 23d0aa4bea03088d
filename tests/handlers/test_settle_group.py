"""Settling claimed sends (SPEC §3.3) in groups: the settles that arrive together are written in
one transaction, each caller returns once its own is committed, and one bad settle loses none of
the others."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.domain.types import Delivery, DeliveryStatus
from handlers.context import Claim
from storage.repositories import SentMessageRepository


async def _claimed(harness, n: int, first: int = 0) -> list[Claim]:
    claims = [Claim("test", f"c{k}", "explain", f"m{k}") for k in range(first, first + n)]
    async with harness.storage.uow() as uow:
        for claim in claims:
            assert await uow.sent.claim(*claim.key, "main", timedelta(minutes=10))
    return claims


def _counting(harness) -> list[int]:
    opened: list[int] = []
    real = harness.dispatcher.uow_factory

    def factory():
        opened.append(1)
        return real()

    harness.dispatcher.uow_factory = factory
    return opened


async def test_settles_that_arrive_together_share_one_transaction(harness):
    claims = await _claimed(harness, 6)
    opened = _counting(harness)
    outcomes = [Delivery(DeliveryStatus.SENT, str(k)) for k in range(4)] + [
        Delivery(DeliveryStatus.FAILED_FOR_GOOD, error="blocked"), Delivery(DeliveryStatus.TRANSIENT, error="429")]
    await asyncio.gather(*(harness.dispatcher.settle_claim(c, d) for c, d in zip(claims, outcomes)))
    assert len(opened) == 1
    rows = {r[0]: r[1:] for r in await _rows(harness)}
    assert rows == {"c0": ("sent", "message 0"), "c1": ("sent", "message 1"), "c2": ("sent", "message 2"),
                    "c3": ("sent", "message 3"), "c4": ("failed", "blocked"), "c5": ("released", "429")}
    # One at a time, each is still its own transaction, committed before the call returns.
    (more,) = await _claimed(harness, 1, first=7)
    await harness.dispatcher.settle_claim(more, Delivery(DeliveryStatus.SENT, "77"))
    assert len(opened) == 2
    assert ("c7", "sent", "message 77") in await _rows(harness)


async def test_one_bad_settle_loses_none_of_the_others(harness, monkeypatch):
    claims = await _claimed(harness, 4)
    real = SentMessageRepository.mark_sent

    async def mark_sent(self, platform, chat_id, kind, period, detail=None):
        if chat_id == "c2":
            raise ValueError("a bug")
        await real(self, platform, chat_id, kind, period, detail)

    monkeypatch.setattr(SentMessageRepository, "mark_sent", mark_sent)
    results = await asyncio.gather(*(harness.dispatcher.settle_claim(c, Delivery(DeliveryStatus.SENT, "1"))
                                     for c in claims), return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["NoneType", "NoneType", "ValueError", "NoneType"]
    assert sorted(r[:2] for r in await _rows(harness)) == [
        ("c0", "sent"), ("c1", "sent"), ("c2", "claimed"), ("c3", "sent")]


async def test_a_cancelled_caller_does_not_stop_the_group(harness):
    """The outbox cancels its lanes on stop: the settle already queued is still written."""
    claims = await _claimed(harness, 2)
    first = asyncio.ensure_future(harness.dispatcher.settle_claim(claims[0], Delivery(DeliveryStatus.SENT, "1")))
    second = asyncio.ensure_future(harness.dispatcher.settle_claim(claims[1], Delivery(DeliveryStatus.SENT, "2")))
    await asyncio.sleep(0)
    first.cancel()
    await second
    with pytest.raises(asyncio.CancelledError):
        await first
    await harness.dispatcher._settler  # noqa: SLF001 - the group's writer finishes its round
    assert sorted(r[:2] for r in await _rows(harness)) == [("c0", "sent"), ("c1", "sent")]


async def _rows(harness) -> list[tuple]:
    from sqlalchemy import text

    async with harness.storage.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(
            "select chat_id, status, detail from sent_messages where chat_platform = 'test' order by chat_id")))]
