"""Run bookkeeping in ``etl_metadata``: the run's plan, its partitions, the blocks written.

Rows of ``etl_metadata`` (kind / item):
- ``run`` / ``''``: parameters, plan, state (running | done | failed), final summary.
- ``partition`` / index: bounds, rows expected, rows ok/failed so far, state (pending | done).
- ``block`` / ``partition/key``: rows ok/failed of one written block. Inserted in the same
  transaction as the block's data, keyed by its content, so a block written twice counts once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg

from backfill.source import Partition

RUNNING, DONE, FAILED = "running", "done", "failed"


def record_block(
    cur: psycopg.Cursor[Any], run_id: str, key: str, counts: dict[int, tuple[int, int]]
) -> None:
    """Add a block's counts to its partitions; mark a partition done when all its rows are in.

    The partition row is locked before its blocks are summed, so that two writers of the
    same partition never sum from a snapshot that misses the other's committed block.
    """
    for part in sorted(counts):
        ok, failed = counts[part]
        cur.execute(
            "INSERT INTO etl_metadata (run_id, kind, item, state, partition_id, rows_ok, "
            "rows_failed) VALUES (%s, 'block', %s, 'written', %s, %s, %s) "
            "ON CONFLICT (run_id, kind, item) DO NOTHING",
            (run_id, f"{part}/{key}", part, ok, failed),
        )
    for part in sorted(counts):
        cur.execute(
            "SELECT 1 FROM etl_metadata WHERE run_id = %s AND kind = 'partition' AND item = %s "
            "FOR UPDATE",
            (run_id, str(part)),
        )
        cur.execute(
            "UPDATE etl_metadata p SET rows_ok = s.ok, rows_failed = s.failed, updated_at = now(), "
            # A partition with duplicate ids is closed by the driver at the end of the run:
            # its duplicate rows are processed (never skipped) again on a resume, so its
            # block counts can run ahead of the rows actually done.
            "state = CASE WHEN s.ok + s.failed >= p.rows_expected AND "
            "coalesce((p.info->>'duplicate_rows')::int, 0) = 0 THEN 'done' ELSE p.state END "
            "FROM (SELECT coalesce(sum(rows_ok), 0) AS ok, coalesce(sum(rows_failed), 0) AS failed "
            "      FROM etl_metadata WHERE run_id = %s AND kind = 'block' AND partition_id = %s) s "
            "WHERE p.run_id = %s AND p.kind = 'partition' AND p.item = %s",
            (run_id, part, run_id, str(part)),
        )


@dataclass
class RunRecord:
    run_id: str
    state: str
    params: dict[str, Any]
    partitions: list[Partition]
    duplicate_ids: list[str]


def load_run(conn: psycopg.Connection[Any], run_id: str) -> RunRecord | None:
    row = conn.execute(
        "SELECT state, info FROM etl_metadata WHERE run_id = %s AND kind = 'run' AND item = ''",
        (run_id,),
    ).fetchone()
    if row is None:
        return None
    state, info = row
    parts = [Partition.from_json(p) for p in info.get("plan", [])]
    return RunRecord(run_id, state, info.get("params", {}), parts, info.get("duplicate_ids", []))


def create_run(
    conn: psycopg.Connection[Any],
    run_id: str,
    params: dict[str, Any],
    partitions: list[Partition],
    duplicate_ids: list[str] | None = None,
) -> None:
    """Store the run's plan; the plan is fixed for the life of the run (DESIGN decision 2)."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO etl_metadata (run_id, kind, item, state, rows_expected, info) "
            "VALUES (%s, 'run', '', %s, %s, %s)",
            (
                run_id,
                RUNNING,
                sum(p.rows for p in partitions),
                json.dumps(
                    {
                        "params": params,
                        "plan": [p.to_json() for p in partitions],
                        "duplicate_ids": duplicate_ids or [],
                    }
                ),
            ),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO etl_metadata (run_id, kind, item, state, partition_id, "
                "rows_expected, info) VALUES (%s, 'partition', %s, %s, %s, %s, %s)",
                [
                    (
                        run_id,
                        str(p.index),
                        "done" if p.rows == 0 else "pending",
                        p.index,
                        p.rows,
                        json.dumps(p.to_json()),
                    )
                    for p in partitions
                ],
            )


