"""The quota arithmetic (unit) and the shared budget across actors (integration)."""

from __future__ import annotations

import asyncio
import time

import pytest

from backfill.limiter import Budget, Quota, quota_actor


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
