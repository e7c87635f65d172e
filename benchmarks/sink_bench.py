"""Sink-only benchmark: blocks of enriched rows with 1536-dimension embeddings written by
the real sink (binary COPY into staging tables + upserts + progress, one transaction per
block) into the embedded Postgres.

    python benchmarks/sink_bench.py --rows 20000 --block 1000 [--with-hnsw]

--with-hnsw creates the HNSW index before the load (what every insert pays when the index
is maintained row by row); without it, the index is built after the load and timed apart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backfill.db import ensure_schema, ensure_search_index  # noqa: E402
from backfill.devstack.enriched import enriched_rows  # noqa: E402
from backfill.devstack.postgres import embedded_dsn  # noqa: E402
from backfill.progress import create_run  # noqa: E402
from backfill.sink import WriteTarget, write_block  # noqa: E402
from backfill.source import Partition  # noqa: E402

DIM = 1536


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--block", type=int, default=1000)
    parser.add_argument("--with-hnsw", action="store_true")
    args = parser.parse_args()
    dsn = embedded_dsn(Path(tempfile.mkdtemp(prefix="bfsink", dir="/tmp")) / "pg")
    schema = "sinkbench"
    ensure_schema(dsn, schema, DIM)
    with psycopg.connect(dsn) as conn:
        conn.execute(f"SET search_path TO {schema}, public")
        whole = Partition(0, dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1), args.rows)
        create_run(conn, "bench", {}, [whole])
        if args.with_hnsw:
            conn.execute("CREATE INDEX semantic_embeddings_hnsw ON semantic_embeddings "
                         "USING hnsw (embedding vector_cosine_ops)")
        conn.commit()
    table = enriched_rows(args.rows, DIM)
    target = WriteTarget(dsn, schema, "bench", "gpt-4o-mini", "text-embedding-3-small")
    t0 = time.monotonic()
    for offset in range(0, table.num_rows, args.block):
        write_block(table.slice(offset, args.block), target)
    load = time.monotonic() - t0
    result = {"rows": table.num_rows, "block": args.block, "hnsw_during_load": args.with_hnsw,
              "load_seconds": round(load, 2), "rows_per_second": round(table.num_rows / load)}
    if not args.with_hnsw:
        t1 = time.monotonic()
        ensure_search_index(dsn, schema, "2GB")
        build = time.monotonic() - t1
        result["index_build_seconds"] = round(build, 2)
        result["rows_per_second_including_index"] = round(table.num_rows / (load + build))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
