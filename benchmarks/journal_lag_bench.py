"""How long after the service answers is an answer in the journal: the window a SIGKILL can
make the job pay again for (the kill tests' bound, tests/kill_bounds.py).

    python benchmarks/journal_lag_bench.py --records 8000 [--max-concurrency 128]

Runs the job (``backfill run`` in a child process, as an operator does) over a local stack
with the simulator answering in 20 ms, then matches each chat answer's line in the
simulator's request log (written when it answers) with its row in ``answer_journal``
(``created_at``: when the writer's INSERT began). The difference is the answer's time in
flight on our side (read by the actor's event loop, validated, handed to the writer) plus
its wait for the next flush. Reported as quantiles, and over time in 10 s buckets.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backfill import schema as S  # noqa: E402
from backfill.devstack.simulator import read_request_log  # noqa: E402
from backfill.devstack.stack import local_stack  # noqa: E402
from backfill.journal import CHAT, answer_key, prompt_version  # noqa: E402

SCHEMA = "journallag"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--records", type=int, default=8000)
    p.add_argument("--latency-ms", type=float, default=20.0)
    p.add_argument("--max-concurrency", type=int, default=128,
                   help="llm.max_concurrency: requests in flight per extract actor")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="journallag", dir="/tmp"))
    overrides = {"llm": {"max_concurrency": args.max_concurrency}}
    with local_stack(work, args.records, latency_ms=args.latency_ms, pg_schema=SCHEMA,
                     partition_rows=1000, seed=3, overrides=overrides) as stack:
        env = {**os.environ, "RAY_TMPDIR": tempfile.mkdtemp(prefix="bfray", dir="/tmp")}
        started = time.time()
        run = subprocess.run([sys.executable, "-m", "backfill.cli", "run", "--config",
                              str(stack.config_path), "--run-id", "lag", "--no-dashboard"],
                             env=env, capture_output=True, check=False)
        wall = time.time() - started
        if run.returncode:
            sys.exit(f"run exited {run.returncode}: {run.stderr.decode()[-2000:]}")
        model = yaml.safe_load(stack.config_path.read_text())["llm"]["deployment"]
        with psycopg.connect(stack.dsn) as conn:
            conn.execute(f"SET search_path TO {SCHEMA}, public")
            journaled = dict(conn.execute(
                "SELECT answer_key, extract(epoch FROM created_at)::float8 FROM answer_journal "
                "WHERE kind = %s", (CHAT,)).fetchall())
        version = prompt_version()
        points = []  # (answered at, seconds until journaled)
        for r in read_request_log(stack.request_log):
            if r["kind"] == "chat" and len(r["texts"]) == 2 and r["status"] == 200:
                key = answer_key(CHAT, model, version, S.SCHEMA_VERSION, r["texts"][-1])
                if key in journaled:
                    points.append((r["ts"], journaled[key] - r["ts"]))
    lags = sorted(lag for _, lag in points)

    def q(f: float) -> float:
        return lags[min(len(lags) - 1, int(f * len(lags)))]

    print(f"{args.records:,} records, {args.latency_ms:g} ms answers, max_concurrency "
          f"{args.max_concurrency}: run {wall:.0f} s; {len(lags):,} chat answers matched")
    print(f"answered -> journaled: p50 {q(0.5):.2f} s, p90 {q(0.9):.2f} s, p99 {q(0.99):.2f} s, "
          f"max {lags[-1]:.2f} s; over 0.52 s (20 ms + 2 flush intervals): "
          f"{sum(1 for x in lags if x > 0.52) / len(lags):.1%}")
    buckets: dict[int, list[float]] = collections.defaultdict(list)
    first = min(t for t, _ in points)
    for t, lag in points:
        buckets[int((t - first) // 10)].append(lag)
    for b in sorted(buckets):
        v = sorted(buckets[b])
        print(f"  {b * 10:4d}-{b * 10 + 10:<4d} s: {len(v) / 10:6.1f} answers/s, "
              f"median {v[len(v) // 2]:.2f} s, max {v[-1]:.2f} s")


if __name__ == "__main__":
    main()
