"""``backfill report``: what a run did, read from the database alone, as text, JSON,
Markdown or one self-contained HTML page with charts (backfill.charts)."""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
from pathlib import Path
from typing import Any

import psycopg

from backfill import progress as P
from backfill import usage as U
from backfill.batch import batch_usage
from backfill.config import Config
from backfill.db import connect, resolve_dsn
from backfill.status import require_tables, unknown_run, usage_of

log = logging.getLogger(__name__)

# The story's throughput target: the report says whether the run met it.
TARGET_RECORDS_PER_HOUR = 100_000
# Timeline buckets: the smallest that gives at most this many points over the run.
_BUCKETS = (10, 30, 60, 300, 900, 3600, 4 * 3600, 86400)
MAX_POINTS = 120
SLOWEST = 10


def build_report(cfg: Config, run_id: str) -> dict[str, Any]:
    with connect(resolve_dsn(cfg), cfg.postgres.schema_, autocommit=True) as conn:
        require_tables(conn)
        return report_from(conn, run_id, cfg)


def report_from(conn: psycopg.Connection[Any], run_id: str, cfg: Config | None) -> dict[str, Any]:
    """The report's figures, from the tables (and the attempts' stored usage)."""
    runs = P.run_progress(conn, run_id)
    if not runs:  # (the connection's search path starts with the run's schema)
        schema = cfg.postgres.schema_ if cfg is not None else conn.execute(
            "SELECT current_schema()").fetchone()[0]  # type: ignore[index]
        raise unknown_run(conn, schema, run_id)
    r = runs[0]
    info = conn.execute(
        "SELECT info, created_at, updated_at FROM etl_metadata WHERE run_id = %s "
        "AND kind = 'run'",
        (run_id,),
    ).fetchone()
    failed = P.open_failures(conn, run_id)
    tokens = conn.execute(
        "SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), "
        "count(*) FILTER (WHERE input_truncated), "
        "count(*) FILTER (WHERE jsonb_array_length(warnings) > 0) "
        "FROM ai_extracted_data WHERE run_id = %s",
        (run_id,),
    ).fetchone()
    embedded = conn.execute(
        "SELECT count(*) FROM semantic_embeddings WHERE run_id = %s", (run_id,)
    ).fetchone()
    redactions = conn.execute(
        "SELECT r.key, sum(r.value::bigint) FROM ai_extracted_data a, "
        "jsonb_each_text(a.redactions) r WHERE a.run_id = %s GROUP BY 1 ORDER BY 2 DESC, 1",
        (run_id,),
    ).fetchall()
    versions = conn.execute(
        "SELECT coalesce(scrubber_version, 'before 3'), count(*) FROM ai_extracted_data "
        "WHERE run_id = %s GROUP BY 1 ORDER BY 1", (run_id,),
    ).fetchall()
    breakdown = conn.execute(
        "SELECT failure_mode, count(*) FROM ai_extracted_data WHERE run_id = %s "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
        (run_id,),
    ).fetchall()
    attempts = U.attempts(conn, run_id)
    timeline = _timeline(conn, run_id, info[1] if info else None)
    slowest = _slowest_partitions(conn, run_id)
    assert info is not None and tokens is not None and embedded is not None
    usage = usage_of(cfg, U.merge(*(a.usage for a in attempts)))
    active = sum(a.seconds for a in attempts) or (r.updated_at - info[1]).total_seconds()
    processed = r.rows_ok + r.rows_failed
    rate = processed / active * 3600 if active > 0 else None
    costs = [u.cost for u in usage if u.cost is not None]
    batch = batch_report(conn, run_id, cfg)
    if batch["cost"] is not None:
        costs.append(batch["cost"])
    return {
        "run_id": run_id,
        "state": r.state,
        "params": info[0].get("params", {}),
        "started_at": info[1],
        "updated_at": r.updated_at,
        "partitions": {"total": r.partitions, "done": r.partitions_done},
        "error": r.error,
        "reconciled": (info[0].get("summary") or {}).get("reconciled"),
        "records": {
            "planned": r.rows_planned,
            "expected": r.rows_expected,
            "ok": r.rows_ok,
            "failed": r.rows_failed,
            "failed_unresolved": r.failed_open,
        },
        "failed_by_stage": [{"stage": s, "error_class": c, "count": n} for s, c, n in failed],
        "extractions": {
            "rows": tokens[0],
            "input_tokens": tokens[1],
            "output_tokens": tokens[2],
            "input_truncated": tokens[3],
            "with_grounding_warnings": tokens[4],
        },
        "embeddings": embedded[0],
        "top_failure_modes": {m: n for m, n in breakdown},
        # what the scrubber replaced in the text sent for the run's extractions, by kind; and
        # how many extractions each scrubber version made (reprocess the older ones)
        "redactions": {k: int(n) for k, n in redactions},
        "scrubber_versions": {v: n for v, n in versions},
        # what the APIs were sent and billed (requests answered 429 and sent again count
        # twice), by deployment, at the configured prices
        "usage": [vars(u) for u in usage],
        "cost": sum(costs) if costs else None,
        # llm.mode batch: what the Batch API was sent and billed, at the batch price and as
        # the same tokens would have cost in real time
        "batch": batch,
        "attempts": [{"number": a.number, "state": a.state, "host": a.host, "pid": a.pid,
                      "command": a.command, "started_at": a.started_at,
                      "last_heartbeat_at": a.last_beat_at, "seconds": round(a.seconds, 1)}
                     for a in attempts],
        "throughput": {
            "active_seconds": round(active, 1),
            "records_per_hour": None if rate is None else round(rate),
            "target_records_per_hour": TARGET_RECORDS_PER_HOUR,
            "target_met": None if rate is None else rate >= TARGET_RECORDS_PER_HOUR,
        },
        "timeline": timeline,
        "slowest_partitions": slowest,
    }


