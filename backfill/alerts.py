"""Alerts for operators: a run stopped (``fatal``), fails too many records
(``failure_rate``), stalls (``stall``) or ended (``done``). Sent to ``alerts.webhook_url``
and/or ``alerts.command`` as one JSON object: ``text``, a sentence Slack and Teams incoming
webhooks both show, plus ``run_id``, ``kind`` and the figures.

Background threads word and send them (backfill/alert_channels.py), so the job never waits
on a receiver; each is retried while its receiver is down or busy, and at exit the process
waits at most ``alerts.flush_seconds`` for those still queued: a fatal alert gets out before
the process ends, a dead receiver does not hold it.

One alert per incident. Every alert sent is recorded in ``etl_metadata`` (kind ``alert``,
item ``<kind>:<incident>``). A run's ``done`` and ``failure_rate`` are incidents of the run,
whatever process meets them: they are claimed there *before* they are sent, so that a resume
or a second close does not send them again. A fatal stop and a stall episode belong to one
driver process (its ``driver`` token names them) and are recorded after they are sent, so
that a Postgres that is down does not silence them.

No alert holds record text or a secret: the figures are counts, a fatal error's message is
the one the job prints (built never to quote records), and every secret of the config is
masked from every string before it leaves.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import secrets
import shlex
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from pydantic import BaseModel, SecretStr

from backfill import alert_channels as channels
from backfill.config import Config
from backfill.errors import EXIT_FATAL, EXIT_TOO_MANY_FAILURES, FatalError

log = logging.getLogger(__name__)

FATAL, FAILURE_RATE, STALL, DONE = "fatal", "failure_rate", "stall", "done"
KINDS = (FATAL, FAILURE_RATE, STALL, DONE)
# Postgres is asked for figures and for the alerts already sent; a database that does not
# answer within this must not hold an alert back (it may be the reason for it).
DB_TIMEOUT_SECONDS = 5


@dataclass
class _Job:
    alerter: Alerter
    kind: str
    item: str
    claim: bool  # an incident of the run: claimed in etl_metadata before it is sent
    facts: dict[str, Any] = field(default_factory=dict)


class Alerter:
    """The alerts of one command (``run``, ``retry-failed``, ``reprocess``) on one run.

    ``fatal`` and ``done`` are called by the runner, ``observe`` by the progress printer at
    every progress line; all return at once. Without a channel configured it does nothing.
    """

    def __init__(self, cfg: Config, dsn: str, run_id: str, command: str = "run",
                 config_path: str | None = None, resume: str | None = None) -> None:
        self.settings = cfg.alerts
        self.dsn, self.schema, self.run_id, self.command = (
            dsn, cfg.postgres.schema_, run_id, command)
        flag = f" --config {config_path}" if config_path else ""
        self.config_flag = flag
        self.resume = resume or f"backfill run --run-id {run_id}{flag}"
        self.threshold = (cfg.pipeline.max_failed_fraction
                          if self.settings.failure_fraction is None
                          else self.settings.failure_fraction)
        self.max_failed_fraction = cfg.pipeline.max_failed_fraction
        self.stall_seconds = 60 * (cfg.pipeline.stall_minutes
                                   if self.settings.stall_minutes is None
                                   else self.settings.stall_minutes)
        self.llm = cfg.llm
        self.driver = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + \
            secrets.token_hex(3)
        self._secrets = _secret_values(cfg)
        self._queued: set[str] = set()
        self._rate_alerted = False
        self._last_done: int | None = None
        self._last_change = 0.0
        self._stalled = False
        self._stalls = 0

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    # ---------------------------------------------------------------- the incidents

    def fatal(self, exc: BaseException) -> None:
        """The command stops with ``exc`` (a FatalError, or the operator's interrupt)."""
        if isinstance(exc, FatalError):
            facts = {"error_class": type(exc).__name__, "dependency": exc.dependency,
                     "error": exc.message[:500], "exit_code": exc.exit_code,
                     "resume": exc.resume_hint or self.resume}
        else:
            facts = {"error_class": type(exc).__name__, "dependency": "operator",
                     "error": "interrupted", "exit_code": EXIT_FATAL, "resume": self.resume}
        self._submit(FATAL, f"{FATAL}:{self.driver}", claim=False, facts=facts)

    def done(self, exit_code: int, records: int, ok: int, failed: int,
             reconciled: bool | None = None) -> None:
        """The command finished with ``exit_code`` (0, or 3 for too many failures or a
        source that does not reconcile); a run's ``done`` is sent once, however often it
        is closed."""
        incident = DONE + (":run" if self.command == "run" else f":{self.command}.{self.driver}")
        self._submit(DONE, incident, claim=self.command == "run", facts={
            **_counts(records, ok, failed), "exit_code": exit_code, "reconciled": reconciled,
            "max_failed_fraction": self.max_failed_fraction})

    def observe(self, ok: int, failed: int, records: int, now: float | None = None) -> None:
        """One progress sample: alert when the failed share first exceeds the threshold
        (after ``alerts.min_records``), and once per stall, a stall being
        ``stall_seconds`` without a record done or failed; a record ends the stall."""
        if not self.enabled:
            return
        now = time.monotonic() if now is None else now
        done = ok + failed
        counts = _counts(records, ok, failed)
        if (not self._rate_alerted and done >= self.settings.min_records
                and failed / done > self.threshold):
            self._rate_alerted = True
            self._submit(FAILURE_RATE, f"{FAILURE_RATE}:run", claim=True,
                         facts={**counts, "failure_threshold": self.threshold})
        if done != self._last_done:
            self._last_done, self._last_change, self._stalled = done, now, False
        elif not self._stalled and now - self._last_change >= self.stall_seconds:
            self._stalled = True
            self._stalls += 1
            self._submit(STALL, f"{STALL}:{self.driver}.{self._stalls}", claim=False,
                         facts={**counts, "idle_minutes": round((now - self._last_change) / 60,
                                                                1)})

    def _submit(self, kind: str, item: str, claim: bool, facts: dict[str, Any]) -> None:
        if not self.enabled or item in self._queued:
            return
        self._queued.add(item)
        job = _Job(self, kind, item, claim, facts)
        channels.start("alerts", functools.partial(self.prepare, job), self.settings.flush_seconds)

    # ---------------------------------------------------------------- the worker's side

    def prepare(self, job: _Job) -> None:
        """Claim (an incident of the run), fill in the figures, word it, record it, and hand
        it to each channel's sender."""
        facts = dict(job.facts)
        if job.claim:
            claimed = self._db(lambda cur: _claim(cur, self.run_id, job.item))
            if claimed is False:
                log.info("alert %s of run %s was sent before; not again", job.item, self.run_id)
                return
        if "records" not in facts:  # a fatal stop: the figures as they stand
            facts.update(self._db(lambda cur: _live_counts(cur, self.run_id)) or {})
        if job.kind in (FATAL, DONE) and self.llm.input_price_per_million is not None:
            facts.update(self._db(lambda cur: _llm_cost(cur, self.run_id, self.llm)) or {})
        alert = self.mask(compose(job.kind, self.run_id, self.command, facts, self.resume,
                                  self.config_flag))
        alert["incident"] = job.item
        self._db(lambda cur: _record(cur, self.run_id, job.item, alert))
        body = json.dumps(alert, ensure_ascii=False).encode()
        for channel in self.channels():
            channels.start(channel, functools.partial(self.deliver, channel, job.item, body))

    def channels(self) -> list[str]:
        return [name for name, value in (("webhook", self.settings.webhook_url),
                                         ("command", self.settings.command)) if value]

    def deliver(self, channel: str, item: str, body: bytes) -> None:
        """Send to one channel, retrying; note in etl_metadata that it was sent, or why not
        (never the URL)."""
        timeout = self.settings.timeout_seconds
        if channel == "webhook":
            assert self.settings.webhook_url is not None
            url = self.settings.webhook_url.get_secret_value().strip()
            send = functools.partial(channels.post, url, body, timeout)
        else:
            args = self.settings.command
            argv = shlex.split(args) if isinstance(args, str) else list(args or [])
            send = functools.partial(channels.run_command, argv, body, timeout)
        try:
            channels.send_retrying(self.settings, send)
            outcome = "sent"
        except channels.Undelivered as exc:
            outcome = exc.reason
            log.warning("alert %s of run %s: %s %s", item, self.run_id, channel, outcome)
        self._db(lambda cur: _note_delivery(cur, self.run_id, item, channel, outcome))

    def mask(self, value: Any) -> Any:
        """``value`` with every secret of the config replaced by ``***``."""
        if isinstance(value, str):
            for secret in self._secrets:
                value = value.replace(secret, "***")
            return value
        if isinstance(value, dict):
            return {k: self.mask(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.mask(v) for v in value]
        return value

    def _db(self, work: Any) -> Any:
        """``work(cursor)`` in one transaction; None when Postgres does not answer."""
        try:
            with psycopg.connect(self.dsn, connect_timeout=DB_TIMEOUT_SECONDS) as conn:
                conn.execute(sql.SQL("SET search_path TO {}, public").format(
                    sql.Identifier(self.schema)))
                conn.execute(f"SET statement_timeout = '{DB_TIMEOUT_SECONDS}s'")
                with conn.cursor() as cur:
                    return work(cur)
        except psycopg.Error as exc:
            log.warning("alerts of run %s: Postgres did not answer (%s); sending without it",
                        self.run_id, type(exc).__name__)
            return None


# -------------------------------------------------------------------- the alert's words


def _counts(records: int, ok: int, failed: int) -> dict[str, Any]:
    done = ok + failed
    return {"records": records, "records_done": done, "ok": ok, "failed": failed,
            "failed_fraction": round(failed / done, 6) if done else 0.0}


def _figures(f: dict[str, Any]) -> str:
    if "records" not in f:
        return "Figures unavailable (Postgres did not answer)."
    return (f"{f['records_done']:,} of {f['records']:,} records processed: {f['ok']:,} ok, "
            f"{f['failed']:,} failed ({100 * f['failed_fraction']:.2f}%).")


def compose(kind: str, run_id: str, command: str, facts: dict[str, Any], resume: str,
            config_flag: str = "") -> dict[str, Any]:
    """The alert: its facts, and a ``text`` that says what happened, the figures, and what
    to do (for a stop, the command that resumes)."""
    who = f"Backfill run {run_id}" if command == "run" else \
        f"Backfill {command} of run {run_id}"
    report = f"`backfill report --run-id {run_id}{config_flag}`"
    figures = _figures(facts)
    cost = (f" LLM cost of the extractions written: {facts['llm_cost']:.2f}."
            if facts.get("llm_cost") is not None else "")
    if kind == FATAL:
        cause = f"{facts['dependency']}: {facts['error']}" if facts.get("dependency") else \
            facts["error"]
        text = (f"{who} STOPPED (exit {facts['exit_code']}, {facts['error_class']}): "
                f"{cause.rstrip('. ')}. "
                f"{figures}{cost} Fix what the message names, then resume: "
                f"`{facts['resume']}`")
    elif kind == FAILURE_RATE:
        text = (f"{who} is failing records above the alert threshold of "
                f"{100 * facts['failure_threshold']:.2f}%: {figures} It goes on; failures by "
                f"stage and class: {report}. To stop it, interrupt the driver; resume later "
                f"with `{resume}`")
    elif kind == STALL:
        text = (f"{who} is STALLED: no record committed for {facts['idle_minutes']:.1f} min. "
                f"{figures} The driver's log says what waits for which resources (`ray status`"
                f", the Ray dashboard, the APIs, Postgres). If you stop it, resume with "
                f"`{resume}`")
    elif kind == DONE:
        code = facts["exit_code"]
        if facts.get("reconciled") is False:
            outcome = (f"finished, but the source and Postgres do not reconcile (exit {code}). "
                       f"{figures} `backfill verify --run-id {run_id}{config_flag}` lists what "
                       f"differs; resuming sends what is missing: `{resume}`")
        elif code == EXIT_TOO_MANY_FAILURES:
            outcome = (f"finished with too many failed records (exit {code}, limit "
                       f"{100 * facts['max_failed_fraction']:.2f}%). {figures}{cost} Failures by "
                       f"stage and class: {report}; once the cause is fixed, `backfill "
                       f"retry-failed --run-id {run_id}{config_flag}` sends them again.")
        else:
            outcome = f"finished (exit {code}). {figures}{cost} Report: {report}."
        text = f"{who} {outcome}"
    else:
        raise ValueError(f"unknown alert kind {kind!r}; known: {', '.join(KINDS)}")
    return {"text": text, "run_id": run_id, "kind": kind, "command": command,
            "resume": facts.get("resume", resume), "host": socket.gethostname(),
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            **{k: v for k, v in facts.items() if k != "resume"}}


def _secret_values(cfg: Config) -> list[str]:
    """Every secret the config holds, and the password inside each that is a URL/DSN."""
    found: set[str] = set()
    for name in type(cfg).model_fields:
        section = getattr(cfg, name)
        if not isinstance(section, BaseModel):
            continue
        for _, value in section:
            if isinstance(value, SecretStr) and value.get_secret_value().strip():
                secret = value.get_secret_value().strip()
                found.add(secret)
                try:
                    password = urlsplit(secret).password
                except ValueError:
                    password = None
                if password:
                    found.add(password)
    # Longest first, so that a secret containing another is masked whole; "embedded" and
    # the like are too short to be a secret and would mask ordinary words.
    return sorted((s for s in found if len(s) >= 8 and s != "embedded"), key=len, reverse=True)


# -------------------------------------------------------------------- etl_metadata


def _claim(cur: psycopg.Cursor[Any], run_id: str, item: str) -> bool:
    """Whether this process is the first to send the incident ``item``."""
    row = cur.execute(
        "INSERT INTO etl_metadata (run_id, kind, item, state) VALUES (%s, 'alert', %s, "
        "'sending') ON CONFLICT (run_id, kind, item) DO NOTHING RETURNING 1", (run_id, item),
    ).fetchone()
    return row is not None


def _record(cur: psycopg.Cursor[Any], run_id: str, item: str, alert: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO etl_metadata (run_id, kind, item, state, info) VALUES (%s, 'alert', %s, "
        "'sending', %s) ON CONFLICT (run_id, kind, item) DO UPDATE SET info = excluded.info, "
        "updated_at = now()",
        (run_id, item, json.dumps({"alert": alert, "delivery": {}})),
    )


def _note_delivery(cur: psycopg.Cursor[Any], run_id: str, item: str, channel: str,
                   outcome: str) -> None:
    """One channel's outcome; the alert is ``sent`` once a channel took it, ``undelivered``
    while none has."""
    cur.execute(
        "UPDATE etl_metadata SET info = jsonb_set(info, ARRAY['delivery', %s], to_jsonb(%s::text)),"
        " state = CASE WHEN state = 'sent' OR %s = 'sent' THEN 'sent' ELSE 'undelivered' END, "
        "updated_at = now() WHERE run_id = %s AND kind = 'alert' AND item = %s",
        (channel, outcome, outcome, run_id, item),
    )


def _live_counts(cur: psycopg.Cursor[Any], run_id: str) -> dict[str, Any] | None:
    from backfill import progress as P

    rows = P.run_progress(cur.connection, run_id)
    if not rows:
        return None
    r = rows[0]
    return _counts(r.rows_expected, r.rows_ok, r.rows_failed)


def _llm_cost(cur: psycopg.Cursor[Any], run_id: str, llm: Any) -> dict[str, Any]:
    row = cur.execute(
        "SELECT coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0) "
        "FROM ai_extracted_data WHERE run_id = %s", (run_id,)).fetchone()
    tokens_in, tokens_out = (int(row[0]), int(row[1])) if row else (0, 0)
    return {"llm_input_tokens": tokens_in, "llm_output_tokens": tokens_out,
            "llm_cost": round(llm.cost(tokens_in, tokens_out), 4)}


def sent_alerts(conn: psycopg.Connection[Any], run_id: str) -> list[tuple[str, str]]:
    """(item, state) of the run's alerts, oldest first (for status and tests)."""
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT item, state FROM etl_metadata WHERE run_id = %s AND kind = 'alert' "
        "ORDER BY created_at, item", (run_id,))]
