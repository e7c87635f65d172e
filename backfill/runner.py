"""The driver side of a run: plan or resume, execute the pipeline, report, exit status."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TextIO

import psycopg
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from backfill import logs
from backfill import progress as P
from backfill.alerts import Alerter
from backfill.batch import batch_usage, run_batches
from backfill.config import Config
from backfill.db import (
    connect,
    ensure_schema,
    ensure_search_index,
    hnsw_build_memory,
    memory_bytes,
    pg_error_text,
    resolve_dsn,
    tables_exist,
    unindexed_vectors,
    with_pg_retry,
)
from backfill.errors import (
    EXIT_OK,
    EXIT_TOO_MANY_FAILURES,
    ConfigError,
    FatalError,
    SystemicError,
    root_cause,
)
from backfill.estimate import dry_run_estimate, report_text
from backfill.metrics import count_partition_done
from backfill.pipeline import PipelineSpec, first_partition_rows, run_pipeline
from backfill.preflight import PreflightResult, preflight
from backfill.report import write_final_report
from backfill.resources import StagePlan, plan_for_cluster
from backfill.runlock import WATCH_SECONDS, RunLock, stop_sending
from backfill.scrub import ScrubPolicy
from backfill.source import Partition, SnowflakeSession, session_call
from backfill.status import unknown_run
from backfill.usage import Heartbeat, usage_ledger
from backfill.verify import Reconciliation, reconcile

log = logging.getLogger(__name__)


@dataclass
class RunRequest:
    config_path: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    run_id: str | None = None
    dry_run: bool = False
    wait: bool = False  # for another driver of the same run to finish, instead of exit 2
    plan_only: bool = False  # store the plan and stop; ``run --run-id`` processes it later
    dashboard: bool = True  # a local Ray starts its dashboard (not with RAY_ADDRESS)


@dataclass
class RunResult:
    run_id: str
    exit_code: int
    rows_expected: int = 0
    rows_ok: int = 0
    rows_failed: int = 0
    partitions: int = 0
    seconds: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


# Ray kills a task's worker process after it is idle for 1 s whenever the node runs more
# processes than it has CPUs (ray-project/ray#27863), which with the job's actors is
# always: on a small node one prepare task in six started a new process (imports, the
# scrubber's patterns and name lists: ~3 s of CPU each; measured: 18 processes for 101
# prepare tasks, 10.1 instead of 6.6 ms of CPU a record, docs/benchmarks.md). A local Ray
# keeps idle workers 30 s; cluster.yaml and rayjob.yaml start the nodes with the same
# settings (as RAY_<name> variables; tests/test_cluster_config.py).
# Ray's GCS keeps the events of every task (for the dashboard and the state API) up to
# 100,000 tasks, ~3.6 KB each: a run makes ~4 tasks a batch (prepare, extract, embed,
# write), and the GCS grew from 60 to 168 MiB over a million records (docs/benchmarks.md).
# The last 5,000 tasks are kept (a few minutes of a run; the job's own progress is in
# Postgres): measured, 20,000 small tasks 116 MiB, capped 56; in the pipeline the GCS
# stayed at 68 MiB from 100,000 records on.
LOCAL_RAY_SYSTEM_CONFIG: dict[str, Any] = {"idle_worker_killing_time_threshold_ms": 30_000,
                                           "task_events_max_num_task_in_gcs": 5_000}


def ray_node_env() -> dict[str, str]:
    """The same settings as the variables a node started by ``ray start`` reads."""
    return {f"RAY_{k}": str(v) for k, v in LOCAL_RAY_SYSTEM_CONFIG.items()}


def init_ray(out: TextIO | None = None, dashboard: bool = False) -> None:
    """Connect to the cluster in ``RAY_ADDRESS``, or start a local Ray; with ``dashboard``
    the local one runs the Ray dashboard (its URL printed to ``out``), where the job's
    tasks, actors, logs and metrics show."""
    if ray.is_initialized():
        return
    address = os.environ.get("RAY_ADDRESS")
    logs.route_ray_loggers()
    options: dict[str, Any] = {
        "include_dashboard": bool(address) or dashboard,
        "logging_level": logging.WARNING,
        "configure_logging": True,
        **logs.ray_init_options(),  # log_to_driver, and JSON for workers with --log-format json
    }
    try:
        context = ray.init(address=address or None, **options,
                           _system_config=None if address else LOCAL_RAY_SYSTEM_CONFIG)
    except ValueError as exc:
        if "_system_config" not in str(exc):
            raise
        # Without RAY_ADDRESS, Ray joins a cluster `ray start` left on this machine, whose
        # settings are its nodes' own (refused before anything connected).
        context = ray.init(address=None, **options)
    _stop_on_signals()
    url = getattr(context, "dashboard_url", "")
    if dashboard and not address and url and out is not None:
        print(f"Ray dashboard: http://{url} (--no-dashboard to run without it)", file=out,
              flush=True)
    if not log.isEnabledFor(logging.INFO):
        # Ray Data logs each operator's state every few seconds at INFO; the progress
        # lines below say the same from the database.
        logging.getLogger("ray.data").setLevel(logging.WARNING)


STOP_GRACE_SECONDS = 4 * WATCH_SECONDS


def _interrupted(signum: int, frame: Any) -> None:
    """Ctrl-C or SIGTERM: first no new request leaves (the API actors watch the driver's
    sending lock), then the run stops as it always did on Ctrl-C: marked, the resume
    command printed, exit 1."""
    stop_sending()
    # The actors see it within WATCH_SECONDS: meanwhile the answers in flight arrive and are
    # journaled, and the actors hand what they counted to the ledger, before the pipeline
    # is torn down and the attempt's usage recorded.
    time.sleep(STOP_GRACE_SECONDS)
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    """SIGTERM (``ray job stop``, Kubernetes, systemd, ``kill``) ends a driver as Ctrl-C
    does. ``ray.init`` sets its own handler (``sys.exit`` in the middle of whatever the driver
    waits on): an acceptance check saw the driver dump a C++ stack and abort 3 s later, the
    attempt left "running" and no resume command, while the actors sent ~600 more requests;
    on Ctrl-C they sent requests for 0.2-0.8 s more, whose answers nobody journaled."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupted)
        signal.signal(signal.SIGINT, _interrupted)