def pending_partitions(conn: psycopg.Connection[Any], run: RunRecord) -> list[Partition]:
    done = {
        int(item)
        for (item,) in conn.execute(
            "SELECT item FROM etl_metadata WHERE run_id = %s AND kind = 'partition' "
            "AND state = 'done'",
            (run.run_id,),
        )
    }
    return [p for p in run.partitions if p.index not in done]


def set_run_state(
    conn: psycopg.Connection[Any], run_id: str, state: str, summary: dict[str, Any] | None = None
) -> None:
    with conn.transaction():
        conn.execute(
            "UPDATE etl_metadata SET state = %s, updated_at = now(), "
            "info = info || jsonb_build_object('summary', %s::jsonb) "
            "WHERE run_id = %s AND kind = 'run' AND item = ''",
            (state, json.dumps(summary or {}), run_id),
        )


def recount_from_failures(conn: psycopg.Connection[Any], run_id: str) -> None:
    """Final partition counts from the dead letters, not from the block sums.

    Block sums are exact while a run goes straight through, but rows that are processed
    again after a resume (no id, duplicate ids) or resolved by retry-failed would be
    counted twice. Failed rows = unresolved dead letters, plus the extra copies of
    duplicate ids (one dead letter stands for all copies); ok = the rest.
    """
    with conn.transaction():
        conn.execute(
            "UPDATE etl_metadata p SET rows_failed = f.n, rows_ok = p.rows_expected - f.n, "
            "updated_at = now() FROM (SELECT q.item, "
            "  (SELECT count(*) FROM failed_records r WHERE r.run_id = q.run_id "
            "   AND r.partition_id = q.partition_id AND r.resolved_at IS NULL) "
            "  + greatest(0, coalesce((q.info->>'duplicate_rows')::int, 0) "
            "    - (SELECT count(*) FROM failed_records r WHERE r.run_id = q.run_id "
            "       AND r.partition_id = q.partition_id AND r.resolved_at IS NULL "
            "       AND r.error_class = 'DuplicateId')) AS n "
            "  FROM etl_metadata q WHERE q.run_id = %s AND q.kind = 'partition') f "
            "WHERE p.run_id = %s AND p.kind = 'partition' AND p.item = f.item",
            (run_id, run_id),
        )


@dataclass
class RunProgress:
    run_id: str
    state: str
    partitions: int
    partitions_done: int
    rows_expected: int
    rows_ok: int
    rows_failed: int
    failed_open: int
    started_at: Any
    updated_at: Any

    @property
    def rows_done(self) -> int:
        return self.rows_ok + self.rows_failed


def run_progress(conn: psycopg.Connection[Any], run_id: str | None = None) -> list[RunProgress]:
    """Progress of one run or of all runs, newest first, from ``etl_metadata``."""
    rows = conn.execute(
        "SELECT r.run_id, r.state, r.created_at, "
        "  count(p.item), count(p.item) FILTER (WHERE p.state = 'done'), "
        "  coalesce(sum(p.rows_expected), 0), coalesce(sum(p.rows_ok), 0), "
        "  coalesce(sum(p.rows_failed), 0), greatest(r.updated_at, max(p.updated_at)), "
        "  (SELECT count(*) FROM failed_records f WHERE f.run_id = r.run_id "
        "   AND f.resolved_at IS NULL) "
        "FROM etl_metadata r LEFT JOIN etl_metadata p ON p.run_id = r.run_id "
        "  AND p.kind = 'partition' "
        "WHERE r.kind = 'run' AND (%s::text IS NULL OR r.run_id = %s) "
        "GROUP BY r.run_id, r.state, r.created_at, r.updated_at ORDER BY r.created_at DESC",
        (run_id, run_id),
    ).fetchall()
    return [
        RunProgress(
            run_id=r[0],
            state=r[1],
            started_at=r[2],
            partitions=r[3],
            partitions_done=r[4],
            rows_expected=int(r[5]),
            rows_ok=int(r[6]),
            rows_failed=int(r[7]),
            updated_at=r[8],
            failed_open=int(r[9]),
        )
        for r in rows
    ]
