"""Crash-proof: kill the driver's whole process group with SIGKILL at several points of a
20,000-record run, resume each time, and end with tables identical, row for row, to an
uninterrupted run; the LLM paid again only for what was in flight. Also: worker processes
(an extract actor, a write task) killed mid-run are replaced by Ray with the same result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
import yaml
from ray_sessions import kill_ray_session

from backfill.devstack.simulator import read_request_log
from backfill.devstack.stack import LocalStack, local_stack
from backfill.pipeline import BATCHES_PER_ACTOR
from backfill.runner import RunRequest, execute

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N = 20_000
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
    with local_stack(work, N, latency_ms=20, pg_schema="ref", partition_rows=5000,
                     dsn=pg_dsn, seed=3) as s:
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
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kill_ray_session(temp_dir)
        # What was committed when it died, and where the request log stood.
        committed = set(_written_ids(stack.dsn, "resumed", run_id))
        kills.append((name, state))
        snapshots.append((committed, len(read_request_log(stack.request_log)) - log_start))
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


def _first_attempts(requests: list[dict[str, Any]]) -> list[str]:
    # First attempts only (a repair request carries the answer and the complaint too).
    return [r["texts"][-1] for r in requests
            if r["kind"] == "chat" and len(r["texts"]) == 2 and r["status"] == 200]


def test_no_record_committed_before_a_kill_is_sent_to_the_llm_again(
    killed_and_resumed: dict[str, Any],
) -> None:
    requests, docs = killed_and_resumed["requests"], killed_and_resumed["documents"]
    for (committed, log_at_kill), kill in zip(
        killed_and_resumed["snapshots"], killed_and_resumed["kills"], strict=True
    ):
        assert committed, f"nothing committed before the {kill[0]} kill: nothing tested"
        again = [d for d in _first_attempts(requests[log_at_kill:])
                 if docs.get(d) and docs[d] <= committed]
        assert again == [], f"{len(again)} records committed before the {kill[0]} kill paid again"


def test_llm_paid_again_only_for_records_between_extract_and_commit(
    killed_and_resumed: dict[str, Any],
) -> None:
    firsts = Counter(_first_attempts(killed_and_resumed["requests"]))
    repeated = sum(n - 1 for n in firsts.values() if n > 1)
    # Per kill, at most the batches the extract and embed actors hold (BATCHES_PER_ACTOR
    # each), the extract outputs Ray Data queues for the embed stage (up to as many again),
    # and a couple of blocks queued for the sink: 2 x 4 + 2 x 4 + 1 x 4 + 2 blocks of 200.
    # (Measured: 5,098 and 5,555 over three kills; once 9,606, its first kill at 398
    # committed records, mid ramp-up, when the queue to the embed stage was full. Issue 14's
    # answer journal is what removes this cost.)
    per_kill = (2 * BATCHES_PER_ACTOR + 2 * BATCHES_PER_ACTOR + 1 * BATCHES_PER_ACTOR + 2) * 200
    bound = len(killed_and_resumed["kills"]) * per_kill
    print(f"kills at {killed_and_resumed['kills']}: {repeated} records sent twice "
          f"(bound {bound}) of {len(firsts)}")
    assert len(firsts) >= N * 0.98
    assert repeated <= bound


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
