"""Wires the stages into one Ray Data dataset; knows nothing of the command line.

read (one task per pending partition) -> prepare (skip done, validate, scrub; CPU tasks)
-> extract (async actor pool) -> embed (async actor pool) -> Postgres datasink.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.data import ActorPoolStrategy, DataContext, TaskPoolStrategy
from ray.data._internal.logical.operators.map_operator import StreamingRepartition

from backfill.config import Config
from backfill.embed import Embedder
from backfill.extract import Extractor
from backfill.journal import JournalTarget
from backfill.limiter import quota_actor
from backfill.prepare import prepare_blocks
from backfill.resources import StagePlan, plan_for_cluster
from backfill.runlock import held_key
from backfill.scrub import ScrubPolicy
from backfill.seal import new_key
from backfill.sink import PostgresDatasink, WriteTarget
from backfill.source import IdChunk, Partition, ReadLedger, SnowflakeDatasource
from backfill.usage import usage_ledger

# Set in prepare's workers only: its runtime environment differs from the other stages', so
# Ray runs its tasks in workers of their own (build_dataset).
PREPARE_WORKERS_ENV = "BACKFILL_PREPARE_WORKER"


@dataclass
class PipelineSpec:
    cfg: Config
    dsn: str
    run_id: str
    session: Any  # the SnowflakeSession actor handle
    partitions: list[Partition] | list[IdChunk]
    duplicate_ids: frozenset[str] = frozenset()
    # A retry-failed pass reprocesses records this run already wrote.
    skip_done: bool = True
    # The cluster-wide budget of each deployment (limiter.QuotaActor handles, named per
    # endpoint + deployment: shared with every other job on the cluster).
    llm_quota: Any = None
    embedding_quota: Any = None
    # The run's key for the raw free text on its way past the API actors (backfill.seal):
    # given to the prepare tasks and the writers only.
    seal_key: bytes = field(default_factory=new_key, repr=False)
    # CPU per task and actor of each stage (backfill.resources); by default sized from the
    # cluster this process is connected to.
    stages: StagePlan | None = None
    # The run's usage.UsageLedger: what the API actors sent and were billed
    usage: Any = None
    # Ask the API even where the answer journal holds an answer, and replace it (--fresh)
    journal_fresh: bool = False
    # llm.mode batch: the Batch API answered before the pipeline (backfill.batch); the
    # extract stage takes answers from the journal only and asks nothing in real time.
    journal_only: bool = False
    # The preflight's answer length (completion tokens): the extract actors' first
    # max_tokens is fitted to it instead of the cap (limiter.AdaptiveMaxTokens)
    seed_answer_tokens: int = 0

    def __post_init__(self) -> None:
        if self.usage is None:
            self.usage = usage_ledger()
        llm, emb = self.cfg.llm, self.cfg.embedding
        if self.llm_quota is None:
            self.llm_quota = quota_actor(llm)
        if self.embedding_quota is None:
            same = (emb.endpoint, emb.deployment) == (llm.endpoint, llm.deployment)
            self.embedding_quota = self.llm_quota if same else quota_actor(emb)
        if self.stages is None:
            p = self.cfg.pipeline
            self.stages = plan_for_cluster(p.extract_actors, p.embed_actors, p.write_actors)


def first_partition_rows(batch_size: int) -> int:
    """Rows of a new run's first partition (``Planner.head``): its block goes through every
    stage alone, so the first commit waits for the answers of these records only. An eighth
    of a batch: with the default 200, 25 requests leave within about a second of a quota
    like the admission benchmark's (600,000 TPM, ~400 tokens charged a request)."""
    return max(1, batch_size // 8)


def build_dataset(spec: PipelineSpec) -> ray.data.Dataset:
    cfg, p, stages = spec.cfg, spec.cfg.pipeline, spec.stages
    assert stages is not None
    ctx = DataContext.get_current()
    # A batch failing is a bug or a dependency past its retries: never drop its rows
    # silently (DESIGN: max_errored_blocks is not to be used).
    ctx.max_errored_blocks = 0
    # Our errors cross the process boundary as themselves, not as a UserCodeException whose
    # cause is lost in pickling: the driver needs the FatalError to name the dependency.
    ctx.raise_original_map_exception = True
    # Progress bars only on a terminal; elsewhere our own progress lines say where it stands.
    ctx.enable_progress_bars = ctx.enable_progress_bars and sys.stderr.isatty()
    # Bound what Ray Data queues between stages. By default it may fill half the object
    # store (GBs): the read stage, far faster than the API stages, runs ahead and the job's
    # memory grows with the data set (measured: +29% from 20k to 200k records, mostly
    # queued blocks in shared memory and on the driver).
    if p.buffer_mb:
        ctx.execution_options.resource_limits = ctx.execution_options.resource_limits.copy(
            object_store_memory=p.buffer_mb * 2**20
        )
    # A run's read tasks record what they read, so that a partition is closed when all of
    # it is committed; a retry-failed pass reads by id and has no partitions to close.
    ledger = ReadLedger(spec.dsn, cfg.postgres.schema_, spec.run_id,
                        spec.duplicate_ids) if spec.skip_done else None
    ds = ray.data.read_datasource(
        SnowflakeDatasource(spec.session, spec.partitions, p.batch_size, ledger),
        override_num_blocks=max(1, len(spec.partitions)),
        # Mostly waiting for Snowflake; a whole CPU for it starved the writers. A bounded
        # number at once, so that the CPU they hold is known (backfill.resources).
        num_cpus=stages.io_cpus,
        concurrency=stages.read_tasks,
    )
    # Blocks of batch_size rows all the way to the sink, cut before prepare. Ray Data merges
    # what a task yields into one block (up to 128 MiB), so a read task's output is a whole
    # partition, and so was a prepare task's: nothing of a partition reached the API stages
    # before all of it was scrubbed (measured: a 20,000-row partition's first batch reached
    # the extract actor after 35 s; the default partitions hold 50,000 rows,
    # docs/benchmarks.md). Cut first, each prepare task is one batch: its rows leave when
    # they are scrubbed. The block is also the unit of commit (what a crash can lose) and
    # of progress. The cut only slices and asks no CPU (``_cut``), so the
    # stages' sizes (backfill.resources) stay as they are; the small first partition stays
    # a block of its own.
    ds = _cut(ds.repartition(target_num_rows_per_block=p.batch_size), stages.read_tasks)
    ds = ds.map_batches(
        prepare_blocks,  # type: ignore[arg-type]  # (keyword arguments: fn_kwargs)
        batch_format="pyarrow",
        batch_size=None,
        fn_kwargs={
            "batch_size": p.batch_size,
            "dsn": spec.dsn,
            "schema": cfg.postgres.schema_,
            "run_id": spec.run_id,
            "max_chars": p.max_text_chars,
            "duplicate_ids": spec.duplicate_ids,
            "skip_done": spec.skip_done,
            "seal_key": spec.seal_key,
            "policy": ScrubPolicy.from_config(cfg.scrub),
        },
        # At most one CPU, less on small nodes: a request larger than what the waiting
        # stages leave free on a node waits forever (issue 11: 2 nodes of 1 CPU).
        num_cpus=stages.prepare_cpus,
        # Workers of their own: Ray pools a task's worker by runtime environment, and a
        # worker that has scrubbed once holds the name lists and the number model (~115
        # MiB) for life. Pooled with the read, cut and write tasks, every task worker came
        # to hold them; apart, only prepare's do (measured: peak memory -7% at 20,000 and
        # 100,000 records, the same speed; docs/benchmarks.md). A task's env_vars are
        # merged with the job's runtime environment, which is otherwise kept.
        runtime_env={"env_vars": {PREPARE_WORKERS_ENV: "1"}},
    )
    retrying = not spec.skip_done
    journal = JournalTarget(spec.dsn, cfg.postgres.schema_, spec.journal_fresh) if (
        p.answer_journal) else None
    # the driver's sending lock, watched by both API stages (backfill.runlock.SendingWatch)
    key = held_key()
    watch = (spec.dsn, key) if key else None
    ds = _api_stage(ds, Extractor, cfg.llm, spec.llm_quota, stages.extract_actors,
                    retrying, stages.io_cpus, spec.usage, journal,
                    {"journal_only": spec.journal_only,
                     "seed_answer_tokens": spec.seed_answer_tokens, "watch": watch})
    return _api_stage(ds, Embedder, cfg.embedding, spec.embedding_quota, stages.embed_actors,
                      retrying, stages.io_cpus, spec.usage, journal, {"watch": watch})


def _cut(ds: ray.data.Dataset, tasks: int) -> ray.data.Dataset:
    """Ray Data 2.60's ``repartition`` takes no resource arguments and asks 1 CPU a task: a
    task that only slices blocks would hold a CPU the scrubbing needs, and could wait
    forever for it on a 1-CPU node (issue 11). It asks none here, and so needs a bound of
    its own: unbounded, Ray Data ran one task (a process holding its partition until
    prepare took the last block) for every partition read ahead (measured: 2.5 GB in
    those processes at 200,000 records). As many at once as read tasks. Set on the
    logical operator (there is no public way; test_pipeline_plan fails without it)."""
    op = ds._logical_plan.dag
    assert isinstance(op, StreamingRepartition), op
    op.ray_remote_args["num_cpus"] = 0
    object.__setattr__(op, "compute", TaskPoolStrategy(size=tasks))
    return ds


# Batches an API actor works on at once. Without the answer journal, every batch between the
# extract stage and the sink's commit is LLM work paid again if the job is killed; with it,
# only the requests in flight and one flush interval's answers are (tested in test_resume).
BATCHES_PER_ACTOR = 4


def _api_stage(ds: ray.data.Dataset, stage: type, cfg: Any, quota: Any, actors: int,
               retrying: bool, cpus: float,
               usage: Any = None, journal: JournalTarget | None = None,
               extra: dict[str, Any] | None = None) -> ray.data.Dataset:
    """An async actor pool calling one deployment. Several batches per actor at once keep
    its requests in flight while one batch waits for its slowest answer."""
    return ds.map_batches(
        stage,
        fn_constructor_kwargs={"cfg": cfg, "quota": quota, "actors": actors,
                               "retrying": retrying, "usage": usage, "journal": journal,
                               **(extra or {})},
        batch_format="pyarrow",
        # One block, one batch: the repartition made them batch_size rows (fewer at a
        # partition's end, and the run's small first partition); with a batch_size here Ray
        # Data would hold a small block back until more rows came.
        batch_size=None,
        compute=ActorPoolStrategy(
            min_size=1, max_size=actors, max_concurrent_calls_per_actor=BATCHES_PER_ACTOR
        ),
        num_cpus=cpus,
    )


def make_sink(spec: PipelineSpec) -> PostgresDatasink:
    return PostgresDatasink(
        WriteTarget(
            dsn=spec.dsn,
            schema=spec.cfg.postgres.schema_,
            run_id=spec.run_id,
            llm_model=spec.cfg.llm.deployment,
            embedding_model=spec.cfg.embedding.deployment,
            seal_key=spec.seal_key,
        )
    )


def run_pipeline(spec: PipelineSpec) -> PostgresDatasink:
    sink = make_sink(spec)
    assert spec.stages is not None
    build_dataset(spec).write_datasink(
        sink, concurrency=spec.stages.write_actors,
        ray_remote_args={"num_cpus": spec.stages.io_cpus},
    )
    return sink