def _timeline(conn: psycopg.Connection[Any], run_id: str,
              origin: dt.datetime | None) -> dict[str, Any]:
    """Records committed per time bucket (ok, and failed by stage), from the rows' own
    timestamps: extracted_at of each extraction, first_seen_at of each failure (resolved
    ones too: they failed then)."""
    span = conn.execute(
        "SELECT least((SELECT min(extracted_at) FROM ai_extracted_data WHERE run_id = %(r)s), "
        "(SELECT min(first_seen_at) FROM failed_records WHERE run_id = %(r)s)), "
        "greatest((SELECT max(extracted_at) FROM ai_extracted_data WHERE run_id = %(r)s), "
        "(SELECT max(first_seen_at) FROM failed_records WHERE run_id = %(r)s))",
        {"r": run_id}).fetchone()
    if span is None or span[0] is None:
        return {"bucket_seconds": None, "buckets": []}
    first, last = span
    seconds = (last - first).total_seconds()
    bucket = next((b for b in _BUCKETS if seconds / b <= MAX_POINTS), _BUCKETS[-1])
    origin = origin or first
    step = dt.timedelta(seconds=bucket)
    ok = dict(conn.execute(
        "SELECT date_bin(%(b)s, extracted_at, %(o)s), count(*) FROM ai_extracted_data "
        "WHERE run_id = %(r)s GROUP BY 1", {"b": step, "o": origin, "r": run_id}).fetchall())
    failed: dict[Any, dict[str, int]] = {}
    for at, stage, n in conn.execute(
            "SELECT date_bin(%(b)s, first_seen_at, %(o)s), stage, count(*) FROM failed_records "
            "WHERE run_id = %(r)s GROUP BY 1, 2", {"b": step, "o": origin, "r": run_id}):
        failed.setdefault(at, {})[stage] = n
    keys = sorted(set(ok) | set(failed))
    buckets = []
    at = keys[0]
    while at <= keys[-1]:
        buckets.append({"at": at, "ok": ok.get(at, 0), "failed": failed.get(at, {})})
        at += step
    return {"bucket_seconds": bucket, "buckets": buckets}


