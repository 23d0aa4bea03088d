"""Sending after the commit: a queue per platform so a throttled chat never stalls ingestion."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Awaitable, Callable, Iterable

from bot.domain.types import Delivery, DeliveryStatus, Messenger, Outbound
from handlers.context import Claim

logger = logging.getLogger(__name__)

Settle = Callable[[Claim, Delivery], Awaitable[None]]


class Outbox:
    """Hands committed actions to the platform.

    ``inline=True`` delivers before ``put`` returns (the console, whose transcript must follow the
    typed lines in order). Otherwise each chat gets its own lane: actions to one chat leave in
    order, one at a time, while a chat held back by the platform's per-group limit never delays
    the others; the adapter's rate limiter does the pacing (Telegram: PTB's AIORateLimiter).
    """

    def __init__(self, messenger: Messenger, settle: Settle | None = None, *, inline: bool = False) -> None:
        self.messenger = messenger
        self._settle = settle
        self.inline = inline
        self._lanes: dict[str, deque[tuple[Outbound, Claim | None]]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    async def put(self, actions: Iterable[Outbound], claims: dict[int, Claim] | None = None) -> None:
        claims = claims or {}
        for action in actions:
            claim = claims.get(id(action))
            if self.inline:
                await self._deliver(action, claim)
                continue
            key = action.chat.key
            lane = self._lanes.get(key)
            if lane is not None:
                lane.append((action, claim))
                continue
            self._lanes[key] = deque([(action, claim)])
            self._idle.clear()
            task = asyncio.create_task(self._run_lane(key), name=f"outbox {key}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        return sum(len(lane) for lane in self._lanes.values())

    async def drain(self) -> None:
        """Wait until every queued action has been carried out."""
        await self._idle.wait()

    async def stop(self, timeout: float = 30) -> None:
        """Let the queued actions go out (bounded), then stop."""
        try:
            await asyncio.wait_for(self.drain(), timeout)
        except asyncio.TimeoutError:
            logger.warning("outbox stopped with %d actions unsent", self.pending)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run_lane(self, key: str) -> None:
        lane = self._lanes[key]
        try:
            while lane:
                action, claim = lane[0]
                await self._deliver(action, claim)
                lane.popleft()
        finally:
            del self._lanes[key]
            if not self._lanes:
                self._idle.set()

    async def _deliver(self, action: Outbound, claim: Claim | None) -> None:
        try:
            delivery = await self.messenger.deliver(action)
        except Exception as exc:  # an adapter bug must not kill the sender
            logger.exception("delivery of %s failed", type(action).__name__)
            delivery = Delivery(DeliveryStatus.TRANSIENT, error=type(exc).__name__)
        if delivery.status is not DeliveryStatus.SENT:
            logger.warning("%s to %s not sent: %s (%s)", type(action).__name__, action.chat.key,
                           delivery.status.value, delivery.error)
        if claim is not None and self._settle is not None:
            try:
                await self._settle(claim, delivery)
            except Exception:
                logger.exception("could not record the send of %s", claim)
