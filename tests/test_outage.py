"""A dependency down past its retries: the LLM deployment goes down mid-run and answers
nothing but 5xx. The run stops with exit 1, names the dependency and the command to resume,
does not dead-letter the backfill, is shown as failed, and resuming once the API is back
completes it. Down from the start, the preflight stops it before anything is planned."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from backfill.devstack.stack import LocalStack, local_stack
from backfill.errors import EXIT_FATAL, EXIT_OK, FatalError
from backfill.outcomes import MAX_CONSECUTIVE_UNAVAILABLE
from backfill.pipeline import BATCHES_PER_ACTOR
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
        work, N, latency_ms=100, pg_schema=SCHEMA, partition_rows=500, dsn=pg_dsn,
        bad_rows=False, seed=11,
        # Few requests in flight and small batches, so that the run is still extracting
        # when its first block is committed and the outage starts.
        overrides={"llm": {"max_retries": 1, "max_concurrency": 8},
                   "embedding": {"max_retries": 1}, "pipeline": {"batch_size": 50}},
    ) as s:
        yield s


def _count(stack: LocalStack, query: str) -> int:
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


class OutageAfterFirstCommit(threading.Thread):
    """Takes the LLM down once the run has committed its first records."""

    def __init__(self, stack: LocalStack) -> None:
        super().__init__(daemon=True)
        self.stack, self.stop = stack, threading.Event()

    def run(self) -> None:
        query = "SELECT count(*) FROM maintenance_logs WHERE run_id = 'outage-1'"
        while not self.stop.wait(0.05):
            try:
                if _count(self.stack, query) > 0:
                    self.stack.simulator.configure(fail_rate=1.0)
                    return
            except psycopg.errors.UndefinedTable:
                continue


def test_llm_down_before_the_run_stops_it_at_the_preflight(stack: LocalStack) -> None:
    stack.simulator.configure(fail_rate=1.0)
    before = stack.simulator.stats()["chat"]
    try:
        with pytest.raises(FatalError, match="LLM deployment 'gpt-4o-mini' at http"):
            execute(stack.config, RunRequest(run_id="outage-0"))
    finally:
        stack.simulator.configure(fail_rate=0)
    # one request and its retries (llm.max_retries = 1), nothing planned
    assert stack.simulator.stats()["chat"] - before <= 2
    assert _count(stack, "SELECT count(*) FROM etl_metadata WHERE run_id = 'outage-0'") == 0


@pytest.mark.slow  # a whole run of its own: > 50 s on the 2-core box (make test < 15 min)
def test_llm_down_stops_the_run_and_resume_completes_it(
    stack: LocalStack, capfd: pytest.CaptureFixture[str]
) -> None:
    outage = OutageAfterFirstCommit(stack)
    outage.start()
    try:
        with pytest.raises(FatalError) as stopped:
            execute(stack.config, RunRequest(run_id=RUN_ID))
    finally:
        outage.stop.set()
        outage.join()
    message = str(stopped.value)
    assert stopped.value.exit_code == EXIT_FATAL
    assert "LLM deployment" in message, message
    assert f"To resume: backfill run --run-id {RUN_ID}" in message, message
    # The outage is not the records' fault: at most the batches in flight when it came
    # may hold records dead-lettered as Unavailable, not the backfill; a resume sends
    # them again (asserted below).
    unavailable = _count(
        stack, "SELECT count(*) FROM failed_records WHERE error_class = 'Unavailable'"
    )
    p = stack.config.pipeline
    in_flight = p.extract_actors * BATCHES_PER_ACTOR * p.batch_size
    assert unavailable <= max(in_flight, MAX_CONSECUTIVE_UNAVAILABLE * p.extract_actors)
    # the stop is recorded: status shows the run failed, and why
    from backfill.cli import main

    capfd.readouterr()
    assert main(["status", "--config", str(stack.config_path), "--run-id", RUN_ID]) == 0
    shown = capfd.readouterr().out
    assert shown.startswith(f"run {RUN_ID}: failed"), shown
    assert "stopped by" in shown and "LLM deployment" in shown, shown

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
    still_unavailable = "SELECT count(*) FROM failed_records WHERE error_class = " \
        "'Unavailable' AND resolved_at IS NULL"
    assert _count(stack, still_unavailable) == 0
