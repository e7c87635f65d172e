"""The Postgres datasink: each block's rows, failed records and progress in one transaction.

Binary COPY into temporary staging tables, then upserts keyed on the work order, so that a
retried or duplicated block changes nothing (DESIGN decisions 3 and 9). A row Postgres
rejects is isolated by bisecting the block and dead-lettered with stage ``write``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from pgvector.psycopg import register_vector
from psycopg import sql
from ray.data.block import Block
from ray.data.datasource import Datasink
from ray.data.datasource.datasink import WriteResult

from backfill import schema as S
from backfill import tables as T
from backfill.db import TRANSIENT_PG_ERRORS, pg_error_text, pg_transaction
from backfill.errors import FatalError
from backfill.progress import record_block
from backfill.scrub import SCRUBBER_VERSION
from backfill.seal import unseal

log = logging.getLogger(__name__)

# The columns each row carries, in table order (tables.py declares them); the write
# functions add run_id (and partition_id) themselves.
LOG_COLUMNS = list(T.SOURCE_COLUMNS)
LOG_TYPES = T.MAINTENANCE_LOGS.copy_types(LOG_COLUMNS)
EXTRACT_COLUMNS = [
    "work_order_id",
    *T.EXTRACTION_FIELDS,
    *(c.name for c in T.EXTRACTION_BOOKKEEPING),
]
EXTRACT_TYPES = T.AI_EXTRACTED_DATA.copy_types(EXTRACT_COLUMNS)
EMBED_COLUMNS = ["work_order_id", "model", "embedding", "document", "run_id",
                 "scrubber_version", "dimensions"]


@dataclass
class WriteTarget:
    """Everything a write task needs; pickled into the task."""

    dsn: str
    schema: str
    run_id: str
    llm_model: str
    embedding_model: str
    seal_key: bytes | None = field(default=None, repr=False)  # opens the raw free text


@dataclass
class BlockOutcome:
    ok: int = 0
    failed: int = 0
    per_partition: dict[int, tuple[int, int]] = field(default_factory=dict)
    rejected: int = 0  # rows dead-lettered because Postgres rejected them
    rows: int = 0

    @property
    def rejected_all(self) -> bool:
        return self.rows > 0 and self.rejected == self.rows


def _prepare_session(conn: psycopg.Connection[Any]) -> None:
    register_vector(conn)
    with conn.cursor() as cur:
        # Safe here: a block's rows and its progress row commit together, so a server
        # crash can only lose whole recent blocks, which a resume writes again.
        cur.execute("SET synchronous_commit = off")
        for stage, table in (("stage_logs", "maintenance_logs"),
                             ("stage_extract", "ai_extracted_data"),
                             ("stage_embed", "semantic_embeddings")):
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} "
                        "INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
    conn.commit()


def block_key(table: pa.Table) -> str:
    """Identity of a block's content, so that writing the same rows twice is a no-op."""
    h = hashlib.blake2b(digest_size=12)
    ids = table.column(S.ID).fill_null("").to_pylist()
    h.update("\x1f".join(ids).encode())
    h.update(str(table.num_rows).encode())
    return h.hexdigest()


def _copy_rows(
    cur: psycopg.Cursor[Any],
    table: str,
    columns: list[str],
    types: list[str],
    rows: Iterable[tuple[Any, ...]],
) -> None:
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT BINARY)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with cur.copy(stmt) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _upsert(
    cur: psycopg.Cursor[Any],
    target: str,
    staging: str,
    columns: list[str],
    keys: list[str],
    overrides: dict[str, str] | None = None,
    where: str | None = None,
) -> None:
    """INSERT ... ON CONFLICT DO UPDATE from a staging table; ``overrides`` gives the SET
    expression of some columns, ``where`` the condition of the update (SQL text of ours,
    never data)."""
    overrides = overrides or {}
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    updates = sql.SQL(", ").join(
        [sql.SQL("{} = {}").format(
            sql.Identifier(c),
            sql.SQL(overrides[c]) if c in overrides else sql.SQL("EXCLUDED.{}").format(
                sql.Identifier(c)),
        )
            for c in columns
            if c not in keys]
        # columns the staged rows do not carry ("extracted_at = now()")
        + [sql.SQL("{} = {}").format(sql.Identifier(c), sql.SQL(expr))
           for c, expr in overrides.items() if c not in columns]
    )
    cur.execute(
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) DO UPDATE SET {}{}").format(
            sql.Identifier(target),
            cols,
            cols,
            sql.Identifier(staging),
            sql.SQL(", ").join(map(sql.Identifier, keys)),
            updates,
            sql.SQL(f" WHERE {where}") if where else sql.SQL(""),
        )
    )


