"""One async ``openai`` client per actor, Azure or any OpenAI-compatible server.

The client's own retries handle 429/5xx/timeouts with backoff and honour ``retry-after``
and ``retry-after-ms``; what is left after them is classified here, where the library's
exceptions enter our code.
"""

from __future__ import annotations

from typing import Any

import openai

from backfill.config import ModelEndpointConfig
from backfill.errors import RecordError, TransientError


def make_client(cfg: ModelEndpointConfig) -> openai.AsyncOpenAI:
    api_key = cfg.api_key.get_secret_value() if cfg.api_key else ""
    # aiohttp costs about half the CPU per request of the default httpx transport, and on a
    # small node the client's CPU is what limits throughput (issue 4's measurements).
    http_client = openai.DefaultAioHttpClient(timeout=cfg.timeout_seconds)
    common: dict[str, Any] = {
        "api_key": api_key,
        "max_retries": cfg.max_retries,
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
