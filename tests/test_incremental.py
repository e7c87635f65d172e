"""``backfill run --incremental`` on 1,000 records, through every real component: after a
backfill, new, changed, touched (UPDATED_AT only) and late rows in the fakesnow source;
what reaches the simulator and the tables is counted from its request log and Postgres."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import snowflake.connector

from backfill import schema as S
from backfill.devstack.simulator import read_request_log
from backfill.devstack.stack import LocalStack, local_stack
from backfill.errors import ConfigError
from backfill.incremental import compare, run_incremental, table_name
from backfill.runner import RunRequest, RunResult, execute

SCHEMA = "incr"
N = 1000
NEW, CHANGED, TOUCHED = 20, 10, 5
MARKER = "incremental-test-change"


@pytest.fixture(scope="module")
def stack(pg_dsn: str, ray_local: None,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("incr")
    # bad_rows off: the dead letters of planted bad rows are the backfill's business
    with local_stack(work, N, pg_schema=SCHEMA, partition_rows=500, dsn=pg_dsn,
                     bad_rows=False) as s:
        yield s


def _pg(stack: LocalStack) -> psycopg.Connection[Any]:
    conn = psycopg.connect(stack.dsn, autocommit=True)
    conn.execute(f"SET search_path TO {SCHEMA}, public")
    return conn


def _sf(stack: LocalStack) -> Any:
    return snowflake.connector.connect(
        account="fakesnow", user="fake", password="x", database="CMMS", schema="PUBLIC",
        **stack.snowflake.connect_args)


def _chats(stack: LocalStack) -> list[dict[str, Any]]:
    return [r for r in read_request_log(stack.request_log) if r["kind"] == "chat"]


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_no_mark_yet_exits_2_saying_to_run_a_backfill(stack: LocalStack) -> None:
    before = len(read_request_log(stack.request_log))
    with pytest.raises(ConfigError, match="run a backfill first") as err:
        run_incremental(stack.config, str(stack.config_path))
    assert err.value.exit_code == 2
    assert len(read_request_log(stack.request_log)) == before  # not even a preflight


@pytest.fixture(scope="module")
def backfill(stack: LocalStack) -> RunResult:
    # the first work order is refused by the LLM in the backfill (a dead letter)
    with _sf(stack) as sf:
        sf.cursor().execute(
            "UPDATE WORK_ORDERS SET PROBLEM_DESCRIPTION = 'SIMFAULT:refusal pump alarm' "
            "WHERE WORK_ORDER_ID = (SELECT min(WORK_ORDER_ID) FROM WORK_ORDERS)")
    result = execute(stack.config, RunRequest(config_path=str(stack.config_path)))
    assert result.exit_code == 0, result.summary
    return result


@pytest.fixture(scope="module")
def changed(stack: LocalStack, backfill: RunResult) -> dict[str, Any]:
    """Source changes after the backfill: new rows (one of them late: its timestamps lie
    before the mark, inside the look-back), changed text, and UPDATED_AT moved alone."""
    with _pg(stack) as pg:
        mark = pg.execute("SELECT (info->>'mark')::timestamp FROM etl_metadata WHERE "
                          "kind = 'watermark' AND item = %s",
                          (table_name(stack.config.snowflake),)).fetchone()[0]
        ids = [r[0] for r in pg.execute(
            "SELECT work_order_id FROM maintenance_logs ORDER BY work_order_id "
            "LIMIT %s", (CHANGED + TOUCHED + 1,))]
        refused = pg.execute("SELECT work_order_id FROM failed_records WHERE run_id = %s "
                             "AND error_class = 'Refusal'", (backfill.run_id,)).fetchall()
        before = {r[0]: r[1:] for r in pg.execute(
            "SELECT a.work_order_id, a.run_id, a.extracted_at, e.embedded_at FROM "
            "ai_extracted_data a JOIN semantic_embeddings e USING (work_order_id)")}
    changed_ids, touched_ids, duplicated = ids[:CHANGED], ids[CHANGED:-1], ids[-1]
    assert refused == [(changed_ids[0],)]
    new_ids = [f"INCR-{i:03d}" for i in range(NEW)]
    later = mark + dt.timedelta(hours=1)
    late = mark - dt.timedelta(minutes=30)  # committed late, inside the 60 min look-back
    with _sf(stack) as sf:
        cur = sf.cursor()
        for i, wid in enumerate(new_ids):
            when = late if i == 0 else later
            cur.execute(
                "INSERT INTO WORK_ORDERS (WORK_ORDER_ID, CREATED_AT, UPDATED_AT, EQUIPMENT_TYPE, "
                "PROBLEM_DESCRIPTION, TECHNICIAN_NOTES, RESOLUTION, LABOR_HOURS) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s)",
                (wid, when, when, "Infusion pump", f"Occlusion alarm {MARKER} new {i}",
                 "Replaced the pressure sensor.", "Passed the safety test.", 1.5))
        for wid in changed_ids:
            cur.execute("UPDATE WORK_ORDERS SET UPDATED_AT = %s, RESOLUTION = %s "
                        "WHERE WORK_ORDER_ID = %s", (later, f"Recalibrated {MARKER}", wid))
        # the refused one's text is fixed in the source
        cur.execute("UPDATE WORK_ORDERS SET PROBLEM_DESCRIPTION = 'Pump alarm' "
                    "WHERE WORK_ORDER_ID = %s", (changed_ids[0],))
        for wid in touched_ids:
            cur.execute("UPDATE WORK_ORDERS SET UPDATED_AT = %s WHERE WORK_ORDER_ID = %s",
                        (later, wid))
        # a second row with an id the backfill processed: a duplicate in the source
        cur.execute(
            "INSERT INTO WORK_ORDERS (WORK_ORDER_ID, CREATED_AT, UPDATED_AT, EQUIPMENT_TYPE, "
            "PROBLEM_DESCRIPTION) VALUES (%s, %s, %s, %s, %s)",
            (duplicated, later, later, "Infusion pump", f"Duplicate {MARKER}"))
    return {"new": new_ids, "changed": changed_ids, "touched": touched_ids, "mark": mark,
            "later": later, "before": before, "chats": len(_chats(stack)),
            "duplicated": duplicated, "refused": changed_ids[0]}


@pytest.fixture(scope="module")
def first(stack: LocalStack, changed: dict[str, Any]) -> RunResult:
    return run_incremental(stack.config, str(stack.config_path))


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_a_completed_backfill_sets_the_mark(stack: LocalStack, backfill: RunResult,
                                            changed: dict[str, Any]) -> None:
    with _pg(stack) as pg:
        newest = pg.execute("SELECT max(created_at) FROM maintenance_logs "
                            "WHERE run_id = %s", (backfill.run_id,)).fetchone()[0]
    # the range's end: just past the newest CREATED_AT read
    assert newest < changed["mark"] <= newest + dt.timedelta(seconds=1)


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_exactly_the_new_and_changed_records_are_sent(
        stack: LocalStack, changed: dict[str, Any], first: RunResult) -> None:
    # exit 3: the duplicate's two rows are 6% of the run, over pipeline.max_failed_fraction
    assert first.exit_code == 3, first.summary
    expected = set(changed["new"]) | set(changed["changed"])
    chats = _chats(stack)[changed["chats"]:]
    # each request: the system prompt, then the document (the preflight's is no work order)
    documents = [t for r in chats if r["status"] == 200 for t in r["texts"]
                 if t.startswith("Equipment: ")]
    assert len(documents) == len(expected) == NEW + CHANGED
    assert all(MARKER in t for t in documents)
    # the duplicated id: its two source rows dead-lettered, as a backfill does, none sent
    assert first.rows_ok == len(expected) and first.rows_failed == 2
    assert first.rows_expected == len(expected) + 2
    with _pg(stack) as pg:
        by_run = {r[0] for r in pg.execute(
            "SELECT work_order_id FROM ai_extracted_data WHERE run_id = %s", (first.run_id,))}
        embedded = {r[0] for r in pg.execute(
            "SELECT work_order_id FROM semantic_embeddings WHERE run_id = %s", (first.run_id,))}
        logs = {r[0] for r in pg.execute(
            "SELECT work_order_id FROM maintenance_logs WHERE run_id = %s "
            "AND content_hash IS NOT NULL", (first.run_id,))}
        resolution = dict(pg.execute(
            "SELECT work_order_id, resolution FROM maintenance_logs "
            "WHERE work_order_id = ANY(%s)", (changed["changed"],)).fetchall())
    assert by_run == embedded == logs - {changed["duplicated"]} == expected
    assert all(MARKER in text for text in resolution.values())
    with _pg(stack) as pg:
        letters = pg.execute(
            "SELECT work_order_id, run_id, error_class, resolved_at IS NOT NULL "
            "FROM failed_records WHERE work_order_id = ANY(%s) ORDER BY resolved_at NULLS "
            "FIRST", ([changed["duplicated"], changed["refused"]],)).fetchall()
    # the backfill's dead letter of the refused record is resolved by its success now
    assert letters == [(changed["duplicated"], first.run_id, "DuplicateId", False),
                       (changed["refused"], letters[1][1], "Refusal", True)]
    assert letters[1][1] != first.run_id


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_derived_rows_are_replaced_and_nothing_else_changes(
        stack: LocalStack, changed: dict[str, Any], first: RunResult) -> None:
    before = changed["before"]
    with _pg(stack) as pg:
        after = {r[0]: r[1:] for r in pg.execute(
            "SELECT a.work_order_id, a.run_id, a.extracted_at, e.embedded_at FROM "
            "ai_extracted_data a JOIN semantic_embeddings e USING (work_order_id)")}
        touched = dict(pg.execute(
            "SELECT work_order_id, updated_at FROM maintenance_logs WHERE work_order_id = "
            "ANY(%s)", (changed["touched"],)).fetchall())
    for wid in changed["changed"]:
        run_id, extracted, embedded = after[wid]
        assert run_id == first.run_id
        if wid != changed["refused"]:  # which had none before
            assert extracted > before[wid][1] and embedded > before[wid][2]
    untouched = set(before) - set(changed["changed"])
    assert {w: after[w] for w in untouched} == {w: before[w] for w in untouched}
    assert set(after) == set(before) | set(changed["new"]) | {changed["refused"]}
    # touched rows: no LLM call, but their stored UPDATED_AT follows the source
    assert touched == {w: changed["later"] for w in changed["touched"]}


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_a_late_row_inside_the_look_back_is_picked_up(
        stack: LocalStack, changed: dict[str, Any], first: RunResult) -> None:
    late = changed["new"][0]
    with _pg(stack) as pg:
        row = pg.execute("SELECT m.created_at, a.run_id FROM ai_extracted_data a JOIN "
                         "maintenance_logs m USING (work_order_id) WHERE work_order_id = %s",
                         (late,)).fetchone()
    assert row is not None and row[0] < changed["mark"] and row[1] == first.run_id


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_a_second_incremental_run_sends_nothing(
        stack: LocalStack, changed: dict[str, Any], first: RunResult) -> None:
    log_before = len(read_request_log(stack.request_log))
    with _pg(stack) as pg:
        count_before = pg.execute("SELECT count(*), max(extracted_at) FROM "
                                  "ai_extracted_data").fetchone()
    second = run_incremental(stack.config, str(stack.config_path))
    assert second.exit_code == 0 and second.rows_expected == 0, second.summary
    assert len(read_request_log(stack.request_log)) == log_before  # no preflight either
    with _pg(stack) as pg:
        assert pg.execute("SELECT count(*), max(extracted_at) FROM "
                          "ai_extracted_data").fetchone() == count_before
        state, params = pg.execute("SELECT state, info->'params' FROM etl_metadata WHERE "
                                   "run_id = %s AND kind = 'run'", (second.run_id,)).fetchone()
        mark = pg.execute("SELECT (info->>'mark')::timestamp FROM etl_metadata WHERE "
                          "kind = 'watermark'").fetchone()[0]
        newest = pg.execute("SELECT max(greatest(created_at, updated_at)) "
                            "FROM maintenance_logs").fetchone()[0]
    assert state == "done" and params["mode"] == "incremental"
    # the latest CREATED_AT / UPDATED_AT read (the synthetic data has UPDATED_AT past the
    # newest CREATED_AT, so it is not the backfill's range end)
    assert mark == newest >= changed["later"]


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_status_shows_the_incremental_runs(stack: LocalStack, first: RunResult) -> None:
    from backfill.progress import run_progress

    with _pg(stack) as pg:
        (row,) = run_progress(pg, first.run_id)
    assert (row.state, row.partitions, row.partitions_done) == ("done", 1, 1)
    assert row.rows_ok == NEW + CHANGED and row.rows_expected == NEW + CHANGED + 2


@pytest.mark.unit
def test_a_row_without_a_stored_hash_is_changed_only_if_its_updated_at_is_later() -> None:
    import pyarrow as pa

    t0, t1 = dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1)
    rows = {name: [None, None, None] for name in S.CANONICAL_COLUMNS}
    rows[S.ID] = ["a", "b", "c"]
    rows[S.CREATED_AT] = [t0, t0, t0]
    rows[S.UPDATED_AT] = [t1, t0, t1]
    rows["PROBLEM_DESCRIPTION"] = ["x", "y", "z"]
    table = pa.Table.from_pydict(rows, schema=S.SOURCE_SCHEMA)
    hashes = S.content_hashes(table)
    changes = compare(table, {"a": (None, t0), "b": (None, t0), "c": (hashes[2], t0)})
    assert changes.process == ["a"]  # newer UPDATED_AT, no hash to compare
    assert [r[0] for r in changes.refresh] == ["b", "c"]  # b gets its hash, c its UPDATED_AT
    assert changes.latest == t1
    nothing = compare(table.slice(0, 0), {})  # no row at or after the look-back
    assert (nothing.process, nothing.refresh, nothing.latest) == ([], [], None)