def _dedupe_last(table: pa.Table) -> pa.Table:
    """One row per id (ON CONFLICT cannot touch a row twice in a statement): the latest by
    (updated_at, created_at), as the upsert of maintenance_logs decides across blocks, so
    the row kept for a duplicate id does not depend on the order rows arrive in."""
    ids = table.column(S.ID)
    if pc.count_distinct(ids).as_py() == len(ids):
        return table
    keys = zip(
        ids.to_pylist(),
        table.column(S.UPDATED_AT).to_pylist(),
        table.column(S.CREATED_AT).to_pylist(),
        strict=True,
    )
    best: dict[str, tuple[tuple[Any, Any], int]] = {}
    for i, (wid, updated, created) in enumerate(keys):
        rank = (updated or dt.datetime.min, created or dt.datetime.min)
        if wid not in best or rank >= best[wid][0]:
            best[wid] = (rank, i)
    return table.take(sorted(i for _, i in best.values()))


def _write_logs(cur: psycopg.Cursor[Any], table: pa.Table, run_id: str, direct: bool) -> None:
    cols = [table.column(c).to_pylist() for c in S.CANONICAL_COLUMNS]
    parts = table.column(S.PARTITION).to_pylist()
    hashes = S.content_hashes(table)
    rows = ((*values, run_id, part, digest)
            for *values, part, digest in zip(*cols, parts, hashes, strict=True))
    columns = [*LOG_COLUMNS, "run_id", "partition_id", "content_hash"]
    types = T.MAINTENANCE_LOGS.copy_types(columns)
    if direct:
        _copy_rows(cur, "maintenance_logs", columns, types, rows)
        return
    _copy_rows(cur, "stage_logs", columns, types, rows)
    # A retry-failed pass has no partition (-1): the row keeps the one it was read in.
    keep_partition = ("CASE WHEN EXCLUDED.partition_id < 0 THEN maintenance_logs.partition_id "
                      "ELSE EXCLUDED.partition_id END")
    # Rows of a duplicate id in other blocks of the same run: the latest one is kept,
    # whichever block commits last. Another run takes the row over.
    latest = ("maintenance_logs.run_id IS DISTINCT FROM EXCLUDED.run_id OR "
              "(coalesce(EXCLUDED.updated_at, '-infinity'), "
              "coalesce(EXCLUDED.created_at, '-infinity')) >= "
              "(coalesce(maintenance_logs.updated_at, '-infinity'), "
              "coalesce(maintenance_logs.created_at, '-infinity'))")
    _upsert(cur, "maintenance_logs", "stage_logs", columns, ["work_order_id"],
            {"partition_id": keep_partition}, where=latest)


def _extraction_rows(table: pa.Table, model: str) -> Iterable[tuple[Any, ...]]:
    ids = table.column(S.ID).to_pylist()
    answers = table.column(S.EXTRACTION).to_pylist()
    truncated = table.column(S.TRUNCATED).to_pylist()
    tin = table.column(S.TOKENS_IN).to_pylist()
    tout = table.column(S.TOKENS_OUT).to_pylist()
    redactions = table.column(S.REDACTIONS).to_pylist()
    for wid, answer, trunc, ti, to, red in zip(ids, answers, truncated, tin, tout, redactions,
                                               strict=True):
        doc = json.loads(answer)
        ex = doc["extraction"]
        yield (
            # jsonb columns take Python objects: psycopg serialises them itself.
            wid,
            *(ex[name] for name in T.EXTRACTION_FIELDS),
            ex,
            doc.get("warnings", []),
            bool(trunc),
            model,
            S.PROMPT_VERSION,
            S.SCHEMA_VERSION,
            ti,
            to,
            SCRUBBER_VERSION,
            json.loads(red),
        )


