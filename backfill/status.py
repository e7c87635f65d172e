"""``backfill status``: where a run stands, from the database alone, on any machine that
reaches it; ``--watch`` refreshes it live.

Every figure is counted from the tables when asked (records, failures, partitions) or read
from what the driver stored (usage, heartbeat: ``backfill.usage``), so two operators on two
machines see the same thing, and a run of millions of records is counted exactly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

import psycopg

from backfill import progress as P
from backfill import usage as U
from backfill.config import Config, ModelEndpointConfig
from backfill.db import connect, pg_error_text, resolve_dsn
from backfill.errors import ConfigError
from backfill.runlock import driver_alive

PLANNING = "planning"  # the state of a run whose driver has not stored its plan yet
# The rate is taken over the last minutes of work (or since the attempt began, if later).
RATE_WINDOW_MINUTES = 5
# A live driver beats every pipeline.progress_interval_seconds; past this, status says it is
# late (the driver may be closing the run, building the index: still alive by its lock).
LATE_BEAT_SECONDS = 120


@dataclass
class DeploymentUsage:
    deployment: str
    requests: int
    rate_limited: int
    prompt_tokens: int
    completion_tokens: int
    cost: float | None  # None: no price configured for it
    reused: int = 0  # answers taken from the answer journal: no request, no quota
    # answers paid for whose key the journal already held, and what they cost
    paid_twice: int = 0
    paid_twice_cost: float | None = None


@dataclass
class RunStatus:
    run_id: str
    state: str  # running | stopped (no driver holds it) | done | failed
    alive: bool
    now: dt.datetime
    started_at: dt.datetime
    updated_at: dt.datetime
    records_expected: int
    records_planned: int
    ok: int
    failed: int
    failed_open: int
    partitions: int
    partitions_done: int
    rate_per_hour: float | None
    rate_window_minutes: float
    eta_seconds: float | None
    failures: list[dict[str, Any]]
    usage: list[DeploymentUsage]
    attempts: int
    heartbeat_at: dt.datetime | None
    driver: str | None
    last_error: dict[str, Any] | None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return self.ok + self.failed

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.records_expected if self.records_expected else 100.0

    @property
    def rate_limited(self) -> int:
        return sum(u.rate_limited for u in self.usage)

    @property
    def cost(self) -> float | None:
        costs = [u.cost for u in self.usage if u.cost is not None]
        return sum(costs) if costs else None

    @property
    def heartbeat_age(self) -> float | None:
        return (self.now - self.heartbeat_at).total_seconds() if self.heartbeat_at else None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(done=self.done, percent=round(self.percent, 2),
                   rate_limited=self.rate_limited, cost=self.cost,
                   heartbeat_age_seconds=self.heartbeat_age)
        return out


def endpoint_for(cfg: Config | None, deployment: str) -> ModelEndpointConfig | None:
    """The configured endpoint that calls ``deployment`` (for its prices), if any."""
    if cfg is None:
        return None
    for section in (cfg.llm, cfg.embedding):
        if section.deployment == deployment:
            return section
    return None


def usage_of(cfg: Config | None, totals: dict[str, dict[str, int]]) -> list[DeploymentUsage]:
    out = []
    for deployment, c in sorted(totals.items()):
        section = endpoint_for(cfg, deployment)
        cost = section.cost(c["prompt_tokens"], c["completion_tokens"]) if section else None
        twice = section.cost(c.get("paid_twice_prompt_tokens", 0),
                             c.get("paid_twice_completion_tokens", 0)) if section else None
        out.append(DeploymentUsage(deployment, c["requests"], c["rate_limited"],
                                   c["prompt_tokens"], c["completion_tokens"], cost,
                                   c.get("reused", 0), c.get("paid_twice", 0), twice))
    return out


class RunNotPlanned(ConfigError):
    """A driver holds the run and has not stored its plan yet: nothing to count so far."""


def unknown_run(conn: psycopg.Connection[Any], schema: str, run_id: str) -> ConfigError:
    """Why there is no run ``run_id``: being planned, or never planned (a run killed before its
    plan was stored leaves nothing behind)."""
    if driver_alive(conn, schema, run_id):
        return RunNotPlanned(
            f"run {run_id}: planning; its driver holds it and stores the plan once it has "
            "counted the source's rows per time range")
    return ConfigError(
        f"--run-id {run_id}: no such run in schema {schema}. A run is stored once its plan "
        "is (the source counted per time range): one stopped before that left nothing, and "
        f"backfill run --run-id {run_id} plans it afresh")


def run_status(conn: psycopg.Connection[Any], schema: str, run_id: str,
               cfg: Config | None = None) -> RunStatus:
    runs = P.run_progress(conn, run_id)
    if not runs:
        raise unknown_run(conn, schema, run_id)
    r = runs[0]
    alive = driver_alive(conn, schema, run_id)
    row = conn.execute("SELECT now(), info->'params' FROM etl_metadata WHERE run_id = %s "
                       "AND kind = 'run' AND item = ''", (run_id,)).fetchone()
    assert row is not None
    now, params = row
    attempts = U.attempts(conn, run_id)
    current = attempts[-1] if attempts else None
    state = r.state
    if state == P.RUNNING and not alive:
        state = "stopped"  # its driver is gone: nothing holds the run
    rate = eta = None
    window = float(RATE_WINDOW_MINUTES)
    if alive and current is not None:
        since = max(current.started_at, now - dt.timedelta(minutes=RATE_WINDOW_MINUTES))
        window = max((now - since).total_seconds() / 60, 1e-6)
        recent = conn.execute(
            "SELECT (SELECT count(*) FROM ai_extracted_data WHERE run_id = %(run)s AND "
            "extracted_at >= %(since)s) + (SELECT count(*) FROM failed_records WHERE "
            "run_id = %(run)s AND last_seen_at >= %(since)s AND resolved_at IS NULL)",
            {"run": run_id, "since": since}).fetchone()
        rate = (recent[0] if recent else 0) / window * 60
        left = max(r.rows_expected - r.rows_done, 0)
        eta = left / rate * 3600 if rate else None
    failures = [{"stage": s, "error_class": c, "count": n}
                for s, c, n in P.open_failures(conn, run_id)]
    last_error: dict[str, Any] | None = None
    if r.error:
        last_error = {"kind": "stop", "class": r.error.get("class"),
                      "where": r.error.get("dependency"),
                      "message": str(r.error.get("message", ""))[:500], "at": r.updated_at}
    else:
        # Stored failure messages hold no record text (they are written that way).
        last = conn.execute(
            "SELECT stage, error_class, error_message, last_seen_at, work_order_id "
            "FROM failed_records WHERE run_id = %s AND resolved_at IS NULL "
            "ORDER BY last_seen_at DESC LIMIT 1", (run_id,)).fetchone()
        if last:
            last_error = {"kind": "record", "class": last[1], "where": last[0],
                          "message": str(last[2])[:500], "at": last[3], "work_order_id": last[4]}
    return RunStatus(
        run_id=run_id, state=state, alive=alive, now=now, started_at=r.started_at,
        updated_at=r.updated_at, records_expected=r.rows_expected,
        records_planned=r.rows_planned, ok=r.rows_ok, failed=r.rows_failed,
        failed_open=r.failed_open, partitions=r.partitions,
        partitions_done=r.partitions_done, rate_per_hour=rate, rate_window_minutes=window,
        eta_seconds=eta, failures=failures,
        usage=usage_of(cfg, U.merge(*(a.usage for a in attempts))),
        attempts=len(attempts), heartbeat_at=current.last_beat_at if current else None,
        driver=f"{current.host} pid {current.pid}" if current else None,
        last_error=last_error, params=params or {},
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.4f}" if value < 1 else f"{value:,.2f}"


def status_text(s: RunStatus) -> list[str]:
    """The plain view of one run: one fact per line, for logs and pipes."""
    if s.alive:
        driver = f", driver {s.driver} alive (last heartbeat {_duration(s.heartbeat_age)} ago)"
    elif s.state in ("running", "stopped"):
        driver = ", no driver holds it"
    else:
        driver = ""
    lines = [
        f"run {s.run_id}: {s.state}{driver}",
        f"  records: {s.done:,}/{s.records_expected:,} ({s.percent:.1f}%): {s.ok:,} ok, "
        f"{s.failed:,} failed",
        f"  partitions: {s.partitions_done}/{s.partitions} done",
    ]
    if s.alive:
        rate = "-" if s.rate_per_hour is None else f"{s.rate_per_hour:,.0f} records/h"
        lines.append(f"  rate (last {s.rate_window_minutes:.0f} min): {rate}, "
                     f"ETA {_duration(s.eta_seconds)}")
    for u in s.usage:
        lines.append(
            f"  {u.deployment}: {u.requests:,} requests, {u.rate_limited:,} answered 429, "
            f"{u.prompt_tokens:,} prompt + {u.completion_tokens:,} completion tokens, "
            f"cost {_money(u.cost)}"
            + (f", {u.reused:,} answers reused from the journal" if u.reused else "")
            + (f", {u.paid_twice:,} paid twice ({_money(u.paid_twice_cost)})"
               if u.paid_twice else ""))
    if s.usage:
        lines.append(f"  cost so far: {_money(s.cost)}"
                     + ("" if s.cost is not None else
                        " (set llm/embedding input_price_per_million for a cost)"))
    if s.failures:
        lines.append("  failed records (unresolved): " + ", ".join(
            f"{f['stage']}/{f['error_class']} {f['count']:,}" for f in s.failures))
    if s.last_error:
        e = s.last_error
        what = "stopped by" if e["kind"] == "stop" else "last failed record:"
        lines.append(f"  {what} {e['class']} ({e['where']}) at {e['at']:%Y-%m-%d %H:%M:%S}"
                     f": {e['message']}")
    if s.state == "stopped":
        lines.append(f"  no driver holds it (killed?): resume with backfill run --run-id "
                     f"{s.run_id}")
    return lines


def status_line(s: RunStatus) -> str:
    """One line per refresh for --watch on a pipe."""
    rate = "-" if s.rate_per_hour is None else f"{s.rate_per_hour:,.0f}/h"
    return (f"{s.now:%H:%M:%S} [{s.run_id}] {s.state} {s.done:,}/{s.records_expected:,} "
            f"({s.percent:.1f}%) failed {s.failed:,} parts {s.partitions_done}/{s.partitions} "
            f"rate {rate} ETA {_duration(s.eta_seconds)} 429s {s.rate_limited:,} "
            f"cost {_money(s.cost)}")


def status_panel(s: RunStatus) -> Any:
    """The rich view of one run, for a terminal."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    colour = {"running": "green", "done": "blue", "failed": "red", "stopped": "yellow"}
    head.add_row("state", f"[{colour.get(s.state, 'white')}]{s.state}[/]"
                 + (f"  driver {s.driver}, heartbeat {_duration(s.heartbeat_age)} ago"
                    if s.alive and s.driver else "  no driver holds it"
                    if s.state in (P.RUNNING, "stopped") else ""))
    head.add_row("records", f"{s.done:,} / {s.records_expected:,} ({s.percent:.1f}%)  "
                 f"ok {s.ok:,}  failed {s.failed:,}")
    # (a row of the grid: as a renderable of its own, rich drew the next line over it)
    head.add_row("", ProgressBar(total=max(s.records_expected, 1), completed=s.done, width=60))
    head.add_row("partitions", f"{s.partitions_done} / {s.partitions}")
    if s.alive:
        head.add_row("rate", ("-" if s.rate_per_hour is None else
                              f"{s.rate_per_hour:,.0f} records/h")
                     + f" (last {s.rate_window_minutes:.0f} min)   ETA "
                     + _duration(s.eta_seconds))
    head.add_row("cost", _money(s.cost))
    parts: list[Any] = [head]
    if s.usage:
        t = Table(title="API usage", title_justify="left", expand=False)
        for col in ("deployment", "requests", "429s", "prompt tokens", "completion tokens",
                    "cost"):
            t.add_column(col, justify="left" if col == "deployment" else "right")
        for u in s.usage:
            t.add_row(u.deployment, f"{u.requests:,}", f"{u.rate_limited:,}",
                      f"{u.prompt_tokens:,}", f"{u.completion_tokens:,}", _money(u.cost))
        parts.append(t)
    if s.failures:
        t = Table(title="Failed records (unresolved)", title_justify="left")
        for col in ("stage", "class", "records"):
            t.add_column(col, justify="right" if col == "records" else "left")
        for f in s.failures:
            t.add_row(f["stage"], f["error_class"], f"{f['count']:,}")
        parts.append(t)
    if s.last_error:
        e = s.last_error
        parts.append(f"[bold]last error[/] {e['class']} ({e['where']}) at "
                     f"{e['at']:%H:%M:%S}: {e['message']}")
    return Panel(Group(*parts), title=f"backfill run {s.run_id}", subtitle=f"{s.now:%H:%M:%S}")


