"""A dependency down past its retries: the LLM deployment answers nothing but 5xx. The run
stops with exit 1, names the dependency and the command to resume, does not dead-letter
the backfill, and resuming once the API is back completes it."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from backfill.devstack.stack import LocalStack, local_stack
from backfill.errors import EXIT_FATAL, EXIT_OK, FatalError
from backfill.outcomes import MAX_CONSECUTIVE_UNAVAILABLE
from backfill.runner import RunRequest, execute

pytestmark = pytest.mark.integration
SCHEMA = "outage"
N = 1000
RUN_ID = "outage-1"


@pytest.fixture(scope="module")
def stack(
    pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("outage")
    with local_stack(
        work, N, latency_ms=2, pg_schema=SCHEMA, partition_rows=500, dsn=pg_dsn,
        bad_rows=False, seed=11,
        overrides={"llm": {"max_retries": 1}, "embedding": {"max_retries": 1}},
        fail_rate=1.0,
    ) as s:
        yield s


def _count(stack: LocalStack, query: str) -> int:
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def test_llm_down_stops_the_run_and_resume_completes_it(stack: LocalStack) -> None:
    with pytest.raises(FatalError) as stopped:
        execute(stack.config, RunRequest(run_id=RUN_ID))
    message = str(stopped.value)
    assert stopped.value.exit_code == EXIT_FATAL
    assert "LLM deployment" in message, message
    assert f"To resume: backfill run --run-id {RUN_ID}" in message, message
    # The outage is not the records' fault: at most the streak that tripped the breaker
    # (per extract actor) may have been dead-lettered, not the backfill.
    unavailable = _count(
        stack, "SELECT count(*) FROM failed_records WHERE error_class = 'Unavailable'"
    )
    actors = stack.config.pipeline.extract_actors
    assert unavailable <= MAX_CONSECUTIVE_UNAVAILABLE * actors

    stack.simulator.configure(fail_rate=0)
    resumed = execute(stack.config, RunRequest(run_id=RUN_ID))

    assert resumed.exit_code == EXIT_OK, resumed.summary
    assert resumed.rows_ok + resumed.rows_failed == N
    duplicated = "SELECT count(*) - count(DISTINCT work_order_id) FROM maintenance_logs"
    assert _count(stack, duplicated) == 0
    # every record: extraction and embedding, or an open dead letter saying why not
    unaccounted = _count(
        stack,
        "SELECT count(*) FROM maintenance_logs m "
        "WHERE NOT (EXISTS (SELECT 1 FROM ai_extracted_data a WHERE a.work_order_id = "
        "m.work_order_id) AND EXISTS (SELECT 1 FROM semantic_embeddings e WHERE "
        "e.work_order_id = m.work_order_id)) AND NOT EXISTS (SELECT 1 FROM failed_records f "
        "WHERE f.work_order_id = m.work_order_id AND f.resolved_at IS NULL)",
    )
    assert unaccounted == 0
