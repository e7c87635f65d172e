"""One async ``openai`` client per actor, Azure or any OpenAI-compatible server, and the
retry policy around its calls.

Retries are ours, not the client's (``max_retries=0``), because a 429 and a 5xx mean
different things. A 429 says the API is up and we are over quota: every request of the
actor pauses for the ``retry-after`` it names, and the wait does not use up the record's
retries (running at quota is the normal state of a backfill). A 5xx or a timeout is a fault:
retried with exponential backoff and jitter up to ``max_retries``, then the record fails.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import openai

try:  # the HTTP library of the installed openai SDK: httpx2 from openai 3, httpx before
    import httpx2 as _http
except ImportError:  # pragma: no cover - depends on the openai version
    import httpx as _http  # type: ignore[no-redef]

from backfill import metrics
from backfill.config import ModelEndpointConfig
from backfill.errors import BackfillError, RejectedRequest, SystemicError, TransientError
from backfill.journal import InFlight
from backfill.limiter import InFlightWindow, Quota, quota_actor
from backfill.runlock import WATCH_SECONDS, SendingWatch
from backfill.tokens import count_tokens
from backfill.usage import Usage

log = logging.getLogger(__name__)

HttpResponse = _http.Response


def make_window(cfg: ModelEndpointConfig, actors: int) -> InFlightWindow:
    """The in-flight window of one of ``actors`` actors calling this deployment."""
    return InFlightWindow(
        cfg.requests_per_minute / 60.0 / actors, cfg.expected_latency_seconds, cfg.max_concurrency
    )


def make_client(cfg: ModelEndpointConfig, stage: str = "extract") -> openai.AsyncOpenAI:
    api_key = cfg.api_key.get_secret_value() if cfg.api_key else ""
    # aiohttp costs about half the CPU per request of the default httpx transport, and on a
    # small node the client's CPU is what limits throughput (issue 4's measurements).
    http_client = openai.DefaultAioHttpClient(timeout=cfg.timeout_seconds)
    common: dict[str, Any] = {
        "api_key": api_key,
        "max_retries": 0,  # see call_with_retries
        "timeout": cfg.timeout_seconds,
        "http_client": http_client,
    }
    if cfg.provider == "azure_openai":
        if cfg.auth == "entra_id":
            from backfill.azure_auth import token_provider

            del common["api_key"]
            common["azure_ad_token_provider"] = token_provider(cfg, _SECTION[stage][1])
        return openai.AsyncAzureOpenAI(
            azure_endpoint=cfg.endpoint or "", api_version=cfg.api_version, **common
        )
    return openai.AsyncOpenAI(base_url=cfg.endpoint or None, **common)


def quiet_unclosed_sessions() -> None:
    """Ray ends actor processes without a hook to close the aiohttp session, and asyncio
    then logs "Unclosed client session" with its connection list. Drop just that message."""
    import asyncio

    loop = asyncio.get_running_loop()
    if getattr(loop, "_backfill_quiet", False):
        return

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if str(context.get("message", "")).startswith("Unclosed"):
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    loop._backfill_quiet = True  # type: ignore[attr-defined]


# 400 codes that say the request's shape is wrong for this deployment, whatever the record.
SYSTEMIC_CODES = frozenset(
    {
        "unsupported_parameter",
        "unsupported_value",
        "DeploymentNotFound",
        "OperationNotSupported",
        "model_not_found",
        "invalid_api_version",
        "UnsupportedApiVersion",
    }
)
# Body parameters that we set from the config, never from a record: a 400 naming one of
# them is the config's fault (the first name of a dotted param, e.g. response_format.x).
CONFIG_PARAMS = {
    "model": "deployment",
    "dimensions": "dimensions",
    "encoding_format": "deployment",
    "max_tokens": "max_output_tokens",
    "max_completion_tokens": "max_output_tokens",
    "temperature": "temperature",
    "response_format": "api_version",
}
_SECTION = {"extract": ("LLM", "llm"), "embed": ("embedding", "embedding")}


def dependency_name(cfg: ModelEndpointConfig, stage: str) -> str:
    """How an operator finds the deployment: its name and where it lives."""
    endpoint = cfg.endpoint or "https://api.openai.com/v1"
    return f"{_SECTION[stage][0]} deployment {cfg.deployment!r} at {endpoint}"


def config_keys(stage: str, status: int, param: str = "",
                cfg: ModelEndpointConfig | None = None) -> str:
    """The config keys an operator should check for this answer."""
    section = _SECTION[stage][1]
    if status in (401, 403) and cfg is not None and cfg.auth == "entra_id":
        names = ["auth", "entra_token_file" if cfg.entra_token_file else "entra_client_id",
                 "entra_scope", "endpoint"]
    elif status in (401, 403):
        names = ["api_key", "endpoint"]
    elif status == 404:
        names = ["deployment", "endpoint", "api_version"]
    else:
        names = ["deployment", "api_version"]
        named = CONFIG_PARAMS.get(_root(param))
        if named and named not in names:
            names.append(named)
    return ", ".join(f"{section}.{n}" for n in names)


def _root(param: str) -> str:
    return re.split(r"[.\[]", param, maxsplit=1)[0]


def _error_fields(exc: openai.APIStatusError) -> tuple[str, str, str]:
    """The error's code, param and server message (from the body Azure and OpenAI send)."""
    body = exc.body if isinstance(exc.body, dict) else {}
    if isinstance(body.get("error"), dict):
        body = body["error"]
    code = str(body.get("code") or getattr(exc, "code", "") or "")
    param = str(body.get("param") or getattr(exc, "param", "") or "")
    return code, param, str(body.get("message") or "")


