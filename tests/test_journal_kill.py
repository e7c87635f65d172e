"""The answer journal against a SIGKILL: the driver's whole process group killed at 40% of a
run, then resumed. Counted from the simulator's request log: the records whose chat request
was answered before the kill and sent again after it are at most those the log shows in
flight at the kill or answered within the journal's flush interval before it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from ray_sessions import kill_ray_session

from backfill.devstack.simulator import read_request_log
from backfill.devstack.stack import LocalStack, local_stack
from backfill.journal import FLUSH_SECONDS

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N = 3000
LATENCY_MS = 20
SCHEMA = "journalkill"


@pytest.fixture(scope="module")
def stack(pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("journalkill")
    with local_stack(work, N, latency_ms=LATENCY_MS, pg_schema=SCHEMA, partition_rows=1000,
                     dsn=pg_dsn, seed=5) as s:
        yield s


def _committed(dsn: str, run_id: str) -> int:
    with psycopg.connect(dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        if conn.execute("SELECT to_regclass('etl_metadata')").fetchone() == (None,):
            return 0
        row = conn.execute("SELECT count(*) FROM maintenance_logs WHERE run_id = %s",
                           (run_id,)).fetchone()
    return int(row[0]) if row else 0


def _start_run(config: str, run_id: str, temp_dir: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RAY_TMPDIR": temp_dir, "RAY_AUTH_MODE": "disabled"}
    return subprocess.Popen(
        [sys.executable, "-m", "backfill.cli", "run", "--config", config, "--run-id", run_id,
         "--no-dashboard"],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _first_attempt(request: dict[str, Any]) -> str | None:
    """The document of a record's first chat request answered 200 (a repair request carries
    the answer and the complaint too)."""
    if request["kind"] == "chat" and len(request["texts"]) == 2 and request["status"] == 200:
        return str(request["texts"][-1])
    return None


@pytest.fixture(scope="module")
def killed(stack: LocalStack) -> dict[str, Any]:
    config = str(stack.config_path)
    run_id = "journal-killed"
    log_start = len(read_request_log(stack.request_log))
    temp_dir = tempfile.mkdtemp(prefix="bfjk", dir="/tmp")
    proc = _start_run(config, run_id, temp_dir)
    deadline = time.monotonic() + 600
    while _committed(stack.dsn, run_id) < N * 40 // 100:
        assert proc.poll() is None, "the run ended before the kill point"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    killed_at = time.time()  # the simulator stamps its log with the same clock
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    kill_ray_session(temp_dir)
    log_at_kill = len(read_request_log(stack.request_log))
    committed = _committed(stack.dsn, run_id)
    temp_dir = tempfile.mkdtemp(prefix="bfjk", dir="/tmp")
    proc = _start_run(config, run_id, temp_dir)
    _, err = proc.communicate(timeout=900)
    kill_ray_session(temp_dir)
    assert proc.returncode == 0, err.decode()[-3000:]
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        docs = {r[0] for r in conn.execute("SELECT document FROM semantic_embeddings")}
    requests = read_request_log(stack.request_log)
    return {"before": requests[log_start:log_at_kill], "after": requests[log_at_kill:],
            "killed_at": killed_at, "committed": committed, "documents": docs}


def test_a_kill_pays_again_only_for_answers_in_flight_or_not_yet_journaled(
    killed: dict[str, Any],
) -> None:
    killed_at, docs = killed["killed_at"], killed["documents"]
    before = [r for r in killed["before"] if r["ts"] <= killed_at]
    answered = {d for r in before if (d := _first_attempt(r)) is not None and d in docs}
    again = answered & {d for r in killed["after"] if (d := _first_attempt(r)) is not None}
    # A log line is written when the simulator answers, LATENCY before the answer is sent:
    # in flight at the kill are the lines of the last LATENCY; then the journal's flush
    # interval, and one more for the write itself and the actor's loop reaching the answer.
    window = LATENCY_MS / 1000 + 2 * FLUSH_SECONDS
    bound = sum(1 for r in before if _first_attempt(r) is not None
                and r["ts"] > killed_at - window)
    # Without the journal, every record answered but not committed is sent again.
    print(f"kill at {killed['committed']} committed: {len(answered)} records answered before "
          f"it ({len(answered) - killed['committed']} beyond those committed), {len(again)} "
          f"sent again after it; in flight or not yet flushed: {bound}")
    assert killed["committed"] < N and len(answered) > killed["committed"] / 2
    assert len(again) <= bound
