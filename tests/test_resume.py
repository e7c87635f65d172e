"""Crash-proof: kill the driver's whole process group with SIGKILL at several points of a
10,000-record run, resume each time, and end with tables identical, row for row, to an
uninterrupted run; the LLM paid again, per kill, only for the answers in flight or not yet
in the answer journal. Also: worker processes
(an extract actor, a write task) killed mid-run are replaced by Ray with the same result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
import yaml
from kill_bounds import first_attempt, first_attempts, in_flight_limit, paid_again_bound
from ray_sessions import kill_ray_session

from backfill.devstack.simulator import read_request_log
from backfill.devstack.stack import LocalStack, local_stack
from backfill.runner import RunRequest, execute

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N = 10_000
LATENCY_MS = 20
# 32 requests in flight per extract actor (the devstack has 128): enough for the 20 ms
# simulator, and a bound on what a kill may pay again well below what a run without the
# journal would (kill_bounds).
SMALL_WINDOW = {"llm": {"max_concurrency": 32}}
ROOT = Path(__file__).resolve().parents[1]

TABLES = {
    "maintenance_logs": "work_order_id, created_at, updated_at, facility_id, department, "
    "equipment_id, equipment_type, manufacturer, model, work_type, priority, status, "
    "problem_description, technician_notes, resolution, labor_hours",
    "ai_extracted_data": "work_order_id, extraction, warnings, input_truncated, model, "
    "prompt_version",
    "semantic_embeddings": "work_order_id, model, document, embedding::text",
    "failed_records": "work_order_id, stage, error_class, error_message, resolved_at IS NULL",
}


@pytest.fixture(scope="module")
def stack(pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("resume")
    with local_stack(work, N, latency_ms=LATENCY_MS, pg_schema="ref", partition_rows=2500,
                     dsn=pg_dsn, seed=3, overrides=SMALL_WINDOW) as s:
        yield s


def _config_for(stack: LocalStack, schema: str) -> Path:
    raw = yaml.safe_load(stack.config_path.read_text())
    raw["postgres"]["schema"] = schema
    path = stack.workdir / f"{schema}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _rows(dsn: str, schema: str, table: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        conn.execute(f"SET search_path TO {schema}, public")
        return conn.execute(f"SELECT {TABLES[table]} FROM {table} ORDER BY 1, 2").fetchall()


def _done(dsn: str, schema: str, run_id: str) -> tuple[int, int, int]:
    """(records written, partitions done, partitions) of a run; zeros before it exists."""
    with psycopg.connect(dsn) as conn:
        conn.execute(f"SET search_path TO {schema}, public")
        if conn.execute("SELECT to_regclass('etl_metadata')").fetchone() == (None,):
            return 0, 0, 0
        row = conn.execute(
            "SELECT (SELECT count(*) FROM maintenance_logs WHERE run_id = %s), "
            "count(*) FILTER (WHERE state = 'done'), count(*) FROM etl_metadata "
            "WHERE run_id = %s AND kind = 'partition'",
            (run_id, run_id)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _written_ids(dsn: str, schema: str, run_id: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        conn.execute(f"SET search_path TO {schema}, public")
        rows = conn.execute(
            "SELECT work_order_id FROM maintenance_logs WHERE run_id = %s", (run_id,)
        ).fetchall()
    return [r[0] for r in rows]


def _documents(dsn: str, schema: str) -> dict[str, set[str]]:
    """Document sent to the LLM -> the ids it was composed for (templated text repeats)."""
    with psycopg.connect(dsn) as conn:
        conn.execute(f"SET search_path TO {schema}, public")
        rows = conn.execute("SELECT document, work_order_id FROM semantic_embeddings").fetchall()
    docs: dict[str, set[str]] = {}
    for doc, wid in rows:
        docs.setdefault(doc, set()).add(wid)
    return docs


def _start_run(config: Path, run_id: str, temp_dir: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RAY_TMPDIR": temp_dir}
    return subprocess.Popen(
        [sys.executable, "-m", "backfill.cli", "run", "--config", str(config), "--run-id", run_id,
         "--no-dashboard"],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def reference(stack: LocalStack) -> str:
    result = execute(stack.config, RunRequest(run_id="reference"))
    assert result.exit_code == 0
    return result.run_id


@pytest.fixture(scope="module")
def killed_and_resumed(stack: LocalStack, reference: str) -> dict[str, Any]:
    config = _config_for(stack, "resumed")
    run_id = "killed"
    log_start = len(read_request_log(stack.request_log))
    kills = []
    snapshots: list[tuple[set[str], int]] = []
    # Kill when this many records are in. Partitions are read in parallel, so at 85% the
    # run is in its last partition.
    points = [("early", lambda d: d[0] >= 200),
              ("middle", lambda d: d[0] >= N // 2),
              ("last partition", lambda d: d[0] >= N * 85 // 100)]
    for name, reached in points:
        temp_dir = tempfile.mkdtemp(prefix="bfray", dir="/tmp")
        proc = _start_run(config, run_id, temp_dir)
        deadline = time.monotonic() + 300
        while not reached(state := _done(stack.dsn, "resumed", run_id)):
            assert proc.poll() is None, f"run ended before the {name} kill point: {state}"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        killed_at = time.time()  # the simulator's log stamps requests with the same clock
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kill_ray_session(temp_dir)
        # What was committed when it died, and where the request log stood.
        committed = set(_written_ids(stack.dsn, "resumed", run_id))
        kills.append((name, state))
        snapshots.append((committed, len(read_request_log(stack.request_log)) - log_start,
                          killed_at))
    temp_dir = tempfile.mkdtemp(prefix="bfray", dir="/tmp")
    proc = _start_run(config, run_id, temp_dir)
    _, err = proc.communicate(timeout=600)
    kill_ray_session(temp_dir)
    assert proc.returncode == 0, err.decode()[-3000:]
    return {"run_id": run_id, "kills": kills, "snapshots": snapshots,
            "requests": read_request_log(stack.request_log)[log_start:],
            "documents": _documents(stack.dsn, "resumed")}


@pytest.mark.parametrize("table", list(TABLES))
def test_tables_match_an_uninterrupted_run(stack: LocalStack, reference: str,
                                           killed_and_resumed: dict[str, Any],
                                           table: str) -> None:
    expected = _rows(stack.dsn, "ref", table)
    actual = _rows(stack.dsn, "resumed", table)
    assert len(actual) == len(expected) > 0
    assert actual == expected


def test_no_record_committed_before_a_kill_is_sent_to_the_llm_again(
    killed_and_resumed: dict[str, Any],
) -> None:
    requests, docs = killed_and_resumed["requests"], killed_and_resumed["documents"]
    for (committed, log_at_kill, _), kill in zip(
        killed_and_resumed["snapshots"], killed_and_resumed["kills"], strict=True
    ):
        assert committed, f"nothing committed before the {kill[0]} kill: nothing tested"
        again = [d for d in first_attempts(requests[log_at_kill:])
                 if docs.get(d) and docs[d] <= committed]
        assert again == [], f"{len(again)} records committed before the {kill[0]} kill paid again"


def test_llm_paid_again_per_kill_only_for_answers_in_flight_or_not_yet_flushed(
    stack: LocalStack, killed_and_resumed: dict[str, Any],
) -> None:
    """Per kill: the records whose first chat request was answered (200) before the kill and
    that were sent again after it, against the requests in flight at the kill and those the
    log shows answered within the journal's flush window before it (kill_bounds)."""
    requests, docs = killed_and_resumed["requests"], killed_and_resumed["documents"]
    in_flight = in_flight_limit(stack.workdir / "resumed.yaml")
    start = 0
    figures = []
    for (committed, log_at_kill, killed_at), kill in zip(
        killed_and_resumed["snapshots"], killed_and_resumed["kills"], strict=True
    ):
        before = [r for r in requests[start:log_at_kill] if r["ts"] <= killed_at]
        answered = {d for r in before if (d := first_attempt(r)) is not None and d in docs}
        again = answered & set(first_attempts(requests[log_at_kill:]))
        bound = paid_again_bound(before, killed_at, LATENCY_MS, in_flight)
        # What a run without the journal would pay again: answered, not committed.
        at_stake = sum(1 for d in answered if not docs[d] <= committed)
        figures.append((kill[0], len(answered), at_stake, len(again), bound))
        assert answered, f"nothing answered before the {kill[0]} kill: nothing tested"
        assert len(again) <= bound, (
            f"{kill[0]} kill: {len(again)} records answered before it were paid again; in "
            f"flight or not yet flushed at the kill: {bound}")
        start = log_at_kill
    print("per kill (point, answered before, not committed, paid again, bound):", figures)
    assert len(set(first_attempts(requests))) >= N * 0.98


