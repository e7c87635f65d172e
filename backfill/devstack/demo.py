"""``backfill demo``: the real job on the embedded stack, with no credentials."""

from __future__ import annotations

import sys
import time

import psycopg
from psycopg import sql

from backfill import errors as E
from backfill.config import LOCAL_EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL
from backfill.devstack.stack import local_stack
from backfill.report import build_report, report_text
from backfill.runner import RunRequest, execute

DEMO_SCHEMA = "backfill_demo"


# embedding.provider local: the model in the job's processes instead of the simulator's
# bag-of-words vectors; `backfill search` then works after the demo, with no server running.
LOCAL_EMBEDDING = {"embedding": {"provider": "local", "deployment": LOCAL_EMBEDDING_MODEL,
                                 "dimensions": LOCAL_EMBEDDING_DIMENSIONS,
                                 "input_price_per_million": None}}  # costs nothing


def run_demo(
    records: int = 20_000, latency_ms: float = 50.0, workdir: str = ".backfill/demo",
    embedding: str = "simulator",
) -> int:
    t0 = time.monotonic()
    print(
        f"demo: generating {records:,} synthetic work orders and starting the local stack "
        f"(fakesnow, LLM simulator at {latency_ms:.0f} ms, embedded Postgres) in {workdir}",
        flush=True,
    )
    overrides = LOCAL_EMBEDDING if embedding == "local" else None
    with local_stack(workdir, records, latency_ms=latency_ms, pg_schema=DEMO_SCHEMA,
                     overrides=overrides) as stack:
        # A clean slate each time, so the figures below are this demo's alone.
        with psycopg.connect(stack.dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(DEMO_SCHEMA))
            )
        print(
            f"demo: stack ready in {time.monotonic() - t0:.0f} s; config written to "
            f"{stack.config_path}",
            flush=True,
        )
        result = execute(stack.config, RunRequest(config_path=str(stack.config_path)))
        print(report_text(build_report(stack.config, result.run_id)))
        stats = stack.simulator.stats()
        print(
            f"  LLM simulator: {stats.get('chat', 0):,} chat and {stats.get('embeddings', 0):,} "
            f"embedding requests"
        )
        rate = result.rows_expected / result.seconds * 3600 if result.seconds else 0
        print(
            f"demo: {result.rows_expected:,} records in {result.seconds:.0f} s "
            f"({rate:,.0f} records/hour); exit status {result.exit_code}"
        )
        print(
            f"demo: the database stays in {stack.workdir / 'pg'}; inspect it with\n"
            f"  backfill status --config {stack.config_path} --run-id {result.run_id}\n"
            f"  backfill report --config {stack.config_path} --run-id {result.run_id} "
            f"--format html --output report.html\n"
            f"  (while nothing else runs, the embedded server starts again on demand); the "
            f"run's HTML report is in {stack.workdir / 'reports' / result.run_id}",
            file=sys.stderr,
        )
        if embedding == "local":
            print(f"  backfill search --config {stack.config_path} "
                  '"infusion pump occlusion alarm"   (the model runs here, offline)',
                  file=sys.stderr)
    return result.exit_code if result.exit_code in (E.EXIT_OK, E.EXIT_TOO_MANY_FAILURES) else 1