def _slowest_partitions(conn: psycopg.Connection[Any], run_id: str) -> list[dict[str, Any]]:
    """Done partitions by the time from their read to their closing commit, longest first."""
    rows = conn.execute(
        "SELECT partition_id, coalesce((info->>'rows_read')::bigint, rows_expected), "
        "extract(epoch FROM updated_at - (info->>'read_at')::timestamptz) FROM etl_metadata "
        "WHERE run_id = %s AND kind = 'partition' AND state = 'done' AND info ? 'read_at' "
        "ORDER BY 3 DESC, 1 LIMIT %s", (run_id, SLOWEST)).fetchall()
    return [{"partition": p, "rows": int(n or 0), "seconds": round(float(sec), 1)}
            for p, n, sec in rows]


def batch_report(conn: psycopg.Connection[Any], run_id: str,
                 cfg: Config | None) -> dict[str, Any]:
    """The run's Batch API usage (backfill.batch) and its cost by mode."""
    used = batch_usage(conn, run_id)
    tokens = (used["prompt_tokens"], used["completion_tokens"])
    realtime = cfg.llm.cost(*tokens) if cfg is not None else None
    return {**used, "cost_realtime": realtime, "cost": None if realtime is None or cfg is None
            else realtime * cfg.llm.batch_price_factor}


def report_text(rep: dict[str, Any]) -> str:
    rec, ex = rep["records"], rep["extractions"]
    lines = [
        f"run {rep['run_id']} ({rep['state']})",
        f"  range: [{' .. '.join(rep['params'].get('range') or ['?', '?'])}) of "
        f"{rep['params'].get('table')}",
        f"  started {rep['started_at']:%Y-%m-%d %H:%M:%S}, last update "
        f"{rep['updated_at']:%Y-%m-%d %H:%M:%S}",
        f"  partitions: {rep['partitions']['done']}/{rep['partitions']['total']} done",
        f"  records: {rec['expected']:,} read ({rec['planned']:,} planned), {rec['ok']:,} ok, "
        f"{rec['failed']:,} failed ({rec['failed_unresolved']:,} unresolved)",
        f"  extractions: {ex['rows']:,} ({ex['input_tokens']:,} input / {ex['output_tokens']:,} "
        f"output tokens; {ex['input_truncated']:,} truncated inputs, "
        f"{ex['with_grounding_warnings']:,} with grounding warnings)",
        f"  embeddings: {rep['embeddings']:,}",
    ]
    if rep["reconciled"] is not None:
        lines.append("  reconciled with the source: " + ("yes" if rep["reconciled"] else "NO"))
    if rep["error"]:
        lines.append(f"  stopped by {rep['error'].get('class')} "
                     f"({rep['error'].get('dependency')}): {rep['error'].get('message')}")
    if rep["failed_by_stage"]:
        lines.append("  failed records by stage:")
        lines += [
            f"    {f['stage']}/{f['error_class']}: {f['count']:,}" for f in rep["failed_by_stage"]
        ]
    if rep["redactions"]:
        lines.append("  PII replaced before the API: " + ", ".join(
            f"{k} {n:,}" for k, n in rep["redactions"].items()))
    if rep["scrubber_versions"]:
        lines.append("  extractions by scrubber version: " + ", ".join(
            f"{v}: {n:,}" for v, n in rep["scrubber_versions"].items()))
    if rep["top_failure_modes"]:
        lines.append(
            "  top failure modes: "
            + ", ".join(f"{m} {n:,}" for m, n in rep["top_failure_modes"].items())
        )
    lines.append("  " + throughput_sentence(rep))
    for u in rep["usage"]:
        lines.append(
            f"  {u['deployment']}: {u['requests']:,} requests ({u['rate_limited']:,} answered "
            f"429), {u['prompt_tokens']:,} prompt + {u['completion_tokens']:,} completion "
            f"tokens, cost {_money(u['cost'])}"
            + (f", {u['reused']:,} answers reused from the journal" if u.get("reused") else "")
            + (f", {u['paid_twice']:,} paid twice ({_money(u['paid_twice_cost'])})"
               if u.get("paid_twice") else ""))
    if (b := rep.get("batch")) and b["batches"]:
        lines.append(
            f"  Batch API: {b['batches']:,} batches, {b['lines']:,} lines, "
            f"{b['prompt_tokens']:,} prompt + {b['completion_tokens']:,} completion tokens, "
            f"cost {_money(b['cost'])} (in real time: {_money(b['cost_realtime'])})"
            + (f", {b['reused']:,} answers reused from the journal (not submitted)"
               if b.get("reused") else ""))
    if rep["usage"]:
        lines.append(f"  cost: {_money(rep['cost'])}")
    if any(a["state"] == U.KILLED for a in rep["attempts"]):
        lines.append(f"  note: {U.KILLED_NOTE}")
    return "\n".join(lines)


