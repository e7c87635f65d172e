"""The ``backfill`` command line. Parses arguments and calls the package; nothing else."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from backfill import errors as E
from backfill import logs
from backfill.config import Config, load_config


def _date(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date (2021-03-01 or 2021-03-01T12:00:00)"
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage errors exit 2, as the contract says
        if not logs.settings().json:
            self.print_usage(sys.stderr)
        _cli_log.error("%s: error: %s", self.prog, message)
        raise SystemExit(E.EXIT_CONFIG)


_cli_log = logging.getLogger(logs.CLI_LOGGER)


def _add_log_flags(p: argparse.ArgumentParser) -> None:
    level = p.add_mutually_exclusive_group()
    level.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    level.add_argument("-q", "--quiet", action="store_true",
                       help="warnings and errors only (no progress lines)")
    p.add_argument("--log-format", choices=logs.FORMATS, default=logs.default_format(),
                   help="text, or one JSON object per line of stderr for log shippers "
                   f"(default: ${logs.FORMAT_ENV}, then text)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="backfill",
        description="Backfill of medical work orders: "
        "Snowflake -> PII scrub -> LLM extraction + embeddings -> PostgreSQL.",
    )
    # (the log flags before the command too: "backfill -v retry-failed ...", as the README
    # says every command takes them; merged in main())
    top = parser.add_mutually_exclusive_group()
    top.add_argument("-v", "--verbose", dest="top_verbose", action="store_true",
                     help="debug logging")
    top.add_argument("-q", "--quiet", dest="top_quiet", action="store_true",
                     help="warnings and errors only (no progress lines)")
    parser.add_argument("--log-format", dest="top_log_format", choices=logs.FORMATS,
                        help="text, or one JSON object per line of stderr")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "--config", help="YAML config (default: $BACKFILL_CONFIG, then config/backfill.yaml)"
        )
        _add_log_flags(p)
        return p

    run = command("run", "run (or resume) one backfill")
    run.add_argument("--start", type=_date, help="first timestamp, inclusive (ISO 8601)")
    run.add_argument("--end", type=_date, help="last timestamp, exclusive (ISO 8601)")
    run.add_argument("--run-id", help="resume this run (or start it under this id)")
    run.add_argument("--dry-run", action="store_true", help="plan and estimate only; write nothing")
    run.add_argument("--format", choices=("text", "json"), default="text",
                     help="with --dry-run, json: the plan and estimate as one JSON object on "
                     "standard output (the text report still goes to standard error)")
    run.add_argument("--plan-only", action="store_true",
                     help="plan the run and store its plan, then stop (resume it with --run-id)")
    wait_help = "if another driver holds the run, wait for it instead of exiting 2"
    run.add_argument("--wait", action="store_true", help=wait_help)
    run.add_argument("--no-dashboard", action="store_true",
                     help="do not start the Ray dashboard of a local run")
    run.add_argument("--incremental", action="store_true",
                     help="process the rows new or changed since the last completed run "
                     "(from the high-water mark a backfill sets)")
    run.add_argument("--reprocess", metavar="WHAT",
                     help="with --run-id of a finished run: send again its records made by an "
                     "older scrubber or prompt ('scrubber<N', 'prompt<N') or not by this "
                     "scrubber, prompt and model ('outdated'); as backfill reprocess")
    run.add_argument("--fresh", action="store_true",
                     help="with --reprocess: ask the API again even where the answer journal "
                     "holds an answer for the same text, model and prompt")
    run.add_argument("--lookback-minutes", type=int, metavar="N",
                     help="with --incremental: read from the mark less N minutes, for late "
                     "rows (default pipeline.incremental_lookback_minutes)")

    retry = command("retry-failed", "process a run's unresolved failed records again")
    retry.add_argument("--run-id", required=True)
    retry.add_argument("--wait", action="store_true", help=wait_help)
    fresh_help = ("ask the API again even where the answer journal holds an answer for the "
                  "same text, model and prompt; the new answer replaces the journaled one")
    retry.add_argument("--fresh", action="store_true", help=fresh_help)

    reprocess = command("reprocess", "send a finished run's records again whose extraction an "
                        "older PII scrubber, prompt or model made; their extraction and "
                        "embedding are replaced")
    reprocess.add_argument("--run-id", required=True)
    reprocess.add_argument("--scrubber-below", type=int, metavar="N",
                           help="records whose scrubber version is below N (older rows: 0)")
    reprocess.add_argument("--prompt-below", type=int, metavar="N",
                           help="records extracted with a prompt version below N "
                           "(extract-vN)")
    reprocess.add_argument("--outdated", action="store_true",
                           help="records not made by this scrubber, prompt, extraction schema "
                           "and llm.deployment")
    reprocess.add_argument("--wait", action="store_true", help=wait_help)
    reprocess.add_argument("--fresh", action="store_true", help=fresh_help)

    verify = command("verify", "reconcile the source with Postgres per partition "
                     "(exit 0 when they match, 3 when not)")
    verify.add_argument("--run-id", required=True)
    verify.add_argument("--format", choices=["text", "json"], default="text")

    status = command("status", "progress of one run or of all runs, from the database "
                     "(any machine that reaches it)")
    status.add_argument("--run-id", help="one run in detail (default: every run; --watch: "
                        "the newest)")
    status.add_argument("--watch", action="store_true",
                        help="refresh until the run ends (Ctrl-C to stop watching)")
    status.add_argument("--interval", type=float, default=5.0, metavar="SECONDS",
                        help="seconds between refreshes of --watch (default 5)")
    status.add_argument("--format", choices=["text", "json"], default="text")

    report = command("report", "summary report of a run")
    report.add_argument("--run-id", required=True)
    report.add_argument("--format", choices=["text", "json", "markdown", "html"],
                        default="text", help="html: one self-contained page with charts")
    report.add_argument("--output", metavar="FILE", help="write the report to FILE")

    search = command("search", "the work orders that best answer a question, from the "
                     "embeddings and the full text of the scrubbed documents")
    search.add_argument("text", metavar="TEXT", help="what to look for, in words")
    search.add_argument("--limit", type=int, default=10, metavar="K",
                        help="work orders to show (default 10)")
    search.add_argument("--equipment", metavar="TYPE",
                        help="only this equipment type (maintenance_logs.equipment_type, any case)")
    search.add_argument("--since", type=_date, metavar="DATE",
                        help="only work orders created at or after DATE (ISO 8601)")
    search.add_argument("--mode", choices=["hybrid", "vector"], default="hybrid",
                        help="hybrid: full-text and vector rankings fused; vector: embeddings "
                        "only (default hybrid)")
    search.add_argument("--format", choices=["text", "json"], default="text")

    evaluate = command("eval", "extraction quality of the configured deployment and prompt on "
                       "a golden set of work orders (exit 3 below --min-score)")
    evaluate.add_argument("--golden", metavar="FILE",
                          help="golden set, YAML or JSONL (default: the one shipped, "
                          "backfill/data/golden_extractions.yaml)")
    evaluate.add_argument("--prompt-version", metavar="V",
                          help="a version of schema.PROMPTS (default: the current one)")
    evaluate.add_argument("--format", choices=["text", "json"], default="text")
    evaluate.add_argument("--min-score", type=float, metavar="X",
                          help="exit 3 when the overall score (0..1) is below X")

    demo = command("demo", "the whole job on the embedded local stack, no credentials")
    demo.add_argument("--records", type=int, default=20_000, help="synthetic work orders")
    demo.add_argument("--latency-ms", type=float, default=50.0, help="simulated API latency")
    demo.add_argument(
        "--workdir", default=".backfill/demo", help="where the demo keeps its database and files"
    )
    demo.add_argument("--embedding", choices=["simulator", "local"], default="simulator",
                      help="local: embeddings by all-MiniLM-L6-v2 in the job's processes "
                      "(embedding.provider local; slower, semantic, and searchable after "
                      "the demo with no server)")

    scrub_eval = sub.add_parser(  # no --config: the evaluation reads only its corpus files
        "scrub-eval", help="score the PII scrubber on labeled work orders (exit 3 below a --min)",
        description="score the PII scrubber on labeled work orders (exit 3 below a --min)")
    scrub_eval.add_argument("files", nargs="*", metavar="FILE",
                            help="JSONL corpus (default: tests/data/phi tune and heldout)")
    scrub_eval.add_argument("--format", choices=["text", "json"], default="text")
    scrub_eval.add_argument("--min-recall", type=float, metavar="PCT",
                            help="every identifier kind at least this recall")
    scrub_eval.add_argument("--min-precision", type=float, metavar="PCT",
                            help="look-alikes kept, all kinds together, at least this share")
    _add_log_flags(scrub_eval)
    return parser


def cmd_scrub_eval(args: argparse.Namespace) -> int:
    from backfill.scrub_eval import DEFAULT_CORPUS, evaluate, gate_failures, scores_text

    scores = evaluate(args.files or DEFAULT_CORPUS)
    failures = gate_failures(scores, args.min_recall, args.min_precision)
    if args.format == "json":
        print(json.dumps({"splits": [s.to_json() for s in scores], "failures": failures}, indent=2,
                         ensure_ascii=False))
    else:
        print("\n".join([scores_text(scores), *failures]))
    return E.EXIT_TOO_MANY_FAILURES if failures else E.EXIT_OK


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config)


def cmd_run(args: argparse.Namespace) -> int:
    from backfill.runner import RunRequest, execute

    if args.start and args.end and args.start >= args.end:
        raise E.ConfigError(f"--start {args.start} is not before --end {args.end}")
    if args.format == "json" and not args.dry_run:
        raise E.ConfigError("--format json is for --dry-run only")
    if args.incremental:
        return _incremental(args)
    if args.reprocess is not None:
        return _reprocess_run(args)
    if args.fresh:
        raise E.ConfigError("--fresh is for --reprocess (and the retry-failed and reprocess "
                            "commands)")
    if args.lookback_minutes is not None:
        raise E.ConfigError("--lookback-minutes is for --incremental only")
    cfg = _config(args)
    result = execute(cfg, RunRequest(args.config, args.start, args.end, args.run_id, args.dry_run,
                                     args.wait, args.plan_only, not args.no_dashboard),
                     logs.run_output())
    if args.dry_run and args.format == "json":
        print(json.dumps(result.summary, default=str))
    elif not (args.dry_run or args.plan_only):
        print(_summary_text(result.run_id, result.summary, result.seconds))
    return result.exit_code


def _incremental(args: argparse.Namespace) -> int:
    from backfill.incremental import run_incremental

    clash = [flag for flag, value in (("--start", args.start), ("--end", args.end),
                                      ("--run-id", args.run_id), ("--dry-run", args.dry_run),
                                      ("--plan-only", args.plan_only)) if value]
    if clash:
        raise E.ConfigError(f"--incremental takes its range from the high-water mark: drop "
                            f"{', '.join(clash)}")
    if args.lookback_minutes is not None and args.lookback_minutes < 0:
        raise E.ConfigError(f"--lookback-minutes {args.lookback_minutes}: give 0 or more")
    result = run_incremental(_config(args), args.config, args.lookback_minutes,
                             logs.run_output(), args.wait, not args.no_dashboard)
    print(_summary_text(result.run_id, result.summary, result.seconds))
    return result.exit_code


def _summary_text(run_id: str, summary: dict[str, Any], seconds: float | None = None) -> str:
    lines = [
        f"run {run_id}: {summary.get('ok', 0):,} ok, {summary.get('failed', 0):,} failed "
        f"of {summary.get('records', 0):,} records"
        + (f" in {seconds:.0f} s" if seconds is not None else "")
    ]
    for key, n in summary.get("failed_by_stage", {}).items():
        lines.append(f"  failed {key}: {n:,}")
    if summary.get("answers_reused"):
        lines.append(f"  answers reused from the journal: {summary['answers_reused']:,}")
    if "reconciled" in summary:
        lines.append("  reconciled with the source: "
                     + ("yes" if summary["reconciled"] else "NO (see above; backfill verify)"))
    return "\n".join(lines)


def cmd_retry_failed(args: argparse.Namespace) -> int:
    from backfill.retry import retry_failed

    result = retry_failed(_config(args), args.run_id, args.config, logs.run_output(),
                          wait=args.wait, fresh=args.fresh)
    print(_summary_text(result.run_id, result.summary, result.seconds))
    return result.exit_code


def _reprocess_run(args: argparse.Namespace) -> int:
    from backfill.retry import Selection, reprocess

    clash = [flag for flag, value in (("--start", args.start), ("--end", args.end),
                                      ("--dry-run", args.dry_run),
                                      ("--plan-only", args.plan_only),
                                      ("--lookback-minutes", args.lookback_minutes)) if value]
    if clash or not args.run_id:
        raise E.ConfigError("--reprocess takes the records of one finished run: give --run-id "
                            "ID" + (f" and drop {', '.join(clash)}" if clash else ""))
    result = reprocess(_config(args), args.run_id, Selection.parse(args.reprocess),
                       args.config, logs.run_output(), wait=args.wait, fresh=args.fresh)
    print(_summary_text(result.run_id, result.summary, result.seconds))
    return result.exit_code


def cmd_reprocess(args: argparse.Namespace) -> int:
    from backfill.retry import Selection, reprocess

    selection = Selection(args.scrubber_below, args.prompt_below, args.outdated)
    result = reprocess(_config(args), args.run_id, selection, args.config,
                       logs.run_output(), wait=args.wait, fresh=args.fresh)
    print(_summary_text(result.run_id, result.summary, result.seconds))
    return result.exit_code


def cmd_status(args: argparse.Namespace) -> int:
    from backfill.status import status, watch

    if args.watch:
        if args.interval <= 0:
            raise E.ConfigError(f"--interval {args.interval}: give a number of seconds above 0")
        return watch(_config(args), args.run_id, args.interval)
    print(status(_config(args), args.run_id, args.format))
    return E.EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from backfill.report import report

    text = report(_config(args), args.run_id, args.format)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text if text.endswith("\n") else text + "\n")
        except OSError as exc:
            raise E.ConfigError(f"--output {args.output}: {exc.strerror}") from None
        print(f"report of run {args.run_id} written to {args.output}", file=logs.run_output())
    else:
        print(text)
    return E.EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from backfill.runner import verify_run

    check = verify_run(_config(args), args.run_id)
    print(json.dumps(check.to_json(), indent=2) if args.format == "json" else check.text())
    return E.EXIT_OK if check.reconciled else E.EXIT_TOO_MANY_FAILURES


def cmd_search(args: argparse.Namespace) -> int:
    from backfill.search import SearchRequest, result_text, search

    result = search(_config(args), SearchRequest(args.text, args.limit, args.equipment,
                                                 args.since, args.mode))
    print(json.dumps(result.to_json(), indent=2) if args.format == "json"
          else result_text(result))
    return E.EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from backfill import schema as S
    from backfill.evaluate import evaluate, report_text

    if args.min_score is not None and not 0 <= args.min_score <= 1:
        raise E.ConfigError(f"--min-score {args.min_score}: give a score between 0 and 1")
    report = evaluate(_config(args), args.golden, args.prompt_version or S.PROMPT_VERSION)
    print(json.dumps(report.to_json(), indent=2, ensure_ascii=False) if args.format == "json"
          else report_text(report))
    overall = report.scores().overall
    if args.min_score is not None and overall < args.min_score:
        _cli_log.error("backfill eval: overall score %.3f is below --min-score %s", overall,
                       args.min_score)
        return E.EXIT_TOO_MANY_FAILURES
    return E.EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from backfill.devstack.demo import run_demo

    return run_demo(records=args.records, latency_ms=args.latency_ms, workdir=args.workdir,
                    embedding=args.embedding)


COMMANDS = {
    "run": cmd_run,
    "retry-failed": cmd_retry_failed,
    "reprocess": cmd_reprocess,
    "status": cmd_status,
    "report": cmd_report,
    "verify": cmd_verify,
    "search": cmd_search,
    "eval": cmd_eval,
    "demo": cmd_demo,
    "scrub-eval": cmd_scrub_eval,
}


def _early_format(argv: Sequence[str] | None) -> str:
    """--log-format before the full parse, so that a usage error is in that format too."""
    pre = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    pre.add_argument("--log-format")
    try:
        known, _ = pre.parse_known_args(argv)
    except argparse.ArgumentError:  # the full parse says what is wrong
        return logs.default_format()
    return known.log_format if known.log_format in logs.FORMATS else logs.default_format()


def main(argv: Sequence[str] | None = None) -> int:
    logs.configure(_early_format(argv))
    args = build_parser().parse_args(argv)
    args.verbose = args.verbose or args.top_verbose
    args.quiet = args.quiet or args.top_quiet
    if args.top_log_format:
        args.log_format = args.top_log_format
    logs.configure(args.log_format, args.verbose, args.quiet)
    logs.set_run_id(getattr(args, "run_id", None))
    try:
        return COMMANDS[args.command](args)
    except E.ConfigError as exc:
        _cli_log.error("backfill: configuration error: %s", exc)
        return E.EXIT_CONFIG
    except E.FatalError as exc:
        _cli_log.error("backfill: fatal: %s", exc)
        return E.EXIT_FATAL
    except KeyboardInterrupt:
        # Ctrl-C or SIGTERM outside the pipeline (starting Ray, the preflight, the report):
        # one line, not a traceback; the same exit as an interrupted pipeline
        _cli_log.error("backfill: fatal: interrupted")
        return E.EXIT_FATAL
    except Exception:
        if not logs.settings().json:
            raise
        # the traceback as one record: in JSON mode stderr holds nothing else
        _cli_log.critical("backfill: unexpected error", exc_info=True)
        return E.EXIT_FATAL


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
