"""``backfill verify``: reconcile the source with Postgres, partition by partition.

Each side computes, in SQL where the data is, the count of a partition's distinct ids and
the sum of a hash of each (``source.id_hash_sql``: the same number in Snowflake and in
Postgres), which does not depend on row order: two aggregates per partition, whatever its
size. Only partitions whose figures differ are listed id by id, to name what differs.

Postgres's side of a partition is the run's work orders in ``maintenance_logs`` plus the
dead letters of records that have no row there (rejected by Postgres, no timestamp): the
records the run committed. Rows without an id are compared by count with their dead
letters. A record moved between partitions (an id that occurs twice in the source) is not
a difference as long as the run holds it somewhere; nor is a work order a later run over
the same rows took over.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

from backfill.progress import RunRecord
from backfill.source import Partition, id_hash_sql, session_call

# Ids listed per kind of difference; the counts say how many there are in all.
MAX_LISTED = 50
NO_ID = "<no id:%"

_PG_DIGEST = f"""
WITH k AS (
  SELECT partition_id, work_order_id FROM maintenance_logs WHERE run_id = %(run)s
  UNION ALL
  SELECT f.partition_id, f.work_order_id FROM failed_records f
  WHERE f.run_id = %(run)s AND f.work_order_id NOT LIKE %(no_id)s AND NOT EXISTS (
    SELECT 1 FROM maintenance_logs m WHERE m.work_order_id = f.work_order_id
    AND m.run_id = %(run)s))
SELECT partition_id, count(*), coalesce(sum({id_hash_sql("work_order_id")}), 0)
FROM k GROUP BY partition_id"""

# The same set as _PG_DIGEST's, for one partition.
_PG_IDS = """
SELECT work_order_id FROM maintenance_logs WHERE run_id = %(run)s AND partition_id = %(part)s
UNION
SELECT f.work_order_id FROM failed_records f WHERE f.run_id = %(run)s
  AND f.partition_id = %(part)s AND f.work_order_id NOT LIKE %(no_id)s AND NOT EXISTS (
    SELECT 1 FROM maintenance_logs m WHERE m.work_order_id = f.work_order_id
    AND m.run_id = %(run)s)"""

# Work orders of the run that have neither their enriched rows nor an open dead letter.
_UNACCOUNTED = """
SELECT m.work_order_id FROM maintenance_logs m WHERE m.run_id = %(run)s
AND NOT (EXISTS (SELECT 1 FROM ai_extracted_data a WHERE a.work_order_id = m.work_order_id)
         AND EXISTS (SELECT 1 FROM semantic_embeddings e
                     WHERE e.work_order_id = m.work_order_id AND e.model = %(model)s))
AND NOT EXISTS (SELECT 1 FROM failed_records f WHERE f.work_order_id = m.work_order_id
                AND f.run_id = %(run)s AND f.resolved_at IS NULL)
