"""Texts per second of the PHI guard and of the scrubber (with and without its name lists),
one core, on ~500-character work-order texts; and the cost a row of sealing the raw free text.

    python benchmarks/guard_bench.py [--texts 1000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import backfill.scrub as scrub_module
from backfill.devstack.synthetic import generate_work_orders
from backfill.guard import find_identifiers
from backfill.names import mask_names
from backfill.schema import FREE_TEXT
from backfill.scrub import scrub_text
from backfill.seal import new_key, seal, unseal


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
    data = generate_work_orders(4 * args.texts, seed=1)
    rows = data.table.select(list(FREE_TEXT)).to_pylist()
    joined = [" ".join(v for v in r.values() if v) for r in rows]
    raw = [t for t in joined if 300 <= len(t) <= 800][: args.texts]
    texts = [scrub_text(t).text or "" for t in raw]
    print(f"{len(texts)} texts of {sum(map(len, texts)) / len(texts):.0f} characters on average")
    print(f"  guard                   {rate(find_identifiers, texts):10,.0f} texts/s")
    print(f"  scrubber                {rate(scrub_text, raw):10,.0f} texts/s")
    print(f"  name lists alone        {rate(lambda t: mask_names(t, []), raw):10,.0f} texts/s")
    with_lists = scrub_module.mask_names
    scrub_module.mask_names = lambda text, hits, *a: text  # type: ignore[assignment]
    try:
        print(f"  scrubber, no name lists {rate(scrub_text, raw):10,.0f} texts/s")
    finally:
        scrub_module.mask_names = with_lists
    table, key = data.table, new_key()
    t0 = time.perf_counter()
    sealed = seal(table, key)
    t1 = time.perf_counter()
    unseal(sealed, key)
    t2 = time.perf_counter()
    print(f"  seal {1e6 * (t1 - t0) / table.num_rows:.1f} us/row, open "
          f"{1e6 * (t2 - t1) / table.num_rows:.1f} us/row ({table.num_rows:,} rows)")


if __name__ == "__main__":
    main()
