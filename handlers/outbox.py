"""Sending after the commit: a queue per platform so a throttled chat never stalls ingestion."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Iterable

from bot.domain.types import Delivery, DeliveryStatus, Messenger, Outbound
from handlers.context import Claim

logger = logging.getLogger(__name__)

Settle = Callable[[Claim, Delivery], Awaitable[None]]


class Outbox:
    """Hands committed actions to the platform.

    ``inline=True`` delivers before ``put`` returns (the console, whose transcript must follow the
    typed lines in order); otherwise actions wait in a queue drained by ``workers`` tasks, and the
    adapter's rate limiter does the pacing (Telegram: PTB's AIORateLimiter).
    """

    def __init__(self, messenger: Messenger, settle: Settle | None = None, *, inline: bool = False,
                 workers: int = 16) -> None:
        self.messenger = messenger
        self._settle = settle
        self.inline = inline
        self._workers_n = workers
        self._queue: asyncio.Queue[tuple[Outbound, Claim | None]] = asyncio.Queue()
        self._workers: list[asyncio.Task] = []

    async def put(self, actions: Iterable[Outbound], claims: dict[int, Claim] | None = None) -> None:
        claims = claims or {}
        for action in actions:
            claim = claims.get(id(action))
            if self.inline:
                await self._deliver(action, claim)
            else:
                self._queue.put_nowait((action, claim))

    def start(self) -> None:
        if not self.inline and not self._workers:
            self._workers = [asyncio.create_task(self._work(), name=f"outbox-{i}") for i in range(self._workers_n)]

    async def drain(self) -> None:
        """Wait until every queued action has been carried out."""
        if not self.inline:
            await self._queue.join()

    async def stop(self) -> None:
        await self.drain()
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    async def _work(self) -> None:
        while True:
            action, claim = await self._queue.get()
            try:
                await self._deliver(action, claim)
            finally:
                self._queue.task_done()

    async def _deliver(self, action: Outbound, claim: Claim | None) -> None:
        try:
            delivery = await self.messenger.deliver(action)
        except Exception as exc:  # an adapter bug must not kill the sender
            logger.exception("delivery of %s failed", type(action).__name__)
            delivery = Delivery(DeliveryStatus.TRANSIENT, error=type(exc).__name__)
        if delivery.status is not DeliveryStatus.SENT:
            logger.warning("%s to %s not sent: %s (%s)", type(action).__name__,
                           getattr(action, "chat", None) and action.chat.key, delivery.status.value, delivery.error)
        if claim is not None and self._settle is not None:
            try:
                await self._settle(claim, delivery)
            except Exception:
                logger.exception("could not record the send of %s", claim)
