"""``backfill retry-failed`` and ``backfill reprocess``: records of a finished run through the
same pipeline again, by id.

retry-failed takes the run's unresolved failed records; records that now succeed are marked
resolved (in the sink, in the same transaction as their data), the rest stay, with
``attempts`` incremented. reprocess takes the run's extractions made from text an older
scrubber cleaned; their enriched rows are replaced. Source rows are fetched again by id, in
bounded chunks, by the run's Snowflake session. Both can be killed and run again: what was
committed is no longer selected.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from typing import TextIO

import ray

from backfill import progress as P
from backfill import schema as S
from backfill.alerts import Alerter
from backfill.config import Config
from backfill.db import connect, ensure_schema, resolve_dsn, with_pg_retry
from backfill.errors import EXIT_OK, ConfigError, FatalError
from backfill.pipeline import PipelineSpec
from backfill.runlock import RunLock
from backfill.runner import (
    RunResult,
    _last_beat,
    _run_with_progress,
    _start_session,
    close_run,
    finish_attempt,
    init_ray,
    size_stages,
)
from backfill.scrub import SCRUBBER_VERSION
from backfill.source import IdChunk
from backfill.usage import Heartbeat, usage_ledger

# Ids per source query: an IN list of this size is cheap for Snowflake and bounds memory.
CHUNK_IDS = 1000
# Failures that another attempt cannot cure: the data itself is at fault.
NOT_RETRIED = ("MissingId", "MissingTimestamp", "DuplicateId", "EmptyText")


def retry_failed(cfg: Config, run_id: str, config_path: str | None = None,
                 out: TextIO | None = None, wait: bool = False,
                 fresh: bool = False) -> RunResult:
    out = out or sys.stderr
    t0 = time.monotonic()
    dsn = resolve_dsn(cfg)
    schema = cfg.postgres.schema_
    ensure_schema(dsn, schema, cfg.embedding.dimensions)
    with RunLock(dsn, schema, run_id, wait=wait, out=out):
        return _retry_held(cfg, run_id, config_path, out, t0, fresh)


def _retry_held(cfg: Config, run_id: str, config_path: str | None, out: TextIO,
                t0: float, fresh: bool = False) -> RunResult:
    dsn = resolve_dsn(cfg)
    schema = cfg.postgres.schema_

    def load() -> tuple[P.RunRecord | None, list[str], int]:
        with connect(dsn, schema) as conn:
            run = P.load_run(conn, run_id)
            ids = [r[0] for r in conn.execute(
                "SELECT work_order_id FROM failed_records WHERE run_id = %s AND "
                "resolved_at IS NULL AND NOT (error_class = ANY(%s)) ORDER BY work_order_id",
                (run_id, list(NOT_RETRIED)),
            )]
            row = conn.execute(
                "SELECT count(*) FROM failed_records WHERE run_id = %s AND resolved_at IS NULL "
                "AND error_class = ANY(%s)", (run_id, list(NOT_RETRIED)),
            ).fetchone()
        return run, ids, int(row[0]) if row else 0

    run, ids, unfixable = with_pg_retry(load, "reading the failed records")
    _require_done(run, run_id)
    assert run is not None
    print(f"run {run_id}: retrying {len(ids):,} failed records"
          + (f" ({unfixable:,} bad source rows are not retried: {', '.join(NOT_RETRIED)})"
             if unfixable else ""), file=out, flush=True)
    hint = f"backfill retry-failed --run-id {run_id}" + (
        f" --config {config_path}" if config_path else "") + (" --fresh" if fresh else "")
    return _process_ids(cfg, run, ids, hint, out, t0, "retry-failed", config_path, fresh)


def _require_done(run: P.RunRecord | None, run_id: str) -> None:
    if run is None:
        raise ConfigError(f"--run-id {run_id}: no such run")
    if run.state != P.DONE:
        raise ConfigError(f"run {run_id} is not finished ({run.state}): resume it first with "
                          f"backfill run --run-id {run_id}")


# A version of an extraction as a number: the scrubber's ("4"; NULL, before version 3,
# is 0) and the prompt's ("extract-v2": 2).
_SCRUBBER_VERSION_SQL = ("CASE WHEN scrubber_version ~ '^[0-9]+$' THEN scrubber_version::int "
                         "ELSE 0 END")
_PROMPT_VERSION_SQL = ("CASE WHEN prompt_version ~ '[0-9]+$' THEN "
                       "substring(prompt_version from '([0-9]+)$')::int ELSE 0 END")


def version_number(version: str) -> int:
    """The number a version string ends with, as the SQL above reads it (0 without one)."""
    match = re.search(r"([0-9]+)$", version)
    return int(match.group(1)) if match else 0


@dataclass(frozen=True)
class Selection:
    """Which of a finished run's extractions ``reprocess`` sends again: those made by a
    scrubber or a prompt older than a version, or (``outdated``) every one not made by this
    scrubber, prompt, extraction schema and model."""

    scrubber_below: int | None = None
    prompt_below: int | None = None
    outdated: bool = False

    @classmethod
    def parse(cls, spec: str) -> Selection:
        """``run --reprocess``'s spelling: ``scrubber<N``, ``prompt<N`` or ``outdated``."""
        if spec == "outdated":
            return cls(outdated=True)
        match = re.fullmatch(r"(scrubber|prompt)<([0-9]+)", spec.replace(" ", ""))
        if not match:
            raise ConfigError(f"--reprocess {spec!r}: give scrubber<N, prompt<N or outdated")
        n = int(match.group(2))
        return cls(scrubber_below=n) if match.group(1) == "scrubber" else cls(prompt_below=n)

    def check(self) -> None:
        if self.scrubber_below is None and self.prompt_below is None and not self.outdated:
            raise ConfigError("reprocess: give --scrubber-below N, --prompt-below N or "
                              "--outdated")
        scrubber, prompt = int(SCRUBBER_VERSION), version_number(S.PROMPT_VERSION)
        if self.scrubber_below is not None and not 1 <= self.scrubber_below <= scrubber:
            raise ConfigError(f"--scrubber-below {self.scrubber_below}: this scrubber is "
                              f"version {scrubber}; give a version from 1 to {scrubber}")
        if self.prompt_below is not None and not 1 <= self.prompt_below <= prompt:
            raise ConfigError(f"--prompt-below {self.prompt_below}: this prompt is "
                              f"{S.PROMPT_VERSION}; give a version from 1 to {prompt}")

    def where(self, cfg: Config) -> tuple[str, list[object]]:
        """The SQL condition on ai_extracted_data and its parameters (any of them holds)."""
        terms: list[str] = []
        params: list[object] = []
        if self.scrubber_below is not None:
            terms.append(f"{_SCRUBBER_VERSION_SQL} < %s")
            params.append(self.scrubber_below)
        if self.prompt_below is not None:
            terms.append(f"{_PROMPT_VERSION_SQL} < %s")
            params.append(self.prompt_below)
        if self.outdated:
            terms.append("(scrubber_version IS DISTINCT FROM %s OR prompt_version <> %s "
                         "OR schema_version IS DISTINCT FROM %s OR model <> %s)")
            params += [SCRUBBER_VERSION, S.PROMPT_VERSION, S.SCHEMA_VERSION,
                       cfg.llm.deployment]
        return " OR ".join(terms), params

    def describe(self, cfg: Config) -> str:
        parts = []
        if self.scrubber_below is not None:
            parts.append(f"scrubbed by a version before {self.scrubber_below} (this scrubber: "
                         f"version {SCRUBBER_VERSION})")
        if self.prompt_below is not None:
            parts.append(f"extracted with a prompt before version {self.prompt_below} (this "
                         f"prompt: {S.PROMPT_VERSION})")
        if self.outdated:
            parts.append(f"not made by scrubber {SCRUBBER_VERSION}, prompt "
                         f"{S.PROMPT_VERSION}, schema {S.SCHEMA_VERSION} and "
                         f"{cfg.llm.deployment}")
        return " or ".join(parts)

    def flags(self) -> str:
        return " ".join(f for f in (
            f"--scrubber-below {self.scrubber_below}" if self.scrubber_below is not None else "",
            f"--prompt-below {self.prompt_below}" if self.prompt_below is not None else "",
            "--outdated" if self.outdated else "") if f)