def size_stages(cfg: Config, out: TextIO) -> StagePlan:
    """What each stage asks of the cluster this process is connected to; a cluster that
    cannot run the job is a ConfigError (exit 2) here, before anything is read: too few
    CPUs, or ``scrub.name_model`` on without the model installed (on this node; another
    node without it stops the run at its first prepare, with the same error)."""
    ScrubPolicy.from_config(cfg.scrub).check()
    p = cfg.pipeline
    stages = plan_for_cluster(p.extract_actors, p.embed_actors, p.write_actors)
    print(stages.describe(), file=out, flush=True)
    return stages


def _params(cfg: Config, start: dt.datetime | None, end: dt.datetime | None) -> dict[str, Any]:
    """What defines a run; resuming under different parameters is refused."""
    return {
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "table": f"{cfg.snowflake.database}.{cfg.snowflake.schema_}.{cfg.snowflake.table}",
        "id_column": cfg.snowflake.id_column,
        "timestamp_column": cfg.snowflake.timestamp_column,
        "llm_deployment": cfg.llm.deployment,
        "embedding_deployment": cfg.embedding.deployment,
        "dimensions": cfg.embedding.dimensions,
    }


def _check_same_run(
    stored: dict[str, Any], requested: dict[str, Any], run_id: str, explicit_bounds: bool
) -> None:
    keys = [k for k in requested if k not in ("start", "end", "range") or explicit_bounds]
    keys = [k for k in keys if k != "range"]
    diffs = [
        f"{k}: stored {stored.get(k)!r}, now {requested[k]!r}"
        for k in keys
        if stored.get(k) != requested[k]
    ]
    if diffs:
        raise ConfigError(
            f"run {run_id} exists with other parameters ({'; '.join(diffs)}); "
            "resume it with its own parameters, or start a new run without --run-id"
        )


