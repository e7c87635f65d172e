"""One rate limit per deployment for the whole cluster (DESIGN decision 5).

Azure's quota (requests and tokens per minute) belongs to the deployment, not to a
process: N actors each pacing themselves would send N times the rate. So one named Ray
actor per endpoint + deployment holds the budget (``get_if_exists`` in the ``backfill``
namespace: every job on the cluster, a run and a ``retry-failed`` alike, shares it), and
every extract and embed actor on every node takes its requests from it. No maintained
library does this across Ray processes (aiolimiter and limits are per process or need
Redis), hence this small module.

It charges what Azure charges. Azure admits a request against the token quota with its
prompt tokens plus its ``max_tokens``, refunds nothing, and enforces the per-minute quota
over windows of 1 or 10 seconds (RPM/60 and TPM/60 a second). So a request costs
``max(1 / requests-per-second, (prompt + max_tokens) / tokens-per-second)`` seconds of the
deployment's schedule, and the budget hands out consecutive slots of that schedule: the
requests leave evenly spaced, never in a burst, from the first one on (no bucket full of
credit at the start), at ``HEADROOM`` of the quota so that the spacing's jitter on the
way to the server does not tip a 1-second window over. A 429 pauses every caller of the
deployment at once: the actor pushes the pause to every handle (a long-poll), and a
request waiting for its slot checks it before it leaves.

A pause restarts the schedule at its end: every slot handed out before it is void (each
carries the pause version it was given under, and a request whose slot is older than the
latest pause its handle knows asks again). Without that, the slots booked ahead (up to
``HORIZON`` a handle) and then voided stayed taken, and every 429 cost the deployment
seconds of silence after the pause itself (measured: 4-5 s of nothing per 429 at 25
requests a second).

The oldest batch on the cluster goes first. Each request carries its batch's start time
(``BATCH_PRIORITY``); the budget hands out its slots no more than ``LOOKAHEAD`` ahead of the
clock and, when requests wait for them, in that order, whichever actor asked. Without that,
the first batches of all extract actors shared the quota evenly and finished together: with
two actors the first commit waited for 400 answers instead of 200 (measured: 17 s of a 41 s
first commit in the admission benchmark).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import contextvars
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import ray
from ray.exceptions import RayActorError

from backfill.config import ModelEndpointConfig

# Share of the quota the schedule hands out. Requests arrive at the server with a few ms of
# jitter, and a 1-second window holds only a handful of large requests: at 100% one in
# a few windows gets one request too many (measured with the simulator's 1 s windows).
HEADROOM = 0.95
# Seconds of slots one handle books ahead. Its requests' max_tokens are fixed when booked,
# so they must not be booked minutes ahead (the in-flight window, sized from RPM, may hold
# hundreds when TPM binds), and a pause voids no more than this.
HORIZON = 2.0
NAMESPACE = "backfill"
# Seconds of schedule a lease holds at least (high rates only: below 50 requests a second
# each request reserves its own slot). What a handle does not use is given back.
MIN_LEASE = 0.05
# Seconds ahead of the clock the budget hands out slots while requests wait for them: enough
# to cover the remote call and the sleep to the slot, short enough that a request of an older
# batch that arrives now still goes before those already waiting.
LOOKAHEAD = 0.25


def request_seconds(tokens: int, rpm: int, tpm: int) -> float:
    """Seconds of the deployment's schedule one request of ``tokens`` takes."""
    return max(60.0 / (rpm * HEADROOM), 60.0 * tokens / (tpm * HEADROOM))