def reprocess(cfg: Config, run_id: str, selection: Selection, config_path: str | None = None,
              out: TextIO | None = None, wait: bool = False, fresh: bool = False) -> RunResult:
    """Send again the run's records whose extraction ``selection`` picks (made by an older
    scrubber, prompt or model); their extraction and embedding are replaced. A record whose
    request is the same as before (same text, prompt and model) takes its journaled answer,
    unless ``fresh``."""
    out = out or sys.stderr
    selection.check()
    t0 = time.monotonic()
    dsn = resolve_dsn(cfg)
    schema = cfg.postgres.schema_
    ensure_schema(dsn, schema, cfg.embedding.dimensions)
    where, params = selection.where(cfg)
    with RunLock(dsn, schema, run_id, wait=wait, out=out):
        def load() -> tuple[P.RunRecord | None, list[str]]:
            with connect(dsn, schema) as conn:
                run = P.load_run(conn, run_id)
                ids = [r[0] for r in conn.execute(
                    "SELECT work_order_id FROM ai_extracted_data WHERE run_id = %s AND "
                    f"({where}) ORDER BY work_order_id", (run_id, *params),
                )]
            return run, ids

        run, ids = with_pg_retry(load, "reading the run's extractions")
        _require_done(run, run_id)
        assert run is not None
        print(f"run {run_id}: reprocessing {len(ids):,} records {selection.describe(cfg)}",
              file=out, flush=True)
        if not ids:
            # Nothing selected: the run is left as it is (closing it again would re-judge
            # its figures, which later runs over the same rows may have changed: an
            # acceptance check got exit 3 for a reprocess of 0 records).
            print(f"run {run_id}: nothing to reprocess", file=out, flush=True)
            return RunResult(run_id, EXIT_OK)
        hint = f"backfill reprocess --run-id {run_id} {selection.flags()}" + (
            f" --config {config_path}" if config_path else "") + (" --fresh" if fresh else "")
        return _process_ids(cfg, run, ids, hint, out, t0, "reprocess", config_path, fresh)