class ProgressPrinter(threading.Thread):
    """Prints a progress line every few seconds, read from etl_metadata (the truth)."""

    def __init__(
        self, dsn: str, schema: str, run_id: str, interval: float, out: TextIO = sys.stderr,
        stall_seconds: float = 600.0, stages: StagePlan | None = None,
        heartbeat: Heartbeat | None = None, alerter: Alerter | None = None,
    ) -> None:
        super().__init__(daemon=True, name="progress")
        self.stall_seconds, self.stages = stall_seconds, stages
        self.heartbeat, self.alerter = heartbeat, alerter
        self.last_done: int | None = None
        self.last_change = time.monotonic()
        self.last_warning = 0.0
        self.dsn, self.schema, self.run_id, self.interval, self.out = (
            dsn,
            schema,
            run_id,
            interval,
            out,
        )
        self.stop_event = threading.Event()
        self.started_at = time.monotonic()
        self.first_done: int | None = None

    def line(self) -> str | None:
        with connect(self.dsn, self.schema, autocommit=True) as conn:
            rows = P.run_progress(conn, self.run_id)
        if not rows:
            return None
        r = rows[0]
        elapsed = time.monotonic() - self.started_at
        if self.first_done is None:
            self.first_done = r.rows_done
        rate = (r.rows_done - self.first_done) / elapsed * 3600 if elapsed > 0 else 0.0
        stalled = self.check_stall(r.rows_done + r.rows_failed, time.monotonic())
        if self.alerter is not None:  # failure-rate and stall alerts, from the same sample
            self.alerter.observe(r.rows_ok, r.rows_failed, r.rows_expected)
        left = max(r.rows_expected - r.rows_done, 0)
        eta = f"{left / rate * 3600 / 60:.1f} min" if rate > 0 else "-"
        pct = 100.0 * r.rows_done / r.rows_expected if r.rows_expected else 100.0
        text = (
            f"[{self.run_id}] {r.rows_done:,}/{r.rows_expected:,} records ({pct:.1f}%), "
            f"{r.rows_failed:,} failed, partitions {r.partitions_done}/{r.partitions}, "
            f"{rate:,.0f} records/h, ETA {eta}"
        )
        return text if stalled is None else f"{text}\n{stalled}"

    def check_stall(self, done: int, now: float) -> str | None:
        """The stall warning, once per ``stall_seconds`` without a new record, else None.
        (Records done or failed both count as progress.)"""
        if done != self.last_done:
            self.last_done, self.last_change = done, now
            return None
        idle = now - self.last_change
        if idle < self.stall_seconds or now - self.last_warning < self.stall_seconds:
            return None
        self.last_warning = now
        return stall_message(self.run_id, idle, self.stages, _cluster_cpus(), pending_work())

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            try:
                if self.heartbeat is not None:
                    self.heartbeat.beat()
                text = self.line()
            except psycopg.Error as exc:
                text = f"[{self.run_id}] progress unavailable: {pg_error_text(exc)}"
            if text:
                print(text, file=self.out, flush=True)

    def stop(self) -> None:
        self.stop_event.set()


def _cluster_cpus() -> tuple[float, float] | None:
    """(free, total) CPUs of the Ray cluster, or None when Ray cannot say."""
    try:
        return (float(ray.available_resources().get("CPU", 0.0)),
                float(ray.cluster_resources().get("CPU", 0.0)))
    except Exception:  # noqa: BLE001 - a diagnostic only
        return None


def pending_work(limit: int = 200) -> list[tuple[str, dict[str, float]]]:
    """Tasks and actors waiting for a node that can meet their resource request, from Ray's
    state API (served by the dashboard; [] when it is not running)."""
    try:
        from ray.util.state import list_actors, list_tasks

        tasks = list_tasks(filters=[("state", "=", "PENDING_NODE_ASSIGNMENT")], limit=limit,
                           timeout=10, detail=True, raise_on_missing_output=False)
        actors = list_actors(filters=[("state", "=", "PENDING_CREATION")], limit=limit,
                             timeout=10, detail=True, raise_on_missing_output=False)
    except Exception:  # noqa: BLE001 - a diagnostic only
        return []
    return ([(t.name, dict(t.required_resources or {})) for t in tasks]
            + [(a.class_name, dict(getattr(a, "required_resources", None) or {}))
               for a in actors])


def _pending_text(pending: list[tuple[str, dict[str, float]]]) -> str:
    """ "MapBatches(prepare_blocks) x1 asking CPU 1" ... for the stall line."""
    groups: dict[tuple[str, str], int] = {}
    for name, resources in pending:
        ask = ", ".join(f"{k} {v:g}" for k, v in sorted(resources.items())) or "nothing"
        groups[(name, ask)] = groups.get((name, ask), 0) + 1
    return "; ".join(f"{name} x{n} asking {ask}" for (name, ask), n in sorted(groups.items()))


