"""How alerts leave the process: a webhook POST or a command's stdin, retried while the
receiver is down, from background threads the job never waits on (backfill/alerts.py
decides what to send and when).

One lane (a queue and its thread) words the alerts, and one per channel sends them, so a
receiver that is down holds back only its own channel: the command still gets the alert.
At exit the process waits for the lanes to empty, ``alerts.flush_seconds`` at most.
"""

from __future__ import annotations

import atexit
import logging
import queue
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from backfill.config import AlertsConfig

log = logging.getLogger("backfill.alerts")

MAX_RETRY_WAIT = 60.0


class Undelivered(Exception):
    """The receiver did not take the alert, and trying again cannot help (a 4xx, a command
    that does not exist)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


class Retryable(Undelivered):
    """The receiver is down or busy: try again, after ``retry_after`` if it said."""


def post(url: str, body: bytes, timeout: float) -> None:
    """POST ``body`` as JSON to the webhook ``url``."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        reason = f"answered HTTP {exc.code}"
        if exc.code == 429 or exc.code >= 500:
            after = exc.headers.get("Retry-After") if exc.headers else None
            raise Retryable(reason, float(after) if after and after.isdigit() else None
                            ) from None
        # another 4xx: a wrong or revoked URL; trying again cannot help
        raise Undelivered(f"{reason} (check alerts.webhook_url)") from None
    except (urllib.error.URLError, OSError) as exc:
        # never str(exc): it may hold the URL, and with it the webhook's token
        raise Retryable(f"unreachable ({type(exc).__name__})") from None


def run_command(argv: list[str], body: bytes, timeout: float) -> None:
    """Run ``argv`` with ``body`` on its standard input; its output is dropped."""
    try:
        done = subprocess.run(argv, input=body, capture_output=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        raise Retryable(f"did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise Undelivered(f"could not start {argv[0]!r} ({type(exc).__name__}; check "
                          "alerts.command)") from None
    if done.returncode != 0:
        raise Retryable(f"exited {done.returncode}")


def send_retrying(settings: AlertsConfig, send: Callable[[], None]) -> None:
    """``send()``, again after each ``Retryable`` (waiting ``retry_seconds``, doubled each
    time up to a minute, or what the receiver asked), ``retries`` times at most."""
    backoff = wait_exponential_jitter(multiplier=settings.retry_seconds, max=MAX_RETRY_WAIT,
                                      jitter=settings.retry_seconds)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        told = getattr(exc, "retry_after", None)
        return min(told, MAX_RETRY_WAIT) if told else float(backoff(state))

    for attempt in Retrying(stop=stop_after_attempt(settings.retries + 1), wait=wait,
                            retry=retry_if_exception_type(Retryable), reraise=True):
        with attempt:
            send()


# -------------------------------------------------------------------- the lanes

_lanes: dict[str, queue.Queue[Callable[[], None]]] = {}
_lanes_lock = threading.Lock()
_pending = 0  # tasks queued or running, on every lane
_idle = threading.Condition()
_flush_budget = 0.0


def start(lane: str, task: Callable[[], None], flush_seconds: float | None = None) -> None:
    """Run ``task`` on ``lane``'s thread, after the tasks queued there before it; an exit
    waits ``flush_seconds`` (the longest asked for) for it."""
    global _pending, _flush_budget
    with _idle:
        _pending += 1
    with _lanes_lock:
        if not _lanes:
            atexit.register(_flush_at_exit)
        if flush_seconds is not None:
            _flush_budget = max(_flush_budget, flush_seconds)
        if lane not in _lanes:
            _lanes[lane] = queue.Queue()
            threading.Thread(target=_work, args=(lane, _lanes[lane]), name=f"alerts-{lane}",
                             daemon=True).start()
    _lanes[lane].put(task)


def _work(lane: str, tasks: queue.Queue[Callable[[], None]]) -> None:
    global _pending
    while True:
        task = tasks.get()
        try:
            task()
        except Exception as exc:  # noqa: BLE001 - an alert must never take the job down
            log.warning("alerts (%s): %s", lane, type(exc).__name__)
        finally:
            with _idle:
                _pending -= 1
                _idle.notify_all()


def flush(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for every queued alert to be sent (or given up);
    whether none is left."""
    with _idle:
        return _idle.wait_for(lambda: _pending == 0, timeout)


def _flush_at_exit() -> None:
    if not flush(_flush_budget):
        log.warning("alerts: %d still unsent after alerts.flush_seconds (%g s) at exit; given "
                    "up (the receiver is down or slow)", _pending, _flush_budget)
