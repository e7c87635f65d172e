"""``backfill run --incremental``: the source rows new or changed since the last completed run
through the same pipeline as the backfill, as a run of their own.

From the table's high-water mark (``etl_metadata`` kind ``watermark``) less a look-back for
rows that arrive late, one Snowflake query reads the candidate rows; their content hashes
(``schema.content_hashes``, the function the sink stores them with) are compared with
maintenance_logs in one Postgres query. Rows new or whose content differs are read again
by id and processed like ``retry-failed`` does, in chunks that are the run's partitions;
their derived rows are replaced by the sink's upserts. A row whose UPDATED_AT moved but whose
content did not costs no LLM call: only its stored UPDATED_AT is brought up to date. Nothing
changed: no preflight, no Ray, no API call; the run is recorded done with 0 records.

The mark moves only when the run completes (exit 0 or 3), to the latest timestamp read, so
an incremental run that stopped is simply run again: what it committed now matches the
source and is not selected.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.compute as pc
import ray

from backfill import logs
from backfill import progress as P
from backfill import schema as S
from backfill.alerts import Alerter
from backfill.config import Config, SnowflakeConfig
from backfill.db import connect, ensure_schema, resolve_dsn, with_pg_retry
from backfill.errors import ConfigError, FatalError
from backfill.pipeline import PipelineSpec
from backfill.runlock import RunLock
from backfill.runner import (
    RunResult,
    _last_beat,
    _mark_failed,
    _preflight,
    _run_with_progress,
    _start_session,
    close_complete,
    close_run,
    finish_attempt,
    init_ray,
    new_run_id,
    size_stages,
)
from backfill.source import IdChunk, Partition, normalize, select_list, snowflake_error_text
from backfill.usage import Heartbeat, usage_ledger

# Ids per source query and per partition of an incremental run (as retry-failed reads them).
CHUNK_IDS = 1000


def table_name(cfg: SnowflakeConfig) -> str:
    """The source table's full name: the watermark's key and the runs' ``table`` param."""
    return f"{cfg.database}.{cfg.schema_}.{cfg.table}"


@dataclass
class Changes:
    """What the candidate rows hold against maintenance_logs."""

    candidates: int = 0
    process: list[str] = field(default_factory=list)  # new, or content changed
    # (id, UPDATED_AT, content hash) of unchanged rows whose stored UPDATED_AT or hash is stale
    refresh: list[tuple[str, dt.datetime | None, str]] = field(default_factory=list)
    latest: dt.datetime | None = None  # the latest CREATED_AT / UPDATED_AT read
    unkeyed: int = 0  # rows without an id or a CREATED_AT: the backfill dead-letters them


def read_candidates(cfg: SnowflakeConfig, since: dt.datetime) -> pa.Table:
    """The rows created or updated at or after ``since``, canonical columns, in one query
    (after a ``LIMIT 0`` that names the table's columns, which costs no warehouse time)."""
    import snowflake.connector

    from backfill.source import connect as sf_connect

    conn = sf_connect(cfg)
    try:
        cur = conn.cursor()
        cur.execute(f"SELECT * FROM {cfg.table} LIMIT 0")
        available = {str(d.name).upper() for d in cur.description}
        columns, missing = select_list(cfg, available)
        updated = cfg.columns.get(S.UPDATED_AT, S.UPDATED_AT)
        cond = f"{cfg.timestamp_column} >= %s"
        params: tuple[Any, ...] = (since,)
        if S.UPDATED_AT not in missing:
            cond, params = f"({cond} OR {updated} >= %s)", (since, since)
        cur.execute(f"SELECT {columns} FROM {cfg.table} WHERE {cond}", params)
        tables = [normalize(b.to_arrow(), 0) for b in cur.get_result_batches() or []]
    except snowflake.connector.errors.DatabaseError as exc:
        raise FatalError(f"reading the rows changed since {since}: {snowflake_error_text(exc)}",
                         dependency="Snowflake") from exc
    finally:
        conn.close()
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return normalize(S.SOURCE_SCHEMA.empty_table(), 0).drop_columns([S.PARTITION])
    return pa.concat_tables(tables).drop_columns([S.PARTITION])


