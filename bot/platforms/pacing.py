"""Pacing sends under a platform's "at most N messages in any one second" (Telegram: 30).

Telegram counts a message when its request reaches its servers, which is somewhere between the
moment we send it and the moment its answer comes back; the network's jitter moves that moment.
Spacing sends evenly by the time they leave cannot promise anything about the time they arrive
(at 29 a second, evenly, a delayed request let two arrive close enough to make 31 in a second).
``SendWindow`` admits a send only while fewer than ``limit`` earlier sends are still in flight or
were answered less than ``window`` seconds ago. That holds at the far end whatever the delays:
take any ``window``-long span of arrivals and the one of them sent last; every other one was sent
before it and answered after the span began, so it was counted when that last one was admitted.
The price is the round trip: at most ``limit`` sends per ``window`` + round-trip time.
"""

from __future__ import annotations

import asyncio
from bisect import insort
from collections import deque
from typing import Callable


class SendWindow:
    """An async context manager around each send: entering waits for its turn, leaving records
    when the answer came. Sends are also spaced ``window / limit`` apart, so that they leave one
    by one rather than ``limit`` at once after a pause. The spacing keeps to a timeline: sends
    let through late (a busy loop woke them late, a slow answer held the window) may make up as
    many as ``catch_up`` gaps by leaving closer together, or every late wake-up would lengthen
    the pace for good (bench/fanout.py: 28.6 a second with none made up, 29.4 with half a gap,
    29.7-30 with 3-10; the window, not the spacing, is what keeps to the limit).

    Time is the running loop's clock, the one ``asyncio.sleep`` waits on (tests run it on a loop
    whose clock is virtual). ``hold_unanswered`` decides, from the exception a send ended with,
    whether it may still arrive later (a timeout: the request may be on its way): such a send is
    counted for one more ``window``.
    """

    def __init__(self, limit: int = 30, window: float = 1.0, *, spacing: bool = True, catch_up: float = 5,
                 hold_unanswered: Callable[[BaseException], bool] | None = None) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be ≥ 1 and window > 0")
        self.limit = limit
        self.window = window
        self.gap = window / limit if spacing else 0.0
        self.catch_up = catch_up * self.gap
        self._hold_unanswered = hold_unanswered
        self._turn = asyncio.Lock()  # one waiter at a time decides, in arrival order
        self._in_flight = 0
        self._answered: deque[float] = deque()  # answer times, oldest first
        self._due: float | None = None  # the spacing's next slot
        self._answer = asyncio.Event()

    @staticmethod
    def now() -> float:
        return asyncio.get_running_loop().time()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def counted(self, now: float | None = None) -> int:
        """Sends that still count against the limit: in flight, or answered within the window."""
        now = self.now() if now is None else now
        # The same sum as the wait in __aenter__, so that a place is free exactly when it says.
        while self._answered and self._answered[0] + self.window <= now:
            self._answered.popleft()
        return self._in_flight + len(self._answered)

    async def __aenter__(self) -> "SendWindow":
        async with self._turn:
            while True:
                now = self.now()
                wait = 0.0 if self._due is None else self._due - now
                if self.counted(now) >= self.limit:
                    if not self._answered:
                        # Every counted send is still in flight: only an answer can free a place.
                        self._answer.clear()
                        await self._answer.wait()
                        continue
                    wait = max(wait, self._answered[0] + self.window - now)
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            # After a quiet window (nothing counted) nothing is made up: the pace starts afresh.
            idle = self._due is None or self.counted(now) == 0
            self._due = now + self.gap if idle else max(self._due, now - self.catch_up) + self.gap
            self._in_flight += 1
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        self._in_flight -= 1
        answered = self.now()
        if exc is not None and self._hold_unanswered is not None and self._hold_unanswered(exc):
            answered += self.window
        insort(self._answered, answered)  # a held send's time may lie after later answers
        self._answer.set()
