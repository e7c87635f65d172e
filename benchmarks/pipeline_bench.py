"""Whole-job benchmark: N synthetic records through the real pipeline against the simulator.

    python benchmarks/pipeline_bench.py --records 20000 --latency-ms 300
    python benchmarks/pipeline_bench.py --records 20000 --latency-ms 300 --rpm 3000 --tpm 3000000

Prints records/hour, quota utilisation, the share of 429 answers, CPU-seconds per record
and peak memory (PSS, so shared pages count once) of the job's process tree (driver + Ray +
workers; the simulator and the fakesnow server stand for remote services and are measured
apart). Wall time counts from the run's
start to its end, not the stack's startup.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backfill.devstack.simulator import read_request_log  # noqa: E402
from backfill.devstack.stack import local_stack  # noqa: E402
from backfill.runner import RunRequest, execute  # noqa: E402


def _tree(root: psutil.Process, exclude: set[int]) -> list[psutil.Process]:
    procs = [root]
    try:
        procs += root.children(recursive=True)
    except psutil.NoSuchProcess:
        pass
    skip: set[int] = set()
    for pid in exclude:
        try:
            p = psutil.Process(pid)
            skip |= {pid} | {c.pid for c in p.children(recursive=True)}
        except psutil.NoSuchProcess:
            continue
    return [p for p in procs if p.pid not in skip]


def _pss(pid: int) -> tuple[int, int, int]:
    """PSS, and its anonymous and shared-memory parts, in bytes. smaps_rollup is one
    read where psutil's memory_full_info walks every mapping in smaps."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key.startswith("Pss"):
                fields[key] = int(rest.split()[0]) * 1024
    return fields.get("Pss", 0), fields.get("Pss_Anon", 0), fields.get("Pss_Shmem", 0)


def _name(p: psutil.Process, driver: int) -> str:
    """A stable label: Ray titles its workers "ray::Actor.method" or "ray::IDLE" (padded
    with spaces), other processes by their program or script."""
    if p.pid == driver:
        return "driver"
    cmd = p.cmdline()
    if not cmd:
        return p.name()
    if cmd[0].startswith("ray::"):
        return cmd[0].split()[0].split(".")[0]
    if Path(cmd[0]).name.startswith("python") and len(cmd) > 1:
        return Path(cmd[1]).name if not cmd[1].startswith("-") else " ".join(cmd[1:3])
    return Path(cmd[0]).name


class TreeSampler(threading.Thread):
    """Samples the CPU time and RSS of a process tree every ``interval`` seconds."""

    def __init__(self, exclude: set[int], interval: float = 0.5, pss_every: int = 4,
                 trace: TextIO | None = None) -> None:
        super().__init__(daemon=True)
        self.trace = trace
        self.root = psutil.Process(os.getpid())
        self.exclude, self.interval = exclude, interval
        # Reading smaps_rollup of every process costs the kernel (and this process, which
        # is the job's driver) real CPU: PSS is read every ``pss_every`` samples only.
        self.pss_every, self.samples = pss_every, 0
        self.cpu: dict[int, float] = {}
        self.names: dict[int, str] = {}  # pid -> label, kept after the process ends
        self.peak_rss = 0
        # Per-process PSS at the moment of the tree's peak, to say where memory sits.
        self.peak_breakdown: dict[str, float] = {}
        self.stop = threading.Event()
        # This thread's own CPU (it runs in the driver's process): not the job's, so taken
        # off the driver's figure. Reading every process's smaps was half the driver's
        # busy samples in py-spy (session 11).
        self.own = 0.0

    def sample(self, memory: bool = True) -> None:
        rss = 0
        parts: dict[str, float] = {}
        pids: dict[str, int] = {}
        for p in _tree(self.root, self.exclude):
            try:
                t = p.cpu_times()
                self.cpu[p.pid] = t.user + t.system + t.children_user + t.children_system
                if memory or p.pid not in self.names:  # a worker takes its title later
                    self.names[p.pid] = _name(p, self.root.pid)
                if memory:
                    # PSS: shared pages (Ray's object store is mapped by every worker)
                    # count once, split among the processes that map them.
                    pss, anon, shmem = _pss(p.pid)
                    rss += pss
                    name = _name(p, self.root.pid)
                    parts[name] = parts.get(name, 0) + pss
                    pids[f"{p.pid} {name}"] = [round(x / 2**20) for x in (pss, anon, shmem)]
            except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
                continue
        if rss > self.peak_rss:
            self.peak_rss, self.peak_breakdown = rss, parts
        if memory and self.trace is not None:
            # CPU seconds so far by label, to see which process's work per record grows
            cpu: dict[str, float] = {}
            for pid, seconds in self.cpu.items():
                label = self.names.get(pid, "?")
                own = self.own if pid == self.root.pid else 0.0
                cpu[label] = round(cpu.get(label, 0.0) + seconds - own, 2)
            self.trace.write(json.dumps({"t": round(time.monotonic(), 1), "pss": pids,
                                         "cpu": cpu}) + "\n")

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.samples += 1
            self.sample(memory=self.samples % self.pss_every == 0)
            self.own = time.thread_time()

    def cpu_seconds(self) -> float:
        """The job's CPU seconds: the tree's, without this sampler's own."""
        return sum(self.cpu.values()) - self.own