def stall_message(run_id: str, idle_seconds: float, stages: StagePlan | None,
                  cpus: tuple[float, float] | None,
                  pending: list[tuple[str, dict[str, float]]] | None = None) -> str:
    """What an operator needs when nothing moves: how long, what waits for which resources,
    what each stage asks, what the cluster has free, and what that usually means."""
    parts = [f"[{run_id}] STALLED: no record committed for {idle_seconds / 60:.1f} min."]
    if pending:
        parts.append(f"Waiting for a node: {_pending_text(pending)}.")
    if stages is not None:
        parts.append(f"Stages ask: prepare {stages.prepare_cpus:g} CPU per task; read tasks, "
                     f"API actors and writers {stages.io_cpus:g} CPU each.")
    if cpus is not None:
        free, total = cpus
        parts.append(f"Ray: {free:g} of {total:g} CPUs free.")
        if free >= (stages.io_cpus if stages is not None else 1e-9):
            parts.append("CPUs sit free while nothing moves: a task waits for a request no "
                         "single node can meet (compare the sizing line at start-up; `ray "
                         "status` shows the pending demand), or the APIs or Postgres hang "
                         "(see the last errors above).")
        else:
            parts.append("No CPU is free: another job holds the cluster, or a stage is "
                         "stuck holding its CPUs (`ray status`, the Ray dashboard).")
    return " ".join(parts)


def _start_session(cfg: Config, run_id: str) -> Any:
    """The run's Snowflake session, on this (the driver's) node."""
    node = ray.get_runtime_context().get_node_id()
    return SnowflakeSession.options(  # type: ignore[attr-defined]
        name=f"backfill-snowflake-{run_id}",
        scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
    ).remote(cfg.snowflake)


def execute(cfg: Config, req: RunRequest, out: TextIO | None = None) -> RunResult:
    """Run or resume one backfill. Raises ConfigError / FatalError for exits 2 / 1.
    Progress and notes go to ``out``, by default the standard error of the moment."""
    out = out or sys.stderr
    t0 = time.monotonic()
    dsn = resolve_dsn(cfg)
    schema = cfg.postgres.schema_
    run_id = req.run_id or new_run_id()
    logs.set_run_id(run_id)
    if req.dry_run:
        return _dry_run(cfg, req, dsn, run_id, out)
    ensure_schema(dsn, schema, cfg.embedding.dimensions)
    with RunLock(dsn, schema, run_id, wait=req.wait, out=out):
        alerter = Alerter(cfg, dsn, run_id, "run", req.config_path)
        try:
            return _execute_held(cfg, req, dsn, run_id, t0, out, alerter)
        except (FatalError, KeyboardInterrupt) as exc:
            alerter.fatal(exc)  # queued: sent while the process exits (alerts.flush_seconds)
            raise


def _load(dsn: str, schema: str, run_id: str) -> P.RunRecord | None:
    def load() -> P.RunRecord | None:
        with connect(dsn, schema) as conn:
            return P.load_run(conn, run_id)

    return with_pg_retry(load, "reading the run")


def _set_state(dsn: str, schema: str, run_id: str, state: str, **info: Any) -> None:
    def write() -> None:
        with connect(dsn, schema) as conn:
            P.set_run_state(conn, run_id, state, **info)

    with_pg_retry(write, f"marking the run {state}")