class Budget:
    """The arithmetic of the limiter, without Ray (unit-tested on its own): a schedule
    of consecutive slots, and the pause a 429 puts on it."""

    def __init__(self, rpm: int, tpm: int, now: float | None = None) -> None:
        self.rpm, self.tpm = rpm, tpm
        # No credit at the start: the first slot begins now.
        self.next_free = time.time() if now is None else now
        self.paused_until = 0.0
        self.pause_version = 0
        self.reserved = 0.0  # seconds of schedule handed out
        self.paused = 0

    def reserve(self, seconds: float, owed: float = 0.0, now: float | None = None) -> float:
        """Take ``seconds`` of the schedule; return when they begin (epoch seconds: the
        clock every node shares through NTP, so that the time a reply takes to come back
        does not move the slot). ``owed``: seconds a caller gives back (an estimate that
        was too high) or takes (too low)."""
        now = time.time() if now is None else now
        self.settle(owed)
        start = max(self.next_free, now, self.paused_until)
        self.next_free = start + seconds
        self.reserved += seconds
        return start

    def settle(self, owed: float) -> None:
        """Give back (+) or take (-) ``owed`` seconds of the schedule."""
        self.next_free -= owed
        self.reserved -= owed

    def pause(self, seconds: float, seen: int | None = None, now: float | None = None) -> bool:
        """A 429 on a request whose slot was given under pause version ``seen``. A new
        incident (``seen`` is the current version, or unknown) pauses the schedule and
        restarts it at the pause's end, voiding every slot handed out before (returns
        True: callers must hear of it); a 429 of an incident already paused for (its
        request was scheduled before that pause) only lengthens the pause."""
        now = time.time() if now is None else now
        self.paused_until = max(self.paused_until, now + seconds)
        if seen is not None and seen < self.pause_version:
            return False
        self.next_free = self.paused_until
        self.pause_version += 1
        self.paused += 1
        return True


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
class QuotaActor:
    """The cluster-wide budget of one deployment (see :func:`quota_actor`)."""

    def __init__(self, rpm: int, tpm: int) -> None:
        self.budget = Budget(rpm, tpm)
        self.paused: asyncio.Event | None = None  # set and replaced on every pause
        # requests waiting for a slot: (priority, arrival, seconds, future)
        self.waiting: list[tuple[float, int, float, asyncio.Future[tuple[float, int]]]] = []
        self.arrivals = itertools.count()
        self.dispatcher: asyncio.Task[None] | None = None
        # set when the schedule moves earlier (a caller gave seconds back): the dispatcher,
        # asleep until the old next slot, hands it out now instead
        self.earlier = asyncio.Event()

    async def configure(self, rpm: int, tpm: int) -> None:
        """A job joining with other quota settings (the config changed): the latest wins."""
        self.budget.rpm, self.budget.tpm = rpm, tpm

    async def reserve(self, seconds: float, owed: float = 0.0,
                      priority: float | None = None) -> tuple[float, int]:
        """The slot's start and the pause version it is valid under. With a ``priority``
        (its batch's start time: lower goes first) the request may wait here while the
        schedule is more than ``LOOKAHEAD`` ahead, and older batches' requests pass it."""
        b = self.budget
        if owed > 0:
            self.earlier.set()
        if priority is None:
            return b.reserve(seconds, owed), b.pause_version
        b.settle(owed)  # now, not when the slot is given
        if not self.waiting and max(b.next_free, b.paused_until) <= time.time() + LOOKAHEAD:
            return b.reserve(seconds), b.pause_version
        slot: asyncio.Future[tuple[float, int]] = asyncio.get_running_loop().create_future()
        heapq.heappush(self.waiting, (priority, next(self.arrivals), seconds, slot))
        if self.dispatcher is None or self.dispatcher.done():
            self.dispatcher = asyncio.get_running_loop().create_task(self._dispatch())
        return await slot

    async def _dispatch(self) -> None:
        """Hand out the waiting requests' slots, best priority first, as the schedule nears."""
        b = self.budget
        while self.waiting:
            delay = max(b.next_free, b.paused_until) - LOOKAHEAD - time.time()
            if delay > 0:
                # (a better request may arrive meanwhile, or the schedule move earlier)
                self.earlier.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.earlier.wait(), delay)
                continue
            _, _, seconds, slot = heapq.heappop(self.waiting)
            if not slot.done():  # (its caller may be gone)
                slot.set_result((b.reserve(seconds), b.pause_version))

    async def pause(self, seconds: float, seen: int | None = None) -> None:
        if self.budget.pause(seconds, seen) and self.paused is not None:
            self.paused.set()
            self.paused = None

    async def next_pause(self, seen: int) -> tuple[int, float]:
        """Wait for a pause newer than ``seen``; return its version and seconds left."""
        while self.budget.pause_version <= seen:
            if self.paused is None:
                self.paused = asyncio.Event()
            await self.paused.wait()
        left = self.budget.paused_until - time.time()
        return self.budget.pause_version, max(0.0, left)

    async def stats(self) -> dict[str, Any]:
        b = self.budget
        return {"reserved_seconds": b.reserved, "paused": b.paused, "rpm": b.rpm, "tpm": b.tpm,
                "waiting": len(self.waiting)}


