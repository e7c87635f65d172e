"""`backfill search` latency on the local stack, with and without the search indexes.

    python benchmarks/search_bench.py --records 2000 [--repeat 20]

Runs the job on ``--records`` synthetic work orders (fakesnow, simulator, embedded Postgres,
local Ray), then times, per mode, the whole command (config to hits: embedding request,
connections, queries) and the ranking queries alone (``search.rank``), median of
``--repeat``, with both indexes and after dropping them. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backfill.db import SEARCH_INDEXES, connect, ensure_search_index  # noqa: E402
from backfill.devstack.stack import local_stack  # noqa: E402
from backfill.runner import RunRequest, execute  # noqa: E402
from backfill.search import SearchRequest, embed_query, rank, search  # noqa: E402

QUERY = "infusion pump occlusion alarm"


def _median_ms(fn: Any, repeat: int) -> float:
    fn()  # warm: connections, caches
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import asyncio

    import ray
    from pgvector.psycopg import register_vector

    work = tempfile.mkdtemp(prefix="srchb", dir="/tmp")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    out: dict[str, Any] = {"records": args.records}
    with local_stack(work, args.records, latency_ms=5, pg_schema="search_bench",
                     partition_rows=max(1000, args.records // 4)) as stack:
        cfg = stack.config
        t0 = time.monotonic()
        result = execute(cfg, RunRequest(config_path=str(stack.config_path)))
        out["run_seconds"] = round(time.monotonic() - t0, 1)
        out["exit_code"] = result.exit_code
        vector = asyncio.run(embed_query(cfg.embedding, QUERY))
        conn = connect(stack.dsn, "search_bench", autocommit=True)
        register_vector(conn)
        for label in ("indexed", "no_index"):
            if label == "no_index":
                for name in SEARCH_INDEXES:
                    conn.execute(f"DROP INDEX {name}")
            for mode in ("hybrid", "vector"):
                req = SearchRequest(QUERY, 10, mode=mode)
                out[f"{label}_{mode}_rank_ms"] = _median_ms(
                    lambda req=req: rank(conn, vector, cfg.embedding.deployment, req),
                    args.repeat)
                out[f"{label}_{mode}_command_ms"] = _median_ms(
                    lambda req=req: search(cfg, req), max(3, args.repeat // 4))
        t0 = time.monotonic()
        ensure_search_index(stack.dsn, "search_bench")
        out["index_build_seconds"] = round(time.monotonic() - t0, 2)
        conn.close()
    ray.shutdown()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
