"""The quota arithmetic (unit) and the shared budget across actors (integration)."""

from __future__ import annotations

import asyncio
import time

import pytest

from backfill.limiter import Budget, InFlightWindow, Quota, quota_actor


@pytest.mark.unit
def test_reservations_space_requests_at_the_quota_rate() -> None:
    b = Budget(rpm=600, tpm=10**9, now=0.0)  # 10 requests/s, burst of 100
    waits = [b.reserve(1, 0, now=0.0) for _ in range(120)]
    assert waits[:100] == [0.0] * 100
    # The 20 beyond the burst are spaced 0.1 s apart, not sent at once.
    assert waits[100:] == pytest.approx([0.1 * (i + 1) for i in range(20)])


@pytest.mark.unit
def test_tokens_limit_and_correction() -> None:
    b = Budget(rpm=10**6, tpm=6000, now=0.0)  # 100 tokens/s, burst of 1000
    assert b.reserve(1, 1000, now=0.0) == 0.0
    assert b.reserve(1, 500, now=0.0) == pytest.approx(5.0)
    b.correct(500)  # the first call used 500 tokens fewer than estimated
    assert b.reserve(1, 0, now=0.0) == pytest.approx(0.0)


@pytest.mark.unit
def test_a_429_pauses_everyone() -> None:
    b = Budget(rpm=10**6, tpm=10**9, now=0.0)
    b.pause(3.0, now=1.0)
    assert b.reserve(1, 10, now=1.5) == pytest.approx(2.5)
    assert b.reserve(1, 10, now=4.5) == 0.0


@pytest.mark.unit
def test_server_remaining_headers_bound_the_budget() -> None:
    b = Budget(rpm=600, tpm=10**9, now=0.0)
    b.observe(remaining_requests=0, remaining_tokens=None, now=0.0)
    assert b.reserve(1, 0, now=0.0) == pytest.approx(0.1)


@pytest.mark.integration
def test_two_actors_share_one_budget(ray_local: None) -> None:
    """Two clients of one deployment together get the quota, not twice it."""
    actor = quota_actor(rpm=1200, tpm=10**9)  # 20/s, burst of 200

    async def client(n: int) -> None:
        quota = Quota(actor, rpm=1200)
        for _ in range(n):
            await quota.acquire(10)

    async def both() -> float:
        t0 = time.monotonic()
        await asyncio.gather(client(150), client(150))
        return time.monotonic() - t0

    elapsed = asyncio.run(both())
    # 300 requests: 200 from the burst, 100 more at 20/s -> about 5 s; separate
    # budgets would have let both clients through at once.
    assert elapsed >= 4.0


@pytest.mark.unit
def test_window_follows_the_observed_answer_time() -> None:
    # 3,000 RPM over 2 actors: 25 requests/s each. Guessed 2 s: 25 x 2 x 1.5 = 75 in flight.
    w = InFlightWindow(25.0, 2.0)
    assert w.limit == 75
    for _ in range(200):
        w.observe(8.0)  # answers are four times slower than guessed
    assert w.limit == pytest.approx(25 * 8 * 1.5, rel=0.02)
    for _ in range(400):
        w.observe(0.01)
    assert w.limit == InFlightWindow.FLOOR
    assert InFlightWindow(25.0, 2.0, fixed=40).limit == 40


@pytest.mark.unit
def test_window_never_lets_more_than_its_limit_in_flight_and_admits_more_when_it_grows() -> (
    None
):
    async def scenario() -> tuple[int, int, int]:
        w = InFlightWindow(10.0, 1.0)  # 10 x 1 x 1.5 = 15 -> the floor, 16
        release = [asyncio.Event() for _ in range(100)]
        entered: list[int] = []

        async def request(i: int) -> None:
            async with w:
                entered.append(i)
                await release[i].wait()

        tasks = [asyncio.create_task(request(i)) for i in range(100)]
        for _ in range(50):
            await asyncio.sleep(0)
        first = w.in_flight
        for _ in range(100):
            w.observe(5.0)  # answers slow down: the limit grows towards 75
        release[entered[0]].set()  # the next exit lets the waiters that now fit in
        for _ in range(50):
            await asyncio.sleep(0)
        grown = w.in_flight
        for e in release:
            e.set()
        await asyncio.gather(*tasks)
        return first, grown, w.limit

    first, grown, limit = asyncio.run(scenario())
    assert first == 16
    assert grown == limit > 16
