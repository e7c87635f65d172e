"""What `status` and `report` cost on a large run: the tables of one run of N records,
loaded by the real sink into the embedded Postgres, then `status` (the figures), the
report's figures and the HTML page timed, each the median of a few calls.

    python benchmarks/status_bench.py --rows 1000000 [--dim 16]

Small vectors by default: what status and report read is counts and timestamps, not the
vectors; the load is what takes the time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backfill.db import ensure_schema  # noqa: E402
from backfill.devstack.enriched import enriched_rows  # noqa: E402
from backfill.devstack.postgres import embedded_dsn  # noqa: E402
from backfill.progress import create_run  # noqa: E402
from backfill.report import report_from, report_html  # noqa: E402
from backfill.sink import WriteTarget, write_block  # noqa: E402
from backfill.source import Partition  # noqa: E402
from backfill.status import run_status  # noqa: E402

SCHEMA = "statusbench"


def _median_ms(call: object, times: int = 5) -> float:
    seconds = []
    for _ in range(times):
        t0 = time.perf_counter()
        call()  # type: ignore[operator]
        seconds.append(time.perf_counter() - t0)
    return round(statistics.median(seconds) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--block", type=int, default=5000)
    args = parser.parse_args()
    dsn = embedded_dsn(Path(tempfile.mkdtemp(prefix="bfstat", dir="/tmp")) / "pg")
    ensure_schema(dsn, SCHEMA, args.dim)
    parts = 20
    per = args.rows // parts
    with psycopg.connect(dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        create_run(conn, "bench", {"range": ["2000-01-01", "2100-01-01"], "table": "bench"},
                   [Partition(i, dt.datetime(2000 + i, 1, 1), dt.datetime(2001 + i, 1, 1), per)
                    for i in range(parts)])
        conn.commit()
    target = WriteTarget(dsn, SCHEMA, "bench", "gpt-4o-mini", "text-embedding-3-small")
    t0 = time.monotonic()
    chunk = 50_000  # enriched rows are built in memory a chunk at a time
    written = 0
    while written < args.rows:
        table = enriched_rows(min(chunk, args.rows - written), args.dim, seed=written + 1,
                              first_id=written + 1)
        for offset in range(0, table.num_rows, args.block):
            write_block(table.slice(offset, args.block), target)
        written += table.num_rows
    load = time.monotonic() - t0
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        status = run_status(conn, SCHEMA, "bench")
        rep = report_from(conn, "bench", None)
        result = {
            "rows": args.rows,
            "load_seconds": round(load, 1),
            "status_ok_counted": status.ok,
            "status_ms": _median_ms(lambda: run_status(conn, SCHEMA, "bench")),
            "report_figures_ms": _median_ms(lambda: report_from(conn, "bench", None)),
            "report_html_ms": _median_ms(lambda: report_html(rep), 3),
            "html_bytes": len(report_html(rep)),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