ORDER BY 1 LIMIT %(limit)s"""


@dataclass
class PartitionCheck:
    index: int
    where: str
    source_ids: int
    source_hash: int
    source_rows_without_id: int
    postgres_ids: int = 0
    postgres_hash: int = 0
    postgres_rows_without_id: int = 0
    missing: list[str] = field(default_factory=list)  # in the source, nowhere in the run
    moved: int = 0  # ids held in another partition of the run (ids the source holds twice)
    taken_over: int = 0  # ids whose rows a later run over the same rows took over
    extra: list[str] = field(default_factory=list)  # in the run, not in the source

    @property
    def figures_match(self) -> bool:
        return (self.source_ids, self.source_hash, self.source_rows_without_id) == (
            self.postgres_ids, self.postgres_hash, self.postgres_rows_without_id)

    @property
    def reconciled(self) -> bool:
        return self.figures_match or not (
            self.missing or self.extra
            or self.source_rows_without_id != self.postgres_rows_without_id)


@dataclass
class Reconciliation:
    run_id: str
    partitions: list[PartitionCheck]
    unaccounted: list[str]

    @property
    def reconciled(self) -> bool:
        return not self.unaccounted and all(p.reconciled for p in self.partitions)

    def to_json(self) -> dict[str, Any]:
        differing = [asdict(p) for p in self.partitions if not p.reconciled]
        return {
            "run_id": self.run_id,
            "reconciled": self.reconciled,
            "partitions": len(self.partitions),
            "source_ids": sum(p.source_ids for p in self.partitions),
            "postgres_ids": sum(p.postgres_ids for p in self.partitions),
            "differing_partitions": differing,
            "unaccounted": self.unaccounted,
        }

    def text(self) -> str:
        src = sum(p.source_ids for p in self.partitions)
        pg = sum(p.postgres_ids for p in self.partitions)
        if self.reconciled:
            taken = sum(p.taken_over for p in self.partitions)
            twice = sum(p.moved for p in self.partitions)
            why = [f"{taken:,} taken over by a later run over the same rows"] if taken else []
            why += [f"{twice:,} held in another partition (ids the source holds twice)"
                    ] if twice else []
            moved = f" ({'; '.join(why)})" if why else ""
            return (f"run {self.run_id}: reconciled: {len(self.partitions)} partitions, every "
                    f"id of the source in Postgres and no other: {src:,} ids in the source's "
                    f"partitions, {pg:,} in Postgres{moved}")
        lines = [f"run {self.run_id}: NOT reconciled ({src:,} ids in the source, {pg:,} in "
                 "Postgres)"]
        for p in self.partitions:
            if p.reconciled:
                continue
            moved = "".join(
                f" ({n:,} {what})" for n, what in ((p.moved, "held in another partition"),
                                                   (p.taken_over, "taken over by a later run"))
                if n)
            lines.append(f"  partition {p.index} {p.where}: source {p.source_ids:,} ids, "
                         f"Postgres {p.postgres_ids:,}{moved}")
            for label, ids in (("missing from Postgres", p.missing),
                               ("in Postgres, not in the source", p.extra)):
                if ids:
                    lines.append(f"    {label} ({len(ids):,}): {_listed(ids)}")
            if p.source_rows_without_id != p.postgres_rows_without_id:
                lines.append(f"    rows without an id: source {p.source_rows_without_id:,}, "
                             f"dead letters {p.postgres_rows_without_id:,}")
        if self.unaccounted:
            lines.append(f"  work orders with neither extraction + embedding nor an open dead "
                         f"letter ({len(self.unaccounted):,}): {_listed(self.unaccounted)}")
        return "\n".join(lines)


def _listed(ids: list[str]) -> str:
    more = f" ... and {len(ids) - MAX_LISTED:,} more" if len(ids) > MAX_LISTED else ""
    return ", ".join(ids[:MAX_LISTED]) + more


def reconcile(conn: psycopg.Connection[Any], run: RunRecord, session: Any,
              embedding_model: str | None, partitions: list[Partition] | None = None,
              ) -> Reconciliation:
    """Compare the run's partitions (all, or those given) in the source and in Postgres;
    with ``embedding_model``, also list work orders that lack their enriched rows and have
    no open dead letter."""
    parts = run.partitions if partitions is None else partitions
    args = {"run": run.run_id, "no_id": NO_ID}
    pg = {r[0]: (int(r[1]), int(r[2])) for r in conn.execute(_PG_DIGEST, args)}
    no_id = {r[0]: int(r[1]) for r in conn.execute(
        "SELECT partition_id, count(*) FROM failed_records WHERE run_id = %(run)s "
        "AND work_order_id LIKE %(no_id)s GROUP BY 1", args)}
    checks = []
    for part in parts:
        ids, digest, rows_without_id = session_call(session.partition_digest, part)
        pg_ids, pg_hash = pg.get(part.index, (0, 0))
        checks.append(PartitionCheck(part.index, part.describe(), ids, digest, rows_without_id,
                                     pg_ids, pg_hash, no_id.get(part.index, 0)))
    _name_differences(conn, run, session, parts, checks)
    unaccounted = [r[0] for r in conn.execute(
        _UNACCOUNTED, {"run": run.run_id, "model": embedding_model, "limit": 10_000})
    ] if embedding_model is not None else []
    return Reconciliation(run.run_id, checks, unaccounted)


def _name_differences(conn: psycopg.Connection[Any], run: RunRecord, session: Any,
                      parts: list[Partition], checks: list[PartitionCheck]) -> None:
    """Id by id, for the partitions whose figures differ."""
    by_index = {p.index: p for p in parts}
    differing = [c for c in checks if not c.figures_match]
    source_sets: dict[int, set[str]] = {}
    for check in differing:
        source = set(session_call(session.partition_ids, by_index[check.index]))
        source_sets[check.index] = source
        held = {r[0] for r in conn.execute(
            _PG_IDS, {"run": run.run_id, "part": check.index, "no_id": NO_ID})}
        check.missing = sorted(source - held)
        check.extra = sorted(held - source)
    # Ids held in another partition (an id that occurs twice) or by a later run over the
    # same rows (which takes their maintenance_logs row over) are differences of place,
    # not losses.
    missing = sorted({i for c in differing for i in c.missing})
    # id -> whether this run holds it (elsewhere), or only a later run
    held_anywhere: dict[str, bool] = {}
    for wid, ours in conn.execute(
            "SELECT work_order_id, run_id = %(run)s FROM maintenance_logs WHERE "
            "work_order_id = ANY(%(ids)s) UNION SELECT work_order_id, true FROM failed_records "
            "WHERE run_id = %(run)s AND work_order_id = ANY(%(ids)s)",
            {"run": run.run_id, "ids": missing}) if missing else ():
        held_anywhere[wid] = held_anywhere.get(wid, False) or bool(ours)
    in_source = set().union(*source_sets.values()) if source_sets else set()
    for check in differing:
        check.moved = sum(1 for i in check.missing if held_anywhere.get(i) is True)
        check.taken_over = sum(1 for i in check.missing if held_anywhere.get(i) is False)
        check.missing = [i for i in check.missing if i not in held_anywhere]
        check.extra = [i for i in check.extra if i not in in_source]
