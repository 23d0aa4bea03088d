"""Sends are spaced evenly under Telegram's 30 a second (bot.platforms.telegram.SendRateLimiter).

PTB's default overall limiter is a bucket of 30: after a pause it lets 30 sends through at once
and refills while they go, so a strict 30-in-any-second window saw 31 and answered 429 (223 of
them in the province's fan-out, bench/README.md). Evenly spaced, no burst is let through."""

from __future__ import annotations

import asyncio

from bot.platforms.telegram import SendRateLimiter


async def _times_of_sends(limiter: SendRateLimiter, n: int) -> list[float]:
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def callback(endpoint, data):
        times.append(loop.time())
        return True

    async def send(i: int):
        data = {"chat_id": -1000 - i, "text": "x"}
        return await limiter.process_request(callback, ("sendMessage", data), {}, "sendMessage", data, None)

    await asyncio.gather(*(send(i) for i in range(n)))
    return times


async def test_sends_after_a_pause_are_spaced_not_let_through_as_a_burst():
    # 100 a second keeps the test short; the spacing is what the bot's 28 a second relies on.
    times = await _times_of_sends(SendRateLimiter(per_second=100), 6)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) == 6
    assert min(gaps) >= 0.9 / 100  # aiolimiter measures on the loop's clock: a lower bound holds


async def test_the_bot_paces_below_telegrams_limit_by_default():
    limiter = SendRateLimiter()
    assert limiter._base_limiter.max_rate == 1  # a bucket of one: never a burst
    assert 1 / limiter._base_limiter.time_period < 30


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