def _write_enriched(
    cur: psycopg.Cursor[Any], ok: pa.Table, target: WriteTarget, direct: bool
) -> None:
    if ok.num_rows == 0:
        return
    _copy_rows(
        cur,
        "ai_extracted_data" if direct else "stage_extract",
        [*EXTRACT_COLUMNS, "run_id"],
        T.AI_EXTRACTED_DATA.copy_types([*EXTRACT_COLUMNS, "run_id"]),
        ((*r, target.run_id) for r in _extraction_rows(ok, target.llm_model)),
    )
    if not direct:
        # a record extracted again (retry-failed, reprocess, another run) says when
        _upsert(cur, "ai_extracted_data", "stage_extract", [*EXTRACT_COLUMNS, "run_id"],
                ["work_order_id"], {"extracted_at": "now()"})
    emb = ok.column(S.EMBEDDING).combine_chunks()
    vectors = emb.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    vectors = vectors.reshape(ok.num_rows, -1)
    ids = ok.column(S.ID).to_pylist()
    docs = ok.column(S.DOCUMENT).to_pylist()
    columns = EMBED_COLUMNS
    _copy_rows(
        cur,
        "semantic_embeddings" if direct else "stage_embed",
        columns,
        T.SEMANTIC_EMBEDDINGS.copy_types(columns),
        (
            (wid, target.embedding_model, vec, doc, target.run_id, SCRUBBER_VERSION,
             vectors.shape[1])
            for wid, vec, doc in zip(ids, vectors, docs, strict=True)
        ),
    )
    if not direct:
        _upsert(cur, "semantic_embeddings", "stage_embed", columns, ["work_order_id", "model"],
                {"embedded_at": "now()"})
    # A record committed whole resolves its open dead letters, this run's (retry-failed)
    # and any earlier run's: an incremental run that processes a row a backfill could not
    # (its source row fixed since) leaves no dead letter open for retry-failed to redo.
    cur.execute(
        "UPDATE failed_records SET resolved_at = now() WHERE work_order_id = ANY(%s) "
        "AND resolved_at IS NULL",
        (ids,),
    )


def _write_failed(cur: psycopg.Cursor[Any], failed: pa.Table, run_id: str, key: str) -> None:
    """Upsert dead letters. ``attempts`` counts blocks, so writing the same block again (a
    Ray retry, a resumed run) does not count as another attempt."""
    if failed.num_rows == 0:
        return
    rows = list(
        zip(
            S.record_keys(failed),
            failed.column(S.STAGE).to_pylist(),
            failed.column(S.ERROR_CLASS).to_pylist(),
            failed.column(S.ERROR_MESSAGE).to_pylist(),
            failed.column(S.PARTITION).to_pylist(),
            strict=True,
        )
    )
    cur.executemany(
        "INSERT INTO failed_records (run_id, work_order_id, stage, error_class, error_message, "
        "partition_id, last_block) VALUES (%s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (run_id, work_order_id) DO UPDATE SET stage = EXCLUDED.stage, "
        "error_class = EXCLUDED.error_class, error_message = EXCLUDED.error_message, "
        "attempts = failed_records.attempts + CASE WHEN failed_records.last_block IS DISTINCT "
        "  FROM EXCLUDED.last_block THEN 1 ELSE 0 END, "
        "partition_id = coalesce(failed_records.partition_id, EXCLUDED.partition_id), "
        "last_block = EXCLUDED.last_block, last_seen_at = now(), resolved_at = NULL",
        [
            (run_id, wid, stage, cls, (msg or "")[:4000], part if part >= 0 else None, key)
            for wid, stage, cls, msg, part in rows
        ],
    )
    # The requests of these records that their API stage left in flight (backfill.journal):
    # settled with the dead letters, so that a kill before them leaves them to be counted.
    keys = sorted({k for k in failed.column(S.IN_FLIGHT_KEY).to_pylist() if k}
                  ) if S.IN_FLIGHT_KEY in failed.column_names else []
    if keys:
        cur.execute("DELETE FROM requests_in_flight WHERE answer_key = ANY(%s)", (keys,))