def _execute_held(cfg: Config, req: RunRequest, dsn: str, run_id: str, t0: float,
                  out: TextIO, alerter: Alerter | None = None) -> RunResult:
    """The run, while this process holds its lock."""
    schema = cfg.postgres.schema_
    resume_hint = f"backfill run --run-id {run_id}" + (
        f" --config {req.config_path}" if req.config_path else ""
    )
    requested = _params(cfg, req.start, req.end)
    run = _load(dsn, schema, run_id)
    if run is not None and run.params.get("mode") == "incremental":
        raise ConfigError(f"run {run_id} is an incremental run: it is not resumed by id; "
                          "backfill run --incremental again sends what it did not commit")
    if run is not None:
        _check_same_run(run.params, requested, run_id, req.start is not None or req.end is not None)
        if run.state == P.DONE:
            print(f"run {run_id} is already done; nothing to do", file=out)
            return _result(dsn, schema, run_id, cfg, t0, EXIT_OK)
    # The preflight's two requests (seconds each with a loaded deployment) while Ray starts
    # (7-16 s for a local one): the first commit comes that much sooner (docs/benchmarks.md,
    # "Where the seconds to the first commit go"). Nothing is planned or read before both
    # answered.
    # The Snowflake session's actor starts (a worker process, the connector's import, the
    # login) while the preflight's answers are awaited, too.
    session = None
    with ThreadPoolExecutor(1, thread_name_prefix="preflight") as pool:
        checking = pool.submit(_preflight, cfg, resume_hint, out)
        try:
            init_ray(out, req.dashboard)
            stages = size_stages(cfg, out)
            session = _start_session(cfg, run_id)
        finally:
            try:
                checked = checking.result()
                billed = checked.usage
            except FatalError as exc:
                if session is not None:
                    ray.kill(session)
                if run is not None:
                    _mark_failed(dsn, schema, run_id, exc)
                raise
    try:
        _describe_source(cfg, session, out)
        if run is None:
            run = _plan_run(cfg, req, dsn, run_id, session, requested, out)
            if req.plan_only:
                print(f"run {run_id}: planned; process it with {resume_hint}", file=out)
                return RunResult(run_id, EXIT_OK, rows_expected=sum(
                    p.rows for p in run.partitions), partitions=len(run.partitions))
        else:
            _set_state(dsn, schema, run_id, P.RUNNING, error=None)
        ledger = usage_ledger()
        heartbeat = with_pg_retry(lambda: Heartbeat(dsn, schema, run_id, "run", ledger, billed),
                                  "recording the attempt")
        try:
            with connect(dsn, schema) as conn:
                pending = P.pending_partitions(conn, run)
            print(f"run {run_id}: {len(pending)} of {len(run.partitions)} partitions to process",
                  file=out, flush=True)
            batch_mode = cfg.llm.mode == "batch"
            if pending and batch_mode:  # the Batch API answers first (backfill.batch)
                run_batches(cfg, dsn, run, session, pending, out, resume_hint, heartbeat.beat)
            if pending:
                spec = PipelineSpec(cfg, dsn, run_id, session, pending,
                                    duplicate_ids=frozenset(run.duplicate_ids), stages=stages,
                                    usage=ledger, journal_only=batch_mode,
                                    seed_answer_tokens=checked.llm_answer_tokens)
                _run_with_progress(spec, resume_hint, out, heartbeat, alerter)
            _close_partitions(dsn, schema, run, session, pending, resume_hint)
            result = close_run(dsn, schema, run_id, cfg, t0, out, session, alerter)
            _set_mark(dsn, schema, run)
            result = finish_attempt(heartbeat, cfg, dsn, run_id, out, result)
            if batch_mode:  # the documents the Batch API was not sent: journaled before
                with connect(dsn, schema) as conn:
                    result.summary["answers_reused"] += batch_usage(conn, run_id)["reused"]
            return result
        except (FatalError, KeyboardInterrupt) as exc:
            _mark_failed(dsn, schema, run_id, exc if isinstance(exc, FatalError) else FatalError(
                "interrupted", dependency="operator"))
            _last_beat(heartbeat, P.FAILED)
            raise
    finally:
        ray.kill(session)


def _set_mark(dsn: str, schema: str, run: P.RunRecord) -> None:
    """A completed backfill is where ``run --incremental`` takes over: the end of its range
    (no later than now, for an --end in the future) becomes the table's high-water mark."""
    end = run.params.get("range", [None, None])[1]
    if not end:
        return
    mark = min(dt.datetime.fromisoformat(end), dt.datetime.now(dt.UTC).replace(tzinfo=None))

    def write() -> None:
        with connect(dsn, schema) as conn:
            P.advance_mark(conn, run.params["table"], mark, run.run_id)

    with_pg_retry(write, "setting the high-water mark")


def finish_attempt(heartbeat: Heartbeat, cfg: Config, dsn: str, run_id: str, out: TextIO,
                   result: RunResult) -> RunResult:
    """A completed attempt (run, retry-failed, reprocess, incremental): its final usage,
    then the run's HTML report."""
    _last_beat(heartbeat, P.DONE)
    result.summary["answers_reused"] = sum(
        u.get("reused", 0) for u in heartbeat.last.values())
    write_final_report(cfg, dsn, run_id, out)
    return result


def _last_beat(heartbeat: Heartbeat, state: str) -> None:
    """The attempt's final usage and state; a database that is down by now costs only
    the figures of the last seconds, never the run's outcome."""
    try:
        with_pg_retry(lambda: heartbeat.beat(state), "recording the attempt's usage")
    except FatalError as exc:
        log.warning("the attempt's usage was not recorded: %s", exc.message)


