"""Stage sizes per cluster shape (backfill.resources): no stage can starve another.

Regression (issue 11): on two 1-CPU nodes the prepare task asked 1 CPU while the API
actors held a quarter of each node; it never started and the job waited at 0 records.
"""

from __future__ import annotations

import pytest

from backfill.errors import ConfigError
from backfill.resources import IO_CPU_STEPS, MIN_PREPARE_CPUS, StagePlan, plan_stages

pytestmark = pytest.mark.unit

# The configuration's defaults: extract 2, embed 1, writers 2.
DEFAULTS = (2, 1, 2)
SHAPES = {"1x1": [1], "1x2": [2], "1x16": [16], "2x1": [1, 1], "0+4 (CPU-less head)": [0, 4],
          "16+16+1": [16, 16, 1], "4x2": [2, 2, 2, 2]}


def _units(x: float) -> int:
    """Ray keeps resources in fixed point of 1/10,000: a request must be exact in it."""
    assert abs(x * 10_000 - round(x * 10_000)) < 1e-9, x
    return round(x * 10_000)


def _check_invariants(plan: StagePlan, nodes: list[float]) -> None:
    largest = max(nodes)
    # 1. However Ray places them, all the waiting stages at their most leave room for one
    #    prepare task on the largest node.
    assert plan.prepare_cpus + plan.io_cpus * plan.io_slots <= largest + 1e-9
    # 2. Every request and every node a whole number of io quanta: no node's free CPU is
    #    a fragment too small for a reader, an actor or a writer.
    io = _units(plan.io_cpus)
    assert _units(plan.prepare_cpus) % io == 0
    assert all(_units(c) % io == 0 for c in nodes)
    assert MIN_PREPARE_CPUS <= plan.prepare_cpus <= 1.0
    assert plan.io_cpus in IO_CPU_STEPS
    assert min(plan.read_tasks, plan.extract_actors, plan.embed_actors, plan.write_actors) >= 1


@pytest.mark.parametrize("nodes", SHAPES.values(), ids=SHAPES.keys())
def test_every_shape_keeps_the_invariants(nodes: list[float]) -> None:
    plan = plan_stages(nodes, *DEFAULTS)
    _check_invariants(plan, nodes)
    # The defaults fit every shape of at least one CPU: nothing trimmed.
    assert (plan.extract_actors, plan.embed_actors, plan.write_actors) == DEFAULTS
    assert plan.notes == ()


def test_the_sizes_per_shape() -> None:
    def sizes(nodes: list[float]) -> tuple[float, float]:
        plan = plan_stages(nodes, *DEFAULTS)
        return plan.prepare_cpus, plan.io_cpus

    # 16 CPUs: what every shape asked before; 2 CPUs: prepare keeps its whole CPU.
    assert sizes([16]) == (1.0, 0.25)
    assert sizes([2]) == (1.0, 0.125)
    # 1-CPU nodes: prepare asks less than a CPU, so that it starts beside the actors.
    assert sizes([1]) == sizes([1, 1]) == (0.5625, 0.0625)
    # A node without CPUs (a head started with --num-cpus=0) does not count.
    assert sizes([0, 4]) == sizes([4])


def _placements(items: int, nodes: int) -> list[tuple[int, ...]]:
    """Every way to put ``items`` alike requests on ``nodes`` nodes."""
    if nodes == 1:
        return [(items,)]
    return [(k, *rest) for k in range(items + 1) for rest in _placements(items - k, nodes - 1)]


@pytest.mark.parametrize("nodes", [[1], [1, 1], [2], [2, 2, 2, 2], [4, 1]],
                         ids=["1x1", "2x1", "1x2", "4x2", "4+1"])
def test_prepare_fits_somewhere_wherever_the_waiting_stages_go(nodes: list[float]) -> None:
    plan = plan_stages(nodes, *DEFAULTS)
    # The hang: one API actor on each node left no node with the CPU prepare asked for.
    # Here every placement of every reader, actor and writer, at the most of each stage.
    for placed in _placements(plan.io_slots, len(nodes)):
        free = [c - plan.io_cpus * k for c, k in zip(nodes, placed, strict=True)]
        assert max(free) >= plan.prepare_cpus - 1e-9, (placed, free)


def test_pools_too_large_for_the_largest_node_are_trimmed_and_said() -> None:
    plan = plan_stages([1, 1], 8, 1, 2)
    _check_invariants(plan, [1, 1])
    assert plan.extract_actors < 8
    assert plan.embed_actors == 1
    assert any("pipeline.extract_actors 8 trimmed to" in n for n in plan.notes)
    assert "pipeline.extract_actors 8 trimmed to" in plan.describe()
    # A 16-CPU node takes them all.
    assert plan_stages([16], 8, 1, 2).extract_actors == 8


@pytest.mark.parametrize("nodes", [[0.5], [0.5, 0.5]], ids=["1x0.5", "2x0.5"])
def test_a_node_too_small_for_the_job_is_a_config_error(nodes: list[float]) -> None:
    with pytest.raises(ConfigError) as err:
        plan_stages(nodes, *DEFAULTS)
    text = str(err.value)
    assert "largest node has 0.5 CPUs" in text
    assert "needs 0.75 CPU on one node" in text
    assert err.value.exit_code == 2


@pytest.mark.parametrize("nodes", [[], [0], [0, 0]], ids=["none", "1x0", "2x0"])
def test_a_cluster_without_cpus_is_a_config_error(nodes: list[float]) -> None:
    with pytest.raises(ConfigError, match="no node with CPUs"):
        plan_stages(nodes, *DEFAULTS)


def test_describe_names_the_sizes() -> None:
    text = plan_stages([1, 1], *DEFAULTS).describe()
    assert "2 nodes with CPUs, 2 CPUs (largest node 1)" in text
    assert "prepare asks 0.5625 CPU per task" in text
    assert "0.0625 each" in text
