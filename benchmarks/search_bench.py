"""`backfill search` on the local stack: precision against a ground truth read with SQL, and
latency with and without the search indexes.

    python benchmarks/search_bench.py --records 2000 [--repeat 30]

Runs the job on ``--records`` synthetic work orders (fakesnow, simulator, embedded Postgres,
local Ray). Precision at 5, 10 and 20 of each mode for a few questions whose relevant work
orders are those an SQL regular expression finds in the scrubbed documents (the catalogue's
symptoms); then the time of each ranking query (min / median of ``--repeat``), with both
indexes and after dropping them, and of building them again. Prints one JSON object.
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

from backfill import search as S  # noqa: E402
from backfill.db import SEARCH_INDEXES, connect, ensure_search_index  # noqa: E402
from backfill.devstack.stack import local_stack  # noqa: E402
from backfill.runner import RunRequest, execute  # noqa: E402

SCHEMA = "search_bench"
PUMP = "lower(m.equipment_type) = 'infusion pump' AND e.document ~* "
QUESTIONS = {
    "infusion pump occlusion alarm": PUMP + "'occlusion alarm|alarming (up|down)stream occlusion'",
    "air in line alarm on infusion pump": PUMP + "'air-in-line alarm|AIL alarm'",
    "pump door latch broken": PUMP + "'door will not latch|door latch broken|door pops open'",
    # a word in no document: no document holds every word
    "infusion pump occlusion alarm weekend": PUMP + "'occlusion alarm|alarming (up|down)stream "
                                                    "occlusion'",
}


def _times(fn: Any, repeat: int) -> str:
    fn()  # warm: caches
    ms = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1000)
    return f"min {min(ms):.1f} / median {statistics.median(ms):.1f} ms"


def _precision(conn: Any, vector: Any, model: str, question: str, truth: set[str]) -> dict:
    out = {}
    for mode in S.MODES:
        hits = [h.work_order_id for h in S.rank(conn, vector, model,
                                                 S.SearchRequest(question, 20, mode=mode))]
        out[mode] = {f"P@{k}": round(sum(h in truth for h in hits[:k]) / k, 2)
                     for k in (5, 10, 20)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import asyncio

    import ray
    from pgvector.psycopg import register_vector

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    work = tempfile.mkdtemp(prefix="srchb", dir="/tmp")
    out: dict[str, Any] = {"records": args.records}
    with local_stack(work, args.records, latency_ms=5, pg_schema=SCHEMA,
                     partition_rows=max(1000, args.records // 4)) as stack:
        cfg = stack.config
        model = cfg.embedding.deployment
        result = execute(cfg, RunRequest(config_path=str(stack.config_path)))
        out["exit_code"] = result.exit_code
        conn = connect(stack.dsn, SCHEMA, autocommit=True)
        register_vector(conn)
        total = conn.execute("SELECT count(*) FROM semantic_embeddings WHERE model = %s",
                             (model,)).fetchone()[0]
        out["embeddings"] = total
        vectors = {q: asyncio.run(S.embed_query(cfg.embedding, q)) for q in QUESTIONS}
        for question, relevant in QUESTIONS.items():
            truth = {r[0] for r in conn.execute(
                "SELECT e.work_order_id FROM semantic_embeddings e JOIN maintenance_logs m "
                f"USING (work_order_id) WHERE e.model = %s AND {relevant}", (model,))}
            out[question] = {"relevant": len(truth),
                             **_precision(conn, vectors[question], model, question, truth)}
        question = next(iter(QUESTIONS))
        vector = vectors[question]

        def nearest(n: int) -> None:
            with conn.transaction():
                S._nearest(conn, vector, model, S.SearchRequest(question, n), n)

        def full_text() -> None:
            with conn.transaction():
                S._full_text(conn, question, model, S.SearchRequest(question), S.CANDIDATES)

        for label in ("indexed", "no_index"):
            if label == "no_index":
                for name in SEARCH_INDEXES:
                    conn.execute(f"DROP INDEX {name}")
            out[label] = {
                "vector top 10": _times(lambda: nearest(10), args.repeat),
                f"vector top {S.CANDIDATES}": _times(lambda: nearest(S.CANDIDATES), args.repeat),
                f"full text top {S.CANDIDATES}": _times(full_text, args.repeat),
                **{f"{mode} ranking": _times(
                    lambda mode=mode: S.rank(conn, vector, model,
                                             S.SearchRequest(question, 10, mode=mode)),
                    args.repeat) for mode in S.MODES},
            }
        t0 = time.monotonic()
        ensure_search_index(stack.dsn, SCHEMA)
        out["index_build_seconds"] = round(time.monotonic() - t0, 2)
        conn.close()
    ray.shutdown()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