def duplicated(cfg: SnowflakeConfig, ids: list[str]) -> list[str]:
    """Of ``ids``, those the source table holds more than once (anywhere, not only in the
    window: reading by id takes every row of an id). The backfill dead-letters such ids
    (validate/DuplicateId) instead of keeping one row at random; so does an incremental run."""
    import snowflake.connector

    from backfill.source import _id_text
    from backfill.source import connect as sf_connect

    if not ids:
        return []
    found: set[str] = set()
    conn = sf_connect(cfg)
    try:
        cur = conn.cursor()
        for i in range(0, len(ids), CHUNK_IDS):
            chunk = ids[i:i + CHUNK_IDS]
            cur.execute(f"SELECT {cfg.id_column} FROM {cfg.table} WHERE {cfg.id_column} IN "
                        f"({', '.join(['%s'] * len(chunk))}) GROUP BY {cfg.id_column} "
                        "HAVING COUNT(*) > 1", tuple(chunk))
            found.update(_id_text(r[0]) for r in cur.fetchall())
    except snowflake.connector.errors.DatabaseError as exc:
        raise FatalError(f"looking for duplicate ids: {snowflake_error_text(exc)}",
                         dependency="Snowflake") from exc
    finally:
        conn.close()
    return sorted(found)


def _dead_lettered_duplicates(dsn: str, schema: str, ids: list[str]) -> set[str]:
    """Of ``ids``, those an earlier run already dead-lettered as duplicates (still open)."""
    def read() -> set[str]:
        with connect(dsn, schema) as conn:
            return {r[0] for r in conn.execute(
                "SELECT DISTINCT work_order_id FROM failed_records WHERE resolved_at IS NULL "
                "AND error_class = 'DuplicateId' AND work_order_id = ANY(%s)", (ids,))}

    return with_pg_retry(read, "reading the open duplicate-id dead letters") if ids else set()


def _latest_per_id(table: pa.Table) -> pa.Table:
    """One row per id, the latest by (UPDATED_AT, CREATED_AT): the row the sink keeps."""
    best: dict[str, tuple[tuple[dt.datetime, dt.datetime], int]] = {}
    for i, (wid, upd, cre) in enumerate(zip(table.column(S.ID).to_pylist(),
                                            table.column(S.UPDATED_AT).to_pylist(),
                                            table.column(S.CREATED_AT).to_pylist(),
                                            strict=True)):
        rank = (upd or dt.datetime.min, cre)
        if wid not in best or rank >= best[wid][0]:
            best[wid] = (rank, i)
    return table.take(pa.array(sorted(i for _, i in best.values()), pa.int64()))


def compare(table: pa.Table,
            stored: dict[str, tuple[str | None, dt.datetime | None]]) -> Changes:
    """Sort the candidate rows: new or changed ids to process, unchanged ones to refresh.

    ``stored``: id -> (content_hash, updated_at) in maintenance_logs. A row written before
    content hashes existed (hash NULL) counts as changed only if its UPDATED_AT is later
    than the one stored; otherwise it is taken as unchanged and its hash is stored, so
    that later runs compare hashes (a row whose text changed without a new UPDATED_AT is
    then missed once: a source that does that needs a backfill of the range)."""
    changes = Changes(candidates=table.num_rows)
    for column in (S.CREATED_AT, S.UPDATED_AT):
        top = pc.max(table.column(column)).as_py()
        if top is not None and (changes.latest is None or top > changes.latest):
            changes.latest = top
    keyed = table.filter(pc.and_(pc.is_valid(table.column(S.ID)),
                                         pc.is_valid(table.column(S.CREATED_AT))))
    changes.unkeyed = table.num_rows - keyed.num_rows
    keyed = _latest_per_id(keyed)
    rows = zip(keyed.column(S.ID).to_pylist(), keyed.column(S.UPDATED_AT).to_pylist(),
               S.content_hashes(keyed), strict=True)
    for wid, updated, digest in rows:
        if wid not in stored:
            changes.process.append(wid)
            continue
        old_hash, old_updated = stored[wid]
        if old_hash is None:
            if updated is not None and (old_updated is None or updated > old_updated):
                changes.process.append(wid)
            else:
                changes.refresh.append((wid, updated, digest))
        elif old_hash != digest:
            changes.process.append(wid)
        elif old_updated != updated:
            changes.refresh.append((wid, updated, digest))
    changes.process.sort()
    return changes


