"""Alerts (issue 12): a real local webhook receiver (http.server on loopback) and a real
``alerts.command`` (a script writing its stdin to a file) get exactly one alert per
incident: a run that ends (``done``), a fatal stop (``fatal``, with the command to resume),
the failed share crossing the threshold (``failure_rate``), a stall (``stall``). A receiver
that is down at first still gets it once, and the job does not wait for it. No alert holds a
secret or record text. Figures are compared with the tables."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest

from backfill import progress as P
from backfill.alert_channels import flush
from backfill.alerts import Alerter, compose, sent_alerts
from backfill.config import Config, parse_config
from backfill.db import ensure_schema
from backfill.devstack.stack import LocalStack, local_stack
from backfill.errors import EXIT_FATAL, EXIT_OK, EXIT_TOO_MANY_FAILURES, ConfigError, FatalError
from backfill.retry import retry_failed
from backfill.runner import ProgressPrinter, RunRequest, RunResult, close_run, execute

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "XoXbAlertTokenSecret7781"  # the secret part of a Slack/Teams webhook URL
API_KEY = "sk-alerts-test-secret-key-5521"
COMMAND_SCRIPT = """\
import os, sys, time
out = sys.argv[1]
body = sys.stdin.buffer.read()
if os.path.exists(os.path.join(out, "DOWN")):
    open(os.path.join(out, f"refused-{time.time_ns()}"), "w").close()
    sys.exit(75)
with open(os.path.join(out, f"alert-{time.time_ns()}-{os.getpid()}.json"), "wb") as f:
    f.write(body)
