"""The shape Ray Data gives the pipeline, read from its own optimized physical plan.

Regressions: read and repartition ran as separate one-CPU tasks, which on a 2-CPU node took
every CPU until all partitions were read; nothing reached the API stages or Postgres for
the first 100 s of a 200,000-record run. Then prepare and the repartition after it fused
into one task, but Ray Data merges what a task yields into one block: a prepare task let
nothing of its partition go before all of it was scrubbed (a 20,000-row partition: 35 s
of an idle quota at the start of a run; docs/benchmarks.md). The partition is now
cut into blocks of ``batch_size`` rows before prepare, by a repartition that asks no CPU
and runs no more tasks at once than the reads, and the stages that mostly wait ask for a
fraction of a CPU.
"""

from __future__ import annotations

import datetime as dt

import pytest

from backfill.config import expand_env, parse_config
from backfill.devstack.stack import local_template
from backfill.pipeline import PipelineSpec, build_dataset
from backfill.resources import plan_stages
from backfill.source import Partition

# a local Ray (the session's ray_local): `make test` runs these with the other integration
# tests, one process, not in the parallel workers of the tests that start no service
pytestmark = pytest.mark.integration

ENV = {
    "BACKFILL_FAKESNOW_PORT": "1",
    "BACKFILL_SIMULATOR_URL": "http://127.0.0.1:1",
    "BACKFILL_POSTGRES_DSN": "postgresql://unused@127.0.0.1/none",
}


# Node shapes: the prepare task asks 1 CPU on the first, less on the second.
@pytest.fixture(params=[[2], [1, 1]], ids=["1x2cpu", "2x1cpu"])
def spec(ray_local: None, request: pytest.FixtureRequest) -> PipelineSpec:
    cfg = parse_config(expand_env(local_template(), ENV))
    day = dt.datetime(2024, 1, 1)
    parts = [Partition(i, day + dt.timedelta(days=i), day + dt.timedelta(days=i + 1), 5000)
             for i in range(4)]
    p = cfg.pipeline
    stages = plan_stages(request.param, p.extract_actors, p.embed_actors, p.write_actors)
    # The plan is built, never executed: no Snowflake session nor database is needed.
    return PipelineSpec(cfg, ENV["BACKFILL_POSTGRES_DSN"], "plan", None, parts, stages=stages)


def _optimized_physical_plan(spec: PipelineSpec, capsys: pytest.CaptureFixture[str]) -> str:
    build_dataset(spec).explain()
    out = capsys.readouterr().out
    assert "Physical Plan (Optimized)" in out, out
    return out.split("Physical Plan (Optimized)")[1]


def test_partitions_are_cut_into_batches_before_prepare(spec: PipelineSpec,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    plan = _optimized_physical_plan(spec, capsys)
    # The plan prints from the sink up: the operator on the line after prepare feeds it.
    ops = [line.split("[", 1)[1] for line in plan.splitlines() if "Operator[" in line]
    prepare = next(i for i, op in enumerate(ops) if "prepare_blocks" in op)
    assert ops[prepare].startswith("MapBatches(prepare_blocks)]"), ops  # nothing fused into it
    assert ops[prepare + 1].startswith("StreamingRepartition[num_rows_per_block="
                                       f"{spec.cfg.pipeline.batch_size},"), ops
    assert ops[prepare + 2].startswith("ReadSnowflake"), ops
    assert sum("StreamingRepartition" in op for op in ops) == 1, ops


def test_the_cut_asks_no_cpu_and_runs_as_many_tasks_as_the_reads(spec: PipelineSpec) -> None:
    """It only slices blocks: a CPU of its own would be one the scrubbing waits for (on a
    1-CPU node, forever: issue 11). Without a CPU nothing bounded it: one task and process
    per partition read ahead, each holding its partition (2.5 GB at 200,000 records)."""
    op = build_dataset(spec)._logical_plan.dag
    while "StreamingRepartition" not in op.name:
        op = op.input_dependencies[0]
    assert op.ray_remote_args["num_cpus"] == 0, op.ray_remote_args
    assert spec.stages is not None
    assert op.compute.size == spec.stages.read_tasks, op.compute



def test_no_stage_holds_a_small_block_back_for_more_rows(spec: PipelineSpec) -> None:
    """A new run's first partition is an eighth of a batch (``first_partition_rows``), so
    that the first commit waits for a few answers. A ``batch_size`` on a stage makes Ray Data
    wait for that many rows before it starts a task: the small block would be merged into
    the next partition's first batch (measured: first commit 35.6 s instead of 26.5-28.9 s,
    docs/benchmarks.md). Every map stage takes each block as it comes."""
    op = build_dataset(spec)._logical_plan.dag
    seen = []
    while op.input_dependencies:
        if hasattr(op, "min_rows_per_bundled_input"):
            seen.append(op.name)
            assert op.min_rows_per_bundled_input is None, op.name
        op = op.input_dependencies[0]
    assert any("prepare_blocks" in s for s in seen) and any("Extractor" in s for s in seen)
    assert any("Embedder" in s for s in seen), seen
