"""The send window (bot.platforms.pacing.SendWindow) keeps Telegram's "30 messages in any second"
where Telegram counts them, on arrival, whatever the network does to each request on its way.

Everything runs on an event loop whose clock is virtual: a sleep advances the clock instead of
waiting, so seconds of sends take milliseconds and every run is the same."""

from __future__ import annotations

import asyncio
import math
import random
import selectors

import pytest

from bot.platforms.pacing import SendWindow


class _Clockwork(selectors.SelectSelector):
    """A selector that, asked to wait, moves the virtual clock on instead of blocking."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1000.0

    def select(self, timeout=None):
        if timeout is None:
            raise RuntimeError("deadlock: nothing is scheduled and nothing can happen")
        if timeout > 0:  # at least one step of the float, or a tiny wait would never end
            self.now = max(self.now + timeout, math.nextafter(self.now, math.inf))
        return super().select(0)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._clockwork = _Clockwork()
        super().__init__(self._clockwork)

    def time(self) -> float:
        return self._clockwork.now


def run(coro):
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def now() -> float:
    return asyncio.get_running_loop().time()


class Net:
    """Sends through a limiter to a far end that records when each request arrives.

    ``delays(i)`` gives request i's time on the way out and the answer's time on the way back."""

    def __init__(self, limiter, delays) -> None:
        self.limiter, self.delays = limiter, delays
        self.admitted: list[float] = []
        self.arrived: list[float] = []

    async def send(self, i: int) -> None:
        out, back = self.delays(i)
        async with self.limiter:
            self.admitted.append(now())
            await asyncio.sleep(out)
            self.arrived.append(now())
            await asyncio.sleep(back)

    async def send_all(self, n: int) -> float:
        start = now()
        await asyncio.gather(*(self.send(i) for i in range(n)))
        return now() - start


def most_in_any_window(times: list[float], window: float = 1.0) -> int:
    """The most times in any half-open span (t - window, t], as Telegram's flood control counts."""
    times = sorted(times)
    most, first = 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - window:
            first += 1
        most = max(most, last - first + 1)
    return most


class EvenlySpaced:
    """The previous pacing: one send every 1/rate s by the time it leaves (what aiolimiter's
    ``AsyncLimiter(1, 1/rate)`` did; aiolimiter itself spins on a virtual clock's tiny waits)."""

    def __init__(self, rate: float) -> None:
        self.gap, self.last, self.turn = 1 / rate, None, asyncio.Lock()

    async def __aenter__(self):
        async with self.turn:
            if self.last is not None and now() < self.last + self.gap:
                await asyncio.sleep(self.last + self.gap - now())
            self.last = now()

    async def __aexit__(self, *exc):
        return None


def jittery(seed: int):
    """Mostly 2-10 ms each way; one request in 15 held 50-300 ms on its way out (a busy loop,
    a retransmitted packet), which is what let 31 arrive within a second at 29 a second."""
    rng = random.Random(seed)

    def delays(i: int) -> tuple[float, float]:
        out = rng.uniform(0.002, 0.010)
        if rng.random() < 1 / 15:
            out += rng.uniform(0.05, 0.3)
        return out, rng.uniform(0.002, 0.010)

    return delays


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_never_more_than_30_arrive_in_any_second_whatever_the_delays(seed):
    async def scenario():
        window = Net(SendWindow(30, 1.0), jittery(seed))
        await window.send_all(600)
        # The same delays behind sends spaced evenly at 29 a second by the time they leave (the
        # previous pacing): the delays are enough to push 31 into one second at the far end.
        even = Net(EvenlySpaced(29), jittery(seed))
        await even.send_all(600)
        return window, even

    window, even = run(scenario())
    assert len(window.arrived) == 600
    assert most_in_any_window(window.arrived) <= 30
    assert most_in_any_window(window.admitted) <= 30  # and so, too, where they leave
    assert most_in_any_window(even.arrived) > 30


def test_it_runs_at_30_per_second_and_round_trip():
    async def scenario():
        net = Net(SendWindow(30, 1.0), lambda i: (0.005, 0.005))  # a 10 ms round trip
        return await net.send_all(301), net

    elapsed, net = run(scenario())
    # The 301st waits for the answer to the 271st, ten windows of 1 s + 10 ms after the first.
    assert 10.1 <= elapsed <= 10.2
    gaps = [b - a for a, b in zip(net.admitted, net.admitted[1:])]
    assert min(gaps) >= 1 / 30 - 1e-9  # evenly spaced when nothing is late: never a burst


def test_sends_still_in_flight_hold_their_place_until_answered():
    async def scenario():
        # Answers take 3 s: the first 30 fill the window; the 31st must wait for an answer
        # (not for a second to pass since they left) and then a further second.
        net = Net(SendWindow(30, 1.0), lambda i: (0.1, 2.9))
        await net.send_all(31)
        return net

    net = run(scenario())
    first_answer = net.admitted[0] + 3.0
    assert net.admitted[30] >= first_answer + 1.0 - 1e-9


@pytest.mark.parametrize("error, counted_for", [("timed out", 2.0), ("answered", 1.0)])
def test_a_send_that_timed_out_may_still_arrive_so_it_is_counted_a_window_longer(error, counted_for):
    class TimedOut(Exception):
        pass

    async def scenario():
        limiter = SendWindow(1, 1.0, hold_unanswered=lambda exc: isinstance(exc, TimedOut))
        times = []
        with pytest.raises(Exception):
            async with limiter:
                times.append(now())
                raise TimedOut() if error == "timed out" else ValueError("a 400: Telegram answered")
        async with limiter:  # one place, taken by the first until a window after its end
            times.append(now())
        return times

    times = run(scenario())
    assert times[1] - times[0] == pytest.approx(counted_for)


def test_late_sends_make_up_at_most_catch_up_gaps_and_a_quiet_second_starts_afresh():
    async def scenario():
        limiter = SendWindow(30, 1.0, catch_up=5)
        admitted = []

        async def one():
            async with limiter:
                admitted.append(now())

        await one()
        # The loop is busy for 0.5 s (15 gaps): the sends waiting then make up 5 gaps, not 15.
        waiting = [asyncio.create_task(one()) for _ in range(12)]
        await asyncio.sleep(0)
        asyncio.get_running_loop()._clockwork.now += 0.5  # a stall: time passed while nothing ran
        await asyncio.gather(*waiting)
        quick = sum(1 for a, b in zip(admitted[1:], admitted[2:]) if b - a < 1 / 30 - 1e-9)
        # After more than a second of quiet, the next sends are spaced again from the start.
        await asyncio.sleep(2)
        fresh_start = len(admitted)
        await asyncio.gather(*(one() for _ in range(4)))
        fresh = [b - a for a, b in zip(admitted[fresh_start:], admitted[fresh_start + 1:])]
        return quick, fresh

    quick, fresh = run(scenario())
    assert quick == 5
    assert min(fresh) >= 1 / 30 - 1e-9
