"""The quota benchmark of issue 14: the whole job against a simulator that admits as Azure
does (prompt + max_tokens charged at admission, RPM/60 and TPM/60 per 1-second window, no
refund) with answers of 1-4 s (lognormal, long tail).

    python benchmarks/admission_bench.py                      # ~10 minutes, 12,000 records
    python benchmarks/admission_bench.py --records 1500       # a quick look
    python benchmarks/admission_bench.py --fixed-max-tokens   # max_tokens = 800 every time

Prints records/hour, the share of the binding limit (RPM or TPM) the admitted requests
used (over the whole run, and while the pipeline was sending: from its first admitted chat
request to its last), the 429 share of the chat requests, the time to the first commit,
and the ceilings the quota allows: with the answers' real length, and with max_tokens
charged in full.
Every figure comes from the simulator's own counters.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline_bench import run  # noqa: E402

CHAT = "gpt-4o-mini"  # the demo stack's llm.deployment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=12_000)
    parser.add_argument("--rpm", type=int, default=2_400)
    parser.add_argument("--tpm", type=int, default=600_000)
    parser.add_argument("--window-s", type=float, default=1.0, help="admission window")
    parser.add_argument("--latency-ms", type=float, default=1_800.0, help="median answer time")
    parser.add_argument("--latency-sigma", type=float, default=0.4,
                        help="lognormal spread (0.4: 90%% of answers within 0.9-3.5 s)")
    parser.add_argument("--max-output-tokens", type=int, default=800)
    parser.add_argument("--fixed-max-tokens", action="store_true",
                        help="llm.adaptive_max_tokens: false")
    parser.add_argument("--extract-actors", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=None, help="pipeline.batch_size")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    res = run(args.records, args.latency_ms, args.rpm, args.tpm, args.extract_actors, 0, None,
              build_index=False,
              sim_options={"admission_window_s": args.window_s,
                           "latency_sigma": args.latency_sigma},
              llm={"max_output_tokens": args.max_output_tokens,
                   "adaptive_max_tokens": not args.fixed_max_tokens},
              pipeline={} if args.batch_size is None else {"batch_size": args.batch_size})
    chat = res.by_model.get(CHAT, {})
    statuses = chat.get("by_status", {})
    ok = int(statuses.get("200", 0))
    minutes = res.seconds / 60
    rpm_used = ok / minutes / args.rpm
    tpm_used = int(chat.get("admitted_tokens", 0)) / minutes / args.tpm
    prompt = int(chat.get("prompt_tokens", 0)) / max(ok, 1)
    answer = int(chat.get("completion_tokens", 0)) / max(ok, 1)
    # the same over the seconds the pipeline was sending (not the cluster's start-up, the
    # preflight, the last batch's embeddings, the index and the report)
    span_min = max(res.chat_span_seconds, 1e-9) / 60
    tpm_sending = (int(chat.get("admitted_tokens", 0)) - int(chat.get("admitted_tokens", 0))
                   / max(ok, 1)) / span_min / args.tpm
    rpm_sending = (ok - 1) / span_min / args.rpm
    per_hour = 60 * min(args.rpm, args.tpm / (prompt + answer))  # chat requests an hour
    per_hour_capped = 60 * min(args.rpm, args.tpm / (prompt + args.max_output_tokens))
    requests_per_record = int(chat.get("requests", 0) - statuses.get("429", 0)) / args.records
    out = {
        "records": args.records, "seconds": res.seconds, "exit_code": res.exit_code,
        "ok": res.ok, "failed": res.failed,
        "records_per_hour": res.records_per_hour,
        "first_commit_seconds": res.first_commit_seconds,
        **{f"{k}_answered_at_s": v for k, v in res.timeline_seconds.items()},
        "chat_requests": int(chat.get("requests", 0)),
        "share_429": round(int(statuses.get("429", 0)) / max(int(chat.get("requests", 0)), 1), 4),
        "binding_limit": "tpm" if tpm_used >= rpm_used else "rpm",
        "binding_limit_used": round(max(rpm_used, tpm_used), 3),
        "rpm_used": round(rpm_used, 3), "tpm_used_admitted": round(tpm_used, 3),
        "chat_span_seconds": res.chat_span_seconds,
        "binding_limit_used_while_sending": round(max(rpm_sending, tpm_sending), 3),
        "prompt_tokens_per_request": round(prompt), "answer_tokens_per_request": round(answer),
        "admitted_tokens_per_request": round(int(chat.get("admitted_tokens", 0)) / max(ok, 1)),
        "ceiling_records_per_hour_real_length": round(per_hour / requests_per_record),
        "ceiling_records_per_hour_max_tokens_charged": round(per_hour_capped
                                                             / requests_per_record),
        "cpu_ms_per_record": res.cpu_seconds_per_record_ms, "peak_pss_mib": res.peak_rss_mib,
    }
    if args.json:
        print(json.dumps(out))
        return
    for key, value in out.items():
        print(f"  {key:44} {value}")


if __name__ == "__main__":
    main()
