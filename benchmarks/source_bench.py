"""Source-only benchmark: rows/s from the fakesnow server through the real connector, as
the job reads them (one query per partition, result batches as Arrow, canonical schema).

    python benchmarks/source_bench.py --rows 200000 --partition-rows 50000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backfill.config import SnowflakeConfig  # noqa: E402
from backfill.devstack.snowflake import FakesnowProcess  # noqa: E402
from backfill.devstack.synthetic import generate_work_orders, write_parquet  # noqa: E402
from backfill.source import Planner, connect, normalize, select_list  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--partition-rows", type=int, default=50_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bfsrc", dir="/tmp"))
    parquet = write_parquet(generate_work_orders(args.rows, bad_rows=False),
                            work / "wo.parquet")
    with FakesnowProcess(seed_parquet=str(parquet)) as fs:
        cfg = SnowflakeConfig(account="fakesnow", user="fake", password="snow",
                              database="CMMS", schema="PUBLIC", connect_args=fs.connect_args)
        conn = connect(cfg)
        t0 = time.monotonic()
        planner = Planner(cfg, conn)
        bounds = planner.bounds()
        assert bounds is not None
        parts = planner.plan(bounds[0], bounds[1], args.partition_rows)
        plan_s = time.monotonic() - t0
        cur = conn.cursor()
        cur.execute(f"SELECT * FROM {cfg.table} LIMIT 0")
        columns, _ = select_list(cfg, {d.name.upper() for d in cur.description})
        t1 = time.monotonic()
        rows = 0
        for p in parts:
            cur.execute(f"SELECT {columns} FROM {cfg.table} WHERE CREATED_AT >= %s AND "
                        "CREATED_AT < %s", (p.lo, p.hi))
            for batch in cur.get_result_batches() or []:
                rows += normalize(batch.to_arrow(), p.index).num_rows
        read_s = time.monotonic() - t1
    print(json.dumps({"rows": rows, "partitions": len(parts), "plan_seconds": round(plan_s, 2),
                      "read_seconds": round(read_s, 2), "rows_per_second": round(rows / read_s)}))


if __name__ == "__main__":
    main()
