"""Faults: an API that answers 5xx, malformed JSON and 429s under a tight RPM limit, and a
Postgres whose sink connections are killed mid-transaction. The run completes, every
record is accounted for, and ``retry-failed`` with the faults off resolves what failed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from backfill.devstack.stack import LocalStack, local_stack
from backfill.retry import retry_failed
from backfill.runner import RunRequest, RunResult, execute

pytestmark = pytest.mark.integration
SCHEMA = "faults"
N = 2000


@pytest.fixture(scope="module")
def stack(
    pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("faults")
    with local_stack(
        work, N, latency_ms=5, pg_schema=SCHEMA, partition_rows=1000, dsn=pg_dsn,
        bad_rows=False, seed=7,
        # Few client retries, so that some records outlive them and are dead-lettered.
        overrides={"llm": {"max_retries": 1}, "embedding": {"max_retries": 1}},
        # 3,000 RPM (50/s, a burst of 500), and one chat request in fifty answered 429 (the
        # simulator's "server busy"): on a loaded machine the run stayed under the RPM limit
        # and met no 429 (session 44's rehearsal), so the quota alone does not make them
        fail_rate=0.05, malformed_rate=0.03, rpm=3000, throttle_rate=0.02,
    ) as s:
        yield s


class BackendKiller(threading.Thread):
    """Terminates the sink's Postgres connections while the run writes."""

    def __init__(self, dsn: str, times: int) -> None:
        super().__init__(daemon=True)
        self.dsn, self.times, self.killed = dsn, times, 0
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while self.killed < self.times and not self.stop.wait(0.5):
                rows = conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'backfill-sink'"
                ).fetchall()
                self.killed += sum(1 for (ok,) in rows if ok)


@pytest.fixture(scope="module")
def faulty_run(stack: LocalStack) -> tuple[RunResult, int]:
    killer = BackendKiller(stack.dsn, times=3)
    killer.start()
    try:
        result = execute(stack.config, RunRequest(config_path=str(stack.config_path)))
    finally:
        killer.stop.set()
        killer.join()
    return result, killer.killed


def _unaccounted(stack: LocalStack, run_id: str) -> list[tuple[str]]:
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        return conn.execute(
            "SELECT m.work_order_id FROM maintenance_logs m "
            "LEFT JOIN ai_extracted_data a USING (work_order_id) "
            "LEFT JOIN semantic_embeddings e ON e.work_order_id = m.work_order_id "
            "WHERE (a.work_order_id IS NULL OR e.work_order_id IS NULL) AND NOT EXISTS ("
            "  SELECT 1 FROM failed_records f WHERE f.work_order_id = m.work_order_id "
            "  AND f.run_id = %s AND f.resolved_at IS NULL)",
            (run_id,),
        ).fetchall()


def test_faulty_run_completes_and_accounts_for_every_record(
    stack: LocalStack, faulty_run: tuple[RunResult, int]
) -> None:
    result, killed = faulty_run
    assert result.exit_code in (0, 3), result.summary
    assert result.rows_ok + result.rows_failed == N
    assert killed >= 1, "no sink connection was killed: the test did not test anything"
    stats = stack.simulator.stats()
    assert stats["by_status"].get("429", 0) > 0
    assert stats["by_status"].get("500", 0) + stats["by_status"].get("503", 0) > 0
    assert _unaccounted(stack, result.run_id) == []
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        logs = conn.execute("SELECT count(*), count(DISTINCT work_order_id) FROM maintenance_logs"
                            ).fetchone()
    assert logs == (N, N)


def test_retry_failed_with_faults_off_resolves_everything(
    stack: LocalStack, faulty_run: tuple[RunResult, int]
) -> None:
    result, _ = faulty_run
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        # Bad source rows (e.g. no text at all) are data to fix, not faults to retry.
        before = conn.execute(
            "SELECT count(*) FROM failed_records WHERE run_id = %s AND resolved_at IS NULL "
            "AND stage <> 'validate'",
            (result.run_id,),
        ).fetchone()
        bad_source = conn.execute(
            "SELECT count(*) FROM failed_records WHERE run_id = %s AND stage = 'validate'",
            (result.run_id,),
        ).fetchone()
    assert before is not None and before[0] > 0, "the faulty run dead-lettered nothing"
    assert bad_source is not None
    stack.simulator.configure(fail_rate=0, malformed_rate=0, rpm=0)
    again = retry_failed(stack.config, result.run_id)
    assert again.exit_code == 0
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        open_rows = conn.execute(
            "SELECT count(*) FROM failed_records WHERE run_id = %s AND resolved_at IS NULL "
            "AND stage <> 'validate'",
            (result.run_id,),
        ).fetchone()
        attempts = conn.execute(
            "SELECT min(attempts) FROM failed_records WHERE run_id = %s AND stage <> 'validate'",
            (result.run_id,),
        ).fetchone()
        resolved = conn.execute(
            "SELECT count(*) FROM failed_records WHERE run_id = %s AND resolved_at IS NOT NULL",
            (result.run_id,),
        ).fetchone()
        complete = conn.execute(
            "SELECT count(*) FROM ai_extracted_data a JOIN semantic_embeddings e "
            "USING (work_order_id)"
        ).fetchone()
    assert open_rows == (0,)
    assert resolved == before
    assert complete == (N - bad_source[0],)
    assert attempts == (1,)  # resolved on the retry: the failure was counted once
    assert again.rows_failed == bad_source[0] and again.rows_ok == N - bad_source[0]
