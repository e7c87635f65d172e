"""The dry run's estimate against what the run used, over many samples of the same range.

    python benchmarks/dry_run_bench.py --records 3000 --samples 12 [--sample-rows 1000]

On the local stack (fakesnow, simulator, embedded Postgres, local Ray), ``--samples`` times:
draw a sample as ``run --dry-run`` does, send its 20 sample calls, and make the estimate
twice from the same sample and calls: with the counts carried over to the range's length
(Snowflake's count, what the dry run does) and with the sample's plain means (before).
Then the job runs once; what it used is counted from the simulator's request log. Also the
sampling part alone: tiktoken's mean counts of each sample against those of every row of
the range (no service count involved). Prints one JSON object: per sample and estimate,
the error against the run, and min / max / standard deviation.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backfill import estimate as E  # noqa: E402
from backfill.devstack.simulator import read_request_log  # noqa: E402
from backfill.devstack.stack import local_stack  # noqa: E402
from backfill.preflight import SAMPLE_WORK_ORDER  # noqa: E402
from backfill.runner import RunRequest, _plan, _start_session, execute, init_ray  # noqa: E402
from backfill.source import session_call  # noqa: E402


def _sim_tokens(chars: int) -> int:
    """The simulator's count: characters / 4, rounded up (backfill/devstack/simulator.py)."""
    return (chars + 3) // 4


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "max": max(values), "sd": statistics.pstdev(values)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=3000)
    ap.add_argument("--samples", type=int, default=12)
    ap.add_argument("--sample-rows", type=int, default=1000)
    ap.add_argument("--calls", type=int, default=20)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="dryrun_bench", dir="/tmp")
    overrides = {"pipeline": {"dry_run_sample_calls": args.calls,
                              "dry_run_sample_rows": args.sample_rows}}
    with local_stack(work, args.records, pg_schema="dry_run_bench", partition_rows=1000,
                     overrides=overrides) as st:
        cfg = st.config
        init_ray()
        session = _start_session(cfg, "dry-run-bench")
        req = RunRequest(config_path=str(st.config_path))
        start, end, parts = _plan(cfg, req, "dry-run-bench", session, io.StringIO())
        duplicates, parts = session_call(session.duplicates, start, end, parts)
        range_rows = sum(p.rows for p in parts if not p.null_timestamps)
        llm_enc, emb_enc = cfg.llm.encoding(), cfg.embedding.encoding()
        whole = cfg.model_copy(update={"pipeline": cfg.pipeline.model_copy(
            update={"dry_run_sample_rows": range_rows})})
        _, every, _ = E.sample_documents(whole, session, start, end, frozenset(duplicates),
                                         range_rows)
        true_emb = statistics.fmean(E.embedding_tokens(d, emb_enc) for d in every)
        true_prompt = statistics.fmean(E.prompt_tokens(d, llm_enc) for d in every)
        samples: list[dict[str, Any]] = []
        estimates = []
        for _ in range(args.samples):
            rows, docs, lengths = E.sample_documents(cfg, session, start, end,
                                                     frozenset(duplicates), range_rows)
            assert lengths is not None
            calls = asyncio.run(E.call_sample(cfg, random.Random(0).sample(
                docs, min(args.calls, len(docs)))))
            estimates.append((E.estimate(cfg, parts, rows, docs, calls, 0, lengths),
                              E.estimate(cfg, parts, rows, docs, calls, 0)))
            emb = [float(E.embedding_tokens(d, emb_enc)) for d in docs]
            prompt = [float(E.prompt_tokens(d, llm_enc)) for d in docs]
            samples.append({
                "sample_chars_per_row": lengths.sample_mean,
                "range_chars_per_row": lengths.range_mean,
                "counted": {  # the sampling alone: tiktoken's counts against every row's
                    "embedding": {"range": lengths.range_mean_of(emb) / true_emb - 1,
                                  "plain": statistics.fmean(emb) / true_emb - 1},
                    "prompt": {"range": lengths.range_mean_of(prompt) / true_prompt - 1,
                               "plain": statistics.fmean(prompt) / true_prompt - 1}}})
        import ray

        ray.kill(session)
        before = len(read_request_log(st.request_log))
        st.simulator.reset()
        result = execute(cfg, req)
        log = read_request_log(st.request_log)[before:]
        chats = [r for r in log if r["kind"] == "chat" and r["status"] == 200
                 and SAMPLE_WORK_ORDER not in r["texts"]]
        embeds = [r for r in log if r["kind"] == "embeddings" and r["status"] == 200
                  and r["texts"] != [SAMPLE_WORK_ORDER]]
        used = {"prompt": sum(_sim_tokens(sum(len(t) for t in r["texts"])) for r in chats),
                "completion": st.simulator.stats()["completion_tokens"],
                "embedding": sum(_sim_tokens(len(t)) for r in embeds for t in r["texts"])}
        for sample, (ranged, plain) in zip(samples, estimates, strict=True):
            for name, est in (("range", ranged), ("plain", plain)):
                got = {"prompt": est.prompt_tokens, "completion": est.completion_tokens,
                       "embedding": est.embedding_tokens}
                sample[name] = {k: got[k] / used[k] - 1 for k in used}
        summary = {
            f"{how} {kind}": _spread([s[how][kind] for s in samples])
            for how in ("range", "plain") for kind in used}
        summary.update({
            f"counted {kind} {how}": _spread([s["counted"][kind][how] for s in samples])
            for kind in ("embedding", "prompt") for how in ("range", "plain")})
        print(json.dumps({"records": args.records, "sample_rows": args.sample_rows,
                          "calls": args.calls, "run_exit_code": result.exit_code,
                          "used": used, "summary": summary, "samples": samples}, indent=1))


if __name__ == "__main__":
    main()