def _mark_failed(dsn: str, schema: str, run_id: str, fatal: FatalError) -> None:
    """The run stopped: ``status`` shows it failed, with the error's class and message."""
    _set_state(dsn, schema, run_id, P.FAILED, error={
        "class": type(fatal).__name__, "dependency": fatal.dependency,
        "message": fatal.message[:2000]})


def _preflight(cfg: Config, resume_hint: str, out: TextIO) -> PreflightResult:
    """One request to each deployment before anything is planned or read: a wrong name, a
    parameter the model refuses or the wrong vector size stops the run here, not after
    thousands of dead letters."""
    try:
        checked = preflight(cfg)
    except FatalError as exc:
        raise type(exc)(exc.message, exc.dependency, resume_hint) from exc
    print(f"preflight: {cfg.llm.deployment} answered in {checked.llm_seconds:.1f} s, "
          f"{cfg.embedding.deployment} in {checked.embedding_seconds:.1f} s", file=out,
          flush=True)
    return checked


def _describe_source(cfg: Config, session: Any, out: TextIO) -> None:
    missing = session_call(session.describe)
    if missing:
        print(
            f"note: {cfg.snowflake.table} has no column for {', '.join(missing)} (not "
            "mapped in snowflake.columns either); they are loaded as NULL",
            file=out,
            flush=True,
        )


def _plan_run(cfg: Config, req: RunRequest, dsn: str, run_id: str, session: Any,
              requested: dict[str, Any], out: TextIO) -> P.RunRecord:
    """Plan the run and store its plan; the plan is fixed from then on."""
    schema = cfg.postgres.schema_
    start, end, parts = _plan(cfg, req, run_id, session, out)
    duplicates, parts = session_call(session.duplicates, start, end, parts)
    if duplicates:
        print(f"note: {len(duplicates):,} ids of the range occur more than once in the "
              "source table; their rows go to failed_records (validate/DuplicateId)",
              file=out, flush=True)
    requested["range"] = [start.isoformat(), end.isoformat()]

    def create() -> None:
        with connect(dsn, schema) as conn:
            P.create_run(conn, run_id, requested, parts, duplicates)

    with_pg_retry(create, "recording the run's plan")
    run = _load(dsn, schema, run_id)
    assert run is not None
    return run


def _plan(cfg: Config, req: RunRequest, run_id: str, session: Any,
          out: TextIO) -> tuple[dt.datetime, dt.datetime, list[Partition]]:
    start, end, parts, null_rows = session_call(
        session.plan, req.start, req.end, cfg.pipeline.partition_rows, cfg.pipeline.bucket,
        first_partition_rows(cfg.pipeline.batch_size)
    )
    print(
        f"run {run_id}: {sum(p.rows for p in parts):,} records in [{start}, {end})"
        + (" and without a timestamp" if any(p.null_timestamps for p in parts) else "")
        + f", {len(parts)} partitions",
        file=out,
        flush=True,
    )
    if null_rows and not any(p.null_timestamps for p in parts):
        print(f"note: {null_rows:,} rows of {cfg.snowflake.table} have no "
              f"{cfg.snowflake.timestamp_column}, so they lie in no range: a run without "
              "--start/--end takes them (as validate/MissingTimestamp dead letters)",
              file=out, flush=True)
    return start, end, parts


def _dry_run(cfg: Config, req: RunRequest, dsn: str, run_id: str, out: TextIO) -> RunResult:
    """Plan and estimate; write nothing anywhere (no schema, no run row)."""
    schema = cfg.postgres.schema_
    if req.run_id and tables_exist(dsn, schema):
        run = _load(dsn, schema, run_id)
        if run is not None:
            print(f"run {run_id} exists ({run.state}); a dry run plans new runs only", file=out)
            return RunResult(run_id, EXIT_OK)
    checked = _preflight(cfg, "", out)
    init_ray()
    size_stages(cfg, out)
    session = _start_session(cfg, run_id)
    try:
        _describe_source(cfg, session, out)
        start, end, parts = _plan(cfg, req, run_id, session, out)
        duplicates, parts = session_call(session.duplicates, start, end, parts)
        estimate = dry_run_estimate(cfg, session, start, end, parts, frozenset(duplicates),
                                    checked.llm_answer_tokens)
    finally:
        ray.kill(session)
    print(report_text(cfg, parts, estimate), file=out, flush=True)
    return RunResult(run_id, EXIT_OK, rows_expected=sum(p.rows for p in parts),
                     partitions=len(parts), summary={
                         "estimate": estimate.to_json(),
                         "llm_cost_by_mode": estimate.llm_cost_by_mode(
                             cfg.llm.batch_price_factor),
                         "partitions": [p.to_json() for p in parts]})


