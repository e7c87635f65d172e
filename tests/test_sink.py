"""The Postgres sink on the embedded server: new blocks are copied straight into the tables,
blocks holding ids already written go through staging and upserts, rejected rows are
dead-lettered."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from backfill import schema as S
from backfill.db import connect, drop_cached_connection, ensure_schema
from backfill.devstack.enriched import enriched_rows, extraction_answer
from backfill.progress import create_run
from backfill.sink import WriteTarget, write_block, write_isolating
from backfill.source import Partition

pytestmark = pytest.mark.integration

DIM = 8
SCHEMA = "sinktest"


@pytest.fixture
def target(pg_dsn: str, request: pytest.FixtureRequest) -> WriteTarget:
    ensure_schema(pg_dsn, SCHEMA, DIM)
    run_id = f"sink-{request.node.name}"[:60]
    with connect(pg_dsn, SCHEMA) as conn:
        whole = Partition(0, dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1), 100)
        create_run(conn, run_id, {}, [whole])
        conn.commit()
    return WriteTarget(pg_dsn, SCHEMA, run_id, "gpt-4o-mini", "text-embedding-3-small")


def _rows(target: WriteTarget, query: str) -> list[tuple[Any, ...]]:
    with connect(target.dsn, SCHEMA) as conn:
        return conn.execute(query, (target.run_id,)).fetchall()


def _ids_per_table(target: WriteTarget) -> dict[str, list[str]]:
    return {
        t: [r[0] for r in _rows(target, f"SELECT work_order_id FROM {t} WHERE run_id = %s")]
        for t in ("maintenance_logs", "ai_extracted_data", "semantic_embeddings")
    }


def _with_summary(table: pa.Table, summary: str) -> pa.Table:
    i = table.schema.get_field_index(S.EXTRACTION)
    return table.set_column(
        i, S.EXTRACTION, pa.array([extraction_answer(summary)] * table.num_rows)
    )


def test_writing_a_block_again_updates_rows_in_place(target: WriteTarget) -> None:
    block = enriched_rows(20, DIM, seed=3, first_id=10_000)
    write_block(block, target)
    write_block(_with_summary(block, "second answer"), target)

    ids = _ids_per_table(target)
    expected = sorted(block.column(S.ID).to_pylist())
    for table, got in ids.items():
        assert sorted(got) == expected, f"{table}: rows lost or duplicated"
    summaries = _rows(target, "SELECT DISTINCT summary FROM ai_extracted_data WHERE run_id = %s")
    assert summaries == [("second answer",)], "the second write did not update the rows"


def test_block_mixing_new_and_written_ids_lands_each_id_once(target: WriteTarget) -> None:
    rows = enriched_rows(30, DIM, seed=4, first_id=20_000)
    write_block(rows.slice(0, 15), target)
    write_block(rows.slice(10, 20), target)  # ids 10..14 written already, 15..29 new

    expected = sorted(rows.column(S.ID).to_pylist())
    for table, got in _ids_per_table(target).items():
        assert sorted(got) == expected, f"{table}: rows lost or duplicated"
    vectors = _rows(
        target, "SELECT work_order_id, embedding::text FROM semantic_embeddings WHERE run_id = %s"
    )
    emb = rows.column(S.EMBEDDING).combine_chunks()
    by_id = dict(zip(rows.column(S.ID).to_pylist(), emb.to_pylist(), strict=True))
    for wid, text in vectors:
        np.testing.assert_allclose(json.loads(text), by_id[wid], rtol=1e-6)


def test_a_row_postgres_rejects_is_dead_lettered_and_the_rest_written(
    target: WriteTarget,
) -> None:
    rows = enriched_rows(16, DIM, seed=5, first_id=30_000)
    vectors = np.asarray(rows.column(S.EMBEDDING).combine_chunks().to_pylist(), np.float32)
    vectors[7, 0] = np.nan  # pgvector refuses NaN
    bad_id = rows.column(S.ID)[7].as_py()
    rows = rows.set_column(
        rows.schema.get_field_index(S.EMBEDDING),
        S.EMBEDDING,
        pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), DIM),
    )

    out = write_isolating(rows, target)

    assert (out.ok, out.failed) == (15, 1)
    ids = _ids_per_table(target)
    assert bad_id not in ids["semantic_embeddings"]
    assert len(ids["semantic_embeddings"]) == 15
    assert bad_id in ids["maintenance_logs"], "the raw row of a rejected record is kept"
    failed = _rows(
        target,
        "SELECT work_order_id, stage, error_message FROM failed_records WHERE run_id = %s",
    )
    assert [(f[0], f[1]) for f in failed] == [(bad_id, "write")]
    # class and SQLSTATE, not the server's text (which can quote values)
    assert "SQLSTATE" in failed[0][2] and "NaN" not in failed[0][2], failed[0][2]


def test_a_duplicate_id_keeps_its_latest_row_whatever_the_block_order(
    target: WriteTarget,
) -> None:
    rows = enriched_rows(2, DIM, seed=6, first_id=40_000)
    same_id = rows.column(S.ID)[0].as_py()
    ids = pa.array([same_id, same_id])
    updated = rows.schema.get_field_index("UPDATED_AT")
    newer_first = rows.set_column(rows.schema.get_field_index(S.ID), S.ID, ids).set_column(
        updated,
        "UPDATED_AT",
        pa.array([dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 1)], pa.timestamp("us")),
    )
    write_block(newer_first.slice(0, 1), target)
    write_block(newer_first.slice(1, 1), target)  # the older row arrives last
    write_block(newer_first, target)  # both rows in one block

    kept = _rows(target, "SELECT updated_at FROM maintenance_logs WHERE run_id = %s")
    assert kept == [(dt.datetime(2024, 1, 2),)]


def test_a_constraint_no_row_passes_stops_the_run_instead_of_dead_lettering_it(
    target: WriteTarget,
) -> None:
    """Every row of a block rejected with the same error is the table's fault, not the
    rows': bisecting it would dead-letter the whole backfill."""
    from backfill.errors import FatalError

    rows = enriched_rows(16, DIM, seed=9, first_id=50_000)
    with connect(target.dsn, SCHEMA) as conn:
        conn.execute("ALTER TABLE ai_extracted_data ADD CONSTRAINT never_ok "
                     "CHECK (confidence > 2) NOT VALID")
        conn.commit()
    try:
        with pytest.raises(FatalError, match="rejected all 16 rows.*never_ok"):
            write_isolating(rows, target)
    finally:
        with connect(target.dsn, SCHEMA) as conn:
            conn.execute("ALTER TABLE ai_extracted_data DROP CONSTRAINT never_ok")
            conn.commit()