def _server_cpu(postmaster: int | None) -> dict[str, float]:
    """CPU seconds so far of the Postgres server's processes by kind: the server is not in
    the job's tree (pg_ctl detaches it), and at 1M records what it does besides the job's
    writes (autovacuum, autoanalyze, checkpoints) shares the box's two cores. "ended" is
    what the postmaster reaped: an autovacuum worker's CPU lands there when it exits."""
    if postmaster is None:
        return {}
    try:
        root = psutil.Process(postmaster)
        t = root.cpu_times()
        out = {"postmaster": t.user + t.system, "ended": t.children_user + t.children_system}
        children = root.children()
    except psutil.NoSuchProcess:
        return {}
    for p in children:
        try:
            # Postgres retitles its processes: "postgres: checkpointer " and NUL padding
            title = p.cmdline()[0].removeprefix("postgres: ").strip()
            t = p.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied, IndexError):
            continue
        kind = ("autovacuum" if title.startswith("autovacuum worker") else
                "io workers" if title.startswith("io worker") else
                title if title in ("checkpointer", "background writer", "walwriter",
                                   "autovacuum launcher", "logical replication launcher")
                else "backend")
        out[kind] = out.get(kind, 0.0) + t.user + t.system
    return {k: round(v, 2) for k, v in out.items()}


def _postmaster(pgdata: Path) -> int | None:
    """The embedded server's postmaster, from its data directory's postmaster.pid."""
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class FirstCommit(threading.Thread):
    """Seconds from the start until the first record is in Postgres: how long an operator
    looks at an empty table (it grew with the number of partitions while the read stage
    held every CPU)."""

    def __init__(self, dsn: str, schema: str, trace: TextIO | None = None,
                 postmaster: int | None = None) -> None:
        super().__init__(daemon=True)
        self.dsn, self.schema, self.trace = dsn, schema, trace
        self.postmaster = postmaster
        self.t0 = time.monotonic()
        self.seconds: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.wait(0.25):
                try:
                    row = conn.execute(
                        f"SELECT EXISTS (SELECT 1 FROM {self.schema}.maintenance_logs)"
                    ).fetchone()
                except psycopg.errors.UndefinedTable:
                    continue
                if row and row[0]:
                    self.seconds = time.monotonic() - self.t0
                    break
            if self.trace is None:
                return
            # Then, with a trace, the rows committed so far every 5 s: the statistics
            # collector's insert counter, O(1) where a count(*) would grow with the table;
            # how many times autovacuum and autoanalyze have run on each table, and the
            # server's CPU by process kind, to see what the server does besides our writes.
            while not self.stop.wait(5.0):
                tables = conn.execute(
                    "SELECT relname, n_tup_ins, autovacuum_count, autoanalyze_count "
                    "FROM pg_stat_user_tables WHERE schemaname = %s", (self.schema,)
                ).fetchall()
                committed = next((int(r[1]) for r in tables
                                  if r[0] == "ai_extracted_data"), 0)
                self.trace.write(json.dumps({
                    "t": round(time.monotonic(), 1), "committed": committed,
                    "vacuums": {r[0]: [int(r[2]), int(r[3])] for r in tables
                                if r[2] or r[3]},
                    "server_cpu": _server_cpu(self.postmaster)}) + "\n")