def _run_with_progress(spec: PipelineSpec, resume_hint: str, out: TextIO,
                       heartbeat: Heartbeat | None = None,
                       alerter: Alerter | None = None) -> None:
    """Execute the pipeline with progress lines (and the attempt's heartbeat); turn what
    stopped it into a FatalError that names the dependency and the command to resume."""
    cfg = spec.cfg
    printer = ProgressPrinter(spec.dsn, cfg.postgres.schema_, spec.run_id,
                              cfg.pipeline.progress_interval_seconds, out,
                              cfg.pipeline.stall_minutes * 60, spec.stages, heartbeat, alerter)
    printer.start()
    try:
        run_pipeline(spec)
    except KeyboardInterrupt:
        raise FatalError("interrupted", dependency="operator", resume_hint=resume_hint) from None
    except Exception as exc:  # noqa: BLE001 - classified below
        root = root_cause(exc)
        if isinstance(root, FatalError):
            # (not type(root): Ray hands over a class of its own deriving from ours)
            kind = SystemicError if isinstance(root, SystemicError) else FatalError
            raise kind(root.message, root.dependency, resume_hint) from exc
        if isinstance(root, ConfigError):
            raise root from exc
        # A library's message may quote the record it failed on (Postgres's DETAIL lines do):
        # only its class and codes are printed and stored.
        raise FatalError(
            pg_error_text(root) if isinstance(root, psycopg.Error) else
            f"{type(root).__name__} (its message is withheld: it may quote record data)",
            dependency="pipeline",
            resume_hint=resume_hint,
        ) from exc
    finally:
        printer.stop()
        # joined, so that its last beat cannot overwrite the final one with older totals
        printer.join(timeout=60)


def close_complete(dsn: str, schema: str, run_id: str, indexes: list[int]) -> list[int]:
    """Close each of the run's partitions ``indexes`` that the tables show committed in
    full (each locked while it is counted); return those still short."""
    def close() -> list[int]:
        short = []
        with connect(dsn, schema) as conn, conn.transaction(), conn.cursor() as cur:
            for index in indexes:
                cur.execute("SELECT 1 FROM etl_metadata WHERE run_id = %s AND "
                            "kind = 'partition' AND item = %s FOR UPDATE",
                            (run_id, str(index)))
                if not P.close_if_complete(cur, run_id, index):
                    short.append(index)
        return short

    return with_pg_retry(close, "closing the run's partitions")


def _close_partitions(dsn: str, schema: str, run: P.RunRecord, session: Any,
                      pending: list[Partition], resume_hint: str) -> None:
    """The dataset completed: every pending partition must now be committed in full, as
    counted from the tables (the sink closes most of them as their last block commits).

    A partition still short is either a record moved to another partition (an id that
    occurs twice, its row kept where it was read last) or a real loss: the source is asked
    for its ids to tell which. A loss stops the run; resuming processes what is missing.
    """

    still_open = set(close_complete(dsn, schema, run.run_id, [p.index for p in pending]))
    short = [p for p in pending if p.index in still_open]
    if not short:
        return
    with connect(dsn, schema) as conn:
        check = reconcile(conn, run, session, None, short)
    lost = {c.index: c.missing for c in check.partitions if c.missing}
    if lost:
        n = sum(len(ids) for ids in lost.values())
        raise FatalError(
            f"{n:,} records were read but not committed (partitions "
            f"{', '.join(map(str, sorted(lost)))}); nothing is marked done for them",
            dependency="pipeline", resume_hint=resume_hint)

    def mark() -> None:
        with connect(dsn, schema) as conn, conn.transaction():
            conn.execute("UPDATE etl_metadata SET state = 'done', updated_at = now() "
                         "WHERE run_id = %s AND kind = 'partition' AND item = ANY(%s)",
                         (run.run_id, [str(p.index) for p in short]))

    with_pg_retry(mark, "closing the run's partitions")
    if short:
        count_partition_done(run.run_id, len(short))


