"""The quota arithmetic (unit) and the shared budget across actors and jobs (integration).

The windows below are Azure's admission rule computed here, independently of the limiter:
every request charged prompt + max_tokens when it arrives, RPM/60 and TPM/60 a second.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest

from backfill.config import LLMConfig
from backfill.limiter import (
    BATCH_PRIORITY,
    HEADROOM,
    AdaptiveMaxTokens,
    Budget,
    InFlightWindow,
    Quota,
    quota_actor,
    request_seconds,
)


def _azure_windows(sends: list[tuple[float, int]], offset: float) -> tuple[int, int]:
    """The most requests and tokens any 1-second window (starting at ``offset``) got."""
    reqs: Counter[int] = Counter()
    toks: Counter[int] = Counter()
    for t, tokens in sends:
        w = math.floor(t - offset)
        reqs[w] += 1
        toks[w] += tokens
    return max(reqs.values()), max(toks.values())


@pytest.mark.unit
@pytest.mark.parametrize("tokens", [1000, 430, 10])  # token-bound ... request-bound
def test_slots_keep_every_1s_window_within_the_quota_from_the_start(tokens: int) -> None:
    rpm, tpm = 2400, 600_000  # 40 requests and 10,000 tokens a second
    b = Budget(rpm, tpm, now=0.0)
    cost = request_seconds(tokens, rpm, tpm)
    # 300 requests all asking at t=0: each leaves at the start of its slot (epoch seconds)
    sends = [(b.reserve(cost, now=0.0), tokens) for _ in range(300)]
    assert sends[0][0] == 0.0 and sends[1][0] == pytest.approx(cost)  # spaced, no burst
    for offset in (0.0, 0.013, 0.5, 0.77):
        most_requests, most_tokens = _azure_windows(sends, offset)
        assert most_requests <= 40 and most_tokens <= 10_000
    # ... and uses the quota: HEADROOM of the binding limit over the 300 requests
    span = sends[-1][0] + cost
    used = max(300 / span / 40, 300 * tokens / span / 10_000)
    assert used == pytest.approx(HEADROOM, rel=0.01)


@pytest.mark.unit
def test_an_idle_budget_gathers_no_burst() -> None:
    b = Budget(600, 10**9, now=0.0)
    assert b.reserve(0.1, now=0.0) == 0.0
    assert b.reserve(0.1, now=100.0) == 100.0  # idle for 100 s ...
    assert b.reserve(0.1, now=100.0) == pytest.approx(100.1)  # ... and still spaced


@pytest.mark.unit
def test_owed_seconds_are_settled_with_the_next_reservation() -> None:
    b = Budget(600, 10**9, now=0.0)
    b.reserve(1.0, now=0.0)  # the schedule is taken until t=1
    assert b.reserve(0.5, owed=0.4, now=0.0) == pytest.approx(0.6)
    assert b.reserve(0.5, owed=-0.2, now=0.0) == pytest.approx(1.3)


@pytest.mark.unit
def test_a_429_pauses_the_schedule() -> None:
    b = Budget(10**6, 10**9, now=0.0)
    b.pause(3.0, now=1.0)
    assert b.pause_version == 1
    assert b.reserve(0.01, now=1.5) == pytest.approx(4.0)
    assert b.reserve(0.01, now=4.5) == 4.5


@pytest.mark.unit
def test_a_429_voids_the_slots_booked_ahead_and_restarts_the_schedule_at_its_end() -> None:
    b = Budget(10**6, 10**9, now=0.0)
    for _ in range(300):
        b.reserve(0.01, now=0.0)  # booked 3 s ahead, under pause version 0
    assert b.pause(0.5, seen=0, now=1.0)  # a 429 at t=1: a new incident
    # the next slot starts when the pause ends, not after the 2 s of void slots
    assert b.reserve(0.01, now=1.0) == pytest.approx(1.5)
    # another 429 of a request scheduled before that pause: the same incident, so the
    # slots given since (version 1) stand and only the pause grows
    assert not b.pause(0.7, seen=0, now=1.0)
    assert b.pause_version == 1
    assert b.reserve(0.01, now=1.0) == pytest.approx(1.7)
    assert b.pause(1.0, seen=1, now=2.0) and b.pause_version == 2


@pytest.mark.unit
def test_max_tokens_follow_the_answers_seen() -> None:
    m = AdaptiveMaxTokens(800)
    for i in range(19):
        m.observe(100 + i)
    assert m.limit == 800  # too few answers yet
    answers = [100 + (i * 37) % 60 for i in range(200)]  # 100..159
    for t in answers:
        m.observe(t)
    seen = sorted(([100 + i for i in range(19)] + answers)[-500:])
    q99 = seen[math.ceil(0.99 * len(seen)) - 1]
    assert m.limit == math.ceil(q99 * 1.5) == 239
    short = AdaptiveMaxTokens(800)
    for _ in range(30):
        short.observe(5)
    assert short.limit == AdaptiveMaxTokens.FLOOR
    capped = AdaptiveMaxTokens(300)
    for _ in range(30):
        capped.observe(290)
    assert capped.limit == 300
    fixed = AdaptiveMaxTokens(800, adaptive=False)
    for _ in range(30):
        fixed.observe(5)
    assert fixed.limit == 800


@pytest.mark.unit
def test_max_tokens_start_from_the_preflight_answer() -> None:
    """Before the warm-up's answers: three times the preflight's answer (issue 14: the first
    requests of a token-bound quota were charged the cap), within the floor and the cap;
    the cap without a seed or when not adaptive; the answers seen take over after warm-up."""
    assert AdaptiveMaxTokens(800).limit == 800
    seeded = AdaptiveMaxTokens(800, seed=98)
    assert seeded.limit == 294
    assert AdaptiveMaxTokens(800, seed=20).limit == AdaptiveMaxTokens.FLOOR
    assert AdaptiveMaxTokens(800, seed=400).limit == 800
    assert AdaptiveMaxTokens(800, adaptive=False, seed=98).limit == 800
    for _ in range(19):
        seeded.observe(300)
    assert seeded.limit == 294  # still the seed until WARMUP answers
    seeded.observe(300)
    assert seeded.limit == 450


@pytest.mark.unit
def test_max_tokens_follow_only_the_last_answers_once_the_sample_is_full() -> None:
    """Long answers early, short ones later: once they have left the window of the last
    SAMPLE answers, the limit is fitted to the short ones alone (the sorted copy must drop
    exactly the answers the window drops)."""
    m = AdaptiveMaxTokens(2000)
    answers = [900 - i for i in range(300)] + [100 + (i * 7) % 40 for i in range(900)]
    for n, t in enumerate(answers, 1):
        m.observe(t)
        if n >= 20 and n % 10 == 0:
            window = sorted(answers[max(0, n - 500):n])
            q99 = window[math.ceil(0.99 * len(window)) - 1]
            assert m.limit == min(2000, max(128, math.ceil(q99 * 1.5))), n
    assert m.limit == math.ceil(139 * 1.5)


def _cfg(rpm: int, tpm: int) -> LLMConfig:
    # a name of its own per test: the actor is shared by name across the session
    return LLMConfig(deployment=f"d-{uuid.uuid4().hex[:8]}", endpoint="http://quota.test",
                     api_key="x", requests_per_minute=rpm, tokens_per_minute=tpm)


@pytest.mark.integration
def test_two_actors_share_one_named_budget(ray_local: None) -> None:
    """Two clients of one deployment together get the quota, not twice it; a second
    lookup by name (as another stage or job does) finds the same actor."""
    cfg = _cfg(rpm=1200, tpm=10**9)  # 20 requests a second
    actor = quota_actor(cfg)
    assert quota_actor(cfg)._actor_id == actor._actor_id

    async def both() -> list[float]:
        sent: list[float] = []

        async def client(n: int) -> None:
            quota = Quota(quota_actor(cfg), cfg.requests_per_minute, cfg.tokens_per_minute)
            for _ in range(n):
                await quota.acquire(10)
                sent.append(time.monotonic())
            quota.stop()

        await asyncio.gather(client(40), client(40))
        return sorted(sent)

    sent = asyncio.run(both())
    # 80 requests at 95% of 20/s: 4.2 s; separate budgets would have taken half that
    assert sent[-1] - sent[0] >= 79 / (20 * HEADROOM) * 0.95
    per_second = Counter(math.floor(t - sent[0]) for t in sent)
    assert max(per_second.values()) <= 20


@pytest.mark.integration
def test_a_429_pauses_requests_already_holding_their_slots(ray_local: None) -> None:
    """Actor B's requests got their slots before actor A's 429: none of them leaves
    during the pause (pushed by the budget's actor, not learnt at B's next reservation)."""
    cfg = _cfg(rpm=600, tpm=10**9)  # 10 requests a second: slots 0.105 s apart

    async def scenario() -> tuple[float, list[float], int]:
        a = Quota(quota_actor(cfg), 600, 10**9)
        b = Quota(quota_actor(cfg), 600, 10**9)
        sent: list[float] = []

        async def request() -> None:
            await b.acquire(10)
            sent.append(time.monotonic())

        await a.acquire(10)  # A listens for pauses too
        tasks = [asyncio.create_task(request()) for _ in range(20)]
        while len(sent) < 3:  # B's requests hold slots over the next 2 s
            await asyncio.sleep(0.01)
        paused_at = time.monotonic()
        a.pause(1.0)  # A was answered 429 with retry-after 1 s
        await asyncio.gather(*tasks)
        a.stop()
        b.stop()
        return paused_at, sent, b.pauses

    paused_at, sent, pauses = asyncio.run(scenario())
    assert pauses >= 1
    # the push takes a remote call or two to arrive (ms); nothing leaves after that
    during = [t - paused_at for t in sent if paused_at + 0.05 < t < paused_at + 1.0]
    assert during == []
    assert len(sent) == 20


@pytest.mark.integration
def test_another_job_on_the_cluster_shares_the_budget(ray_local: None) -> None:
    import ray

    cfg = _cfg(rpm=600, tpm=10**9)
    actor = quota_actor(cfg)
    for _ in range(5):
        ray.get(actor.reserve.remote(0.5))
    code = (
        "import json, sys, ray; from backfill.config import LLMConfig; "
        "from backfill.limiter import quota_actor; ray.init(address=sys.argv[1], "
        "logging_level='ERROR'); a = quota_actor(LLMConfig.model_validate_json(sys.argv[2])); "
        "print(json.dumps(ray.get(a.stats.remote())))"
    )
    # The second driver joins this session's cluster as it is: same auth settings (a
    # cluster started with a token file on the machine wants the token, one started with
    # RAY_AUTH_MODE=disabled wants none), so the environment is passed on unchanged.
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH"))
                                         if p)}
    done = subprocess.run(
        [sys.executable, "-c", code, ray.get_runtime_context().gcs_address,
         cfg.model_dump_json()], capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    assert stats["reserved_seconds"] == pytest.approx(2.5)  # what this job reserved


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


@pytest.mark.unit
def test_window_serves_older_batches_first_even_when_their_requests_come_back_later() -> None:
    """A repair of batch 1 that comes back after batch 2's requests queued goes before them:
    the first batch is done (and committed) first, not when every batch is."""
    async def scenario() -> list[tuple[int, int]]:
        w = InFlightWindow(1.0, 1.0, fixed=2)
        order: list[tuple[int, int]] = []
        gate = asyncio.Event()

        async def request(batch: int, i: int) -> None:
            BATCH_PRIORITY.set(batch)
            async with w:
                order.append((batch, i))
                await gate.wait()

        first = [asyncio.create_task(request(1, i)) for i in range(2)]  # fill the window
        await asyncio.sleep(0)
        later = [asyncio.create_task(request(2, i)) for i in range(3)]
        await asyncio.sleep(0)
        repair = asyncio.create_task(request(1, 99))  # batch 1 again, last to arrive
        cancelled = asyncio.create_task(request(0, -1))  # best priority, then gone
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(*first, *later, repair, return_exceptions=True)
        return order

    order = asyncio.run(scenario())
    assert order == [(1, 0), (1, 1), (1, 99), (2, 0), (2, 1), (2, 2)]


@pytest.mark.integration
def test_the_oldest_batch_on_the_cluster_goes_first(ray_local: None) -> None:
    """Two actors' batches wait for one deployment's slots: the batch started first gets
    every slot before the later one gets any, whichever actor asked first (with two extract
    actors the first commit waited for both first batches)."""
    cfg = _cfg(rpm=600, tpm=10**9)  # 10 requests a second

    async def scenario() -> list[str]:
        actor = quota_actor(cfg)
        a = Quota(actor, 600, 10**9)
        b = Quota(quota_actor(cfg), 600, 10**9)
        order: list[str] = []

        async def request(quota: Quota, batch: str, started: float) -> None:
            BATCH_PRIORITY.set(started)
            await quota.acquire(10)
            order.append(batch)

        async def waiting(n: int) -> None:
            # synchronisation on the actor's own state, not on time
            deadline = time.monotonic() + 60
            while (await actor.stats.remote())["waiting"] < n:
                assert time.monotonic() < deadline, "requests never reached the budget"
                await asyncio.sleep(0.01)

        # another caller holds the next minute of schedule, so that every request waits
        await actor.reserve.remote(60.0)
        # the newer batch asks first ...
        newer = [asyncio.create_task(request(a, "newer", 2.0)) for _ in range(20)]
        await waiting(20)
        # ... then the older one's requests arrive at the other actor
        older = [asyncio.create_task(request(b, "older", 1.0)) for _ in range(10)]
        await waiting(30)
        await actor.reserve.remote(0.0, 60.0)  # the minute is given back
        await asyncio.gather(*newer, *older)
        a.stop()
        b.stop()
        return order

    order = asyncio.run(scenario())
    assert order == ["older"] * 10 + ["newer"] * 20, order
