"""A config written only from CONTRACT.md, against servers this code did not start for
itself: a stock ``fakesnow -s`` server, a separately started LLM simulator, a second
Postgres. The job runs unchanged through ``python jobs/backfill.py`` (the ``ray job submit``
entry point), with renamed source columns and a numeric id mapped by the config."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import snowflake.connector
import yaml
from ray_sessions import free_port

from backfill.devstack.postgres import embedded_dsn
from backfill.devstack.simulator import SimulatorProcess

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
N = 240


@pytest.fixture(scope="module")
def stock_fakesnow() -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakesnow", "-s", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # poll the port: the stock server prints nothing we can wait on
            with contextlib.closing(socket.socket()) as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"fakesnow -s did not start (exit {proc.poll()})")
            time.sleep(0.1)
        conn = snowflake.connector.connect(
            user="etl",
            password="pw",
            account="acme",
            database="OPS",
            schema="MAINT",
            host="127.0.0.1",
            port=port,
            protocol="http",
            session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        )
        cur = conn.cursor()
        cur.execute(
            "CREATE TABLE TICKETS (WO_NUMBER NUMBER(38,0), OPENED_AT TIMESTAMP_NTZ, "
            "ASSET_TYPE VARCHAR, MAKER VARCHAR, DESCRIPTION VARCHAR, NOTES VARCHAR)"
        )
        base = dt.datetime(2022, 3, 1)
        rows = [
            (
                100000 + i,
                base + dt.timedelta(hours=7 * i),
                "infusion pump",
                "Baxter",
                f"Occlusion alarm on channel {i % 4}; pt John Doe MRN 55{i:06d} complained.",
                f"Replaced pressure sensor, call 555-201-{i % 10000:04d} for follow-up.",
            )
            for i in range(N)
        ]
        cur.executemany("INSERT INTO TICKETS VALUES (%s, %s, %s, %s, %s, %s)", rows)
        conn.close()
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow  # a whole run of its own: > 50 s on the 2-core box (make test < 15 min)
def test_contract_only_config_runs_unchanged(stock_fakesnow: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="bfc", dir="/tmp"))
    dsn = embedded_dsn(base / "pg")
    with SimulatorProcess(log_path=str(base / "requests.jsonl")) as sim:
        config = {
            "snowflake": {
                "account": "acme",
                "user": "etl",
                "authenticator": "snowflake",
                "password": "${SNOWFLAKE_PASSWORD}",
                "warehouse": "ETL_WH",
                "database": "OPS",
                "schema": "MAINT",
                "role": "ETL_ROLE",
                "connect_args": {"host": "127.0.0.1", "port": stock_fakesnow, "protocol": "http"},
                "table": "TICKETS",
                "id_column": "WO_NUMBER",
                "timestamp_column": "OPENED_AT",
                "columns": {
                    "EQUIPMENT_TYPE": "ASSET_TYPE",
                    "MANUFACTURER": "MAKER",
                    "PROBLEM_DESCRIPTION": "DESCRIPTION",
                    "TECHNICIAN_NOTES": "NOTES",
                    "UPDATED_AT": "OPENED_AT",
                },
            },
            "postgres": {"dsn": "${BACKFILL_POSTGRES_DSN}", "schema": "cmms_ai"},
            "llm": {
                "provider": "openai",
                "endpoint": sim.openai_base_url,
                "api_key": "${OPENAI_API_KEY}",
                "deployment": "gpt-4o-mini",
                "requests_per_minute": 1000,
                "tokens_per_minute": 1000000,
            },
            "embedding": {
                "provider": "openai",
                "deployment": "text-embedding-3-small",
                "dimensions": 256,
            },
            "pipeline": {"partition_rows": 100, "batch_size": 50, "max_failed_fraction": 0.01},
        }
        path = base / "backfill.yaml"
        path.write_text(yaml.safe_dump(config))
        env = {
            **os.environ,
            "SNOWFLAKE_PASSWORD": "pw",
            "OPENAI_API_KEY": "sk-test",
            "BACKFILL_POSTGRES_DSN": dsn,
        }
        proc = subprocess.run(
            [
                sys.executable,
                str(ROOT / "jobs" / "backfill.py"),
                "--config",
                str(path),
                "--start",
                "2022-03-01",
                "--end",
                "2022-06-01",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "240 ok, 0 failed" in proc.stdout

    with psycopg.connect(dsn) as conn:
        conn.execute("SET search_path TO cmms_ai, public")
        ids = [r[0] for r in conn.execute("SELECT work_order_id FROM maintenance_logs")]
        dims = conn.execute(
            "SELECT DISTINCT vector_dims(embedding) FROM semantic_embeddings"
        ).fetchall()
        docs = [r[0] for r in conn.execute("SELECT document FROM semantic_embeddings")]
        parts = conn.execute(
            "SELECT count(*) FROM etl_metadata WHERE kind = 'partition'"
        ).fetchone()
    assert sorted(ids) == [str(100000 + i) for i in range(N)]  # numeric id -> decimal text
    assert dims == [(256,)]
    assert parts is not None and parts[0] >= 2
    assert not any("John Doe" in d or "555-201-" in d for d in docs)
    assert all("[PATIENT_NAME]" in d and "[MRN]" in d for d in docs)
