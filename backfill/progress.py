"""Run bookkeeping in ``etl_metadata``: the run's plan, its partitions, the blocks written.

Rows of ``etl_metadata`` (kind / item):
- ``run`` / ``''``: parameters, plan, state (running | done | failed), final summary.
- ``partition`` / index: bounds, rows expected, rows ok/failed so far, state (pending | done).
- ``block`` / ``partition/key``: rows ok/failed of one written block. Inserted in the same
  transaction as the block's data, keyed by its content, so a block written twice counts once.
- ``alert`` / ``<kind>:<incident>``: an alert sent to operators (state sending | sent |
  undelivered; info holds the alert), one row per incident (backfill/alerts.py).
- ``watermark`` / the source table's full name, run_id ``''``: the high-water mark of
  ``run --incremental`` (info: mark, the run that set it). Set when a run completes.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import psycopg

from backfill.source import Partition

RUNNING, DONE, FAILED = "running", "done", "failed"


def record_block(
    cur: psycopg.Cursor[Any], run_id: str, key: str, counts: dict[int, tuple[int, int]]
) -> None:
    """Note a block's rows against its partitions; close a partition once every row its read
    task read is committed (``close_if_complete``).

    The block rows are keyed by the block's content, so a block written twice is noted
    once. Their sum is an upper bound of the records committed (a resumed run writes some
    rows again: ids without a row, duplicate ids): cheap enough to test on every block, and
    only when it reaches the count read is the exact count taken from the tables.
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
        if part < 0:
            continue
        # Locked before the blocks are summed, so that two writers of the same partition
        # never both decide from a snapshot that misses the other's committed block.
        row = cur.execute(
            "SELECT (p.info->>'keys_read')::bigint, (SELECT coalesce(sum(b.rows_ok + "
            "b.rows_failed), 0) FROM etl_metadata b WHERE b.run_id = p.run_id AND "
            "b.kind = 'block' AND b.partition_id = p.partition_id) "
            "FROM etl_metadata p WHERE p.run_id = %s AND p.kind = 'partition' AND p.item = %s "
            "AND p.state <> 'done' FOR UPDATE",
            (run_id, str(part)),
        ).fetchone()
        if row is not None and row[0] is not None and row[1] >= row[0]:
            close_if_complete(cur, run_id, part)


def record_read(
    cur: psycopg.Cursor[Any], run_id: str, part: int, rows: int, keys: int, duplicate_keys: int
) -> None:
    """What the read task of a partition found in the source: ``rows`` rows holding ``keys``
    distinct records (ids, or content keys of rows without an id), ``duplicate_keys`` of
    them ids the planner found more than once. Overwritten when a resume reads it again."""
    cur.execute(
        "SELECT 1 FROM etl_metadata WHERE run_id = %s AND kind = 'partition' AND item = %s "
        "FOR UPDATE",
        (run_id, str(part)),
    )
    cur.execute(
        "UPDATE etl_metadata SET updated_at = now(), info = info || jsonb_build_object("
        "'rows_read', %s::bigint, 'keys_read', %s::bigint, 'duplicate_keys_read', %s::bigint, "
        "'read_at', now()) WHERE run_id = %s AND kind = 'partition' AND item = %s",
        (rows, keys, duplicate_keys, run_id, str(part)),
    )
    close_if_complete(cur, run_id, part)