@dataclass
class Result:
    records: int
    latency_ms: float
    rpm: int
    tpm: int
    seconds: float
    first_commit_seconds: float | None
    records_per_hour: float
    requests: int
    requests_per_minute: float
    tokens_per_minute: float
    rpm_utilisation: float | None
    tpm_utilisation: float | None
    share_429: float
    cpu_seconds_per_record_ms: float
    peak_rss_mib: float
    peak_breakdown_mib: dict[str, int]
    exit_code: int
    ok: int
    failed: int
    # the simulator's own counters per deployment (requests, by_status, tokens, admitted)
    by_model: dict[str, Any]
    # seconds from the first to the last admitted chat request of the pipeline
    chat_span_seconds: float = 0.0
    # seconds from the start to the preflight's chat request, the pipeline's first chat
    # request and its first embeddings request
    timeline_seconds: dict[str, float | None] = field(default_factory=dict)


def run(records: int, latency_ms: float, rpm: int, tpm: int, extract_actors: int,
        concurrency: int, workdir: str | None, build_index: bool = True,
        partition_rows: int = 5000, trace: TextIO | None = None,
        buffer_mb: int | None = None, sim_options: dict[str, Any] | None = None,
        llm: dict[str, Any] | None = None, pipeline: dict[str, Any] | None = None) -> Result:
    """``sim_options``: more of the simulator's (e.g. admission_window_s, latency_sigma);
    ``llm``, ``pipeline``: more keys of the job's sections (e.g. max_output_tokens,
    batch_size)."""
    work = Path(workdir or tempfile.mkdtemp(prefix="bfbench", dir="/tmp"))
    quota = {"requests_per_minute": rpm or 10_000_000, "tokens_per_minute": tpm or 10**12,
             "max_concurrency": concurrency or None}
    overrides = {
        "llm": {**quota, **(llm or {})},
        "embedding": {**quota},
        "pipeline": {"extract_actors": extract_actors, "progress_interval_seconds": 10,
                     **({} if buffer_mb is None else {"buffer_mb": buffer_mb or None}),
                     **(pipeline or {})},
        "postgres": {"build_index": build_index},
    }
    with local_stack(work, records, latency_ms=latency_ms, pg_schema="bench",
                     partition_rows=partition_rows, bad_rows=False,
                     overrides=overrides, rpm=rpm, tpm=tpm, **(sim_options or {})) as stack:
        assert stack.simulator.proc is not None and stack.snowflake.proc is not None
        sampler = TreeSampler({stack.simulator.proc.pid, stack.snowflake.proc.pid},
                              trace=trace)
        sampler.sample()
        cpu0 = sampler.cpu_seconds()
        sampler.start()
        t0 = time.monotonic()
        epoch0 = time.time()  # (the simulator's log stamps requests with the epoch)
        first = FirstCommit(stack.dsn, "bench", trace, _postmaster(work / "pg"))
        first.start()
        result = execute(stack.config, RunRequest())
        seconds = time.monotonic() - t0
        first.stop.set()
        sampler.stop.set()
        sampler.join()
        sampler.sample()
        stats: dict[str, Any] = stack.simulator.stats()
        # From the pipeline's first admitted chat request to its last (the first is the
        # preflight's): the share of the quota the job used while it was sending.
        log = read_request_log(stack.request_log)
        admitted = [e["ts"] for e in log if e["kind"] == "chat" and e["status"] == 200][1:]
        chat_span = max(admitted) - min(admitted) if len(admitted) > 1 else 0.0
        # where the time to the first commit goes: the preflight's requests, then the
        # pipeline's first chat request and first embeddings request (seconds from the start)
        chats = sorted(e["ts"] for e in log if e["kind"] == "chat")
        embeds = sorted(e["ts"] for e in log if e["kind"] != "chat")
        timeline = {"preflight_chat": chats[0] - epoch0 if chats else None,
                    "first_pipeline_chat": chats[1] - epoch0 if len(chats) > 1 else None,
                    "first_pipeline_embeddings": embeds[1] - epoch0 if len(embeds) > 1 else None,
                    # the tail: from the last admitted chat request to the run's end
                    "last_admitted_chat": max(admitted) - epoch0 if admitted else None,
                    "last_embeddings": embeds[-1] - epoch0 if embeds else None}
    if not workdir:
        # 200,000 records leave 3 GB of database behind.
        shutil.rmtree(work, ignore_errors=True)
    requests = int(stats["requests"])
    tokens = int(stats.get("prompt_tokens", 0)) + int(stats.get("completion_tokens", 0))
    per_min = requests / seconds * 60
    tokens_per_min = tokens / seconds * 60
    return Result(
        records=records, latency_ms=latency_ms, rpm=rpm, tpm=tpm, seconds=round(seconds, 1),
        first_commit_seconds=round(first.seconds, 1) if first.seconds is not None else None,
        records_per_hour=round(records / seconds * 3600),
        requests=requests, requests_per_minute=round(per_min),
        tokens_per_minute=round(tokens_per_min),
        # Chat and embedding deployments have a quota each; the busier one is the chat one.
        rpm_utilisation=(round(stats["ok_by_kind"].get("chat", 0) / seconds * 60 / rpm, 3)
                         if rpm else None),
        tpm_utilisation=round(tokens_per_min / tpm, 3) if tpm else None,
        share_429=round(int(stats["by_status"].get("429", 0)) / max(requests, 1), 4),
        cpu_seconds_per_record_ms=round((sampler.cpu_seconds() - cpu0) / records * 1000, 2),
        peak_rss_mib=round(sampler.peak_rss / 2**20),
        peak_breakdown_mib={k: round(v / 2**20) for k, v in
                            sorted(sampler.peak_breakdown.items(), key=lambda kv: -kv[1])},
        exit_code=result.exit_code, ok=result.rows_ok, failed=result.rows_failed,
        by_model=stats.get("by_model", {}),
        chat_span_seconds=round(chat_span, 1),
        timeline_seconds={k: None if v is None else round(v, 1) for k, v in timeline.items()},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--rpm", type=int, default=0, help="quota per deployment; 0 = none")
    parser.add_argument("--tpm", type=int, default=0)
    parser.add_argument("--extract-actors", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=0,
                        help="requests in flight per actor, fixed; 0 = the adaptive window")
    parser.add_argument("--workdir")
    parser.add_argument("--partition-rows", type=int, default=5000,
                        help="keep it fixed when comparing memory across sizes: fakesnow "
                        "returns a partition as one result batch")
    parser.add_argument("--no-index", action="store_true",
                        help="skip the HNSW build at the end (sink_bench times it apart)")
    parser.add_argument("--trace", type=argparse.FileType("w"),
                        help="write each process's PSS (MiB) every 2 s to this file, JSON lines")
    parser.add_argument("--buffer-mb", type=int,
                        help="pipeline.buffer_mb (default: the config's); 0 = Ray Data's own")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    res = run(args.records, args.latency_ms, args.rpm, args.tpm, args.extract_actors,
              args.concurrency, args.workdir, not args.no_index, args.partition_rows,
              args.trace, args.buffer_mb)
    if args.json:
        print(json.dumps(asdict(res)))
        return
    print(f"machine: {platform.machine()}, {psutil.cpu_count()} CPUs, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}")
    for key, value in asdict(res).items():
        print(f"  {key:28} {value}")


if __name__ == "__main__":
    main()
