"""``status`` and ``report``: what a run did, read from the database alone."""

from __future__ import annotations

from typing import Any

from backfill import progress as P
from backfill.config import Config
from backfill.db import connect, resolve_dsn
from backfill.errors import ConfigError
from backfill.runlock import driver_alive


def status_lines(cfg: Config, run_id: str | None) -> list[str]:
    with connect(resolve_dsn(cfg), cfg.postgres.schema_, autocommit=True) as conn:
        _require_tables(conn)
        runs = P.run_progress(conn, run_id)
        alive = {r.run_id: driver_alive(conn, cfg.postgres.schema_, r.run_id)
                 for r in runs if r.state == P.RUNNING}
    if run_id and not runs:
        raise ConfigError(f"--run-id {run_id}: no such run")
    if not runs:
        return ["no runs yet"]
    lines = [
        f"{'run id':<24} {'state':<8} {'records':>10} {'ok':>10} {'failed':>8} "
        f"{'open':>6} {'partitions':>11}  updated"
    ]
    for r in runs:
        state = r.state
        if state == P.RUNNING and not alive.get(r.run_id):
            state = "stopped"  # its driver is gone: nothing holds the run
        lines.append(
            f"{r.run_id:<24} {state:<8} {r.rows_expected:>10,} {r.rows_ok:>10,} "
            f"{r.rows_failed:>8,} {r.failed_open:>6,} {r.partitions_done:>5}/{r.partitions:<5}  "
            f"{r.updated_at:%Y-%m-%d %H:%M:%S}"
        )
        if state == "stopped":
            lines.append(f"  no driver holds it (killed?): resume with backfill run --run-id "
                         f"{r.run_id}")
        if r.state == P.FAILED and r.error:
            lines.append(f"  stopped by {r.error.get('class')} ({r.error.get('dependency')}): "
                         f"{str(r.error.get('message', ''))[:300]}")
    return lines


def build_report(cfg: Config, run_id: str) -> dict[str, Any]:
    with connect(resolve_dsn(cfg), cfg.postgres.schema_, autocommit=True) as conn:
        _require_tables(conn)
        runs = P.run_progress(conn, run_id)
        if not runs:
            raise ConfigError(f"--run-id {run_id}: no such run")
        r = runs[0]
        info = conn.execute(
            "SELECT info, created_at, updated_at FROM etl_metadata WHERE run_id = %s "
            "AND kind = 'run'",
            (run_id,),
        ).fetchone()
        failed = conn.execute(
            "SELECT stage, error_class, count(*) FROM failed_records WHERE run_id = %s "
            "AND resolved_at IS NULL GROUP BY 1, 2 ORDER BY 3 DESC",
            (run_id,),
        ).fetchall()
        tokens = conn.execute(
            "SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), "
            "count(*) FILTER (WHERE input_truncated), "
            "count(*) FILTER (WHERE jsonb_array_length(warnings) > 0) "
            "FROM ai_extracted_data WHERE run_id = %s",
            (run_id,),
        ).fetchone()
        embedded = conn.execute(
            "SELECT count(*) FROM semantic_embeddings WHERE run_id = %s", (run_id,)
        ).fetchone()
        redactions = conn.execute(
            "SELECT r.key, sum(r.value::bigint) FROM ai_extracted_data a, "
            "jsonb_each_text(a.redactions) r WHERE a.run_id = %s GROUP BY 1 ORDER BY 2 DESC, 1",
            (run_id,),
        ).fetchall()
        versions = conn.execute(
            "SELECT coalesce(scrubber_version, 'before 3'), count(*) FROM ai_extracted_data "
            "WHERE run_id = %s GROUP BY 1 ORDER BY 1", (run_id,),
        ).fetchall()
        breakdown = conn.execute(
            "SELECT failure_mode, count(*) FROM ai_extracted_data WHERE run_id = %s "
            "GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
            (run_id,),
        ).fetchall()
    assert info is not None and tokens is not None and embedded is not None
    return {
        "run_id": run_id,
        "state": r.state,
        "params": info[0].get("params", {}),
        "started_at": info[1],
        "updated_at": r.updated_at,
        "partitions": {"total": r.partitions, "done": r.partitions_done},
        "error": r.error,
        "reconciled": (info[0].get("summary") or {}).get("reconciled"),
        "records": {
            "planned": r.rows_planned,
            "expected": r.rows_expected,
            "ok": r.rows_ok,
            "failed": r.rows_failed,
            "failed_unresolved": r.failed_open,
        },
        "failed_by_stage": [{"stage": s, "error_class": c, "count": n} for s, c, n in failed],
        "extractions": {
            "rows": tokens[0],
            "input_tokens": tokens[1],
            "output_tokens": tokens[2],
            "input_truncated": tokens[3],
            "with_grounding_warnings": tokens[4],
        },
        "embeddings": embedded[0],
        "top_failure_modes": {m: n for m, n in breakdown},
        # what the scrubber replaced in the text sent for the run's extractions, by kind; and
        # how many extractions each scrubber version made (reprocess the older ones)
        "redactions": {k: int(n) for k, n in redactions},
        "scrubber_versions": {v: n for v, n in versions},
    }


