"""A local Snowflake stand-in: a fakesnow server, reached through the real connector.

Run as a process of its own (``python -m backfill.devstack.snowflake --port 0``) so that its
CPU (duckdb, JSON encoding) is not the driver's. It prints ``READY host:port`` when it
accepts connections. ``--seed PARQUET`` loads a table of work orders before it starts.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

# The columns of the synthetic source table, in Snowflake's types.
WORK_ORDER_DDL = """
CREATE TABLE IF NOT EXISTS {table} (
    WORK_ORDER_ID VARCHAR,
    CREATED_AT TIMESTAMP_NTZ,
    UPDATED_AT TIMESTAMP_NTZ,
    FACILITY_ID VARCHAR,
    DEPARTMENT VARCHAR,
    EQUIPMENT_ID VARCHAR,
    EQUIPMENT_TYPE VARCHAR,
    MANUFACTURER VARCHAR,
    MODEL VARCHAR,
    WORK_TYPE VARCHAR,
    PRIORITY VARCHAR,
    STATUS VARCHAR,
    PROBLEM_DESCRIPTION VARCHAR,
    TECHNICIAN_NOTES VARCHAR,
    RESOLUTION VARCHAR,
    LABOR_HOURS FLOAT
)
"""


def _patch_null_timestamps() -> None:
    """Make fakesnow 0.12.1 send NULL timestamps as NULL.

    Its ``timestamp_to_sf_struct`` builds the (epoch, fraction) struct without a validity
    bitmap, so a NULL timestamp arrives at the client as 1970-01-01.
    """
    import fakesnow.arrow as fs_arrow

    original = fs_arrow.timestamp_to_sf_struct

    def timestamp_to_sf_struct(ts: pa.Array | pa.ChunkedArray) -> pa.Array:
        if isinstance(ts, pa.ChunkedArray):
            ts = ts.combine_chunks()
        if ts.null_count == 0:
            return original(ts)
        filled = pc.fill_null(ts, pa.scalar(0, type=ts.type))
        struct = original(filled)
        return pa.StructArray.from_arrays(
            [struct.field(i) for i in range(struct.type.num_fields)],
            fields=list(struct.type),
            mask=pc.is_null(ts),
        )

    fs_arrow.timestamp_to_sf_struct = timestamp_to_sf_struct  # type: ignore[assignment]


def seed_table(parquet: str, database: str, schema: str, table: str) -> int:
    """Load a Parquet file into the in-process fakesnow server's shared database."""
    import fakesnow.server as fs_server

    conn = fs_server.shared_fs.connect(database, schema)
    cur = conn.cursor()
    cur.execute(WORK_ORDER_DDL.format(table=table))
    duck = fs_server.shared_fs.duck_conn
    # Straight into duckdb: fakesnow runs executemany row by row (DESIGN.md), and this
    # server owns the database anyway.
    duck.execute(
        f"INSERT INTO {database}.{schema}.{table} SELECT * FROM read_parquet(?)", [parquet]
    )
    row = duck.execute(f"SELECT count(*) FROM {database}.{schema}.{table}").fetchone()
    return int(row[0]) if row else 0


def serve(host: str, port: int, seed: str | None, database: str, schema: str, table: str) -> None:
    import fakesnow.server as fs_server
    import uvicorn

    _patch_null_timestamps()
    if seed:
        n = seed_table(seed, database, schema, table)
        print(f"seeded {database}.{schema}.{table} with {n} rows", file=sys.stderr, flush=True)
    if not port:
        with contextlib.closing(socket.socket()) as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(fs_server.app, host=host, port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while thread.is_alive() and not server.started:
        thread.join(0.05)
    if not server.started:
        raise SystemExit("fakesnow server failed to start")
    print(f"READY {host}:{port}", flush=True)
    thread.join()


@dataclass
class FakesnowProcess:
    """A fakesnow server in a subprocess; ``connect_args`` is what the connector needs."""

    seed_parquet: str | None = None
    database: str = "CMMS"
    schema: str = "PUBLIC"
    table: str = "WORK_ORDERS"
    host: str = "127.0.0.1"
    port: int = 0
    log_path: str | None = None
    proc: subprocess.Popen[str] | None = field(default=None, repr=False)

    def start(self, timeout: float = 60.0) -> FakesnowProcess:
        cmd = [
            sys.executable,
            "-m",
            "backfill.devstack.snowflake",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--database",
            self.database,
            "--schema",
            self.schema,
            "--table",
            self.table,
        ]
        if self.seed_parquet:
            cmd += ["--seed", self.seed_parquet]
        stderr = open(self.log_path, "a") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        line = _read_ready(self.proc, timeout)
        self.port = int(line.split()[1].rsplit(":", 1)[1])
        return self

    @property
    def connect_args(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "protocol": "http"}

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> FakesnowProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_ready(proc: subprocess.Popen[str], timeout: float) -> str:
    """Wait for the child's READY line (a thread, because readline has no timeout)."""
    result: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("READY"):
                result.append(line.strip())
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not result:
        proc.kill()
        raise RuntimeError(
            f"{proc.args!r} did not become ready within {timeout:.0f}s (exit code {proc.poll()})"
        )
    return result[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", help="Parquet file of work orders to load first")
    parser.add_argument("--database", default="CMMS")
    parser.add_argument("--schema", default="PUBLIC")
    parser.add_argument("--table", default="WORK_ORDERS")
    args = parser.parse_args(argv)
    if args.seed and not Path(args.seed).exists():
        parser.error(f"--seed: no such file {args.seed}")
    serve(args.host, args.port, args.seed, args.database, args.schema, args.table)


if __name__ == "__main__":
    main()