def _partition_counts(table: pa.Table) -> dict[int, tuple[int, int]]:
    counts: dict[int, list[int]] = {}
    for part, status in zip(
        table.column(S.PARTITION).to_pylist(), table.column(S.STATUS).to_pylist(), strict=True
    ):
        c = counts.setdefault(part, [0, 0])
        c[0 if status == S.OK else 1] += 1
    return {p: (c[0], c[1]) for p, c in counts.items()}


def _write_rows(
    cur: psycopg.Cursor[Any], logs: pa.Table, ok: pa.Table, target: WriteTarget
) -> None:
    """Rows of a block into the three tables. Most blocks of a backfill are new: COPY them
    straight into the tables (no staging copy, and each 6 KB vector is TOASTed once, not
    twice). A block holding any id already written (a resumed run, a Ray retry, a
    retry-failed pass) meets a unique violation; it is rolled back to the savepoint and
    goes through staging tables and upserts instead."""
    try:
        with cur.connection.transaction():
            _write_logs(cur, logs, target.run_id, direct=True)
            _write_enriched(cur, ok, target, direct=True)
        return
    except psycopg.errors.UniqueViolation:
        pass
    _write_logs(cur, logs, target.run_id, direct=False)
    _write_enriched(cur, ok, target, direct=False)


def write_block(table: pa.Table, target: WriteTarget) -> BlockOutcome:
    """Write one block in one transaction; retried on faults a reconnect cures."""
    key = block_key(table)
    # maintenance_logs holds work orders: a row without an id or a timestamp is only a dead
    # letter (validate/MissingId, validate/MissingTimestamp).
    logs = _dedupe_last(table.filter(pc.and_(pc.is_valid(table.column(S.ID)),
                                             pc.is_valid(table.column(S.CREATED_AT)))))
    status = table.column(S.STATUS)
    ok = _dedupe_last(
        table.filter(pc.and_(pc.equal(status, S.OK), pc.is_valid(table.column(S.ID))))
    )
    failed = table.filter(pc.not_equal(status, S.OK))
    counts = _partition_counts(table)

    def transaction(cur: psycopg.Cursor[Any]) -> None:
        _write_rows(cur, logs, ok, target)
        _write_failed(cur, failed, target.run_id, key)
        record_block(cur, target.run_id, key, counts)

    _transaction(target, transaction, f"writing a block of run {target.run_id}")
    return BlockOutcome(ok=ok.num_rows, failed=failed.num_rows, per_partition=counts,
                        rows=table.num_rows)


def _transaction(target: WriteTarget, fn: Any, what: str) -> None:
    pg_transaction(target.dsn, target.schema, "sink", fn, what, _prepare_session,
                   application_name="backfill-sink")


def write_rejected(row: pa.Table, exc: Exception, target: WriteTarget) -> BlockOutcome:
    """A row Postgres rejects becomes a ``write`` dead letter. Its raw row is kept in
    maintenance_logs when that table takes it alone (the rejection came from an enriched
    table: a NaN in a vector, a trigger there); otherwise the dead letter is all that is
    written. Each attempt is simpler than the write that failed, never the same one again.
    The message is the error's class, SQLSTATE and constraint, never its text (which
    quotes the row)."""
    failed = _as_write_failures(row, pg_error_text(exc))
    key = block_key(row)
    counts = _partition_counts(failed)
    logs = failed.filter(pc.and_(pc.is_valid(failed.column(S.ID)),
                                 pc.is_valid(failed.column(S.CREATED_AT))))

    def with_raw_row(cur: psycopg.Cursor[Any]) -> None:
        _write_logs(cur, logs, target.run_id, direct=False)
        dead_letter_only(cur)

    def dead_letter_only(cur: psycopg.Cursor[Any]) -> None:
        _write_failed(cur, failed, target.run_id, key)
        record_block(cur, target.run_id, key, counts)

    what = f"dead-lettering a rejected row of run {target.run_id}"
    try:
        _transaction(target, with_raw_row if logs.num_rows else dead_letter_only, what)
    except psycopg.DatabaseError as again:
        if isinstance(again, TRANSIENT_PG_ERRORS) or not logs.num_rows:
            raise
        _transaction(target, dead_letter_only, what)
    return BlockOutcome(ok=0, failed=1, per_partition=counts, rejected=1, rows=1)


