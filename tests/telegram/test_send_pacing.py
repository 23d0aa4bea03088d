"""Sends leave through a window of Telegram's 30 a second (bot.platforms.telegram.SendRateLimiter,
bot.platforms.pacing.SendWindow; the window itself: tests/telegram/test_send_window.py).

PTB's default overall limiter is a bucket of 30: after a pause it lets 30 sends through at once
and refills while they go, so a strict 30-in-any-second window saw 31 and answered 429 (223 of
them in the province's fan-out, bench/README.md). Through the window, no burst is let through."""

from __future__ import annotations

import asyncio

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.platforms.pacing import SendWindow
from bot.platforms.telegram import SendRateLimiter, _may_still_arrive
from tests.telegram.test_send_window import most_in_any_window, run


async def _times_of_sends(limiter: SendRateLimiter, n: int) -> list[float]:
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def callback(endpoint, data):
        times.append(loop.time())
        await asyncio.sleep(0.01)  # the round trip
        return True

    async def send(i: int):
        data = {"chat_id": -1000 - i, "text": "x"}
        return await limiter.process_request(callback, ("sendMessage", data), {}, "sendMessage", data, None)

    await asyncio.gather(*(send(i) for i in range(n)))
    return times


def test_sends_after_a_pause_are_spaced_not_let_through_as_a_burst():
    times = run(_times_of_sends(SendRateLimiter(), 95))  # on a virtual clock: no real waiting
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) == 95
    assert min(gaps) >= 1 / 30 - 1e-9
    assert most_in_any_window(times) == 30  # 30 in a second, not 31
    assert times[-1] - times[0] < 3.2  # and not much slower: 30 per 1 s + the round trip


def test_the_bot_sends_through_a_window_of_30_a_second_that_counts_unanswered_sends_longer():
    window = SendRateLimiter()._base_limiter
    assert isinstance(window, SendWindow) and (window.limit, window.window) == (30, 1.0)
    assert window._hold_unanswered is _may_still_arrive
    # No answer: the request may still reach Telegram. An answer, even an error, came back.
    assert _may_still_arrive(TimedOut()) and _may_still_arrive(NetworkError("reset by peer"))
    assert _may_still_arrive(asyncio.CancelledError())
    assert not _may_still_arrive(BadRequest("chat not found"))
    assert not _may_still_arrive(Forbidden("bot was kicked"))
    assert not _may_still_arrive(RetryAfter(1))


async def test_reactions_skip_the_message_pacing_and_wait_out_their_own_429():
    from telegram.error import RetryAfter

    loop = asyncio.get_running_loop()
    limiter = SendRateLimiter(per_second=1, max_retries=2)  # a message a second: reactions must not wait
    calls: list[float] = []

    async def callback(endpoint, data):
        calls.append(loop.time())
        if len(calls) == 2:
            raise RetryAfter(0)
        return True

    data = {"chat_id": -1001, "message_id": 1}
    start = loop.time()
    results = [await limiter.process_request(callback, ("setMessageReaction", data), {}, "setMessageReaction",
                                             data, None) for _ in range(3)]
    assert results == [True, True, True] and len(calls) == 4  # the second was retried once
    assert loop.time() - start < 0.9  # none waited for the message pacing
