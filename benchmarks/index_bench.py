"""HNSW build benchmark: how long the search index takes to build at a backfill's size, and
with what memory (issue 14: the index build time at 1M, or the measured reason to leave it to
the DBA).

    python benchmarks/index_bench.py --rows 1000000 --memory 8GB --workers 1

Loads ``--rows`` unit vectors of 1536 dimensions (the embeddings' size) into a table of the
embedded PostgreSQL + pgvector by binary COPY, then builds the index the job builds
(``db.SEARCH_INDEXES``: HNSW, cosine, pgvector's defaults m=16, ef_construction=64) with
``maintenance_work_mem`` = ``--memory`` and ``max_parallel_maintenance_workers`` = ``--workers``,
and reports the build time, the index size, whether the graph fitted the memory (pgvector
says so in a NOTICE when it does not), the latency of top-10 queries and their recall against
an exact scan.

The vectors are a mixture of ``--clusters`` Gaussian clusters (text embeddings cluster by
topic; uniform random vectors are HNSW's worst case, ``--clusters 0``). They are not the
simulator's: its embeddings are hashes of the text, as unstructured as uniform ones.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backfill.db import SEARCH_INDEXES  # noqa: E402
from backfill.devstack.postgres import embedded_dsn  # noqa: E402

DIM = 1536
HNSW = SEARCH_INDEXES["semantic_embeddings_hnsw"]


def vectors(rng: np.random.Generator, n: int, centres: np.ndarray | None) -> np.ndarray:
    if centres is None:
        x = rng.standard_normal((n, DIM), dtype=np.float32)
    else:
        x = centres[rng.integers(0, len(centres), n)] + 0.5 * rng.standard_normal(
            (n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--memory", default="2GB", help="maintenance_work_mem for the build")
    parser.add_argument("--workers", type=int, default=1,
                        help="max_parallel_maintenance_workers (the leader works too)")
    parser.add_argument("--clusters", type=int, default=1000, help="0: uniform vectors")
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--data-dir", default=None, help="reuse a loaded database")
    parser.add_argument("--timeout", type=int, default=0,
                        help="give up the build after this many seconds (0: never)")
    args = parser.parse_args()

    data = Path(args.data_dir or tempfile.mkdtemp(prefix="bfindex", dir="/tmp")) / "pg"
    dsn = embedded_dsn(data)
    rng = np.random.default_rng(14)
    centres = (rng.standard_normal((args.clusters, DIM), dtype=np.float32)
               if args.clusters else None)
    result: dict[str, object] = {"rows": args.rows, "memory": args.memory,
                                 "workers": args.workers, "clusters": args.clusters}
    notices: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        have = conn.execute("SELECT to_regclass('vecs')").fetchone()
        if have is None or have[0] is None:
            conn.execute(f"CREATE TABLE vecs (id bigint PRIMARY KEY, embedding vector({DIM}))")
            t0 = time.monotonic()
            step = 20_000
            for start in range(0, args.rows, step):
                x = vectors(rng, min(step, args.rows - start), centres)
                with conn.cursor().copy(
                        "COPY vecs (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
                    copy.set_types(["int8", "vector"])
                    for i, v in enumerate(x):
                        copy.write_row((start + i, v))
                print(f"loaded {start + len(x):,} of {args.rows:,}", file=sys.stderr, flush=True)
            conn.execute("VACUUM ANALYZE vecs")
            result["load_seconds"] = round(time.monotonic() - t0, 1)
        result["table_mib"] = round(conn.execute(
            "SELECT pg_table_size('vecs')").fetchone()[0] / 2**20)
        conn.execute("DROP INDEX IF EXISTS vecs_hnsw")
        conn.execute(f"SET maintenance_work_mem = '{args.memory}'")
        conn.execute(f"SET max_parallel_maintenance_workers = {args.workers}")
        # Postgres plans an index build's workers from the table's heap pages, and 6 KB vectors
        # live in its TOAST table: the heap looks small and no worker is planned unless the
        # table says how many (pgvector issue 397; measured: 90.8 s with and without the GUC)
        conn.execute(f"ALTER TABLE vecs SET (parallel_workers = {args.workers})")
        conn.execute(f"SET statement_timeout = '{args.timeout}s'")
        t0 = time.monotonic()
        try:
            conn.execute(f"CREATE INDEX vecs_hnsw ON vecs {HNSW}")
        except psycopg.errors.QueryCanceled:
            result["build_seconds"] = f"not finished after {args.timeout} s"
            result["notices"] = [n for n in notices if "graph" in n or "maintenance_work_mem" in n]
            print(json.dumps(result))
            return
        build = time.monotonic() - t0
        conn.execute("SET statement_timeout = 0")
        result["build_seconds"] = round(build, 1)
        result["build_vectors_per_second"] = round(args.rows / build)
        result["index_mib"] = round(conn.execute(
            "SELECT pg_relation_size('vecs_hnsw')").fetchone()[0] / 2**20)
        result["notices"] = [n for n in notices if "graph" in n or "maintenance_work_mem" in n]

        # queries: top 10 by cosine distance through the index, against an exact scan
        q = vectors(np.random.default_rng(15), args.queries, centres)
        latencies, hits = [], 0
        for v in q:
            t0 = time.monotonic()
            got = [r[0] for r in conn.execute(
                "SELECT id FROM vecs ORDER BY embedding <=> %s LIMIT 10", (v,)).fetchall()]
            latencies.append(time.monotonic() - t0)
            with conn.transaction():
                conn.execute("SET LOCAL enable_indexscan = off")
                exact = {r[0] for r in conn.execute(
                    "SELECT id FROM vecs ORDER BY embedding <=> %s LIMIT 10", (v,)).fetchall()}
            hits += len(exact.intersection(got))
        latencies.sort()
        result["query_ms_median"] = round(1000 * latencies[len(latencies) // 2], 1)
        result["recall_at_10"] = round(hits / (10 * len(q)), 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
