"""The three kinds of failure and how each is handled.

- ``TransientError``: worth retrying (429, 5xx, timeouts, dropped connections).
- ``RecordError``: this record cannot be processed; it goes to ``failed_records`` and the
  job goes on.
- ``FatalError`` / ``ConfigError``: stop the job with a message an operator can act on.
  ``SystemicError`` is the fatal kind an API answer proves at once: the deployment does not
  exist, refuses our key, or rejects the shape of every request we send.

Exceptions cross process boundaries on Ray, so each one pickles with its arguments
(``__reduce__``), and library exceptions are converted where they enter our code.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_CONFIG = 2
EXIT_TOO_MANY_FAILURES = 3


class BackfillError(Exception):
    """Base of our exceptions; keeps its constructor arguments across pickling."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._args = args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, self._args)


class ConfigError(BackfillError):
    """Bad configuration or usage: exit 2; the message names the key, file or flag."""

    exit_code = EXIT_CONFIG


class FatalError(BackfillError):
    """A dependency stayed down past the retry budget, or an invariant broke: exit 1."""

    exit_code = EXIT_FATAL

    def __init__(self, message: str, dependency: str = "", resume_hint: str = "") -> None:
        super().__init__(message, dependency, resume_hint)
        self.message = message
        self.dependency = dependency
        self.resume_hint = resume_hint

    def __str__(self) -> str:
        text = self.message
        if self.dependency:
            text = f"{self.dependency}: {text}"
        if self.resume_hint:
            text += f"\nTo resume: {self.resume_hint}"
        return text


class SystemicError(FatalError):
    """The deployment, not the record, is wrong (404 deployment, 401/403, a parameter or
    value it does not take, vectors of another size): no record would succeed, stop now."""


class TransientError(BackfillError):
    """Retry it: the same call may succeed later."""


class RecordError(BackfillError):
    """This record failed a stage; recorded in ``failed_records`` with ``error_class``."""

    def __init__(self, stage: str, error_class: str, message: str) -> None:
        super().__init__(stage, error_class, message)
        self.stage = stage
        self.error_class = error_class
        self.message = message

    def __str__(self) -> str:
        return f"{self.stage}/{self.error_class}: {self.message}"


class RejectedRequest(RecordError):
    """The API rejected a request carrying this record (a 4xx that is not systemic by its
    code). ``code`` and ``param`` are the API's; the breaker compares them across records."""

    def __init__(
        self, stage: str, error_class: str, message: str, code: str = "", param: str = ""
    ) -> None:
        super().__init__(stage, error_class, message)
        self._args = (stage, error_class, message, code, param)
        self.code = code
        self.param = param


def root_cause(exc: BaseException) -> BaseException:
    """The error at the root of one raised inside a Ray task or actor: ours if there is one
    in the chain (Ray wraps it in ``RayTaskError``s whose ``cause`` is the original)."""
    from ray.exceptions import RayError

    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, BackfillError):
            return exc
        cause = getattr(exc, "cause", None) if isinstance(exc, RayError) else None
        nxt = cause or exc.__cause__
        if nxt is None:
            return exc
        exc = nxt
    return exc