def test_a_table_the_writer_cannot_reach_stops_the_run_at_once(target: WriteTarget) -> None:
    """A SQLSTATE 42 error (here: a column gone) is about the table, not a row."""
    from backfill.errors import FatalError

    rows = enriched_rows(4, DIM, seed=10, first_id=60_000)
    with connect(target.dsn, SCHEMA) as conn:
        conn.execute("ALTER TABLE maintenance_logs RENAME COLUMN labor_hours TO hours_gone")
        conn.commit()
    try:
        with pytest.raises(FatalError, match="SQLSTATE 42703"):
            write_isolating(rows, target)
        assert _rows(target, "SELECT count(*) FROM failed_records WHERE run_id = %s") == [(0,)]
    finally:
        with connect(target.dsn, SCHEMA) as conn:
            conn.execute("ALTER TABLE maintenance_logs RENAME COLUMN hours_gone TO labor_hours")
            conn.commit()
        # its staging tables were made from the altered table
        drop_cached_connection(target.dsn, SCHEMA, "sink")


def test_a_partition_is_counted_done_once_whoever_closes_it(
    target: WriteTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a loaded box the read task's count can come after the partition's last block
    committed: the read task closes the partition then, and the partitions-done metric must
    count it there, once (it did not: a loaded test run read 5 of 6 partitions done)."""
    from backfill import metrics, progress

    closed: list[str] = []
    monkeypatch.setattr(metrics, "count_partition_done", closed.append)
    block = enriched_rows(20, DIM, seed=5, first_id=30_000)
    n = block.num_rows
    write_block(block, target)  # the partition's only block, before its read is counted
    assert closed == []
    with connect(target.dsn, SCHEMA) as conn, conn.transaction(), conn.cursor() as cur:
        progress.record_read(cur, target.run_id, 0, rows=n, keys=n, duplicate_keys=0)
    assert closed == [target.run_id]
    write_block(_with_summary(block, "again"), target)  # a block written again: done already
    assert closed == [target.run_id]
    assert _rows(target, "SELECT state FROM etl_metadata WHERE run_id = %s "
                 "AND kind = 'partition'") == [("done",)]
