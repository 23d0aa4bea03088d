"""Sending after the commit: a queue per platform so a throttled chat never stalls ingestion."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable

from bot.domain.types import Delivery, DeliveryStatus, Messenger, Outbound
from handlers.context import Claim

logger = logging.getLogger(__name__)

Settle = Callable[[Claim, Delivery], Awaitable[None]]
Renew = Callable[[list[Claim]], Awaitable[None]]

# A claim's lease is 10 minutes (handlers.context.CLAIM_LEASE); renewing it every minute leaves
# nine renewals' worth of slack for a slow or briefly unavailable database.
RENEW_EVERY = 60.0


@dataclass
class _Item:
    """Actions that leave together: one action, or every action of one claimed send."""

    actions: tuple[Outbound, ...]
    claim: Claim | None


class Outbox:
    """Hands committed actions to the platform.

    ``inline=True`` delivers before ``put`` returns (the console, whose transcript must follow the
    typed lines in order). Otherwise each chat gets its own lane: actions to one chat leave in
    order, one at a time, while a chat held back by the platform's per-group limit never delays
    the others; the adapter's rate limiter does the pacing (Telegram: PTB's AIORateLimiter).

    A claimed send (SPEC §3.3) is settled once all its actions are through; while it waits here,
    ``renew`` extends the leases of every claim the outbox holds, every ``renew_every`` seconds,
    so that no sweeper takes over a send that is merely queued behind the rate limiter.
    """

    def __init__(self, messenger: Messenger, settle: Settle | None = None, *, inline: bool = False,
                 renew: Renew | None = None, renew_every: float = RENEW_EVERY) -> None:
        self.messenger = messenger
        self._settle = settle
        self._renew = renew
        self.renew_every = renew_every
        self.inline = inline
        self._lanes: dict[str, deque[_Item]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._held: Counter[Claim] = Counter()
        self._renewer: asyncio.Task | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def put(self, actions: Iterable[Outbound], claims: dict[int, Claim] | None = None) -> None:
        """Queue actions; ``claims`` maps id(action) to its claim. Consecutive actions with the
        same claim form one send, settled once."""
        claims = claims or {}
        items: list[_Item] = []
        for action in actions:
            claim = claims.get(id(action))
            if claim is not None and items and items[-1].claim == claim:
                items[-1].actions += (action,)
            else:
                items.append(_Item((action,), claim))
        for item in items:
            await self._put_item(item)

    async def put_claimed(self, claim: Claim, actions: Iterable[Outbound]) -> None:
        """Queue the actions of one claimed send (a scheduled message, a swept claim)."""
        actions = tuple(actions)
        if actions:
            await self._put_item(_Item(actions, claim))

    @property
    def held_claims(self) -> set[Claim]:
        """The claims queued or being sent here: their leases are this outbox's to renew."""
        return set(self._held)

    @property
    def pending(self) -> int:
        return sum(len(item.actions) for lane in self._lanes.values() for item in lane)

    async def drain(self) -> None:
        """Wait until every queued action has been carried out."""
        await self._idle.wait()

    async def renew_leases(self) -> None:
        """Extend the leases of the claims held here (called every ``renew_every`` seconds)."""
        held = sorted(self._held, key=lambda c: c.key)
        if not held or self._renew is None:
            return
        try:
            await self._renew(held)
        except Exception:  # the next round tries again; nine rounds fit in one lease
            logger.warning("could not renew the leases of %d claims", len(held), exc_info=True)

    async def stop(self, timeout: float = 30) -> None:
        """Let the queued actions go out (bounded), then stop. Claims left unsent keep their
        rows: their leases run out and a sweeper (here after a restart, or elsewhere) sends them."""
        try:
            await asyncio.wait_for(self.drain(), timeout)
        except asyncio.TimeoutError:
            logger.warning("outbox stopped with %d actions unsent", self.pending)
        tasks = list(self._tasks) + ([self._renewer] if self._renewer is not None else [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._renewer = None

    async def _put_item(self, item: _Item) -> None:
        if item.claim is not None:
            self._held[item.claim] += 1
        if self.inline:
            await self._deliver(item)
            return
        if item.claim is not None:
            self._ensure_renewer()
        key = item.actions[0].chat.key
        lane = self._lanes.get(key)
        if lane is not None:
            lane.append(item)
            return
        self._lanes[key] = deque([item])
        self._idle.clear()
        task = asyncio.create_task(self._run_lane(key), name=f"outbox {key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _ensure_renewer(self) -> None:
        if self._renew is not None and (self._renewer is None or self._renewer.done()):
            self._renewer = asyncio.create_task(self._renew_loop(), name="outbox lease renewal")

    async def _renew_loop(self) -> None:
        while self._held:
            await asyncio.sleep(self.renew_every)
            await self.renew_leases()

    async def _run_lane(self, key: str) -> None:
        lane = self._lanes[key]
        try:
            while lane:
                await self._deliver(lane[0])
                lane.popleft()
        finally:
            del self._lanes[key]
            if not self._lanes:
                self._idle.set()

    async def _deliver(self, item: _Item) -> None:
        try:
            delivery = Delivery(DeliveryStatus.SENT)
            for action in item.actions:
                delivery = await self._deliver_one(action)
                if delivery.status is not DeliveryStatus.SENT:
                    break  # the rest would fail alike; a retry sends the whole claim again
            if item.claim is not None and self._settle is not None:
                try:
                    await self._settle(item.claim, delivery)
                except Exception:
                    logger.exception("could not record the send of %s", item.claim)
        finally:
            if item.claim is not None:
                self._held[item.claim] -= 1
                if self._held[item.claim] <= 0:
                    del self._held[item.claim]

    async def _deliver_one(self, action: Outbound) -> Delivery:
        try:
            delivery = await self.messenger.deliver(action)
        except Exception as exc:  # an adapter bug must not kill the sender
            logger.exception("delivery of %s failed", type(action).__name__)
            delivery = Delivery(DeliveryStatus.TRANSIENT, error=type(exc).__name__)
        if delivery.status is not DeliveryStatus.SENT:
            logger.warning("%s to %s not sent: %s (%s)", type(action).__name__, action.chat.key,
                           delivery.status.value, delivery.error)
        return delivery