def report_text(rep: dict[str, Any]) -> str:
    rec, ex = rep["records"], rep["extractions"]
    lines = [
        f"run {rep['run_id']} ({rep['state']})",
        f"  range: [{' .. '.join(rep['params'].get('range') or ['?', '?'])}) of "
        f"{rep['params'].get('table')}",
        f"  started {rep['started_at']:%Y-%m-%d %H:%M:%S}, last update "
        f"{rep['updated_at']:%Y-%m-%d %H:%M:%S}",
        f"  partitions: {rep['partitions']['done']}/{rep['partitions']['total']} done",
        f"  records: {rec['expected']:,} read ({rec['planned']:,} planned), {rec['ok']:,} ok, "
        f"{rec['failed']:,} failed ({rec['failed_unresolved']:,} unresolved)",
        f"  extractions: {ex['rows']:,} ({ex['input_tokens']:,} input / {ex['output_tokens']:,} "
        f"output tokens; {ex['input_truncated']:,} truncated inputs, "
        f"{ex['with_grounding_warnings']:,} with grounding warnings)",
        f"  embeddings: {rep['embeddings']:,}",
    ]
    if rep["reconciled"] is not None:
        lines.append("  reconciled with the source: " + ("yes" if rep["reconciled"] else "NO"))
    if rep["error"]:
        lines.append(f"  stopped by {rep['error'].get('class')} "
                     f"({rep['error'].get('dependency')}): {rep['error'].get('message')}")
    if rep["failed_by_stage"]:
        lines.append("  failed records by stage:")
        lines += [
            f"    {f['stage']}/{f['error_class']}: {f['count']:,}" for f in rep["failed_by_stage"]
        ]
    if rep["redactions"]:
        lines.append("  PII replaced before the API: " + ", ".join(
            f"{k} {n:,}" for k, n in rep["redactions"].items()))
    if rep["scrubber_versions"]:
        lines.append("  extractions by scrubber version: " + ", ".join(
            f"{v}: {n:,}" for v, n in rep["scrubber_versions"].items()))
    if rep["top_failure_modes"]:
        lines.append(
            "  top failure modes: "
            + ", ".join(f"{m} {n:,}" for m, n in rep["top_failure_modes"].items())
        )
    return "\n".join(lines)


def _require_tables(conn: Any) -> None:
    row = conn.execute("SELECT to_regclass('etl_metadata')").fetchone()
    if row is None or row[0] is None:
        raise ConfigError(
            "no backfill tables in this database/schema yet: check postgres.dsn "
            "and postgres.schema, or run `backfill run` first"
        )