def _stored(dsn: str, schema: str,
            ids: list[str]) -> dict[str, tuple[str | None, dt.datetime | None]]:
    def read() -> dict[str, tuple[str | None, dt.datetime | None]]:
        with connect(dsn, schema) as conn:
            return {r[0]: (r[1], r[2]) for r in conn.execute(
                "SELECT work_order_id, content_hash, updated_at FROM maintenance_logs "
                "WHERE work_order_id = ANY(%s)", (ids,))}

    return with_pg_retry(read, "reading the stored content hashes") if ids else {}


def _refresh(dsn: str, schema: str, rows: list[tuple[str, dt.datetime | None, str]]) -> None:
    """Unchanged content: only the stored UPDATED_AT (and a missing hash) catch up."""
    def write() -> None:
        with connect(dsn, schema) as conn, conn.transaction():
            conn.execute(
                "UPDATE maintenance_logs m SET updated_at = v.u, content_hash = v.h FROM "
                "unnest(%s::text[], %s::timestamp[], %s::text[]) AS v(id, u, h) "
                "WHERE m.work_order_id = v.id",
                ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]))

    if rows:
        with_pg_retry(write, "bringing unchanged rows' UPDATED_AT up to date")


def run_incremental(cfg: Config, config_path: str | None = None,
                    lookback_minutes: int | None = None, out: TextIO | None = None,
                    wait: bool = False, dashboard: bool = False) -> RunResult:
    """One incremental run. Raises ConfigError (exit 2) when the table has no mark yet."""
    out = out or sys.stderr
    t0 = time.monotonic()
    dsn, schema = resolve_dsn(cfg), cfg.postgres.schema_
    table = table_name(cfg.snowflake)
    lookback = (cfg.pipeline.incremental_lookback_minutes if lookback_minutes is None
                else lookback_minutes)
    ensure_schema(dsn, schema, cfg.embedding.dimensions)
    # One incremental run of a table at a time: two would select the same rows.
    with RunLock(dsn, schema, f"incremental:{table}", wait=wait, out=out):
        def load_mark() -> dt.datetime | None:
            with connect(dsn, schema) as conn:
                return P.read_mark(conn, table)

        mark = with_pg_retry(load_mark, "reading the high-water mark")
        if mark is None:
            flag = f" --config {config_path}" if config_path else ""
            raise ConfigError(
                f"{table} has no high-water mark in {schema}: run a backfill first "
                f"(backfill run{flag}); when it completes, --incremental takes over from it")
        since = mark - dt.timedelta(minutes=lookback)
        candidates = read_candidates(cfg.snowflake, since)
        ids = [i for i in candidates.column(S.ID).to_pylist() if i is not None]
        changes = compare(candidates, _stored(dsn, schema, ids))
        duplicates = duplicated(cfg.snowflake, changes.process)
        # Dead-lettered by an earlier run and still duplicated: nothing new to say until the
        # source is fixed (a look-back would otherwise dead-letter them again each run).
        known = _dead_lettered_duplicates(dsn, schema, duplicates)
        changes.process = [i for i in changes.process if i not in known]
        duplicates = [i for i in duplicates if i not in known]
        run_id = new_run_id()
        logs.set_run_id(run_id)
        new_mark = max(mark, changes.latest) if changes.latest else mark
        print(f"run {run_id}: incremental from {since} (mark {mark}, look-back {lookback} "
              f"min): {changes.candidates:,} rows read, {len(changes.process):,} new or "
              f"changed, {len(changes.refresh):,} with only UPDATED_AT to bring up to date"
              + (f", {changes.unkeyed:,} without id or {S.CREATED_AT} (left to the backfill)"
                 if changes.unkeyed else "")
              + (f"; {len(duplicates):,} ids occur more than once in the source: their rows "
                 "go to failed_records (validate/DuplicateId)" if duplicates else "")
              + (f"; {len(known):,} duplicated ids already dead-lettered are left until the "
                 "source is fixed" if known else ""), file=out, flush=True)
        params = {"mode": "incremental", "table": table, "since": since.isoformat(),
                  "mark": mark.isoformat(), "lookback_minutes": lookback,
                  "llm_deployment": cfg.llm.deployment,
                  "embedding_deployment": cfg.embedding.deployment,
                  "dimensions": cfg.embedding.dimensions,
                  "range": [since.isoformat(), new_mark.isoformat()]}
        chunks = [IdChunk(tuple(changes.process[i:i + CHUNK_IDS]), i // CHUNK_IDS)
                  for i in range(0, len(changes.process), CHUNK_IDS)]
        parts = [Partition(c.partition, since, new_mark, c.rows) for c in chunks]

        def create() -> None:
            with connect(dsn, schema) as conn:
                P.create_run(conn, run_id, params, parts, duplicates)

        with_pg_retry(create, "recording the run")
        _refresh(dsn, schema, changes.refresh)
        if chunks:
            result = _process(cfg, dsn, run_id, chunks, config_path, out, t0, dashboard,
                              frozenset(duplicates))
        else:  # nothing to send: no alert either, a cron job would send one every time
            result = close_run(dsn, schema, run_id, cfg, t0, out)

        def advance() -> None:
            with connect(dsn, schema) as conn:
                P.advance_mark(conn, table, new_mark, run_id)

        with_pg_retry(advance, "advancing the high-water mark")
        return result


def _process(cfg: Config, dsn: str, run_id: str, chunks: list[IdChunk],
             config_path: str | None, out: TextIO, t0: float, dashboard: bool,
             duplicates: frozenset[str]) -> RunResult:
    """The changed rows through the pipeline (as retry-failed sends records, but skipping
    what this run already committed, as a resumed backfill does)."""
    schema = cfg.postgres.schema_
    hint = "backfill run --incremental" + (f" --config {config_path}" if config_path else "")
    alerter = Alerter(cfg, dsn, run_id, "run", config_path, resume=hint)
    try:
        billed = _preflight(cfg, hint, out).usage
        init_ray(out, dashboard)
        stages = size_stages(cfg, out)
        session = _start_session(cfg, run_id)
        ledger = usage_ledger()
        heartbeat = with_pg_retry(lambda: Heartbeat(dsn, schema, run_id, "run", ledger, billed),
                                  "recording the attempt")
        try:
            spec = PipelineSpec(cfg, dsn, run_id, session, chunks, duplicate_ids=duplicates,
                                stages=stages, usage=ledger)
            _run_with_progress(spec, hint, out, heartbeat, alerter)
            _close_chunks(dsn, schema, run_id, chunks, hint)
            return finish_attempt(heartbeat, cfg, dsn, run_id, out, close_run(
                dsn, schema, run_id, cfg, t0, out, alerter=alerter))
        except BaseException:
            _last_beat(heartbeat, P.FAILED)
            raise
        finally:
            ray.kill(session)
    except (FatalError, KeyboardInterrupt) as exc:
        _mark_failed(dsn, schema, run_id, exc if isinstance(exc, FatalError)
                     else FatalError("interrupted", "operator"))
        alerter.fatal(exc)
        raise


def _close_chunks(dsn: str, schema: str, run_id: str, chunks: list[IdChunk],
                  hint: str) -> None:
    """Every chunk's ids must be committed now (the sink closes most as their last block
    commits); one short is a loss: the mark stays, running again sends what is missing."""
    short = close_complete(dsn, schema, run_id, [c.partition for c in chunks])
    if short:
        raise FatalError(f"records of partitions {', '.join(map(str, short))} were read but "
                         "not committed; nothing is marked done for them",
                         dependency="pipeline", resume_hint=hint)