def close_run(dsn: str, schema: str, run_id: str, cfg: Config, t0: float,
              out: TextIO, session: Any = None, alerter: Alerter | None = None) -> RunResult:
    """Count every partition from the tables, build the search index, reconcile with the
    source (given its session), decide the exit status, record the summary (and alert)."""

    def recount() -> None:
        with connect(dsn, schema) as conn:
            P.recount(conn, run_id)

    with_pg_retry(recount, "counting the run's records")
    if cfg.postgres.build_index:
        print(f"run {run_id}: building the search index if missing (HNSW, "
              f"maintenance_work_mem {cfg.postgres.index_build_memory}); on a large table this "
              "takes a while", file=out, flush=True)
        todo = unindexed_vectors(dsn, schema)
        needed = hnsw_build_memory(*todo) if todo else 0
        if todo and needed > memory_bytes(cfg.postgres.index_build_memory):
            need = -(-needed // 2**30)
            print(f"run {run_id}: warning: the HNSW graph of {todo[0]:,} vectors needs about "
                  f"{need}GB of maintenance_work_mem and postgres.index_build_memory is "
                  f"{cfg.postgres.index_build_memory}: the build will take much longer "
                  f"(postgres.index_build_memory: {need}GB if the server has it, or "
                  "postgres.build_index: false to leave the index to the DBA)",
                  file=out, flush=True)
        ensure_search_index(dsn, schema, cfg.postgres.index_build_memory)
    result = _result(dsn, schema, run_id, cfg, t0, EXIT_OK)
    processed = result.rows_ok + result.rows_failed
    if processed and result.rows_failed / processed > cfg.pipeline.max_failed_fraction:
        result.exit_code = EXIT_TOO_MANY_FAILURES
    if session is not None and cfg.pipeline.verify_at_end:
        print(f"run {run_id}: reconciling with the source", file=out, flush=True)
        run = _load(dsn, schema, run_id)
        assert run is not None
        with connect(dsn, schema) as conn:
            check = reconcile(conn, run, session, cfg.embedding.deployment)
        print(check.text(), file=out, flush=True)
        result.summary["reconciled"] = check.reconciled
        if not check.reconciled:
            result.exit_code = EXIT_TOO_MANY_FAILURES
    _set_state(dsn, schema, run_id, P.DONE, summary=result.summary, error=None)
    if alerter is not None:
        alerter.done(result.exit_code, result.rows_expected, result.rows_ok, result.rows_failed,
                     result.summary.get("reconciled"))
    return result


def _result(dsn: str, schema: str, run_id: str, cfg: Config, t0: float, code: int) -> RunResult:
    with connect(dsn, schema) as conn:
        rows = P.run_progress(conn, run_id, stored=True)
        by_class = P.open_failures(conn, run_id)
        info = conn.execute(
            "SELECT info->'summary' FROM etl_metadata WHERE run_id = %s AND kind = 'run'",
            (run_id,),
        ).fetchone()
    r = rows[0]
    summary = {
        "records": r.rows_expected,
        "records_planned": r.rows_planned,
        "ok": r.rows_ok,
        "failed": r.rows_failed,
        "failed_open": r.failed_open,
        "failed_by_stage": {f"{s}/{c}": n for s, c, n in by_class},
        "max_failed_fraction": cfg.pipeline.max_failed_fraction,
    }
    if info and info[0] and "reconciled" in info[0]:
        summary["reconciled"] = info[0]["reconciled"]
    return RunResult(
        run_id,
        code,
        rows_expected=r.rows_expected,
        rows_ok=r.rows_ok,
        rows_failed=r.rows_failed,
        partitions=r.partitions,
        seconds=time.monotonic() - t0,
        summary=summary,
    )


def verify_run(cfg: Config, run_id: str) -> Reconciliation:
    """``backfill verify``: the run's partitions compared in the source and in Postgres."""
    dsn = resolve_dsn(cfg)
    schema = cfg.postgres.schema_
    if not tables_exist(dsn, schema):
        raise ConfigError(f"--run-id {run_id}: no such run in {schema}")
    run = _load(dsn, schema, run_id)
    if run is None:
        with connect(dsn, schema) as conn:
            raise unknown_run(conn, schema, run_id)
    init_ray()
    session = _start_session(cfg, f"{run_id}-verify")
    try:
        with connect(dsn, schema) as conn:
            return reconcile(conn, run, session, cfg.embedding.deployment)
    finally:
        ray.kill(session)