# The records of a partition committed so far, from the tables themselves: its ids in
# maintenance_logs, and its dead letters (rows Postgres rejected and rows without an id or
# a timestamp have no maintenance_logs row). Duplicate ids are left out: which partition
# keeps their row depends on the order blocks commit in; they are checked per run. A
# record that failed only because the API was down (Unavailable) is not done: its partition
# stays open, so that a resume after an outage reads it and sends that record again.
_COMMITTED_KEYS = (
    "SELECT count(*) FROM (SELECT work_order_id FROM maintenance_logs "
    "  WHERE run_id = %(run)s AND partition_id = %(part)s "
    "  UNION SELECT work_order_id FROM failed_records "
    "  WHERE run_id = %(run)s AND partition_id = %(part)s "
    "  EXCEPT SELECT work_order_id FROM failed_records WHERE run_id = %(run)s "
    "  AND partition_id = %(part)s AND error_class = 'Unavailable' AND resolved_at IS NULL) k "
    "WHERE NOT (k.work_order_id = ANY(%(dups)s))"
)
# ok: work orders with their extraction (and so their embedding: same transaction). failed:
# open dead letters, except those of duplicate ids, which are counted as the rows read
# instead (one dead letter stands for all copies, which may lie in several partitions);
# plus any other row read that repeats a record of the partition. So ok + failed is the
# rows read.
_PARTITION_COUNTS = (
    "SELECT (SELECT count(*) FROM maintenance_logs l JOIN ai_extracted_data a "
    "  ON a.work_order_id = l.work_order_id AND a.run_id = l.run_id "
    "  WHERE l.run_id = %(run)s AND l.partition_id = %(part)s), "
    " (SELECT count(*) FROM failed_records f WHERE f.run_id = %(run)s "
    "  AND f.partition_id = %(part)s AND f.resolved_at IS NULL "
    "  AND f.error_class <> 'DuplicateId') "
    " + (SELECT coalesce((info->>'rows_read')::bigint - (info->>'keys_read')::bigint "
    "    + (info->>'duplicate_keys_read')::bigint, 0) "
    "  FROM etl_metadata WHERE run_id = %(run)s AND kind = 'partition' AND item = %(item)s)"
)


def _duplicate_ids(cur: psycopg.Cursor[Any], run_id: str) -> list[str]:
    row = cur.execute(
        "SELECT coalesce(info->'duplicate_ids', '[]'::jsonb) FROM etl_metadata "
        "WHERE run_id = %s AND kind = 'run' AND item = ''",
        (run_id,),
    ).fetchone()
    return list(row[0]) if row else []


def committed_keys(cur: psycopg.Cursor[Any], run_id: str, part: int) -> int:
    row = cur.execute(
        _COMMITTED_KEYS, {"run": run_id, "part": part, "dups": _duplicate_ids(cur, run_id)}
    ).fetchone()
    return int(row[0]) if row else 0


def close_if_complete(cur: psycopg.Cursor[Any], run_id: str, part: int) -> bool:
    """Mark the partition done, with its counts taken from the tables, if every record its
    read task read is committed. The caller holds the partition row's lock."""
    row = cur.execute(
        "SELECT (info->>'keys_read')::bigint, coalesce((info->>'duplicate_keys_read')::bigint, "
        "0), state FROM etl_metadata WHERE run_id = %s AND kind = 'partition' AND item = %s",
        (run_id, str(part)),
    ).fetchone()
    if row is None or row[0] is None:
        return False
    keys_read, duplicate_keys, state = row
    if state == DONE:
        return True
    if committed_keys(cur, run_id, part) < keys_read - duplicate_keys:
        return False
    _store_counts(cur, run_id, part, DONE)
    # Counted wherever it closes: at a block's commit, at the read task's count (when its
    # last block committed first) or by the driver at the end (a metric that missed the two
    # last ones read 5 of 6 partitions done in a loaded test run).
    from backfill.metrics import count_partition_done

    count_partition_done(run_id)
    return True


def _store_counts(cur: psycopg.Cursor[Any], run_id: str, part: int, state: str | None) -> None:
    ok, failed = cur.execute(
        _PARTITION_COUNTS, {"run": run_id, "part": part, "item": str(part)}).fetchone() or (0, 0)
    cur.execute(
        "UPDATE etl_metadata SET rows_ok = %s, rows_failed = %s, updated_at = now(), "
        "state = coalesce(%s, state) WHERE run_id = %s AND kind = 'partition' AND item = %s",
        (ok, failed, state, run_id, str(part)),
    )


def recount(conn: psycopg.Connection[Any], run_id: str) -> None:
    """Every partition's ok and failed counts again from the tables (after a retry-failed
    pass resolved some dead letters, or at the end of a run)."""
    with conn.transaction(), conn.cursor() as cur:
        parts = [int(r[0]) for r in cur.execute(
            "SELECT item FROM etl_metadata WHERE run_id = %s AND kind = 'partition' "
            "ORDER BY partition_id FOR UPDATE", (run_id,))]
        for part in parts:
            _store_counts(cur, run_id, part, None)


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
                        # even a partition planned empty is read: rows may have
                        # appeared in the source since
                        "pending",
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


