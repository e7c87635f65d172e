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
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import openai

try:  # the HTTP library of the installed openai SDK: httpx2 from openai 3, httpx before
    import httpx2 as _http
except ImportError:  # pragma: no cover - depends on the openai version
    import httpx as _http  # type: ignore[no-redef]

from backfill.config import ModelEndpointConfig
from backfill.errors import RecordError, TransientError
from backfill.limiter import InFlightWindow, Quota
from backfill.tokens import count_tokens

HttpResponse = _http.Response


def make_window(cfg: ModelEndpointConfig, actors: int) -> InFlightWindow:
    """The in-flight window of one of ``actors`` actors calling this deployment."""
    return InFlightWindow(
        cfg.requests_per_minute / 60.0 / actors, cfg.expected_latency_seconds, cfg.max_concurrency
    )


def make_client(cfg: ModelEndpointConfig) -> openai.AsyncOpenAI:
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


def classify(exc: Exception, stage: str) -> Exception:
    """Map an exception the client raised (after its retries) onto ours."""
    if isinstance(exc, openai.BadRequestError):
        body = exc.body if isinstance(exc.body, dict) else {}
        code = str(body.get("code") or getattr(exc, "code", "") or "")
        if code == "content_filter":
            return RecordError(stage, "ContentFilter", str(body.get("message") or exc)[:500])
        return RecordError(stage, "BadRequest", str(exc)[:500])
    if isinstance(
        exc,
        (
            openai.RateLimitError,
            openai.InternalServerError,
            openai.APITimeoutError,
            openai.APIConnectionError,
        ),
    ):
        return TransientError(f"{type(exc).__name__}: {str(exc)[:300]}")
    if isinstance(
        exc, (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)
    ):
        return exc  # fatal: wrong key, endpoint or deployment; the caller stops the job
    if isinstance(exc, openai.APIStatusError):
        return RecordError(stage, f"HTTP{exc.status_code}", str(exc)[:500])
    return exc


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
    """Holds every request of one actor back while the API has asked us to wait."""

    def __init__(self) -> None:
        self.resume_at = 0.0
        self.rate_limited = 0

    def pause(self, seconds: float) -> None:
        # Jitter, so that the paused requests do not all arrive in the same instant.
        self.resume_at = max(self.resume_at, time.monotonic() + seconds * random.uniform(1, 1.25))
        self.rate_limited += 1

    async def wait(self) -> None:
        while (delay := self.resume_at - time.monotonic()) > 0:
            await asyncio.sleep(delay)


async def call_with_retries(
    call: Callable[[], Awaitable[Any]],
    pacer: Pacer,
    max_retries: int,
    quota: Quota | None = None,
    tokens: int = 0,
    window: InFlightWindow | None = None,
) -> Any:
    """Run ``call`` (a ``with_raw_response`` or ``client.post`` call returning the HTTP
    response) within the deployment's quota and return that response: 429s wait as the
    server says, faults are retried with backoff."""
    faults = 0
    waited_since = time.monotonic()
    while True:
        if quota is not None:
            await quota.acquire(tokens)
        await pacer.wait()
        try:
            sent = time.monotonic()
            raw = await call()
            if window is not None:
                window.observe(time.monotonic() - sent)
            if quota is not None:
                quota.observe(raw.headers)
            return raw
        except openai.RateLimitError as exc:
            if time.monotonic() - waited_since > MAX_RATE_LIMIT_WAIT_SECONDS:
                raise
            wait = retry_after_seconds(exc) or 1.0
            pacer.pause(wait)
            if quota is not None:
                quota.pause(wait)
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

    def __init__(self, cfg: ModelEndpointConfig, quota: Any, actors: int) -> None:
        self.cfg = cfg
        self.quota = Quota(quota, cfg.requests_per_minute) if quota is not None else None
        self.client = make_client(cfg)
        self.window = make_window(cfg, actors)
        self.pacer = Pacer()
        self.encoding = cfg.encoding()

    def tokens(self, texts: list[str]) -> int:
        return count_tokens(texts, self.encoding)

    async def post(self, path: str, body: dict[str, Any], estimate: int) -> HttpResponse:
        """POST ``body`` within the window and the quota, with our retries.

        client.post (the SDK's documented call for any endpoint) instead of the typed
        ``create()``: same transport, auth, Azure deployment URL and typed errors, without
        the SDK's per-call walk over the parameters and construction of the answer's models
        (1.3 -> 0.7 ms of CPU per chat request measured, a sixth of the job's); embeddings
        go from base64 to float32 arrays without a list of Python floats in between.
        """
        async with self.window:
            return await call_with_retries(
                lambda: self.client.post(path, body=body, cast_to=HttpResponse),
                self.pacer,
                self.cfg.max_retries,
                self.quota,
                estimate,
                self.window,
            )

    def correct(self, estimate: int, used: int) -> None:
        """The real usage is known: give the difference back to (or take it from) the quota."""
        if self.quota is not None:
            self.quota.correct(estimate - used)