"""


# ------------------------------------------------------------------ the receivers


class Receiver:
    """A webhook receiver on loopback: answers 503 while ``down`` (or for the next
    ``fail_next`` requests), else 200 "ok" as Slack does, keeping each body it took."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bodies: list[bytes] = []
        self.paths: list[str] = []
        self.rejected = 0
        self.down = False
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    refuse = receiver.down or receiver.fail_next > 0
                    if refuse:
                        receiver.fail_next = max(receiver.fail_next - 1, 0)
                        receiver.rejected += 1
                    else:
                        receiver.bodies.append(body)
                        receiver.paths.append(self.path)
                self.send_response(503 if refuse else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/services/T0ALERT/B0ALERT/{TOKEN}"

    def alerts(self, run_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            found = [json.loads(b) for b in self.bodies]
        return [a for a in found if run_id is None or a["run_id"] == run_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class CommandSink:
    """``alerts.command``: a script that writes its stdin to a file, or exits 75 while the
    file DOWN exists."""

    out: Path

    @property
    def argv(self) -> list[str]:
        script = self.out / "receive.py"
        if not script.exists():
            script.write_text(COMMAND_SCRIPT)
        return [sys.executable, str(script), str(self.out)]

    def alerts(self, run_id: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(p.read_bytes()) for p in sorted(self.out.glob("alert-*.json"))]
        return [a for a in found if run_id is None or a["run_id"] == run_id]

    def raw(self) -> list[bytes]:
        return [p.read_bytes() for p in sorted(self.out.glob("alert-*.json"))]

    def refused(self) -> int:
        return len(list(self.out.glob("refused-*")))

    def set_down(self, down: bool) -> None:
        marker = self.out / "DOWN"
        if down:
            marker.touch()
        else:
            marker.unlink(missing_ok=True)


def _wait_for(what: str, check: Any, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def command_sink(tmp_path_factory: pytest.TempPathFactory) -> CommandSink:
    return CommandSink(tmp_path_factory.mktemp("alert-command"))


BASE: dict[str, Any] = {
    "snowflake": {"account": "a", "user": "u", "password": "p", "database": "D", "schema": "S"},
    "llm": {"provider": "openai", "api_key": "${LLM_KEY}", "deployment": "gpt-4o-mini"},
    "embedding": {"deployment": "text-embedding-3-small"},
}


def _config(dsn: str, schema: str, **alerts: Any) -> Config:
    raw = {**BASE, "postgres": {"dsn": dsn, "schema": schema}, "alerts": alerts}
    return parse_config(raw, env={"LLM_KEY": API_KEY})


# ------------------------------------------------------------------ config and words


@pytest.mark.unit
def test_the_alerts_section_names_a_bad_key_and_never_quotes_the_url() -> None:
    raw = {**BASE, "postgres": {"dsn": "embedded"}}
    with pytest.raises(ConfigError, match=r"alerts.webhook_url: is empty.*set HOOK"):
        parse_config({**raw, "alerts": {"webhook_url": "${HOOK}"}}, env={"LLM_KEY": API_KEY})
    with pytest.raises(ConfigError) as bad:
        parse_config({**raw, "alerts": {"webhook_url": f"hooks.example/{TOKEN}"}},
                     env={"LLM_KEY": API_KEY})
    assert "alerts.webhook_url: is not an http:// or https:// URL" in str(bad.value)
    assert TOKEN not in str(bad.value)
    with pytest.raises(ConfigError, match="alerts.on_stall: unknown key"):
        parse_config({**raw, "alerts": {"on_stall": True}}, env={"LLM_KEY": API_KEY})
    cfg = parse_config({**raw, "alerts": {"webhook_url": "${HOOK}", "command": "page --team etl"}},
                       env={"LLM_KEY": API_KEY, "HOOK": f"https://hooks.example/{TOKEN}"})
    assert cfg.alerts.enabled and TOKEN not in repr(cfg) and TOKEN not in str(cfg.alerts)
    assert not parse_config(raw, env={"LLM_KEY": API_KEY}).alerts.enabled  # no section: off


@pytest.mark.unit
def test_each_alert_says_what_happened_the_figures_and_what_to_do() -> None:
    counts = {"records": 1000, "records_done": 400, "ok": 380, "failed": 20,
              "failed_fraction": 0.05}
    resume = "backfill run --run-id r1 --config c.yaml"
    fatal = compose("fatal", "r1", "run", {
        **counts, "error_class": "SystemicError", "dependency": "LLM deployment 'x'",
        "error": "answered 404", "exit_code": 1, "resume": resume}, resume, " --config c.yaml")
    assert fatal["kind"] == "fatal" and fatal["run_id"] == "r1" and fatal["exit_code"] == 1
    assert "STOPPED (exit 1, SystemicError): LLM deployment 'x': answered 404." in fatal["text"]
    assert "400 of 1,000 records processed: 380 ok, 20 failed (5.00%)" in fatal["text"]
    assert fatal["text"].endswith(f"resume: `{resume}`")
    rate = compose("failure_rate", "r1", "run", {**counts, "failure_threshold": 0.01}, resume)
    assert "above the alert threshold of 1.00%" in rate["text"] and resume in rate["text"]
    stall = compose("stall", "r1", "run", {**counts, "idle_minutes": 12.0}, resume)
    assert "no record committed for 12.0 min" in stall["text"] and resume in stall["text"]
    done3 = compose("done", "r1", "run", {**counts, "exit_code": 3, "reconciled": True,
                                          "max_failed_fraction": 0.01}, resume, " --config c.yaml")
    assert "too many failed records (exit 3" in done3["text"]
    assert "`backfill retry-failed --run-id r1 --config c.yaml`" in done3["text"]
    unreconciled = compose("done", "r1", "run", {**counts, "exit_code": 3, "reconciled": False,
                                                 "max_failed_fraction": 0.01}, resume)
    assert "`backfill verify --run-id r1`" in unreconciled["text"]
    retried = compose("done", "r1", "retry-failed", {**counts, "exit_code": 0}, resume)
    assert retried["text"].startswith("Backfill retry-failed of run r1 finished (exit 0)")


# ------------------------------------------------------------------ the Alerter alone

UNIT_SCHEMA = "alerts_unit"


@pytest.fixture(scope="module")
def unit_db(pg_dsn: str) -> str:
    ensure_schema(pg_dsn, UNIT_SCHEMA, 1536)
    return pg_dsn


def _alert_rows(dsn: str, schema: str, run_id: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        conn.execute(f"SET search_path TO {schema}, public")
        return sent_alerts(conn, run_id)


@pytest.mark.integration
def test_failure_rate_once_per_run_and_stall_once_per_episode(
    unit_db: str, receiver: Receiver
) -> None:
    cfg = _config(unit_db, UNIT_SCHEMA, webhook_url=receiver.url, stall_minutes=1,
                  failure_fraction=0.05, min_records=100, retry_seconds=0.1)
    alerter = Alerter(cfg, unit_db, "unit-1")
    for ok, failed, now in [
        (0, 0, 0.0),
        (50, 10, 10.0),     # 60 processed, fewer than min_records: not judged yet
        (100, 10, 20.0),    # 9.1% > 5%: failure_rate
        (200, 12, 30.0),    # still above: not again
        (200, 12, 89.0),    # 59 s without a record: not a stall yet
        (200, 12, 90.0),    # 60 s: stall 1
        (200, 12, 500.0),   # the same stall
        (201, 12, 510.0),   # a record: the stall is over
        (201, 12, 570.0),   # stall 2
    ]:
        alerter.observe(ok, failed, 1000, now=now)
    assert flush(60)
    got = receiver.alerts("unit-1")
    assert Counter(a["kind"] for a in got) == {"failure_rate": 1, "stall": 2}
    rate = next(a for a in got if a["kind"] == "failure_rate")
    assert (rate["ok"], rate["failed"], rate["records"]) == (100, 10, 1000)
    assert rate["failed_fraction"] == pytest.approx(10 / 110, abs=1e-6)
    stalls = sorted((a for a in got if a["kind"] == "stall"), key=lambda a: a["ok"])
    assert [(a["ok"], a["idle_minutes"]) for a in stalls] == [(200, 1.0), (201, 1.0)]

    # A resume is another driver: the run's failure-rate incident was alerted already.
    again = Alerter(cfg, unit_db, "unit-1")
    again.observe(100, 100, 1000, now=0.0)
    assert flush(60)
    assert Counter(a["kind"] for a in receiver.alerts("unit-1"))["failure_rate"] == 1
    rows = dict(_alert_rows(unit_db, UNIT_SCHEMA, "unit-1"))
    assert rows["failure_rate:run"] == "sent"
    assert sorted(state for item, state in rows.items() if item.startswith("stall:")) == \
        ["sent", "sent"]


@pytest.mark.integration
def test_the_progress_printer_alerts_a_stall_once_until_records_move(
    unit_db: str, receiver: Receiver
) -> None:
    run_id = "unit-stall"
    cfg = _config(unit_db, UNIT_SCHEMA, webhook_url=receiver.url, stall_minutes=0.002,
                  retry_seconds=0.1)  # 0.12 s
    with psycopg.connect(unit_db) as conn:
        conn.execute(f"SET search_path TO {UNIT_SCHEMA}, public")
        P.create_run(conn, run_id, {}, [])
    printer = ProgressPrinter(unit_db, UNIT_SCHEMA, run_id, 10.0, io.StringIO(),
                              alerter=Alerter(cfg, unit_db, run_id))

    def stalls() -> list[dict[str, Any]]:
        flush(30)
        return [a for a in receiver.alerts(run_id) if a["kind"] == "stall"]

    def sample_until(n: int) -> None:
        _wait_for(f"{n} stall alert(s)", lambda: printer.line() is not None and len(stalls()) >= n)

    sample_until(1)
    # still stalled, for many times the stall period: no second alert
    later = time.monotonic() + 1.0
    while time.monotonic() < later:
        printer.line()
    assert len(stalls()) == 1
    # a record fails: progress, and the next stall is a new episode
    with psycopg.connect(unit_db) as conn:
        conn.execute(f"SET search_path TO {UNIT_SCHEMA}, public")
        conn.execute("INSERT INTO failed_records (run_id, work_order_id, stage, error_class, "
                     "error_message) VALUES (%s, 'wo-1', 'extract', 'Refusal', 'refused')",
                     (run_id,))
    sample_until(2)
    first, second = stalls()[:2]
    assert (first["failed"], second["failed"]) == (0, 1)
    assert second["records_done"] == 1 and second["text"].count("STALLED") == 1


@pytest.mark.unit
def test_secrets_in_an_error_message_are_masked(receiver: Receiver,
                                                tmp_path: Path) -> None:
    dsn = "postgresql://etl:pg-secret-7731@127.0.0.1:1/x"  # nothing listens: no figures
    cfg = _config(dsn, "s", webhook_url=receiver.url, retry_seconds=0.1)
    Alerter(cfg, dsn, "unit-mask").fatal(FatalError(
        f"the key {API_KEY} was refused by {dsn}", dependency="llm"))
    assert flush(60)
    [alert] = receiver.alerts("unit-mask")
    body = json.dumps(alert)
    assert API_KEY not in body and "pg-secret-7731" not in body and TOKEN not in body
    assert "the key *** was refused by ***" in alert["text"]
    assert "Figures unavailable (Postgres did not answer)" in alert["text"]


def _child(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)


_EXIT_CHILD = """\
from backfill.alerts import Alerter
from backfill.config import parse_config
from backfill.errors import FatalError
cfg = parse_config({{
    "snowflake": {{"account": "a", "user": "u", "password": "p", "database": "D",
                  "schema": "S"}},
    "postgres": {{"dsn": "postgresql://u@127.0.0.1:1/x"}},
    "llm": {{"provider": "openai", "api_key": "k", "deployment": "gpt-4o-mini"}},
    "embedding": {{"deployment": "text-embedding-3-small"}},
    "alerts": {{"webhook_url": {url!r}, "retries": 20, "retry_seconds": 0.2,
               "flush_seconds": {flush}}},
}})
Alerter(cfg, cfg.postgres.dsn.get_secret_value(), {run_id!r}).fatal(
    FatalError("Postgres is gone", dependency="postgres", resume_hint="backfill run --run-id x"))
print("exiting")
"""


@pytest.mark.integration
def test_a_fatal_alert_gets_out_before_the_process_exits(
    receiver: Receiver, tmp_path: Path
) -> None:
    receiver.fail_next = 2  # down for the first two tries
    done = _child(_EXIT_CHILD.format(url=receiver.url, flush=30, run_id="child-1"), tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    # no waiting here: the child's exit waited for the alert
    [alert] = receiver.alerts("child-1")
    assert alert["kind"] == "fatal" and "`backfill run --run-id x`" in alert["text"]
    assert receiver.fail_next == 0


@pytest.mark.integration
def test_a_dead_receiver_delays_the_exit_by_flush_seconds_at_most(tmp_path: Path) -> None:
    dead = Receiver()
    url = dead.url
    dead.close()  # nothing listens there any more
    done = _child(_EXIT_CHILD.format(url=url, flush=1, run_id="child-2"), tmp_path)
    # 20 retries backing off to 60 s would take many minutes: the exit gave up instead
    assert done.returncode == 0, done.stderr[-2000:]
    assert "exiting" in done.stdout
    assert "alerts: 1 still unsent after alerts.flush_seconds (1 s) at exit" in done.stderr
    assert TOKEN not in done.stderr


# ------------------------------------------------------------------ runs on the local stack

SCHEMA = "alerts"
N = 1500


@pytest.fixture(scope="module")
def stack(
    pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory,
    receiver: Receiver, command_sink: CommandSink,
) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("alerts")
    with pytest.MonkeyPatch.context() as mp:
        # the config file names the variable; the URL with its token is in the environment
        mp.setenv("BACKFILL_TEST_ALERT_WEBHOOK", receiver.url)
        with local_stack(
            work, N, latency_ms=5, pg_schema=SCHEMA, partition_rows=250, dsn=pg_dsn,
            bad_rows=False, seed=12,
            overrides={
                "llm": {"api_key": API_KEY, "max_concurrency": 16, "max_retries": 1},
                "embedding": {"api_key": API_KEY, "max_retries": 1},
                "pipeline": {"progress_interval_seconds": 0.5, "batch_size": 100},
                "alerts": {"webhook_url": "${BACKFILL_TEST_ALERT_WEBHOOK}",
                           "command": command_sink.argv, "retries": 10, "retry_seconds": 0.2},
            },
        ) as s:
            assert "${BACKFILL_TEST_ALERT_WEBHOOK}" in s.config_path.read_text()
            yield s


def _ranges(stack: LocalStack) -> list[tuple[dt.datetime, dt.datetime, int]]:
    """Three disjoint time ranges of the source, one per run, and the rows in each."""
    ts = sorted(stack.data.table.column("CREATED_AT").to_pylist())
    cuts = [ts[0], ts[N // 3], ts[2 * N // 3], ts[-1] + dt.timedelta(seconds=1)]
    return [(lo, hi, sum(1 for t in ts if lo <= t < hi))
            for lo, hi in zip(cuts, cuts[1:], strict=False)]


def _tables(stack: LocalStack, run_id: str) -> dict[str, int]:
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")

        def one(query: str) -> int:
            row = conn.execute(query, (run_id,)).fetchone()
            assert row is not None
            return int(row[0])

        return {
            "logs": one("SELECT count(*) FROM maintenance_logs WHERE run_id = %s"),
            "ok": one("SELECT count(*) FROM ai_extracted_data WHERE run_id = %s"),
            "failed": one("SELECT count(*) FROM failed_records WHERE run_id = %s "
                          "AND resolved_at IS NULL"),
        }


@dataclass
class DoneRun:
    result: RunResult
    delivered_at_return: int
    tables: dict[str, int]
    rows_in_range: int
    webhook_refusals: int
    command_refusals: int


@pytest.fixture(scope="module")
def done_run(stack: LocalStack, receiver: Receiver, command_sink: CommandSink) -> DoneRun:
    """A run that ends while both receivers are down; they come up only after it returned."""
    lo, hi, rows = _ranges(stack)[0]
    rejected, refused = receiver.rejected, command_sink.refused()
    receiver.down = True
    command_sink.set_down(True)
    try:
        result = execute(stack.config, RunRequest(config_path=str(stack.config_path), start=lo,
                                                  end=hi, run_id="alerts-done"))
        delivered = len(receiver.alerts("alerts-done")) + len(command_sink.alerts("alerts-done"))
        # the sender keeps trying meanwhile
        _wait_for("retries", lambda: receiver.rejected - rejected >= 2
                  and command_sink.refused() - refused >= 2)
    finally:
        receiver.down = False
        command_sink.set_down(False)
    assert flush(120)
    return DoneRun(result, delivered, _tables(stack, "alerts-done"), rows,
                   receiver.rejected - rejected, command_sink.refused() - refused)


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_a_run_that_ends_sends_one_done_alert_with_the_tables_figures(
    stack: LocalStack, done_run: DoneRun, receiver: Receiver, command_sink: CommandSink
) -> None:
    result, tables = done_run.result, done_run.tables
    assert result.exit_code == EXIT_OK, result.summary
    assert tables["logs"] == done_run.rows_in_range > 0
    for channel in (receiver, command_sink):
        [alert] = channel.alerts("alerts-done")
        assert alert["kind"] == "done" and alert["exit_code"] == EXIT_OK
        assert alert["records"] == done_run.rows_in_range
        assert (alert["ok"], alert["failed"]) == (tables["ok"], tables["failed"])
        assert alert["records_done"] == tables["ok"] + tables["failed"]
        assert alert["reconciled"] is True
        assert alert["llm_input_tokens"] > 0 and alert["llm_cost"] > 0
        assert "Backfill run alerts-done finished (exit 0)" in alert["text"]
        assert f"{tables['ok']:,} ok" in alert["text"]
    assert receiver.alerts("alerts-done") == command_sink.alerts("alerts-done")
    assert _alert_rows(stack.dsn, SCHEMA, "alerts-done") == [("done:run", "sent")]


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_a_receiver_down_gets_the_alert_once_it_is_back_and_the_run_did_not_wait(
    done_run: DoneRun, receiver: Receiver, command_sink: CommandSink
) -> None:
    # execute() returned while neither receiver had taken the alert: the job did not wait
    assert done_run.delivered_at_return == 0
    assert done_run.webhook_refusals >= 2 and done_run.command_refusals >= 2  # tried again
    assert len(receiver.alerts("alerts-done")) == 1 and len(command_sink.alerts("alerts-done")) == 1


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_closing_or_resuming_a_finished_run_again_sends_no_second_done(
    stack: LocalStack, done_run: DoneRun, receiver: Receiver
) -> None:
    again = execute(stack.config, RunRequest(config_path=str(stack.config_path),
                                             run_id="alerts-done"))
    assert again.exit_code == EXIT_OK  # "already done; nothing to do"
    schema = stack.config.postgres.schema_
    close_run(stack.dsn, schema, "alerts-done", stack.config, time.monotonic(), io.StringIO(),
              alerter=Alerter(stack.config, stack.dsn, "alerts-done"))
    assert flush(60)
    assert [a["kind"] for a in receiver.alerts("alerts-done")] == ["done"]


@pytest.mark.slow
@pytest.mark.integration
def test_a_fatal_stop_sends_one_alert_with_the_resume_command(
    stack: LocalStack, receiver: Receiver, command_sink: CommandSink
) -> None:
    lo, hi, rows = _ranges(stack)[1]
    run_id = "alerts-fatal"
    sim = stack.simulator
    # the deployment starts refusing a parameter mid-run: a SystemicError stops the run
    sim.configure(bad_request_after=sim.stats()["ok_by_kind"].get("chat", 0) + 200)
    try:
        with pytest.raises(FatalError) as stopped:
            execute(stack.config, RunRequest(config_path=str(stack.config_path), start=lo,
                                             end=hi, run_id=run_id))
    finally:
        sim.configure(bad_request_after=0)
    assert flush(60)
    tables = _tables(stack, run_id)
    resume = f"backfill run --run-id {run_id} --config {stack.config_path}"
    for channel in (receiver, command_sink):
        [alert] = channel.alerts(run_id)
        assert alert["kind"] == "fatal" and alert["exit_code"] == EXIT_FATAL
        assert alert["error_class"] == type(stopped.value).__name__ == "SystemicError"
        assert alert["dependency"] == stopped.value.dependency != ""
        assert alert["resume"] == resume and f"resume: `{resume}`" in alert["text"]
        assert alert["records"] == rows
        assert alert["ok"] <= tables["ok"] < rows  # stopped part-way
        assert alert["failed"] <= tables["failed"]
    # resumed, it ends: one done; still one fatal
    resumed = execute(stack.config, RunRequest(config_path=str(stack.config_path), run_id=run_id))
    assert resumed.exit_code == EXIT_OK, resumed.summary
    assert flush(60)
    assert sorted(a["kind"] for a in receiver.alerts(run_id)) == ["done", "fatal"]
    assert sorted(a["kind"] for a in command_sink.alerts(run_id)) == ["done", "fatal"]


@pytest.mark.integration
def test_a_fatal_stop_at_the_preflight_alerts_too(
    stack: LocalStack, receiver: Receiver
) -> None:
    stack.simulator.configure(fail_rate=1.0)
    try:
        with pytest.raises(FatalError):
            execute(stack.config, RunRequest(config_path=str(stack.config_path),
                                             run_id="alerts-preflight"))
    finally:
        stack.simulator.configure(fail_rate=0)
    assert flush(60)
    [alert] = receiver.alerts("alerts-preflight")
    assert alert["kind"] == "fatal" and "LLM deployment" in alert["text"]
    assert f"`backfill run --run-id alerts-preflight --config {stack.config_path}`" in \
        alert["text"]


class RefusalsAfterPlan(threading.Thread):
    """The model refuses 30% of the requests once the run is planned (a refusal at the
    preflight would stop the run before it starts)."""

    def __init__(self, stack: LocalStack, run_id: str) -> None:
        super().__init__(daemon=True)
        self.stack, self.run_id = stack, run_id
        self.stop, self.started = threading.Event(), False

    def run(self) -> None:
        with psycopg.connect(self.stack.dsn, autocommit=True) as conn:
            conn.execute(f"SET search_path TO {SCHEMA}, public")
            while not self.stop.wait(0.05):
                try:
                    planned = conn.execute("SELECT 1 FROM etl_metadata WHERE run_id = %s AND "
                                           "kind = 'run'", (self.run_id,)).fetchone()
                except psycopg.errors.UndefinedTable:  # the run creates the tables first
                    continue
                if planned:
                    self.stack.simulator.configure(refusal_rate=0.3)
                    self.started = True
                    return


@pytest.mark.slow
@pytest.mark.integration
def test_failures_above_the_threshold_send_one_failure_rate_alert(
    stack: LocalStack, receiver: Receiver
) -> None:
    lo, hi, rows = _ranges(stack)[2]
    run_id = "alerts-failing"
    refusals = RefusalsAfterPlan(stack, run_id)  # a record refused is dead-lettered
    refusals.start()
    try:
        result = execute(stack.config, RunRequest(config_path=str(stack.config_path), start=lo,
                                                  end=hi, run_id=run_id))
    finally:
        refusals.stop.set()
        refusals.join()
        stack.simulator.configure(refusal_rate=0)
    assert refusals.started, "the refusals never started: the test tested nothing"
    assert flush(60)
    tables = _tables(stack, run_id)
    assert result.exit_code == EXIT_TOO_MANY_FAILURES
    kinds = Counter(a["kind"] for a in receiver.alerts(run_id))
    assert kinds == {"failure_rate": 1, "done": 1}, kinds
    [rate] = [a for a in receiver.alerts(run_id) if a["kind"] == "failure_rate"]
    threshold = stack.config.pipeline.max_failed_fraction  # alerts.failure_fraction unset
    assert rate["failure_threshold"] == threshold
    assert rate["records_done"] >= stack.config.alerts.min_records
    assert rate["failed"] / rate["records_done"] > threshold
    assert rate["failed"] <= tables["failed"] and rate["ok"] <= tables["ok"]
    [done] = [a for a in receiver.alerts(run_id) if a["kind"] == "done"]
    assert done["exit_code"] == EXIT_TOO_MANY_FAILURES
    assert (done["ok"], done["failed"]) == (tables["ok"], tables["failed"])
    assert "retry-failed --run-id alerts-failing" in done["text"]

    # retry-failed with the model answering again: its own done alert; no second failure_rate
    again = retry_failed(stack.config, run_id, str(stack.config_path))
    assert flush(60)
    tables = _tables(stack, run_id)
    assert again.exit_code == EXIT_OK and tables["failed"] == 0
    kinds = Counter((a["command"], a["kind"]) for a in receiver.alerts(run_id))
    assert kinds == {("run", "failure_rate"): 1, ("run", "done"): 1,
                     ("retry-failed", "done"): 1}, kinds
    [retried] = [a for a in receiver.alerts(run_id) if a["command"] == "retry-failed"]
    assert (retried["ok"], retried["failed"], retried["exit_code"]) == (tables["ok"], 0, 0)
    assert retried["text"].startswith(f"Backfill retry-failed of run {run_id} finished (exit 0)")


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_no_alert_holds_a_secret_or_record_text(
    stack: LocalStack, done_run: DoneRun, receiver: Receiver, command_sink: CommandSink
) -> None:
    bodies = receiver.bodies + command_sink.raw()
    assert len(bodies) >= 2
    table = stack.data.table
    texts = "\n".join(
        str(v) for col in ("PROBLEM_DESCRIPTION", "TECHNICIAN_NOTES", "RESOLUTION")
        for v in table.column(col).to_pylist() if v)
    for body in bodies:
        assert TOKEN.encode() not in body and API_KEY.encode() not in body
        text = json.dumps(json.loads(body), ensure_ascii=False)
        windows = {text[i:i + 24] for i in range(max(len(text) - 24, 0))}
        quoted = [w for w in windows if w in texts]
        assert quoted == [], quoted[:3]
    assert all(p.endswith(TOKEN) for p in receiver.paths)  # the token only in the URL