def set_run_state(conn: psycopg.Connection[Any], run_id: str, state: str,
                  **info: dict[str, Any] | None) -> None:
    """The run's state, and keys of its ``info`` to set (``summary``, ``error``; None
    removes the key)."""
    with conn.transaction():
        conn.execute(
            "UPDATE etl_metadata SET state = %s, updated_at = now(), "
            "info = (info - %s::text[]) || %s::jsonb "
            "WHERE run_id = %s AND kind = 'run' AND item = ''",
            (state, [k for k, v in info.items() if v is None],
             json.dumps({k: v for k, v in info.items() if v is not None}), run_id),
        )


def open_failures(conn: psycopg.Connection[Any], run_id: str) -> list[tuple[str, str, int]]:
    """The run's unresolved failed records by (stage, error class), most first."""
    return [(s, c, int(n)) for s, c, n in conn.execute(
        "SELECT stage, error_class, count(*) FROM failed_records WHERE run_id = %s AND "
        "resolved_at IS NULL GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2", (run_id,))]


@dataclass
class RunProgress:
    """Where a run stands. ``rows_expected`` is the rows its partitions read (the
    planner's count for partitions not read yet); ok and failed are counted from the tables
    while the run is not done, and are the counts stored when it finished otherwise."""

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
    rows_planned: int = 0
    error: dict[str, Any] | None = None

    @property
    def rows_done(self) -> int:
        return self.rows_ok + self.rows_failed


def run_progress(conn: psycopg.Connection[Any], run_id: str | None = None,
                 stored: bool = False) -> list[RunProgress]:
    """Progress of one run or of all runs, newest first, from the tables; ``stored``: the
    partitions' stored counts even for a run not marked done (the run being closed)."""
    rows = conn.execute(
        "SELECT r.run_id, r.state, r.created_at, "
        "  count(p.item), count(p.item) FILTER (WHERE p.state = 'done'), "
        "  coalesce(sum(coalesce((p.info->>'rows_read')::bigint, p.rows_expected)), 0), "
        "  coalesce(sum(p.rows_ok), 0), coalesce(sum(p.rows_failed), 0), "
        "  greatest(r.updated_at, max(p.updated_at)), "
        "  (SELECT count(*) FROM failed_records f WHERE f.run_id = r.run_id "
        "   AND f.resolved_at IS NULL), coalesce(sum(p.rows_expected), 0), r.info->'error' "
        "FROM etl_metadata r LEFT JOIN etl_metadata p ON p.run_id = r.run_id "
        "  AND p.kind = 'partition' "
        "WHERE r.kind = 'run' AND (%s::text IS NULL OR r.run_id = %s) "
        "GROUP BY r.run_id, r.state, r.created_at, r.updated_at, r.info "
        "ORDER BY r.created_at DESC",
        (run_id, run_id),
    ).fetchall()
    out = []
    for r in rows:
        prog = RunProgress(
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
            rows_planned=int(r[10]),
            error=r[11],
        )
        if prog.state != DONE and not stored:
            # Live, from what is committed: extractions written by this run (each with its
            # embedding, in the same transaction) and its open dead letters.
            row = conn.execute(
                "SELECT count(*) FROM ai_extracted_data WHERE run_id = %s", (prog.run_id,)
            ).fetchone()
            prog.rows_ok = int(row[0]) if row else 0
            prog.rows_failed = prog.failed_open
        out.append(prog)
    return out


def read_mark(conn: psycopg.Connection[Any], table: str) -> dt.datetime | None:
    """The high-water mark of ``table`` (source timestamps, UTC without zone), or None."""
    row = conn.execute(
        "SELECT info->>'mark' FROM etl_metadata WHERE run_id = '' AND kind = 'watermark' "
        "AND item = %s", (table,)).fetchone()
    return dt.datetime.fromisoformat(row[0]) if row and row[0] else None


def advance_mark(conn: psycopg.Connection[Any], table: str, mark: dt.datetime,
                 run_id: str) -> None:
    """Move the mark of ``table`` to ``mark``, never back: a backfill of an older range
    finishing after incremental runs must not make them read what they have covered."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO etl_metadata (run_id, kind, item, state, info) VALUES ('', "
            "'watermark', %s, 'set', jsonb_build_object('mark', %s::text, 'run_id', %s::text)) "
            "ON CONFLICT (run_id, kind, item) DO UPDATE SET updated_at = now(), "
            "info = EXCLUDED.info WHERE (etl_metadata.info->>'mark')::timestamp "
            "< (EXCLUDED.info->>'mark')::timestamp",
            (table, mark.isoformat(), run_id))
