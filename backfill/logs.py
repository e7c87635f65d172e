"""What the driver writes to standard error, and how: ``-v`` / ``-q`` and text or JSON lines.

Everything diagnostic goes through the ``logging`` module: library records, the command's
own error line (logger ``backfill.cli``) and the run's progress and notes, which the runner
prints to a text stream (``out``) that ``run_output`` turns into records of the logger
``backfill.run``, one per line. One handler on the root logger formats them all:

- ``text`` (the default): the run's lines and the error line bare, as an operator reads
  them; other records as ``time LEVEL logger: message``.
- ``json``: one JSON object per line (``timestamp`` ISO 8601 UTC, ``level``, ``logger``,
  ``message``, ``run_id`` once the run is known), for log shippers.

The results of ``status``, ``report``, ``verify`` and the summary of ``run`` are stdout,
untouched. Ray's side (workers' logs, forwarded output) is set in ``ray_init_options``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, cast

RUN_LOGGER = "backfill.run"
CLI_LOGGER = "backfill.cli"
FORMATS = ("text", "json")
FORMAT_ENV = "BACKFILL_LOG_FORMAT"  # for `ray job submit -- python jobs/backfill.py`
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Kept at WARNING in every process that imports the package (backfill/__init__.py), even
# with -v, for what they log below it: urllib3 each request's URL with its query string
# (the signature of a presigned Snowflake result-chunk URL); the Snowflake connector a
# result chunk's raw data when it cannot parse it; httpx / httpx2 every API request's URL
# (at INFO); openai 1.x (pyproject allows it) each request's options, body included, that
# is the scrubbed text. The local stack cannot show the first two (fakesnow sends results
# inline), and its openai 3.x logs no body: tests/test_logging.py passes without these.
QUIET_LIBRARIES = ("openai", "httpx", "httpcore", "httpx2", "httpcore2", "aiohttp", "urllib3",
                   "requests", "snowflake.connector", "botocore", "boto3", "azure", "msal")

# Lines the runner prints to ``out`` that an operator still needs under -q.
_WARNING_LINE = re.compile(r"\[[^\]]+\] (?:STALLED|progress unavailable)")


@dataclass(frozen=True)
class LogSettings:
    fmt: str = "text"
    verbose: bool = False
    quiet: bool = False

    @property
    def json(self) -> bool:
        return self.fmt == "json"

    @property
    def level(self) -> int:
        """The level of the driver's root logger (the default keeps libraries' INFO out)."""
        return logging.DEBUG if self.verbose else logging.WARNING

    @property
    def worker_level(self) -> str:
        """The level of the job's Ray workers, in JSON mode (text mode: Ray's default)."""
        return "DEBUG" if self.verbose else "WARNING" if self.quiet else "INFO"


_settings = LogSettings()
_run_id: str | None = None


def settings() -> LogSettings:
    return _settings


def quiet_libraries() -> None:
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def default_format() -> str:
    """``$BACKFILL_LOG_FORMAT`` if it names a format, else text."""
    value = os.environ.get(FORMAT_ENV, "").strip().lower()
    return value if value in FORMATS else "text"


def configure(fmt: str = "text", verbose: bool = False, quiet: bool = False) -> LogSettings:
    """Set up this process's logging for one command; calling it again replaces the setup
    (tests run several commands in one process)."""
    global _settings, _run_id
    _settings, _run_id = LogSettings(fmt, verbose, quiet), None
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if _settings.json else TextFormatter())
    root.addHandler(handler)
    root.setLevel(_settings.level)
    logging.getLogger(RUN_LOGGER).setLevel(logging.WARNING if quiet else logging.INFO)
    logging.getLogger(CLI_LOGGER).setLevel(logging.INFO)
    quiet_libraries()
    # Python's warnings print to stderr themselves; in JSON mode they become records.
    logging.captureWarnings(_settings.json)
    if _settings.json:
        # Read by Ray when it starts here (a local Ray: its C++ components' logs) and by Ray
        # Data when it is imported (ray-data.log and its console lines), here and in the
        # workers of a local Ray, which inherit this environment. A cluster started
        # elsewhere needs RAY_BACKEND_LOG_JSON=1 in its nodes' environment (docs).
        os.environ.setdefault("RAY_BACKEND_LOG_JSON", "1")
        os.environ.setdefault("RAY_DATA_LOGGING_CONFIG",
                              str(Path(__file__).with_name("data") / "ray_data_logging.yaml"))
    return _settings


def set_run_id(run_id: str | None) -> None:
    """The run the following ``backfill.run`` records belong to (a JSON field)."""
    global _run_id
    _run_id = run_id


def run_output() -> TextIO:
    """The stream the runner prints its progress and notes to: each line a record."""
    # (a TextIOBase: what print() needs of a stream, not all of typing.TextIO)
    return cast(TextIO, _LineWriter(logging.getLogger(RUN_LOGGER)))


def ray_init_options() -> dict[str, Any]:
    """What ``ray.init`` gets for this process's settings.

    Text mode: as ever, workers' output forwarded to the driver's stderr with its
    ``(pid=...)`` prefix. JSON mode: the job's workers log JSON (Ray's ``LoggingConfig``,
    at the level of -v / -q) into their files in the session's log directory on each node,
    and their output is *not* forwarded (``log_to_driver=False``): Ray prints forwarded
    lines itself, raw (a worker's print or traceback is not JSON, and its deduplicator
    appends "[repeated Nx across cluster]" to a line), so the driver's stderr could not
    stay one JSON object per line. A log shipper collects the workers' files from the
    nodes (``/tmp/ray/session_latest/logs``), as Ray's documentation advises.

    The ``LoggingConfig`` goes in the job's config, not in ``ray.init(logging_config=)``,
    which would also give the driver's root logger a handler of Ray's (its JSON has other
    keys than ours), active from the first line ``ray.init`` logs.
    """
    if not _settings.json:
        return {"log_to_driver": True}
    from ray import LoggingConfig
    from ray.job_config import JobConfig

    job = JobConfig()
    job.set_py_logging_config(LoggingConfig(encoding="JSON", log_level=_settings.worker_level))
    return {"log_to_driver": False, "job_config": job}


def route_ray_loggers() -> None:
    """Before ``ray.init`` in JSON mode: Ray's loggers print through text handlers of their
    own; route them through ours, so that stderr keeps one format."""
    if not _settings.json:
        return
    ray_logger = logging.getLogger("ray")
    ray_logger.handlers.clear()
    ray_logger.propagate = True
    for handler in logging.getLogger("ray.data").handlers:  # its console (not its file)
        if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler):
            handler.setFormatter(JsonFormatter())


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the ``sys.stderr`` of the moment (pytest swaps it), like logging's own
    last-resort handler."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


class TextFormatter(logging.Formatter):
    """The run's lines and the command's error line bare, as they always were; the rest
    with time, level and logger."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if record.name in (RUN_LOGGER, CLI_LOGGER):
            return record.getMessage()
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        run_id = getattr(record, "run_id", None)
        if run_id:
            entry["run_id"] = run_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _LineWriter(io.TextIOBase):
    """A text stream whose every line becomes one log record. Lines are gathered per
    thread: the progress thread and the main thread print at the same time, and ``print``
    writes a line's text and its newline in two calls."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self.logger = logger
        self.pending = threading.local()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        buffered = getattr(self.pending, "text", "") + text
        *lines, self.pending.text = buffered.split("\n")
        for line in lines:
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        rest = getattr(self.pending, "text", "")
        if rest:
            self.pending.text = ""
            self._emit(rest)

    def _emit(self, line: str) -> None:
        level = logging.WARNING if _WARNING_LINE.match(line) else logging.INFO
        self.logger.log(level, line, extra={"run_id": _run_id})