def is_systemic(status: int, code: str, param: str, message: str) -> bool:
    """Would every request of this shape get this answer, whatever record it carries?"""
    if status in (401, 403, 404):
        return True
    return (
        code in SYSTEMIC_CODES
        or _root(param) in CONFIG_PARAMS
        or "api version" in message.lower().replace("-", " ")
    )


def classify(exc: Exception, stage: str, cfg: ModelEndpointConfig) -> BackfillError:
    """Map an exception the client raised (after our retries) onto one of our kinds.

    Messages carry the class, status, code and param, and the server's own words only when
    they are about the request's shape (which holds no record text); capped in length.
    """
    if isinstance(
        exc,
        (
            openai.RateLimitError,
            openai.InternalServerError,
            openai.APITimeoutError,
            openai.APIConnectionError,
        ),
    ):
        shown = f" {exc.status_code}" if isinstance(exc, openai.APIStatusError) else ""
        return TransientError(f"{type(exc).__name__}{shown}")
    if not isinstance(exc, openai.APIStatusError):
        # e.g. an answer the SDK could not read: the record's, unless it repeats (breaker)
        name = type(exc).__name__
        return RejectedRequest(stage, name, name, code=name)
    status = exc.status_code
    code, param, message = _error_fields(exc)
    what = f"HTTP {status} {code or type(exc).__name__}" + (f" (param {param})" if param else "")
    if is_systemic(status, code, param, message):
        said = message[:300].rstrip(". ")
        return SystemicError(
            f"{what}: {said}. Check {config_keys(stage, status, param, cfg)}.",
            dependency=dependency_name(cfg, stage),
        )
    if code == "content_filter":
        return RejectedRequest(stage, "ContentFilter", what, code=code, param=param)
    error_class = "BadRequest" if status == 400 else f"HTTP{status}"
    return RejectedRequest(stage, error_class, what, code=code, param=param)


T = TypeVar("T")

# Longest a record waits behind 429s before it is failed as Unavailable.
MAX_RATE_LIMIT_WAIT_SECONDS = 900.0


