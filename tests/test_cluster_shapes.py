"""The job on real multi-node Ray clusters started on this machine (``ray start``).

Regression (issue 11): on two 1-CPU nodes the job waited forever at 0 records, the prepare
task asking for a whole CPU while the API actors held a quarter of each node. Here it must
finish with every record in Postgres, its stages having run on both nodes; and a cluster
that cannot run the job must say so and exit 2 at once.

Each cluster is its own ``ray start`` processes under a temp dir of its own, stopped by
process group and pid (tests/ray_sessions.py): never ``ray stop``, which would stop every
Ray of the machine.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from ray_sessions import LocalRayCluster

import backfill
from backfill.devstack.stack import LocalStack, local_stack
from backfill.errors import EXIT_CONFIG

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SCHEMA = "cluster_shapes"
N = 2_000
# What a hang looks like to this test; a healthy run takes well under a minute here.
HANG_SECONDS = 600
# What Ray names the pipeline's tasks and actors in the workers' logs.
STAGES = ("ReadSnowflake", "MapBatches(prepare_blocks)", "MapWorker(MapBatches(Extractor))",
          "MapWorker(MapBatches(Embedder))", "Write")
REPO = str(Path(backfill.__file__).resolve().parents[1])


@pytest.fixture(scope="module")
def stack(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("cluster")
    # Clean rows: every record must end in the tables, without the planted faults.
    with local_stack(work, N, latency_ms=5, pg_schema=SCHEMA, partition_rows=500, dsn=pg_dsn,
                     bad_rows=False) as s:
        yield s


def _cluster(node_cpus: list[int], dashboard: bool = False) -> LocalRayCluster:
    cluster = LocalRayCluster(node_cpus, dashboard=dashboard)
    # The nodes' workers and the driver import this checkout's package, whatever the venv
    # has installed.
    cluster.env["PYTHONPATH"] = os.pathsep.join(
        p for p in (REPO, os.environ.get("PYTHONPATH")) if p)
    return cluster


def _run_job(cluster: LocalRayCluster, stack: LocalStack) -> tuple[int, str]:
    """``backfill run`` as a driver of its own connected to the cluster."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "backfill.cli", "run", "--config", str(stack.config_path)],
        env={**cluster.env, "RAY_ADDRESS": cluster.address}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        _, err = proc.communicate(timeout=HANG_SECONDS)
    except subprocess.TimeoutExpired:
        status = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "ray"), "status",
             f"--address={cluster.address}"], env=cluster.env, capture_output=True, text=True)
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        pytest.fail(f"the job still ran after {HANG_SECONDS} s:\n{status.stdout}\n{err[-3000:]}")
    return proc.returncode, err


def _logins(stack: LocalStack) -> int:
    """Snowflake sessions the fakesnow server opened so far (it logs each login)."""
    log = stack.workdir / "fakesnow.log"
    return log.read_text(errors="replace").count("Session login") if log.exists() else 0


def _submit_job(cluster: LocalRayCluster, stack: LocalStack) -> tuple[int, str]:
    """``ray job submit`` of jobs/backfill.py with this checkout as the working dir, as the
    README says; waits for the job with Ray's job client and returns (0 if SUCCEEDED, logs)."""
    import json

    from ray.job_submission import JobStatus, JobSubmissionClient

    ray_cli = os.path.join(os.path.dirname(sys.executable), "ray")
    runtime_env = {"excludes": [".git", ".venv", ".backfill", "*.parquet", "tests",
                                "*.egg-info", ".mypy_cache", ".ruff_cache", ".pytest_cache"]}
    submitted = subprocess.run(
        [ray_cli, "job", "submit", "--address", cluster.dashboard_url, "--no-wait",
         "--working-dir", REPO, "--runtime-env-json", json.dumps(runtime_env), "--",
         sys.executable, "jobs/backfill.py", "--config", str(stack.config_path)],
        env=cluster.env, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert submitted.returncode == 0, submitted.stdout[-2000:] + submitted.stderr[-2000:]
    job_id = re.findall(r"raysubmit_\w+", submitted.stdout + submitted.stderr)[0]
    client = JobSubmissionClient(cluster.dashboard_url)
    deadline = time.monotonic() + HANG_SECONDS
    while not (status := client.get_job_status(job_id)).is_terminal():
        if time.monotonic() > deadline:
            client.stop_job(job_id)
            pytest.fail(f"the job still ran after {HANG_SECONDS} s:\n"
                        f"{client.get_job_logs(job_id)[-3000:]}")
        time.sleep(2)
    return (0 if status == JobStatus.SUCCEEDED else 1), client.get_job_logs(job_id)


def test_two_one_cpu_nodes_run_the_submitted_job_on_both_nodes(stack: LocalStack) -> None:
    before = _logins(stack)
    with _cluster([1, 1], dashboard=True) as cluster:
        code, err = _submit_job(cluster, stack)
        ran = [set(re.findall(r":(?:task|actor)_name:(.*)", cluster.worker_logs(i)))
               for i in range(2)]
    assert code == 0, err[-3000:]
    # one Snowflake session for the whole run, opened by the driver's node (DESIGN decision 1)
    assert _logins(stack) - before == 1
    assert "cluster: 2 nodes with CPUs, 2 CPUs (largest node 1)" in err, err[-3000:]
    with psycopg.connect(stack.dsn, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}")
        logs = conn.execute("SELECT count(*) FROM maintenance_logs").fetchone()
        unaccounted = conn.execute(
            "SELECT count(*) FROM maintenance_logs m "
            "WHERE NOT (EXISTS (SELECT 1 FROM ai_extracted_data a "
            "                   WHERE a.work_order_id = m.work_order_id) "
            "       AND EXISTS (SELECT 1 FROM semantic_embeddings e "
            "                   WHERE e.work_order_id = m.work_order_id)) "
            "AND NOT EXISTS (SELECT 1 FROM failed_records f "
            "                WHERE f.work_order_id = m.work_order_id AND f.resolved_at IS NULL)"
        ).fetchone()
    assert logs == (N,)
    assert unaccounted == (0,)
    # API work ran on both nodes (Ray Data spreads the extract and embed actors).
    api = ("MapWorker(MapBatches(Extractor))", "MapWorker(MapBatches(Embedder))")
    for node, names in enumerate(ran):
        assert any(n.startswith(api) for n in names), (node, sorted(names))


def test_a_cluster_without_cpus_exits_2_at_start_up(stack: LocalStack) -> None:
    with _cluster([0]) as cluster:
        code, err = _run_job(cluster, stack)
    assert code == EXIT_CONFIG, err[-3000:]
    assert "configuration error: the Ray cluster has no node with CPUs" in err, err[-3000:]
