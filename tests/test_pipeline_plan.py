"""The shape Ray Data gives the pipeline, read from its own optimized physical plan.

Regression: read and repartition ran as separate one-CPU tasks, which on a 2-CPU node took
every CPU until all partitions were read; nothing reached the API stages or Postgres for
the first 100 s of a 200,000-record run (docs/benchmarks.md). Prepare now comes before the
repartition with the same resources, so that they fuse into one task streaming out blocks
of ``batch_size`` rows, and the stages that mostly wait ask for a fraction of a CPU.
"""

from __future__ import annotations

import datetime as dt

import pytest

from backfill.config import expand_env, parse_config
from backfill.devstack.stack import local_template
from backfill.pipeline import IO_ACTOR_CPUS, PipelineSpec, build_dataset
from backfill.source import Partition

ENV = {
    "BACKFILL_FAKESNOW_PORT": "1",
    "BACKFILL_SIMULATOR_URL": "http://127.0.0.1:1",
    "BACKFILL_POSTGRES_DSN": "postgresql://unused@127.0.0.1/none",
}


@pytest.fixture
def spec(ray_local: None) -> PipelineSpec:
    cfg = parse_config(expand_env(local_template(), ENV))
    day = dt.datetime(2024, 1, 1)
    parts = [Partition(i, day + dt.timedelta(days=i), day + dt.timedelta(days=i + 1), 5000)
             for i in range(4)]
    # The plan is built, never executed: no Snowflake session nor database is needed.
    return PipelineSpec(cfg, ENV["BACKFILL_POSTGRES_DSN"], "plan", None, parts)


def _optimized_physical_plan(spec: PipelineSpec, capsys: pytest.CaptureFixture[str]) -> str:
    build_dataset(spec).explain()
    out = capsys.readouterr().out
    assert "Physical Plan (Optimized)" in out, out
    return out.split("Physical Plan (Optimized)")[1]


def test_prepare_and_repartition_run_as_one_task(spec: PipelineSpec,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    plan = _optimized_physical_plan(spec, capsys)
    assert "MapBatches(prepare_batch)->StreamingRepartition" in plan, plan
    # No repartition left on its own, asking for a CPU of its own.
    assert plan.count("StreamingRepartition") == 1, plan


def test_one_of_each_stage_fits_a_two_cpu_node() -> None:
    # read + prepare (fused, one CPU) + the minimum extract and embed pools + one writer:
    # all must be schedulable at once, or a stage waits for another to drain.
    assert 1.0 + IO_ACTOR_CPUS * (1 + 1 + 1 + 1) <= 2.0