def _money(value: float | None) -> str:
    return "- (no price configured)" if value is None else f"{value:,.4f}"


def throughput_sentence(rep: dict[str, Any]) -> str:
    t = rep["throughput"]
    if t["records_per_hour"] is None:
        return "throughput: nothing processed yet"
    verdict = "met" if t["target_met"] else "NOT met"
    return (f"throughput: {t['records_per_hour']:,} records/h over "
            f"{t['active_seconds'] / 60:,.1f} min of work: the target of "
            f"{t['target_records_per_hour']:,} records/h was {verdict}")


def report_markdown(rep: dict[str, Any]) -> str:
    rec, ex = rep["records"], rep["extractions"]
    rng = " .. ".join(rep["params"].get("range") or ["?", "?"])
    out = [
        f"# Backfill run `{rep['run_id']}` ({rep['state']})",
        "",
        f"- range: `[{rng})` of `{rep['params'].get('table')}`",
        f"- started {rep['started_at']:%Y-%m-%d %H:%M:%S}, last update "
        f"{rep['updated_at']:%Y-%m-%d %H:%M:%S}",
        f"- **{throughput_sentence(rep)}**",
        f"- partitions: {rep['partitions']['done']}/{rep['partitions']['total']} done",
        "",
        "## Records",
        "",
        "| read | planned | ok | failed | unresolved | extractions | embeddings |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {rec['expected']:,} | {rec['planned']:,} | {rec['ok']:,} | {rec['failed']:,} | "
        f"{rec['failed_unresolved']:,} | {ex['rows']:,} | {rep['embeddings']:,} |",
    ]
    if rep["reconciled"] is not None:
        out += ["", "Reconciled with the source: " + ("yes" if rep["reconciled"] else "**NO**")]
    if rep["error"]:
        out += ["", f"**Stopped by {rep['error'].get('class')} "
                f"({rep['error'].get('dependency')})**: {_md(rep['error'].get('message'))}"]
    if rep["failed_by_stage"]:
        out += ["", "## Failed records", "", "| stage | class | records |", "| --- | --- | ---: |"]
        out += [f"| {f['stage']} | {f['error_class']} | {f['count']:,} |"
                for f in rep["failed_by_stage"]]
    if rep["usage"]:
        out += ["", "## API usage and cost", "",
                "| deployment | requests | 429s | prompt tokens | completion tokens | cost |",
                "| --- | ---: | ---: | ---: | ---: | ---: |"]
        out += [f"| {u['deployment']} | {u['requests']:,} | {u['rate_limited']:,} | "
                f"{u['prompt_tokens']:,} | {u['completion_tokens']:,} | {_money(u['cost'])} |"
                for u in rep["usage"]]
        out += ["", f"Total cost: {_money(rep['cost'])}"]
    if rep["slowest_partitions"]:
        out += ["", "## Slowest partitions", "", "| partition | rows | seconds |",
                "| ---: | ---: | ---: |"]
        out += [f"| {p['partition']} | {p['rows']:,} | {p['seconds']:,.1f} |"
                for p in rep["slowest_partitions"]]
    if rep["attempts"]:
        out += ["", "## Attempts", "", "| # | command | host | started | minutes | state |",
                "| ---: | --- | --- | --- | ---: | --- |"]
        out += [f"| {a['number']} | {a['command']} | {a['host']} | "
                f"{a['started_at']:%Y-%m-%d %H:%M:%S} | {a['seconds'] / 60:,.1f} | {a['state']} |"
                for a in rep["attempts"]]
        if any(a["state"] == U.KILLED for a in rep["attempts"]):
            out += ["", f"Note: {U.KILLED_NOTE}."]
    if rep["redactions"]:
        out += ["", "PII replaced before the API: " + ", ".join(
            f"{k} {n:,}" for k, n in rep["redactions"].items())]
    return "\n".join(out) + "\n"