def test_resumed_run_is_done_with_every_partition(stack: LocalStack,
                                                  killed_and_resumed: dict[str, Any]) -> None:
    _, done, parts = _done(stack.dsn, "resumed", killed_and_resumed["run_id"])
    assert done == parts >= 4
    # Counted from the tables once every partition is committed: each source row once,
    # though rows of duplicate ids and rows without an id went through again after each kill.
    with psycopg.connect(stack.dsn) as conn:
        conn.execute("SET search_path TO resumed, public")
        row = conn.execute(
            "SELECT sum(rows_ok + rows_failed), sum((info->>'rows_read')::int) FROM "
            "etl_metadata WHERE run_id = %s AND kind = 'partition'",
            (killed_and_resumed["run_id"],)).fetchone()
    assert row == (N, N)


class _Assassin(threading.Thread):
    """Kills one worker process whose title matches, once it is busy."""

    def __init__(self, title: str) -> None:
        super().__init__(daemon=True)
        self.title, self.killed, self.stop = title, 0, threading.Event()

    def run(self) -> None:
        while not self.killed and not self.stop.wait(0.2):
            for proc in psutil.process_iter(["cmdline"]):
                cmd = " ".join(proc.info["cmdline"] or [])
                if cmd.startswith(self.title):
                    try:
                        proc.kill()
                        self.killed += 1
                    except psutil.NoSuchProcess:
                        continue
                    break


def test_killed_workers_are_replaced_with_the_same_result(stack: LocalStack,
                                                          reference: str) -> None:
    config = _config_for(stack, "workers")
    from backfill.config import load_config

    cfg = load_config(config)
    assassins = [_Assassin("ray::MapWorker(MapBatches(Extractor))"), _Assassin("ray::Write")]
    for a in assassins:
        a.start()
    try:
        result = execute(cfg, RunRequest(run_id="workers-killed"))
    finally:
        for a in assassins:
            a.stop.set()
            a.join()
    assert result.exit_code == 0
    assert [a.killed for a in assassins] == [1, 1]
    for table in TABLES:
        assert _rows(stack.dsn, "workers", table) == _rows(stack.dsn, "ref", table), table