def retry_after_seconds(exc: openai.APIStatusError) -> float | None:
    """The server's ``retry-after-ms`` / ``retry-after``, in seconds, if it sent one."""
    headers = exc.response.headers if exc.response is not None else {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return None


class Pacer:
    """Holds every request of one actor back while the API has asked us to wait (without
    a quota; with one, the quota pauses every actor of the deployment)."""

    def __init__(self) -> None:
        self.resume_at = 0.0
        self.rate_limited = 0

    def pause(self, seconds: float) -> None:
        # Jitter, so that the paused requests do not all arrive in the same instant.
        self.resume_at = max(self.resume_at, time.monotonic() + seconds * random.uniform(1, 1.25))

    async def wait(self) -> None:
        while (delay := self.resume_at - time.monotonic()) > 0:
            await asyncio.sleep(delay)


async def call_with_retries(
    call: Callable[[], Awaitable[Any]],
    pacer: Pacer,
    max_retries: int,
    quota: Quota | None = None,
    tokens: int | Callable[[], int] = 0,
    window: InFlightWindow | None = None,
    deployment: str = "",
) -> Any:
    """Run ``call`` (a ``with_raw_response`` or ``client.post`` call returning the HTTP
    response) within the deployment's quota and return that response: 429s wait as the
    server says, faults are retried with backoff. ``tokens``: what the request is charged
    at admission, or a function that says it (and sets the body) before each attempt."""
    faults = 0
    waited_since = time.monotonic()
    version: int | None = None  # the pause version of the request's slot
    while True:
        if quota is not None:
            version = await quota.acquire(tokens)
        await pacer.wait()
        try:
            sent = time.monotonic()
            raw = await call()
            if window is not None:
                window.observe(time.monotonic() - sent)
            return raw
        except openai.RateLimitError as exc:
            metrics.count_rate_limited(deployment)
            pacer.rate_limited += 1
            if time.monotonic() - waited_since > MAX_RATE_LIMIT_WAIT_SECONDS:
                raise
            wait = retry_after_seconds(exc) or 1.0
            if quota is not None:
                quota.pause(wait, version)
            else:
                pacer.pause(wait)
        except (
            openai.InternalServerError,
            openai.APITimeoutError,
            openai.APIConnectionError,
        ) as exc:
            faults += 1
            if faults > max_retries:
                raise
            hinted = retry_after_seconds(exc) if isinstance(exc, openai.APIStatusError) else None
            await asyncio.sleep(hinted or min(30.0, 0.5 * 2 ** (faults - 1)) * random.uniform(1, 2))


class Deployment:
    """One actor's side of a deployment: its client, quota lease, in-flight window, 429
    pacer and token encoding, and the one way both API stages send a request."""

    def __init__(self, cfg: ModelEndpointConfig, quota: Any, actors: int, stage: str,
                 watch: tuple[str, str] | None = None) -> None:
        """``watch``: (dsn, key) of the driver's sending lock, which says whether requests
        may still leave (backfill.runlock.SendingWatch)."""
        self.cfg = cfg
        self.watch = SendingWatch.for_lock(*watch) if watch else None
        self.ledger: Any = None  # the run's usage ledger, set by the stage that owns this
        self.handing: asyncio.Task[None] | None = None
        self.held_back = False  # a request was held back: the driver let go (said once)
        self.stage = stage
        self.name = dependency_name(cfg, stage)
        self.quota = Quota(
            quota, cfg.requests_per_minute, cfg.tokens_per_minute, lambda: quota_actor(cfg)
        ) if quota is not None else None
        self.client = make_client(cfg, stage)
        self.window = make_window(cfg, actors)
        self.pacer = Pacer()
        self.encoding = cfg.encoding()
        # What this actor sent and was billed, not yet handed to the run's ledger (usage.py)
        self.usage = Usage()
        self.rate_limited_handed = 0  # the pacer's 429 count at the last hand_usage
        # Tokens not yet added to the Ray metric: recorded once a batch (hand_usage), not
        # once a request (py-spy: the metric's two calls a request were 2.5% of the extract
        # actor's samples); the in-flight gauge at most once a second.
        self.unmetered = [0, 0]
        self.gauge_at = 0.0
        # The server's prompt tokens over ours (tiktoken misses its per-message overhead
        # and counts a schema the server may count otherwise): a slot reserved for an
        # estimate too high is quota unused, too low a 429.
        self.prompt_scale: float | None = None

    def tokens(self, texts: list[str]) -> int:
        return count_tokens(texts, self.encoding)

    def fitted(self, counted: int) -> int:
        """Our count of a prompt, scaled to what the server has been counting."""
        return max(1, round(counted * (self.prompt_scale or 1.0)))

    def fit(self, counted: int, reported: int) -> None:
        """One answer's ``usage.prompt_tokens`` against our count of its prompt."""
        if counted > 0 and reported > 0:
            ratio = reported / counted
            self.prompt_scale = ratio if self.prompt_scale is None else (
                0.9 * self.prompt_scale + 0.1 * ratio)

    async def post(self, path: str, body: dict[str, Any],
                   estimate: int | Callable[[], int],
                   sending: InFlight | None = None) -> HttpResponse:
        """POST ``body`` within the window and the quota, with our retries. ``estimate``:
        the tokens the server charges at admission (prompt + max_tokens), or a function
        called before each attempt that says them (and may set ``body``'s max_tokens).
        ``sending``: the journal's record of the request in flight, written once it is
        admitted, before it leaves (withdrawn if it is not sent after all).

        client.post (the SDK's documented call for any endpoint) instead of the typed
        ``create()``: same transport, auth, Azure deployment URL and typed errors, without
        the SDK's per-call walk over the parameters and construction of the answer's models
        (1.3 -> 0.7 ms of CPU per chat request measured, a sixth of the job's); embeddings
        go from base64 to float32 arrays without a list of Python floats in between.

        Raises only our errors (see :func:`classify`).
        """
        if self.watch is not None and self.handing is None:
            self.handing = asyncio.ensure_future(self._hand_when_stopped())

        async def send() -> HttpResponse:
            if sending is not None and not self._stopped():
                await sending.record()
            if self._stopped():
                # The driver is gone or stopping: this request is not sent, and waits for
                # Ray to end the process (what is answered is journaled meanwhile).
                if sending is not None:
                    sending.withdraw()
                if not self.held_back:
                    self.held_back = True
                    log.warning("the driver of this run is gone or stopping: no new request "
                                "leaves this process")
                await asyncio.Event().wait()
            self.usage.requests += 1
            return await self.client.post(path, body=body, cast_to=HttpResponse)

        try:
            async with self.window:
                now = time.monotonic()
                if now - self.gauge_at >= 1.0:
                    self.gauge_at = now
                    metrics.set_in_flight(self.cfg.deployment, self.window.in_flight)
                return await call_with_retries(
                    send,
                    self.pacer,
                    self.cfg.max_retries,
                    self.quota,
                    estimate,
                    self.window,
                    self.cfg.deployment,
                )
        except openai.OpenAIError as exc:
            raise classify(exc, self.stage, self.cfg) from exc

    def _stopped(self) -> bool:
        return self.watch is not None and self.watch.stopped.is_set()

    def count_usage(self, prompt: int, completion: int) -> None:
        self.unmetered[0] += prompt
        self.unmetered[1] += completion
        self.usage.prompt_tokens += prompt
        self.usage.completion_tokens += completion

    async def hand_usage(self) -> None:
        """Give what this actor counted since the last call to the run's ledger (and to the
        token metric)."""
        if self.unmetered != [0, 0]:
            metrics.count_tokens(self.cfg.deployment, *self.unmetered)
            self.unmetered = [0, 0]
        self.usage.rate_limited += self.pacer.rate_limited - self.rate_limited_handed
        self.rate_limited_handed = self.pacer.rate_limited
        if self.ledger is not None and self.usage:
            await self.ledger.add.remote(self.cfg.deployment, self.usage.take())

    async def _hand_when_stopped(self) -> None:
        """Once the driver stops the run (backfill.runlock.SendingWatch), hand what this
        actor counted to the ledger every 0.2 s for a few seconds: its answers still
        arriving are counted before the driver records the attempt's last usage (an
        acceptance check found an interrupted attempt's figures 30% short: the actors' last
        batches were never handed)."""
        assert self.watch is not None
        while not self.watch.stopped.is_set():  # (no thread of the loop's pool held for it)
            await asyncio.sleep(WATCH_SECONDS)
        for _ in range(25):
            await self.hand_usage()
            await asyncio.sleep(0.2)

    def correct(self, estimate: int, charged: int) -> None:
        """The server's count is known (its prompt tokens, plus max_tokens for a chat
        request, which Azure does not refund): settle the difference with the quota."""
        if self.quota is not None:
            self.quota.correct(estimate, charged)

    async def aclose(self) -> None:
        if self.quota is not None:
            self.quota.stop()
        await self.client.close()
