"""How much CPU each stage asks Ray for, sized from the cluster the job runs on.

Two kinds of stage compete for CPU. ``prepare`` (validate, scrub; one task per block) is
CPU-bound. The rest mostly wait: the read tasks on Snowflake, the extract and embed actors
on the API, the writers on Postgres. A Ray task starts only on a node that has its whole
request free, and the API actors hold theirs for the whole run, spread over the nodes.
With ``prepare`` at 1 CPU and the rest at 0.25, two 1-CPU nodes each holding one API
actor kept 0.75 CPU free on each node and nowhere the 1 CPU prepare asked for: the job
waited forever at 0 records (issue 11).

So the sizes keep two invariants, whatever the placement Ray chooses:

1. The largest node holds one prepare task even when every waiting part of the pipeline
   at its most (all read tasks, all actors at the pools' maximum, all writers) sits on it:
   ``prepare + io * (reads + extract + embed + writers) <= largest node``. Prepare can
   always start, so blocks keep moving to the actors and the writers.
2. Every request is a multiple of ``io`` (``io`` is 1/4, 1/8 or 1/16, exact in Ray's
   fixed-point resource units, and a node's CPU count is a whole number), so the CPU left
   free on a node is a multiple of ``io`` too: where Ray Data's budget (kept per cluster,
   not per node) leaves room for a reader, an actor or a writer, a node has it.

Among the sizes that keep them, the largest ``prepare`` up to one CPU (Ray then runs no
more scrubbing tasks than the nodes have cores), then the largest ``io``. When even one
actor, one writer and one read at the smallest ``io`` leave less than ``MIN_PREPARE_CPUS``
on the largest node, the shape cannot run the job: ``ConfigError`` (exit 2) says so before
anything starts. Pools configured larger than the largest node allows are trimmed, the
largest first, and the plan says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from backfill.errors import ConfigError

# What a waiting stage may ask for, largest first: 0.25 is what they asked before on every
# shape; 1/16 is the smallest exact in Ray's resource units (1/10,000) that divides a CPU.
IO_CPU_STEPS = (0.25, 0.125, 0.0625)
# Less than this per scrubbing task would let Ray run more than two of them per core.
MIN_PREPARE_CPUS = 0.5
MAX_PREPARE_CPUS = 1.0
# Read tasks at once: a read streams a partition's result batches out far faster than
# prepare takes them, so two keep prepare fed while one waits for Snowflake.
READ_TASKS = 2


@dataclass(frozen=True)
class StagePlan:
    """CPU per task or actor of each stage, and the concurrency each stage may reach."""

    prepare_cpus: float
    io_cpus: float
    read_tasks: int
    extract_actors: int
    embed_actors: int
    write_actors: int
    largest_node_cpus: float
    total_cpus: float
    nodes: int
    notes: tuple[str, ...] = field(default=())

    @property
    def io_slots(self) -> int:
        return self.read_tasks + self.extract_actors + self.embed_actors + self.write_actors

    def describe(self) -> str:
        text = (
            f"cluster: {self.nodes} node{'s' if self.nodes != 1 else ''} with CPUs, "
            f"{_cpus(self.total_cpus)} (largest node {_num(self.largest_node_cpus)}); "
            f"prepare asks {_num(self.prepare_cpus)} CPU per task, read tasks, API actors "
            f"and writers {_num(self.io_cpus)} each (reads {self.read_tasks}, extract "
            f"{self.extract_actors}, embed {self.embed_actors}, writers {self.write_actors})"
        )
        return "; ".join([text, *self.notes])


def _num(x: float) -> str:
    return f"{x:g}"


def _cpus(x: float) -> str:
    return f"{x:g} CPU" + ("" if x == 1 else "s")


def _fits(largest: float, io: float, slots: int) -> float | None:
    """The largest prepare request (a multiple of ``io``, at most one CPU) that keeps
    room for itself on the largest node beside ``slots`` requests of ``io``; None if
    it would be below ``MIN_PREPARE_CPUS``."""
    left = largest - io * slots
    prepare = min(MAX_PREPARE_CPUS, math.floor(left / io + 1e-9) * io)
    return prepare if prepare >= MIN_PREPARE_CPUS else None


def plan_stages(node_cpus: list[float], extract_actors: int, embed_actors: int,
                write_actors: int, read_tasks: int = READ_TASKS) -> StagePlan:
    """Size the stages for nodes of ``node_cpus`` CPUs (one entry per live node) and the
    configured pool sizes. Raises ConfigError when no size can run the job there."""
    cpus = [c for c in node_cpus if c > 0]
    if not cpus:
        raise ConfigError(
            "the Ray cluster has no node with CPUs (ray.cluster_resources() shows none): "
            "the scrubbing stage needs at least "
            f"{_num(MIN_PREPARE_CPUS + 4 * IO_CPU_STEPS[-1])} CPU on one node; start a "
            "worker node with CPUs (with an autoscaler, keep at least one worker, "
            "min_workers: 1) and run again"
        )
    largest, total = max(cpus), sum(cpus)
    counts = {"pipeline.extract_actors": extract_actors, "pipeline.embed_actors": embed_actors,
              "pipeline.write_actors": write_actors, "reads": read_tasks}
    wanted = dict(counts)
    while True:
        slots = sum(counts.values())
        for io in IO_CPU_STEPS:
            prepare = _fits(largest, io, slots)
            if prepare is not None:
                notes = tuple(
                    f"{key} {wanted[key]} trimmed to {counts[key]}: the largest node has "
                    f"{_cpus(largest)}" for key in wanted
                    if counts[key] != wanted[key] and key != "reads")
                return StagePlan(prepare, io, counts["reads"],
                                 counts["pipeline.extract_actors"],
                                 counts["pipeline.embed_actors"],
                                 counts["pipeline.write_actors"], largest, total, len(cpus),
                                 notes)
        if all(v == 1 for v in counts.values()):
            need = MIN_PREPARE_CPUS + IO_CPU_STEPS[-1] * len(counts)
            raise ConfigError(
                f"the Ray cluster's largest node has {_cpus(largest)} ({len(cpus)} "
                f"node{'s' if len(cpus) != 1 else ''} with CPUs, {_num(total)} in all): "
                f"the job needs {_num(need)} CPU on one node ({_num(MIN_PREPARE_CPUS)} "
                f"for a scrubbing task beside one reader, one extract actor, one embed "
                f"actor and one writer at {_num(IO_CPU_STEPS[-1])} each); give a node "
                "more CPUs (ray start --num-cpus)"
            )
        # Trim the largest pool first, reads last (they cost a slot only while reading).
        key = max(counts, key=lambda k: (counts[k], k != "reads"))
        counts[key] -= 1


def cluster_node_cpus() -> list[float]:
    """The CPU count of each live node of the Ray cluster this process is connected to."""
    import ray

    return [float(n.get("Resources", {}).get("CPU", 0.0)) for n in ray.nodes()
            if n.get("Alive")]


def plan_for_cluster(extract_actors: int, embed_actors: int, write_actors: int) -> StagePlan:
    return plan_stages(cluster_node_cpus(), extract_actors, embed_actors, write_actors)
