"""What a run paid the APIs, and the driver's heartbeat, in ``etl_metadata``.

Each API actor counts what it sends (requests, 429 answers, prompt and completion tokens by
deployment) and hands the counts to the run's ``UsageLedger`` actor after every batch. The
driver writes the ledger's totals, with a heartbeat, to one ``attempt`` row per process that
drives the run (``kind = 'attempt'``, ``item`` its number): ``status`` and ``report`` on any
machine sum them. Counted are requests sent, not records: a request answered 429 and sent
again counts twice, as the API bills and limits it. A killed driver's last few seconds of
counts (since its last heartbeat) are lost with it; a run that ends writes the exact totals.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
import ray

# The fields of a deployment's usage, in every place that holds one.
# reused: answers taken from the answer journal instead of a request (backfill.journal);
# paid_twice (and its tokens): answers paid for whose key the journal already held, or whose
# request an earlier attempt had sent and never saw answered (backfill.journal).
FIELDS = ("requests", "rate_limited", "prompt_tokens", "completion_tokens", "reused",
          "paid_twice", "paid_twice_prompt_tokens", "paid_twice_completion_tokens")


@dataclass
class Usage:
    """One deployment's counts, as an actor or the ledger holds them."""

    requests: int = 0
    rate_limited: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reused: int = 0
    paid_twice: int = 0
    paid_twice_prompt_tokens: int = 0
    paid_twice_completion_tokens: int = 0

    def add(self, other: dict[str, int]) -> None:
        for name in FIELDS:
            setattr(self, name, getattr(self, name) + int(other.get(name, 0)))

    def take(self) -> dict[str, int]:
        """The counts so far, zeroed: what has not been handed to the ledger yet."""
        out = asdict(self)
        for name in FIELDS:
            setattr(self, name, 0)
        return out

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in FIELDS)


@ray.remote(num_cpus=0)
class UsageLedger:
    """The run's totals by deployment while this driver runs it (a few calls per batch)."""

    def __init__(self) -> None:
        self.by_deployment: dict[str, Usage] = {}

    def add(self, deployment: str, counts: dict[str, int]) -> None:
        self.by_deployment.setdefault(deployment, Usage()).add(counts)

    def totals(self) -> dict[str, dict[str, int]]:
        return {d: asdict(u) for d, u in self.by_deployment.items()}


def usage_ledger() -> Any:
    return UsageLedger.options(enable_task_events=False).remote()  # type: ignore[attr-defined]


def merge(*totals: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Sum usage maps (deployment -> counts)."""
    out: dict[str, Usage] = {}
    for t in totals:
        for deployment, counts in (t or {}).items():
            out.setdefault(deployment, Usage()).add(counts)
    return {d: asdict(u) for d, u in sorted(out.items())}


KILLED = "killed"  # an attempt whose driver died without ending it
# What a report says when a run had one (report.py)
KILLED_NOTE = ("attempts marked killed ended without a word (SIGKILL, a lost node): their "
               "requests and tokens are counted up to their last heartbeat; the answers they "
               "were waiting for, asked again by the next attempt, are counted there as paid "
               "twice; the provider's own figures are the bill")


def start_attempt(conn: psycopg.Connection[Any], run_id: str, command: str) -> int:
    """A new attempt row for this process; returns its number (1 for a run's first)."""
    with conn.transaction():
        # The run row is locked so that two attempts never take the same number (one driver
        # per run holds the run lock anyway).
        conn.execute("SELECT 1 FROM etl_metadata WHERE run_id = %s AND kind = 'run' "
                     "FOR UPDATE", (run_id,))
        row = conn.execute(
            "SELECT coalesce(max(item::int), 0) + 1 FROM etl_metadata WHERE run_id = %s "
            "AND kind = 'attempt'", (run_id,)).fetchone()
        number = int(row[0]) if row else 1
        # One driver per run holds its lock (backfill.runlock): an attempt still "running" now
        # is one whose driver died without a word (SIGKILL, a lost node). Its usage is what
        # its last heartbeat recorded: the requests of its last seconds are not in it.
        conn.execute("UPDATE etl_metadata SET state = %s WHERE run_id = %s AND kind = 'attempt' "
                     "AND state = 'running'", (KILLED, run_id))
        conn.execute(
            "INSERT INTO etl_metadata (run_id, kind, item, state, info) "
            "VALUES (%s, 'attempt', %s, 'running', %s)",
            (run_id, str(number), json.dumps({
                "host": socket.gethostname(), "pid": os.getpid(), "command": command,
                "usage": {}})),
        )
    return number


def beat(conn: psycopg.Connection[Any], run_id: str, attempt: int,
         usage: dict[str, dict[str, int]], state: str | None = None) -> None:
    """The heartbeat: this attempt's usage so far, ``updated_at`` now; ``state`` ends it
    (done | failed)."""
    conn.execute(
        "UPDATE etl_metadata SET updated_at = now(), state = coalesce(%s, state), "
        "info = jsonb_set(info, '{usage}', %s::jsonb) "
        "WHERE run_id = %s AND kind = 'attempt' AND item = %s",
        (state, json.dumps(usage), run_id, str(attempt)),
    )


@dataclass
class Attempt:
    number: int
    state: str
    host: str
    pid: int
    command: str
    started_at: Any
    last_beat_at: Any
    usage: dict[str, dict[str, int]]

    @property
    def seconds(self) -> float:
        return max(0.0, (self.last_beat_at - self.started_at).total_seconds())


def attempts(conn: psycopg.Connection[Any], run_id: str) -> list[Attempt]:
    rows = conn.execute(
        "SELECT item::int, state, info, created_at, updated_at FROM etl_metadata "
        "WHERE run_id = %s AND kind = 'attempt' ORDER BY item::int", (run_id,)).fetchall()
    return [Attempt(n, state, info.get("host", "?"), int(info.get("pid", 0)),
                    info.get("command", ""), created, updated, info.get("usage") or {})
            for n, state, info, created, updated in rows]


class Heartbeat:
    """The driver's side of one attempt: writes the ledger's totals (plus ``base``, what
    this process paid before the pipeline: the preflight requests) to the attempt row."""

    def __init__(self, dsn: str, schema: str, run_id: str, command: str, ledger: Any,
                 base: dict[str, dict[str, int]] | None = None) -> None:
        from backfill.db import connect

        self.dsn, self.schema, self.run_id, self.ledger = dsn, schema, run_id, ledger
        self.base = base or {}
        self.last: dict[str, dict[str, int]] = {}
        with connect(dsn, schema, autocommit=True) as conn:
            self.attempt = start_attempt(conn, run_id, command)

    def usage(self) -> dict[str, dict[str, int]]:
        try:
            self.last = ray.get(self.ledger.totals.remote(), timeout=30)
        except (ray.exceptions.RayError, TimeoutError):
            pass  # the last totals read stand; the next beat tries again
        return merge(self.base, self.last)

    def beat(self, state: str | None = None) -> None:
        from backfill.db import connect

        usage = self.usage()
        with connect(self.dsn, self.schema, autocommit=True) as conn:
            beat(conn, self.run_id, self.attempt, usage, state)
