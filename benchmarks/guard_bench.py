"""Texts per second of the PHI guard and of the scrubber, one core, on ~500-character
scrubbed work-order texts (what the guard sees just before a request leaves).

    python benchmarks/guard_bench.py [--texts 1000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from backfill.devstack.synthetic import generate_work_orders
from backfill.guard import find_identifiers
from backfill.schema import FREE_TEXT
from backfill.scrub import scrub_text


def rate(fn: Callable[[str], Any], texts: list[str], rounds: int = 3) -> float:
    """Best of ``rounds`` passes, texts per second."""
    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        for text in texts:
            fn(text)
        best = max(best, len(texts) / (time.perf_counter() - t0))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=1000)
    args = parser.parse_args()
    rows = generate_work_orders(4 * args.texts, seed=1).table.select(list(FREE_TEXT)).to_pylist()
    joined = [" ".join(v for v in r.values() if v) for r in rows]
    texts = [scrub_text(t).text or "" for t in joined if 300 <= len(t) <= 800][: args.texts]
    print(f"{len(texts)} texts of {sum(map(len, texts)) / len(texts):.0f} characters on average")
    print(f"  guard     {rate(find_identifiers, texts):10,.0f} texts/s")
    print(f"  scrubber  {rate(scrub_text, texts):10,.0f} texts/s")


if __name__ == "__main__":
    main()
