"""A batch-mode run killed (SIGKILL, the driver's whole process group) while its batches are
in flight, then resumed with --run-id: the recorded batches are polled, not submitted again.
Counted from the simulator's request log (the custom_ids of every uploaded file, the lines
answered) and the tables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from ray_sessions import kill_ray_session
from test_batch_runs import valid_answer

from backfill.devstack.simulator import read_request_log
from backfill.devstack.stack import LocalStack, local_stack
from backfill.preflight import SAMPLE_WORK_ORDER

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N = 1200
SCHEMA = "batchkill"
RUN = "batch-killed"


@pytest.fixture(scope="module")
def stack(pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("batchkill")
    overrides = {"llm": {"mode": "batch", "batch_max_lines": 150, "batch_poll_seconds": 0.5},
                 "pipeline": {"max_failed_fraction": 0.2}}
    # A turnaround long enough that the kill finds every batch in flight.
    with local_stack(work, N, latency_ms=2, pg_schema=SCHEMA, partition_rows=400, dsn=pg_dsn,
                     seed=13, overrides=overrides, batch_turnaround_s=20,
                     batch_line_fail_rate=0.1) as s:
        yield s


def _query(dsn: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        if conn.execute("SELECT to_regclass('etl_metadata')").fetchone() == (None,):
            return []
        return conn.execute(sql, args).fetchall()


def _start_run(config: str, temp_dir: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RAY_TMPDIR": temp_dir, "RAY_AUTH_MODE": "disabled"}
    return subprocess.Popen(
        [sys.executable, "-m", "backfill.cli", "run", "--config", config, "--run-id", RUN,
         "--no-dashboard"],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def killed(stack: LocalStack) -> dict[str, Any]:
    config = str(stack.config_path)
    temp_dir = tempfile.mkdtemp(prefix="bfbk", dir="/tmp")
    proc = _start_run(config, temp_dir)
    deadline = time.monotonic() + 600
    # Every partition submitted, and batches still in flight: the poll phase.
    while True:
        submitted = _query(stack.dsn, "SELECT count(*) FROM etl_metadata WHERE run_id = %s "
                           "AND kind = 'batch_partition'", RUN)
        planned = _query(stack.dsn, "SELECT count(*) FROM etl_metadata WHERE run_id = %s "
                         "AND kind = 'partition'", RUN)
        if submitted and planned and submitted[0][0] == planned[0][0] > 0:
            break
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    kill_ray_session(temp_dir)
    at_kill = read_request_log(stack.request_log)
    in_flight = _query(stack.dsn, "SELECT count(*) FROM etl_metadata WHERE run_id = %s AND "
                       "kind = 'batch' AND state = 'submitted'", RUN)[0][0]
    temp_dir = tempfile.mkdtemp(prefix="bfbk", dir="/tmp")
    proc = _start_run(config, temp_dir)
    _, err = proc.communicate(timeout=900)
    kill_ray_session(temp_dir)
    assert proc.returncode == 0, err.decode()[-3000:]
    return {"at_kill": at_kill, "log": read_request_log(stack.request_log),
            "in_flight": in_flight, "stderr": err.decode()}


def test_a_resume_polls_the_batches_in_flight_and_submits_nothing_again(
        killed: dict[str, Any], stack: LocalStack) -> None:
    at_kill, log = killed["at_kill"], killed["log"]
    assert killed["in_flight"] > 0
    # nothing of the batches in flight was answered before the kill
    assert not [r for r in at_kill if r["kind"] == "batch"]
    uploads_before = [r for r in at_kill if r["kind"] == "batch_file"]
    assert uploads_before
    uploaded = Counter(k for r in log if r["kind"] == "batch_file" for k in r["custom_ids"])
    first_try: dict[str, bool] = {}  # the first answer was a valid extraction
    for r in log:
        if r["kind"] == "batch":
            first_try.setdefault(r["custom_id"], valid_answer(r))
    # every line uploaded once, except those whose first answer failed (once more)
    again = {k for k, n in uploaded.items() if n > 1}
    assert max(uploaded.values()) <= 2
    assert again <= {k for k, ok in first_try.items() if not ok}
    # the lines uploaded before the kill are the run's first round: none uploaded again
    # after it as a first submission (only as a resubmission of a failed line)
    before = {k for r in uploads_before for k in r["custom_ids"]}
    assert all(uploaded[k] == 1 or not first_try[k] for k in before)
    print(f"kill with {killed['in_flight']} batches in flight, {len(before)} lines uploaded "
          f"before it; after the resume {sum(uploaded.values())} lines in all, "
          f"{len(again)} of them a resubmission of a failed line")
    # and nothing through the real-time API but each attempt's preflight
    assert {r["texts"][-1] for r in log if r["kind"] == "chat"} == {SAMPLE_WORK_ORDER}


def test_every_record_is_in_the_tables_once(killed: dict[str, Any], stack: LocalStack) -> None:
    rows = _query(stack.dsn, "SELECT count(*), count(DISTINCT work_order_id) FROM "
                  "ai_extracted_data WHERE run_id = %s", RUN)[0]
    logs = _query(stack.dsn, "SELECT count(*), count(DISTINCT work_order_id) FROM "
                  "maintenance_logs WHERE run_id = %s", RUN)[0]
    failed = _query(stack.dsn, "SELECT count(DISTINCT work_order_id) FROM failed_records "
                    "WHERE run_id = %s AND resolved_at IS NULL AND work_order_id IS NOT NULL",
                    RUN)[0][0]
    assert rows[0] == rows[1] > 0.8 * N
    assert logs[0] == logs[1]
    # every id of the source in maintenance_logs once (a dead letter has its row there too)
    ids = {str(i) for i in stack.data.table.column("WORK_ORDER_ID").to_pylist()
           if i is not None}
    assert logs[1] == len(ids)
    assert rows[1] + failed >= len(ids)