def runs_table(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    """Every run, newest first: one line each."""
    runs = P.run_progress(conn)
    if not runs:
        return ["no runs yet"]
    lines = [
        f"{'run id':<24} {'state':<8} {'records':>10} {'ok':>10} {'failed':>8} "
        f"{'open':>6} {'partitions':>11}  updated"
    ]
    for r in runs:
        state = r.state
        if state == P.RUNNING and not driver_alive(conn, schema, r.run_id):
            state = "stopped"
        lines.append(
            f"{r.run_id:<24} {state:<8} {r.rows_expected:>10,} {r.rows_ok:>10,} "
            f"{r.rows_failed:>8,} {r.failed_open:>6,} {r.partitions_done:>5}/{r.partitions:<5}  "
            f"{r.updated_at:%Y-%m-%d %H:%M:%S}"
        )
        if state == "stopped":
            lines.append(f"  no driver holds it (killed?): resume with backfill run --run-id "
                         f"{r.run_id}")
        if r.state == P.FAILED and r.error:
            lines.append(f"  stopped by {r.error.get('class')} ({r.error.get('dependency')}): "
                         f"{str(r.error.get('message', ''))[:300]}")
    return lines


def has_tables(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass('etl_metadata')").fetchone()
    return row is not None and row[0] is not None


def require_tables(conn: psycopg.Connection[Any]) -> None:
    if not has_tables(conn):
        raise ConfigError(
            "no backfill tables in this database/schema yet: check postgres.dsn "
            "and postgres.schema, or run `backfill run` first"
        )


def latest_run(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute("SELECT run_id FROM etl_metadata WHERE kind = 'run' "
                       "ORDER BY created_at DESC LIMIT 1").fetchone()
    return row[0] if row else None


def status(cfg: Config, run_id: str | None, fmt: str = "text") -> str:
    """``backfill status`` once: every run, or one run in detail."""
    import json

    schema = cfg.postgres.schema_
    with connect(resolve_dsn(cfg), schema, autocommit=True) as conn:
        if run_id is None and not has_tables(conn):
            # the config and the database answer: the first run makes the tables
            return "[]" if fmt == "json" else (
                f"no runs yet in schema {schema} (the first backfill run creates its tables)")
        require_tables(conn)
        if run_id is None:
            if fmt == "json":
                ids = [r.run_id for r in P.run_progress(conn)]
                return json.dumps([run_status(conn, schema, i, cfg).to_json() for i in ids],
                                  indent=2, default=str)
            return "\n".join(runs_table(conn, schema))
        try:
            s = run_status(conn, schema, run_id, cfg)
        except RunNotPlanned as exc:
            return json.dumps({"run_id": run_id, "state": PLANNING, "alive": True}
                              ) if fmt == "json" else str(exc)
    if fmt == "json":
        return json.dumps(s.to_json(), indent=2, default=str)
    return "\n".join(status_text(s))


def watch(cfg: Config, run_id: str | None, interval: float, out: TextIO = sys.stdout,
          rich_view: bool | None = None, max_refreshes: int | None = None) -> int:
    """``status --watch``: refresh every ``interval`` seconds until the run is over (done,
    failed or stopped with no driver), or Ctrl-C. A rich live panel on a terminal, one plain
    line per refresh elsewhere. A database that does not answer is said, then asked again."""
    schema = cfg.postgres.schema_
    dsn = resolve_dsn(cfg)
    with connect(dsn, schema, autocommit=True) as conn:
        require_tables(conn)
        run_id = run_id or latest_run(conn)
        if run_id is None:
            raise ConfigError("no runs yet to watch")
        with contextlib.suppress(RunNotPlanned):  # watched until planned
            run_status(conn, schema, run_id, cfg)  # an unknown run is exit 2 at once
    rich_view = out.isatty() if rich_view is None else rich_view
    live: Any = None
    if rich_view:
        from rich.console import Console
        from rich.live import Live

        live = Live(console=Console(file=out), auto_refresh=False)
        live.start()
    refreshes = 0
    try:
        while True:
            try:
                with connect(dsn, schema, autocommit=True) as conn:
                    s = run_status(conn, schema, run_id, cfg)
            except psycopg.Error as exc:
                print(f"status unavailable: {pg_error_text(exc)}; trying again", file=out,
                      flush=True)
                s = None
            except RunNotPlanned as exc:
                print(exc, file=out, flush=True)
                s = None
            if s is not None:
                if live is not None:
                    live.update(status_panel(s), refresh=True)
                else:
                    print(status_line(s), file=out, flush=True)
                if not s.alive and s.state in (P.DONE, P.FAILED, "stopped"):
                    if live is None:
                        print("\n".join(status_text(s)), file=out, flush=True)
                    return 0
            refreshes += 1
            if max_refreshes is not None and refreshes >= max_refreshes:
                return 0
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0
    finally:
        if live is not None:
            live.stop()
