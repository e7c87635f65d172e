"""One rate limit per deployment for the whole cluster (DESIGN decision 5).

Azure's quota (requests and tokens per minute) belongs to the deployment, not to a
process: N actors each pacing themselves would send N times the rate. So one named Ray
actor per deployment holds the budget, and every extract and embed actor on every node
takes its requests from it. No maintained library does this across Ray processes (aiolimiter
and limits are per process or need Redis), hence this small module.

The budget is a pair of token buckets refilled continuously, holding at most 10 seconds of
quota (Azure enforces a per-minute quota over short windows). A caller reserves before it
sends: the bucket may go negative, and the caller waits until its reservation is covered,
which spaces requests evenly instead of letting them burst and collect 429s. Token costs
are estimated before the call and corrected from ``usage`` after it. A 429 pauses every
caller for the ``retry-after`` it names; ``x-ratelimit-remaining-*`` headers, where the
server sends them, pull the buckets down to what the server says is left.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import ray

BURST_SECONDS = 10.0


class Budget:
    """The arithmetic of the limiter, without Ray (unit-tested on its own)."""

    def __init__(self, rpm: int, tpm: int, now: float | None = None) -> None:
        self.rpm, self.tpm = rpm, tpm
        self.req_rate, self.tok_rate = rpm / 60.0, tpm / 60.0
        self.req_cap = max(1.0, self.req_rate * BURST_SECONDS)
        self.tok_cap = max(1.0, self.tok_rate * BURST_SECONDS)
        self.requests, self.tokens = self.req_cap, self.tok_cap
        self.stamp = time.monotonic() if now is None else now
        self.paused_until = 0.0
        self.granted = 0
        self.paused = 0

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.stamp)
        self.requests = min(self.req_cap, self.requests + elapsed * self.req_rate)
        self.tokens = min(self.tok_cap, self.tokens + elapsed * self.tok_rate)
        self.stamp = max(self.stamp, now)

    def reserve(self, requests: int, tokens: int, now: float | None = None) -> float:
        """Take ``requests`` and ``tokens``; return seconds to wait before using them."""
        now = time.monotonic() if now is None else now
        self._refill(now)
        self.requests -= requests
        self.tokens -= min(tokens, self.tok_cap)
        wait = max(-self.requests / self.req_rate if self.requests < 0 else 0.0,
                   -self.tokens / self.tok_rate if self.tokens < 0 else 0.0,
                   self.paused_until - now)
        self.granted += requests
        return max(0.0, wait)

    def correct(self, tokens: int) -> None:
        """Add back (negative: take more) tokens once the real usage is known."""
        self.tokens = min(self.tok_cap, self.tokens + tokens)

    def pause(self, seconds: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.paused_until = max(self.paused_until, now + seconds)
        self.paused += 1

    def observe(self, remaining_requests: int | None, remaining_tokens: int | None,
                now: float | None = None) -> None:
        """The server's own count of what is left bounds ours."""
        now = time.monotonic() if now is None else now
        self._refill(now)
        if remaining_requests is not None:
            self.requests = min(self.requests, float(remaining_requests))
        if remaining_tokens is not None:
            self.tokens = min(self.tokens, float(remaining_tokens))


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
class QuotaActor:
    """The cluster-wide budget of one deployment (named ``backfill-quota-<deployment>``)."""

    def __init__(self, rpm: int, tpm: int) -> None:
        self.budget = Budget(rpm, tpm)

    def reserve(self, requests: int, tokens: int) -> float:
        return self.budget.reserve(requests, tokens)

    def correct(self, tokens: int) -> None:
        self.budget.correct(tokens)

    def pause(self, seconds: float) -> None:
        self.budget.pause(seconds)

    def observe(self, remaining_requests: int | None, remaining_tokens: int | None) -> None:
        self.budget.observe(remaining_requests, remaining_tokens)

    def stats(self) -> dict[str, Any]:
        return {"granted": self.budget.granted, "paused": self.budget.paused}


def quota_actor(rpm: int, tpm: int) -> Any:
    """A deployment's budget; the driver makes one per deployment for the run and hands it
    to every actor of the stages that call that deployment."""
    # Thousands of tiny calls an hour that no one needs to trace: without task events they
    # cost the GCS nothing (it keeps the events of up to 100,000 tasks, a few KB each, so
    # its memory grew with the run).
    return QuotaActor.options(  # type: ignore[attr-defined]
        enable_task_events=False
    ).remote(rpm, tpm)