def _as_write_failures(table: pa.Table, message: str) -> pa.Table:
    n = table.num_rows
    for name, value in ((S.STATUS, S.FAILED), (S.STAGE, "write"),
                        (S.ERROR_CLASS, "Rejected"), (S.ERROR_MESSAGE, message)):
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pa.array([value] * n, pa.string()))
    return table


# Errors that are not about the rows: a missing table, a revoked privilege, a wrong schema
# (SQLSTATE classes 42, 28, 3D, 3F). Every row would be "rejected" by them; they stop the run.
_SYSTEMIC_SQLSTATE_CLASSES = ("42", "28", "3D", "3F")
# A block whose rows are all rejected with the same error, from this many rows up, is a
# systemic fault too (e.g. a trigger that rejects every insert), not bad data.
SYSTEMIC_REJECTED_ROWS = 16


def write_isolating(table: pa.Table, target: WriteTarget) -> BlockOutcome:
    """Write a block; if Postgres rejects its data, bisect to find the bad rows and
    dead-letter them (stage ``write``) while the rest is written."""
    try:
        return write_block(table, target)
    except psycopg.DatabaseError as exc:
        if isinstance(exc, TRANSIENT_PG_ERRORS):  # retried in write_block, then FatalError
            raise
        state = exc.sqlstate or ""
        if state[:2] in _SYSTEMIC_SQLSTATE_CLASSES:
            raise FatalError(f"writing to {target.schema}: {pg_error_text(exc)}",
                             dependency="PostgreSQL") from None
        if table.num_rows == 1:
            log.warning("Postgres rejected work order %s: %s",
                        S.record_keys(table)[0], pg_error_text(exc))
            return write_rejected(table, exc, target)
        half = table.num_rows // 2
        a = write_isolating(table.slice(0, half), target)
        b = write_isolating(table.slice(half), target)
        if a.ok == 0 and b.ok == 0 and a.rejected_all and b.rejected_all and (
                table.num_rows >= SYSTEMIC_REJECTED_ROWS):
            raise FatalError(
                f"Postgres rejected all {table.num_rows} rows of a block ({pg_error_text(exc)})"
                f": a constraint or trigger that no row passes?", dependency="PostgreSQL"
            ) from None
        return BlockOutcome(a.ok + b.ok, a.failed + b.failed,
                            rejected=a.rejected + b.rejected, rows=a.rows + b.rows)


def _count_committed(block: pa.Table, out: BlockOutcome, run_id: str) -> None:
    """The job's metrics (backfill.metrics) for a committed block: records ok, and failed by
    the stage that failed them (rows Postgres rejected: stage write)."""
    from backfill.metrics import count_records

    count_records(run_id, "ok", "write", out.ok)
    if out.failed > out.rejected and S.STAGE in block.column_names:
        counts = pc.value_counts(block.column(S.STAGE).drop_null())
        for item in counts.to_pylist():
            count_records(run_id, "failed", str(item["values"]), int(item["counts"]))
    if out.rejected:
        count_records(run_id, "failed", "write", out.rejected)


class PostgresDatasink(Datasink[BlockOutcome]):
    def __init__(self, target: WriteTarget) -> None:
        self.target = target
        self.totals = BlockOutcome()

    def write(self, blocks: Iterable[Block], ctx: Any) -> BlockOutcome:
        total = BlockOutcome()
        for block in blocks:
            if block.num_rows == 0:
                continue
            if self.target.seal_key:
                block = unseal(block, self.target.seal_key)
            out = write_isolating(block, self.target)
            total.ok += out.ok
            total.failed += out.failed
            _count_committed(block, out, self.target.run_id)
        return total

    def on_write_complete(self, write_result: WriteResult[BlockOutcome]) -> None:
        for res in write_result.write_returns:
            self.totals.ok += res.ok
            self.totals.failed += res.failed

    @property
    def supports_distributed_writes(self) -> bool:
        return True

    def get_name(self) -> str:
        return "Postgres"
