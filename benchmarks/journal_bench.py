"""Answer-journal benchmark: what journaling costs an API actor, per answer, against the
embedded Postgres.

    python benchmarks/journal_bench.py --answers 20000 [--dimensions 1536]

For chat answers (an extraction's JSON, ~700 bytes) and embeddings (float32 vectors), it
hands ``--answers`` answers to the journal as an actor does (key, JSON dump, add), waits
until they are written, and reports the client's CPU per answer (this process: the actor's
share and the writer thread's), the Postgres server's CPU per answer, and the lookup of a
batch of 200 keys (all found). One process, so the figures are the journal's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backfill import schema as S  # noqa: E402
from backfill.db import ensure_schema  # noqa: E402
from backfill.devstack.postgres import embedded_dsn  # noqa: E402
from backfill.journal import Journal, JournalTarget  # noqa: E402

SCHEMA = "journalbench"
EXTRACTION = S.Extraction(
    equipment_category=S.EquipmentCategory.infusion, failure_mode=S.FailureMode.sensor,
    root_cause="kinked pressure sensor line", actions_taken=["replaced pressure sensor",
                                                             "ran flow-rate calibration"],
    parts_replaced=["pressure sensor", "door latch"], severity=S.Severity.medium,
    patient_safety_impact=S.SafetyImpact.potential, follow_up_needed=False,
    summary="Infusion pump occlusion alarm: pressure sensor and door latch replaced, "
    "calibrated, returned to service.", confidence=0.86)


def _server_cpu() -> float:
    """CPU seconds of every postgres process on the machine (the embedded server's)."""
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] == "postgres":
            try:
                t = proc.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                continue
    return total


async def _measure(journal: Journal, items: list[tuple[str, object]],
                   kind: str) -> dict[str, float]:
    cpu0, server0, t0 = time.process_time(), _server_cpu(), time.monotonic()
    for doc, answer in items:
        key = journal.key(doc)
        if kind == "chat":
            assert isinstance(answer, S.Extraction)
            journal.add_chat(key, answer.model_dump_json(), 1200, 150)
        else:
            assert isinstance(answer, np.ndarray)
            journal.add_vector(key, answer.astype("<f4", copy=False).tobytes())
    added = time.process_time() - cpu0
    await journal.flushed()
    cpu, wall = time.process_time() - cpu0, time.monotonic() - t0
    server = _server_cpu() - server0
    n = len(items)
    docs = [d for d, _ in items[:200]]
    l0 = time.process_time()
    lw = time.monotonic()
    for _ in range(20):
        _, found = await journal.lookup(docs)
        assert len(found) == len(set(docs))
    return {
        "answers": n,
        "client_cpu_ms_per_answer": round(cpu / n * 1000, 4),
        "of_which_in_the_actor_ms": round(added / n * 1000, 4),
        "server_cpu_ms_per_answer": round(server / n * 1000, 4),
        "written_per_second": round(n / wall),
        "lookup_200_cpu_ms": round((time.process_time() - l0) / 20 * 1000, 2),
        "lookup_200_wall_ms": round((time.monotonic() - lw) / 20 * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=20_000)
    parser.add_argument("--dimensions", type=int, default=1536)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bfjournal", dir="/tmp"))
    dsn = embedded_dsn(base / "pg")
    ensure_schema(dsn, SCHEMA, args.dimensions)
    target = JournalTarget(dsn, SCHEMA)
    text = ("Equipment: infusion pump; work order {}: occlusion alarm, replaced the pressure "
            "sensor and the door latch, calibrated the flow rate. ") * 4
    docs = [text.format(i) for i in range(args.answers)]
    rng = np.random.default_rng(0)
    chat = Journal.for_chat(target, "gpt-4o-mini")
    emb = Journal.for_embedding(target, "text-embedding-3-small", args.dimensions)
    vectors = [rng.standard_normal(args.dimensions).astype(np.float32) for _ in docs]
    result = {
        "chat": asyncio.run(_measure(chat, [(d, EXTRACTION) for d in docs], "chat")),
        "embedding": asyncio.run(_measure(emb, list(zip(docs, vectors, strict=True)),
                                          "embedding")),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