class Quota:
    """An actor's handle on its deployment's budget.

    To keep remote calls few at high rates, it reserves a small lease of requests and
    tokens at a time and hands them out locally; a lease is small next to the 10-second
    burst, so the spacing stays even.
    """

    def __init__(self, actor: Any, rpm: int) -> None:
        self.actor = actor
        # At most 1% of a minute's quota, and 64 requests: a few remote calls per second.
        self.lease = int(max(1, min(64, rpm / 100)))
        self.left_requests = 0
        self.left_tokens = 0
        self.avg_tokens = 0.0
        self.ready_at = 0.0
        self.lock = asyncio.Lock()
        self.unsent_correction = 0
        self.corrections = 0
        self.observed_at = 0.0

    async def acquire(self, tokens: int) -> None:
        """Wait until one request of ``tokens`` (estimated) fits the deployment's quota."""
        self.avg_tokens = tokens if not self.avg_tokens else 0.9 * self.avg_tokens + 0.1 * tokens
        async with self.lock:
            if self.left_requests < 1 or self.left_tokens < tokens:
                req = self.lease if self.left_requests < 1 else 0
                tok = 0
                if self.left_tokens < tokens:
                    tok = int(max(tokens - self.left_tokens, self.lease * self.avg_tokens))
                wait = await self.actor.reserve.remote(req, tok)
                self.ready_at = max(self.ready_at, time.monotonic() + wait)
                self.left_requests += req
                self.left_tokens += tok
            self.left_requests -= 1
            self.left_tokens -= tokens
            ready_at = self.ready_at
        delay = ready_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def correct(self, tokens: int) -> None:
        """Give back (or take) the difference between estimated and real tokens; sent a
        lease at a time, since a remote call per request costs CPU the client lacks."""
        self.unsent_correction += tokens
        self.corrections += 1
        if self.corrections >= self.lease:
            if self.unsent_correction:
                self.actor.correct.remote(self.unsent_correction)
            self.unsent_correction = self.corrections = 0

    def pause(self, seconds: float) -> None:
        """A 429: every caller of the deployment waits."""
        self.actor.pause.remote(seconds)

    def observe(self, headers: Any) -> None:
        def number(name: str) -> int | None:
            value = headers.get(name)
            try:
                return int(value) if value is not None else None
            except ValueError:
                return None

        now = time.monotonic()
        if now - self.observed_at < 1.0:  # the server's count moves slowly; once a second
            return
        req = number("x-ratelimit-remaining-requests")
        tok = number("x-ratelimit-remaining-tokens")
        if req is not None or tok is not None:
            self.observed_at = now
            self.actor.observe.remote(req, tok)


class InFlightWindow:
    """How many requests one actor keeps in flight: its share of the deployment's request
    rate times the observed answer time (Little's law), with headroom for slow answers.

    A fixed number either starves the quota when answers are slower than guessed (long
    extractions take 5-10 s) or queues hundreds of requests behind the limiter when they are
    faster. So the window starts from ``expected_latency_seconds`` and follows a running
    mean of the answer times it sees. ``fixed`` (``max_concurrency``) turns that off.
    """

    HEADROOM = 1.5
    FLOOR, CEILING = 16, 512

    def __init__(self, rate_per_second: float, latency: float, fixed: int | None = None) -> None:
        self.rate = rate_per_second
        self.latency = latency
        self.fixed = fixed
        self.limit = fixed or self._size()
        self.in_flight = 0
        self.peak = 0
        self._cond: asyncio.Condition | None = None

    def _size(self) -> int:
        needed = math.ceil(self.rate * self.latency * self.HEADROOM)
        return int(min(self.CEILING, max(self.FLOOR, needed)))

    def observe(self, seconds: float) -> None:
        """One answer took ``seconds`` (the HTTP call, not the waits before it)."""
        self.latency = 0.95 * self.latency + 0.05 * seconds
        if not self.fixed:
            self.limit = self._size()

    async def __aenter__(self) -> None:
        if self._cond is None:
            self._cond = asyncio.Condition()  # bound to the actor's event loop
        async with self._cond:
            await self._cond.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    async def __aexit__(self, *_exc: object) -> None:
        assert self._cond is not None
        async with self._cond:
            self.in_flight -= 1
            # the limit may have grown since: wake as many as now fit
            self._cond.notify(max(1, self.limit - self.in_flight))