def _md(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")





_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:60rem;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.25rem .6rem;border:1px solid #ddd}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.verdict{font-weight:600;padding:.5rem .8rem;border-radius:.3rem;display:inline-block}
.met{background:#e6f4ea;color:#1e6b34}.missed{background:#fdecea;color:#8a1c1c}
.stop{background:#fdecea;padding:.5rem .8rem}figure{margin:1rem 0}
figcaption{font-weight:600;margin-bottom:.3rem}svg{max-width:100%;height:auto}
"""


def report_html(rep: dict[str, Any]) -> str:
    """One self-contained page: inline CSS and SVG charts, no script, no network."""
    from backfill import charts

    e = html.escape
    rec, ex, t = rep["records"], rep["extractions"], rep["throughput"]

    def table(head: list[str], rows: list[list[Any]]) -> str:
        cells = "".join(f"<th>{e(h)}</th>" for h in head)
        body = "".join(
            "<tr>" + "".join(
                f'<td class="n">{v:,}</td>' if isinstance(v, int) else f"<td>{e(str(v))}</td>"
                for v in row) + "</tr>" for row in rows)
        return f"<table><tr>{cells}</tr>{body}</table>"

    def figure(chart_id: str, caption: str, svg: str) -> str:
        return (f'<figure id="{chart_id}" class="chart"><figcaption>{e(caption)}</figcaption>'
                f"{svg}</figure>")

    verdict = ("" if t["records_per_hour"] is None else
               f'<p class="verdict {"met" if t["target_met"] else "missed"}">'
               f"{e(throughput_sentence(rep))}</p>")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Backfill run {e(rep['run_id'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>Backfill run <code>{e(rep['run_id'])}</code>: {e(rep['state'])}</h1>",
        f"<p>Range [{e(' .. '.join(rep['params'].get('range') or ['?', '?']))}) of "
        f"<code>{e(str(rep['params'].get('table')))}</code>; started "
        f"{rep['started_at']:%Y-%m-%d %H:%M:%S}, last update "
        f"{rep['updated_at']:%Y-%m-%d %H:%M:%S}; partitions {rep['partitions']['done']}/"
        f"{rep['partitions']['total']} done.</p>",
        verdict,
    ]
    if rep["error"]:
        parts.append(f'<p class="stop">Stopped by {e(str(rep["error"].get("class")))} '
                     f'({e(str(rep["error"].get("dependency")))}): '
                     f'{e(str(rep["error"].get("message")))}</p>')
    parts.append("<h2>Records</h2>" + table(
        ["read", "planned", "ok", "failed", "unresolved", "extractions", "embeddings"],
        [[rec["expected"], rec["planned"], rec["ok"], rec["failed"], rec["failed_unresolved"],
          ex["rows"], rep["embeddings"]]]))
    if rep["reconciled"] is not None:
        parts.append("<p>Reconciled with the source: "
                     + ("yes" if rep["reconciled"] else "<strong>NO</strong>") + "</p>")
    buckets = rep["timeline"]["buckets"]
    if buckets:
        step = rep["timeline"]["bucket_seconds"]
        times = [b["at"] for b in buckets]
        done = [b["ok"] + sum(b["failed"].values()) for b in buckets]
        running, cumulative = 0, []
        for n in done:
            running += n
            cumulative.append(running)
        stages = sorted({s for b in buckets for s in b["failed"]})
        parts += [
            "<h2>Progress</h2>",
            figure("chart-throughput", f"Throughput (records/h, per {step} s)",
                   charts.throughput(times, [n * 3600 / step for n in done],
                                     t["target_records_per_hour"])),
            figure("chart-cumulative", "Cumulative records",
                   charts.cumulative([times[0], *(tm + dt.timedelta(seconds=step)
                                                  for tm in times)],
                                     [0, *cumulative], rec["expected"])),
            figure("chart-failures", "Failed records by stage over time",
                   charts.failures(times, {s: [b["failed"].get(s, 0) for b in buckets]
                                           for s in stages})),
        ]
    if rep["failed_by_stage"]:
        parts.append("<h2>Failed records (unresolved)</h2>" + table(
            ["stage", "class", "records"],
            [[f["stage"], f["error_class"], f["count"]] for f in rep["failed_by_stage"]]))
    if rep["usage"]:
        parts += [
            "<h2>API usage and cost</h2>",
            figure("chart-usage", "Tokens and cost by model", charts.usage(rep["usage"])),
            table(["deployment", "requests", "429s", "prompt tokens", "completion tokens",
                   "cost"],
                  [[u["deployment"], u["requests"], u["rate_limited"], u["prompt_tokens"],
                    u["completion_tokens"], _money(u["cost"])] for u in rep["usage"]]),
            f"<p>Total cost: {e(_money(rep['cost']))}</p>",
        ]
    if rep["slowest_partitions"]:
        parts += ["<h2>Slowest partitions</h2>",
                  figure("chart-partitions", "Seconds from read to last commit",
                         charts.slowest_partitions(rep["slowest_partitions"]))]
    if rep["attempts"]:
        parts.append("<h2>Attempts</h2>" + table(
            ["#", "command", "host", "started", "minutes", "state"],
            [[a["number"], a["command"], a["host"], f"{a['started_at']:%Y-%m-%d %H:%M:%S}",
              f"{a['seconds'] / 60:,.1f}", a["state"]] for a in rep["attempts"]]))
        if any(a["state"] == U.KILLED for a in rep["attempts"]):
            parts.append(f"<p>Note: {html.escape(U.KILLED_NOTE)}.</p>")
    if rep["redactions"]:
        parts.append("<h2>PII replaced before the API</h2>" + table(
            ["kind", "replacements"], [[k, n] for k, n in rep["redactions"].items()]))
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)


def render(rep: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rep, indent=2, default=str)
    if fmt == "markdown":
        return report_markdown(rep)
    if fmt == "html":
        return report_html(rep)
    return report_text(rep)


def store_html(conn: psycopg.Connection[Any], run_id: str, page: str) -> None:
    """Keep the final page with the run (``report --format html`` prints it again)."""
    conn.execute(
        "INSERT INTO etl_metadata (run_id, kind, item, state, info) VALUES "
        "(%s, 'report', 'html', 'done', %s) ON CONFLICT (run_id, kind, item) DO UPDATE SET "
        "info = EXCLUDED.info, updated_at = now()",
        (run_id, json.dumps({"html": page})))


def stored_html(conn: psycopg.Connection[Any], run_id: str) -> str | None:
    row = conn.execute("SELECT info->>'html' FROM etl_metadata WHERE run_id = %s AND "
                       "kind = 'report' AND item = 'html'", (run_id,)).fetchone()
    return row[0] if row else None


def report(cfg: Config, run_id: str, fmt: str) -> str:
    """``backfill report``: a done run's HTML is the page stored when it ended."""
    with connect(resolve_dsn(cfg), cfg.postgres.schema_, autocommit=True) as conn:
        require_tables(conn)
        rep = report_from(conn, run_id, cfg)
        if fmt == "html" and rep["state"] == P.DONE:
            page = stored_html(conn, run_id)
            if page:
                return page
    return render(rep, fmt)


def write_final_report(cfg: Config, dsn: str, run_id: str, out: Any) -> Path | None:
    """At the end of a run: the HTML report stored in etl_metadata and written to
    ``pipeline.report_dir/<run id>/report.html``. A failure here is a warning: the run's
    data and outcome do not depend on its report."""
    try:
        with connect(dsn, cfg.postgres.schema_, autocommit=True) as conn:
            page = report_html(report_from(conn, run_id, cfg))
            store_html(conn, run_id, page)
        if not cfg.pipeline.report_dir:
            return None
        path = Path(cfg.pipeline.report_dir) / run_id / "report.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    except (OSError, psycopg.Error) as exc:
        log.warning("the run's HTML report was not written: %s", type(exc).__name__)
        print(f"run {run_id}: the HTML report was not written ({type(exc).__name__}); "
              f"backfill report --run-id {run_id} --format html makes it", file=out)
        return None
    print(f"run {run_id}: report written to {path}", file=out, flush=True)
    return path