def _process_ids(cfg: Config, run: P.RunRecord, ids: list[str], hint: str, out: TextIO,
                 t0: float, command: str, config_path: str | None,
                 fresh: bool = False) -> RunResult:
    dsn = resolve_dsn(cfg)
    alerter = Alerter(cfg, dsn, run.run_id, command, config_path, resume=hint)
    try:
        return _process_with(cfg, dsn, run, ids, hint, out, t0, alerter, fresh)
    except (FatalError, KeyboardInterrupt) as exc:
        alerter.fatal(exc)
        raise


def _process_with(cfg: Config, dsn: str, run: P.RunRecord, ids: list[str], hint: str,
                  out: TextIO, t0: float, alerter: Alerter, fresh: bool = False) -> RunResult:
    schema = cfg.postgres.schema_
    run_id = run.run_id
    if not ids:
        return close_run(dsn, schema, run_id, cfg, t0, out, alerter=alerter)
    init_ray()
    stages = size_stages(cfg, out)
    session = _start_session(cfg, run_id)
    ledger = usage_ledger()
    heartbeat = with_pg_retry(
        lambda: Heartbeat(dsn, schema, run_id, hint.split(" --run-id")[0], ledger),
        "recording the attempt")
    try:
        chunks = [IdChunk(tuple(ids[i:i + CHUNK_IDS])) for i in range(0, len(ids), CHUNK_IDS)]
        spec = PipelineSpec(cfg, dsn, run_id, session, chunks,
                            duplicate_ids=frozenset(run.duplicate_ids), skip_done=False,
                            stages=stages, usage=ledger, journal_fresh=fresh)
        _run_with_progress(spec, hint, out, heartbeat, alerter)
        return finish_attempt(heartbeat, cfg, dsn, run_id, out, close_run(
            dsn, schema, run_id, cfg, t0, out, session, alerter))
    except BaseException:
        _last_beat(heartbeat, P.FAILED)
        raise
    finally:
        ray.kill(session)