def quota_name(cfg: ModelEndpointConfig) -> str:
    return f"backfill-quota:{cfg.endpoint or 'api.openai.com'}:{cfg.deployment}"


def quota_actor(cfg: ModelEndpointConfig) -> Any:
    """The budget of ``cfg``'s deployment: the one already on the cluster (another job's,
    or this job's other stage's), else a new one.

    Not detached: it lives while a job holds a handle, and a job whose handle dies with
    the job that made it takes a new one (:class:`Quota` does, on ``RayActorError``).
    """
    rpm, tpm = cfg.requests_per_minute, cfg.tokens_per_minute
    # Thousands of tiny calls an hour that no one needs to trace: without task events they
    # cost the GCS nothing (it keeps the events of up to 100,000 tasks, a few KB each, so
    # its memory grew with the run).
    actor = QuotaActor.options(  # type: ignore[attr-defined]
        name=quota_name(cfg), namespace=NAMESPACE, get_if_exists=True,
        enable_task_events=False,
    ).remote(rpm, tpm)
    actor.configure.remote(rpm, tpm)
    return actor


class Quota:
    """An actor's handle on its deployment's budget.

    At the rates of a real quota (tens of requests a second) each request reserves its own
    slot: one small remote call, several in flight at once, and an exact schedule. Above 50
    requests a second a lease holds a slot for several requests, handed out locally, so
    that the remote calls stay few (the client's CPU is what limits the job there, issue 4).
    """

    def __init__(self, actor: Any, rpm: int, tpm: int,
                 resolve: Callable[[], Any] | None = None) -> None:
        self.actor = actor
        self.resolve = resolve  # a new handle when the actor died with its job
        self.rpm, self.tpm = rpm, tpm
        self.lease = int(max(1, min(64, rpm / 60 / 50)))
        self.cursor = self.end = 0.0  # the lease's slots still free (epoch seconds)
        self.lease_version = -1  # the pause version the lease was given under
        self.owed = 0.0  # seconds to give back (+) or take (-) at the next reserve
        self.paused_until = 0.0  # local monotonic clock
        self.pauses = 0  # pauses seen here (local 429s and pushed ones)
        self.pause_version = -1  # the actor's, last seen (slots older than it are void)
        self.follower: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()
        self.booked_until = 0.0  # end of the last slot this handle reserved (epoch seconds)

    def seconds(self, tokens: int) -> float:
        return request_seconds(tokens, self.rpm, self.tpm)

    async def _remote(self, method: str, *args: Any) -> Any:
        try:
            return await getattr(self.actor, method).remote(*args)
        except RayActorError:
            if self.resolve is None:
                raise
            self.actor = self.resolve()
            return await getattr(self.actor, method).remote(*args)

    def _follow(self) -> None:
        """Start listening for the pauses other actors' 429s put on the deployment."""
        if self.follower is None or self.follower.done():
            self.follower = asyncio.get_running_loop().create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            version, left = await self._remote("next_pause", self.pause_version)
            self._new_version(version)
            if left > 0:
                self._paused_for(left)

    def _new_version(self, version: int) -> None:
        """The actor restarted its schedule (a pause): what this handle booked is void."""
        if version > self.pause_version:
            self.pause_version = version
            self.booked_until = 0.0
            self.owed = 0.0

    def _paused_for(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)
        self.pauses += 1

    async def acquire(self, tokens: int | Callable[[], int]) -> int:
        """Wait for the slot of one request of ``tokens`` (prompt + max_tokens), or of what
        ``tokens()`` says when the request is at most ``HORIZON`` seconds from its slot:
        booked earlier, its max_tokens could not follow the answers that come meanwhile.
        Returns the pause version of the slot (for :meth:`pause`)."""
        self._follow()
        while True:
            while (delay := max(self.paused_until - time.monotonic(),
                                self.booked_until - HORIZON - time.time())) > 0:
                await asyncio.sleep(delay)
            cost = self.seconds(tokens() if callable(tokens) else tokens)
            self.booked_until = max(self.booked_until, time.time()) + cost
            if self.lease == 1:
                owed, self.owed = self.owed, 0.0
                asked = time.monotonic()
                slot, version = await self._remote("reserve", cost, owed, BATCH_PRIORITY.get())
                self._new_version(version)
                if callable(tokens) and time.monotonic() - asked > 0.5:
                    # older batches went first: max_tokens may have been fitted meanwhile
                    # (the first answers of a run); send and charge what it is now
                    fitted = self.seconds(tokens())
                    self.owed += cost - fitted
                    cost = fitted
            else:
                slot, version = await self._from_lease(cost)
            self.booked_until = max(self.booked_until, slot + cost)
            if (delay := slot - time.time()) > 0:
                await asyncio.sleep(delay)
            # A 429 here pauses this handle at once; the actor's push (new version) follows
            # within milliseconds, long before the pause ends.
            while (delay := self.paused_until - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            if version >= self.pause_version:
                return version
            # The deployment was paused while this request waited: its slot is void.

    async def _from_lease(self, cost: float) -> tuple[float, int]:
        async with self.lock:
            slot = max(self.cursor, time.time())
            if self.lease_version < self.pause_version or slot + cost > self.end + 1e-9:
                if self.lease_version == self.pause_version:
                    self.owed += max(0.0, self.end - slot)  # the lease's unused tail
                # At least MIN_LEASE of schedule: a lease of 64 requests of a few µs each
                # (a quota far above the job's pace) ran out by the clock before its
                # second request, and every request paid a remote call (11% of the extract
                # actor's CPU, measured with py-spy at 10M RPM).
                lease, owed = max(cost * self.lease, MIN_LEASE), self.owed
                self.owed = 0.0
                slot, version = await self._remote("reserve", lease, owed)
                self._new_version(version)
                self.end, self.lease_version = slot + lease, version
            self.cursor = slot + cost
            return slot, self.lease_version

    def correct(self, estimate: int, charged: int) -> None:
        """The server's count of what it charged is known: settle the difference with the
        next reservation (no remote call of its own)."""
        self.owed += self.seconds(estimate) - self.seconds(charged)

    def pause(self, seconds: float, seen: int | None = None) -> None:
        """A 429 on a request whose slot had pause version ``seen``: every caller of the
        deployment waits, here at once, elsewhere when the actor's push arrives."""
        self._paused_for(seconds)
        self.actor.pause.remote(seconds, seen)

    def stop(self) -> None:
        if self.follower is not None:
            self.follower.cancel()


class AdaptiveMaxTokens:
    """The ``max_tokens`` to send: fitted to the answers seen, since Azure charges it in full.

    ``QUANTILE`` of the last ``SAMPLE`` answers' completion tokens times ``MARGIN``, at
    least ``FLOOR``, at most ``cap``. Until ``WARMUP`` answers are seen: ``SEED_MARGIN``
    times the preflight's answer (``seed``, one sample of the same prompt and schema) if
    there was one, else ``cap``. An answer cut at ``length`` is censored (its true length is
    unknown) and is not a sample.

    The seed is issue 14's first commit: at the cap, the first requests of a token-bound
    quota were charged ~1,000 tokens for answers of ~100, and the first batch waited for
    them (measured in docs/benchmarks.md). An answer longer than the seeded limit is cut and
    asked again at the cap, as after the warm-up.
    """

    WARMUP, SAMPLE, QUANTILE, MARGIN, FLOOR = 20, 500, 0.99, 1.5, 128
    SEED_MARGIN = 3.0

    def __init__(self, cap: int, adaptive: bool = True, seed: int = 0) -> None:
        self.cap, self.adaptive = cap, adaptive
        self.limit = cap
        if adaptive and seed > 0:
            self.limit = min(cap, max(self.FLOOR, math.ceil(seed * self.SEED_MARGIN)))
        self.seen: deque[int] = deque(maxlen=self.SAMPLE)
        # the same answers in order of length, kept sorted as they come and go: sorting 500
        # of them every ten answers was 2% of the extract actor's CPU (py-spy)
        self.ordered: list[int] = []
        self.cut = 0  # answers cut at a fitted limit (and asked again at the cap)

    def observe(self, completion_tokens: int) -> None:
        if len(self.seen) == self.SAMPLE:
            del self.ordered[bisect.bisect_left(self.ordered, self.seen[0])]
        self.seen.append(completion_tokens)
        bisect.insort(self.ordered, completion_tokens)
        n = len(self.seen)
        if self.adaptive and n >= self.WARMUP and (n == self.WARMUP or n % 10 == 0):
            self.limit = self._limit(self.cap, self.ordered)

    @classmethod
    def fitted(cls, cap: int, answers: Iterable[int]) -> int:
        """The limit fitted to ``answers`` (completion tokens; also the dry run's estimate
        of what the run will charge)."""
        return cls._limit(cap, sorted(answers))

    @classmethod
    def _limit(cls, cap: int, ordered: list[int]) -> int:
        if not ordered:
            return cap
        high = ordered[math.ceil(cls.QUANTILE * len(ordered)) - 1]
        return min(cap, max(cls.FLOOR, math.ceil(high * cls.MARGIN)))


# The batch a request belongs to: when its batch was started (epoch seconds, the clock every
# node shares), set by the API stages for each batch they take (see ``InFlightWindow`` and
# ``QuotaActor.reserve``). Lower goes first, in the actor and across the cluster.
BATCH_PRIORITY: contextvars.ContextVar[float] = contextvars.ContextVar("batch_priority",
                                                                      default=0.0)


def next_batch_priority() -> float:
    """Stamp the batch the calling task is about to work on (its requests inherit it)."""
    started = time.time()
    BATCH_PRIORITY.set(started)
    return started


class InFlightWindow:
    """How many requests one actor keeps in flight: its share of the deployment's request
    rate times the observed answer time (Little's law), with headroom for slow answers.

    A fixed number either starves the quota when answers are slower than guessed (long
    extractions take 5-10 s) or queues hundreds of requests behind the limiter when they are
    faster. So the window starts from ``expected_latency_seconds`` and follows a running
    mean of the answer times it sees. ``fixed`` (``max_concurrency``) turns that off.

    Requests waiting for a place go in the order of their batch (``BATCH_PRIORITY``), then
    of arrival: an actor works on several batches at once, and a request that comes back
    later (a repair, an answer cut at a fitted ``max_tokens``) used to queue behind every
    request of the batches after it, so that each batch waited for its last answer until
    the others were done: nothing was committed for the first 100 s of the admission
    benchmark, then four batches at once. asyncio has no priority semaphore, hence this.
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
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    def _size(self) -> int:
        needed = math.ceil(self.rate * self.latency * self.HEADROOM)
        return int(min(self.CEILING, max(self.FLOOR, needed)))

    def observe(self, seconds: float) -> None:
        """One answer took ``seconds`` (the HTTP call, not the waits before it)."""
        self.latency = 0.95 * self.latency + 0.05 * seconds
        if not self.fixed:
            self.limit = self._size()

    def _enter(self) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    async def __aenter__(self) -> None:
        if self.in_flight < self.limit and not self._waiting:
            self._enter()
            return
        place = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (BATCH_PRIORITY.get(), next(self._arrivals), place))
        try:
            await place  # the place is taken for us (in_flight counted) when it is set
        except asyncio.CancelledError:
            if place.done() and not place.cancelled():
                self._leave()  # given a place in the same instant: hand it on
            else:
                place.cancel()  # _wake skips it
            raise

    def _leave(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        # the limit may have grown since: wake as many as now fit, best priority first
        while self._waiting and self.in_flight < self.limit:
            _, _, place = heapq.heappop(self._waiting)
            if not place.done():
                self._enter()
                place.set_result(None)

    async def __aexit__(self, *_exc: object) -> None:
        self._leave()
