"""``llm.mode: batch`` through the real job on 300 records: the extraction goes through the
simulator's Batch API only, failed lines are resubmitted once, and what fails twice is
dead-lettered as extract/BatchFailed. Counted from the simulator's request log (uploads,
answered lines) and the tables, not from the job's own counters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from pydantic import ValidationError

from backfill import schema as S
from backfill.batch import batch_usage
from backfill.devstack.simulator import read_request_log
from backfill.devstack.stack import LocalStack, local_stack
from backfill.preflight import SAMPLE_WORK_ORDER
from backfill.runner import RunRequest, execute
from backfill.usage import attempts

# whole runs of their own (make test < 15 min; make test-slow runs them)
pytestmark = [pytest.mark.integration, pytest.mark.slow]
SCHEMA = "batchrun"
N = 300
RUN = "batch-run"


@pytest.fixture(scope="module")
def stack(pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("batchrun")
    overrides = {"llm": {"mode": "batch", "batch_max_lines": 64, "batch_poll_seconds": 0.2},
                 "pipeline": {"max_failed_fraction": 0.2}}
    with local_stack(work, N, latency_ms=2, pg_schema=SCHEMA, partition_rows=150, dsn=pg_dsn,
                     seed=11, overrides=overrides, batch_turnaround_s=0.6,
                     batch_line_fail_rate=0.2) as s:
        yield s


def valid_answer(line: dict[str, Any]) -> bool:
    """A batch line the simulator answered with a valid extraction (200, not a refusal nor a
    cut answer, both logged without ``answer``, and valid against the schema)."""
    if line["status"] != 200 or line.get("answer") is None:
        return False
    try:
        S.Extraction.model_validate_json(line["answer"])
    except ValidationError:
        return False
    return True


def _query(stack: LocalStack, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        return conn.execute(sql, args).fetchall()


@pytest.fixture(scope="module")
def batch_run(stack: LocalStack) -> dict[str, Any]:
    result = execute(stack.config, RunRequest(run_id=RUN, dashboard=False))
    return {"result": result, "log": read_request_log(stack.request_log)}


def test_the_extraction_goes_through_the_batch_api_only(batch_run: dict[str, Any],
                                                        stack: LocalStack) -> None:
    assert batch_run["result"].exit_code == 0, batch_run["result"].summary
    log = batch_run["log"]
    realtime = [r for r in log if r["kind"] == "chat"]
    assert [r["texts"][-1] for r in realtime] == [SAMPLE_WORK_ORDER]  # the preflight only
    answered = Counter(r["texts"][-1] for r in log if r["kind"] == "batch" and valid_answer(r))
    embedded = _query(stack, "SELECT document FROM semantic_embeddings WHERE run_id = %s", RUN)
    # every committed record's document answered exactly once, through the batch endpoint
    assert embedded and all(answered[d] == 1 for (d,) in embedded)
    ok = _query(stack, "SELECT count(*), count(DISTINCT work_order_id) FROM ai_extracted_data "
                "WHERE run_id = %s", RUN)[0]
    assert ok[0] == ok[1] == len(embedded) > 0.8 * N


def test_failed_lines_are_resubmitted_once_then_dead_lettered(batch_run: dict[str, Any],
                                                              stack: LocalStack) -> None:
    log = batch_run["log"]
    uploaded = Counter(k for r in log if r["kind"] == "batch_file" for k in r["custom_ids"])
    outcomes: dict[str, list[bool]] = {}
    for r in log:
        if r["kind"] == "batch":
            outcomes.setdefault(r["custom_id"], []).append(valid_answer(r))
    failed_first = {k for k, s in outcomes.items() if not s[0]}
    failed_twice = {k for k, s in outcomes.items() if s == [False, False]}
    assert failed_first and failed_twice  # the test sees both fates
    # submitted once, or twice when the first answer failed; answered each time
    assert {k for k, n in uploaded.items() if n == 2} == failed_first
    assert max(uploaded.values()) == 2
    assert all(len(outcomes[k]) == n for k, n in uploaded.items())
    # a line failing twice is a record dead-lettered as extract/BatchFailed (the synthetic
    # documents are distinct: one record per line)
    letters = _query(stack, "SELECT work_order_id FROM failed_records WHERE run_id = %s AND "
                     "stage = 'extract' AND error_class = 'BatchFailed'", RUN)
    assert len(letters) == len(failed_twice)
    extracted = {r[0] for r in _query(stack, "SELECT work_order_id FROM ai_extracted_data")}
    assert not {r[0] for r in letters} & extracted


def test_the_batches_are_recorded_for_a_resume(batch_run: dict[str, Any],
                                               stack: LocalStack) -> None:
    rows = _query(stack, "SELECT item, state, rows_expected, info->>'input_file_id' FROM "
                  "etl_metadata WHERE run_id = %s AND kind = 'batch'", RUN)
    log = batch_run["log"]
    uploads = [r for r in log if r["kind"] == "batch_file"]
    assert sorted(r[3] for r in rows) == sorted(u["file_id"] for u in uploads)
    assert {r[1] for r in rows} == {"collected"}
    assert sum(r[2] for r in rows) == sum(len(u["custom_ids"]) for u in uploads)
    # every partition of the plan recorded as submitted: a resume reads none of them again
    submitted, planned = (_query(stack, "SELECT count(*) FROM etl_metadata WHERE run_id = %s "
                                 "AND kind = %s", RUN, kind)[0][0]
                          for kind in ("batch_partition", "partition"))
    assert submitted == planned > 1


def test_the_batch_apis_answers_are_not_counted_reused_and_a_second_run_reuses_them(
        batch_run: dict[str, Any], stack: LocalStack) -> None:
    """The pipeline takes the Batch API's answers from the journal: that is not reuse (the
    run's first attempt reuses nothing). A second run over the same range finds the first
    run's answers journaled: it submits only the documents that failed twice, and counts
    the others reused (in its summary and report)."""
    first = batch_run["result"]
    assert first.summary["answers_reused"] == 0
    done_before = len(batch_run["log"])
    # answered validly: the records extracted, and those whose embedding failed after
    answered = _query(stack, "SELECT (SELECT count(DISTINCT work_order_id) FROM "
                      "ai_extracted_data WHERE run_id = %s) + (SELECT count(*) FROM "
                      "failed_records WHERE run_id = %s AND stage = 'embed')", RUN, RUN)[0][0]
    letters = _query(stack, "SELECT count(*) FROM failed_records WHERE run_id = %s AND "
                     "error_class = 'BatchFailed'", RUN)[0][0]
    second = execute(stack.config, RunRequest(run_id=RUN + "-again", dashboard=False))
    assert second.exit_code == 0, second.summary
    uploaded = [k for r in read_request_log(stack.request_log)[done_before:]
                if r["kind"] == "batch_file" and r.get("round", 1) for k in r["custom_ids"]]
    assert len(set(uploaded)) == letters > 0  # the synthetic documents are distinct
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        assert batch_usage(conn, RUN + "-again")["reused"] == answered > 0.8 * N
        (attempt,) = attempts(conn, RUN + "-again")
    chat = attempt.usage.get(stack.config.llm.deployment, {})
    assert chat.get("reused", 0) == 0  # taking the Batch API's answers is not reuse
    embedded = attempt.usage[stack.config.embedding.deployment].get("reused", 0)
    assert second.summary["answers_reused"] == answered + embedded
