"""Stage 1 (CPU tasks): drop records this run already wrote, validate rows, scrub PII and
compose the document that the LLM and the embedding model see.

Dropping finished ids here, before the extract stage, is what keeps a resumed run from
paying twice for a record (DESIGN decision 4).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from backfill import schema as S
from backfill.db import pg_transaction
from backfill.errors import RecordError
from backfill.guard import check_outgoing
from backfill.scrub import DEFAULT_POLICY, ScrubPolicy, scrub_rows
from backfill.seal import seal

TRUNCATION_MARK = " [TRUNCATED]"

# A free-text value longer than this many times the document's limit is scrubbed only up to
# it. The document keeps the first ``max_text_chars`` of the scrubbed text, so what lies
# beyond was scrubbed for nothing, and the scrubber's ~200 rules cost ~10-15 ms a kilobyte:
# a 1 MB note pasted from a log took 14 s a record, and a rule that scans back and forth
# (none is left that benchmarks/scrub_worst_bench.py finds) would take hours on it. Four
# times the limit leaves room for placeholders shorter than what they replace.
SCRUB_LIMIT_FACTOR = 4


def scrub_limit(max_chars: int) -> int:
    """The characters of a free-text value that are scrubbed (and may reach the document)."""
    return SCRUB_LIMIT_FACTOR * max_chars


def _cut(value: str, limit: int) -> str:
    """``value``'s first ``limit`` characters, ended at the last line break in them (an
    identifier rarely spans one), or at the last blank when the second half has no line
    break. A number written in spaced groups can still be cut there; its first part then
    lies ``limit`` characters in, beyond the document unless placeholders shrank the text
    before it by three quarters."""
    head = value[:limit]
    end = head.rfind("\n")
    if end < limit // 2:
        end = max(head.rfind(" "), head.rfind("\t"))
    return head[:end] if end > 0 else head


def _cut_long(column: pa.Array | pa.ChunkedArray, limit: int
              ) -> tuple[pa.Array | pa.ChunkedArray, pa.Array | None]:
    """The column with its values longer than ``limit`` cut (``_cut``), and which were; None
    when none was (the common case: one vectorised length test)."""
    typ = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
        return column, None  # (all NULL: no text; any other type is scrub_rows' error to give)
    long = pc.fill_null(pc.greater(pc.utf8_length(column.cast(typ)), limit), False)
    if not pc.any(long).as_py():
        return column, None
    values = [v if v is None or len(v) <= limit else _cut(v, limit) for v in column.to_pylist()]
    return pa.array(values, typ), long


# Rows Postgres rejected have no maintenance_logs row, only their dead letter: sending them
# again would pay the LLM for another rejection. Records that failed only because the API
# was down (Unavailable) are not done: a resume sends them again.
_DONE_IDS = (
    "(SELECT work_order_id FROM maintenance_logs WHERE run_id = %(run)s "
    "AND work_order_id = ANY(%(ids)s) UNION SELECT work_order_id FROM "
    "failed_records WHERE run_id = %(run)s AND stage = 'write' AND "
    "resolved_at IS NULL AND work_order_id = ANY(%(ids)s)) EXCEPT "
    "SELECT work_order_id FROM failed_records WHERE run_id = %(run)s AND "
    "error_class = 'Unavailable' AND resolved_at IS NULL AND "
    "work_order_id = ANY(%(ids)s)"
)


def done_ids(ids: list[str], dsn: str, schema: str, run_id: str) -> set[str]:
    """Ids among ``ids`` this run already committed (ok, failed, or rejected by Postgres)."""
    return pg_transaction(
        dsn, schema, "lookup",
        lambda cur: {r[0] for r in cur.execute(_DONE_IDS, {"run": run_id, "ids": ids})},
        "looking up finished records", autocommit=True)


def drop_done(table: pa.Table, dsn: str, schema: str, run_id: str,
              keep: frozenset[str] = frozenset()) -> pa.Table:
    """Drop rows whose id this run already wrote, except ids in ``keep`` (duplicate ids:
    the second copy of one must be counted too, and costs no LLM call)."""
    ids = [i for i in table.column(S.ID).to_pylist() if i is not None and i not in keep]
    if not ids:
        return table
    done = done_ids(ids, dsn, schema, run_id)
    if not done:
        return table
    fresh = pc.invert(pc.fill_null(pc.is_in(table.column(S.ID), pa.array(sorted(done))), False))
    return table.filter(fresh)


def _fail_where(
    mask: pa.Array,
    stage: str,
    error_class: str,
    message: str,
    status: pa.Array,
    cols: dict[str, pa.Array],
) -> pa.Array:
    """Mark rows failed where ``mask`` holds and they are not failed already."""
    newly = pc.and_(mask, pc.equal(status, S.OK))
    for name, value in ((S.STAGE, stage), (S.ERROR_CLASS, error_class), (S.ERROR_MESSAGE, message)):
        cols[name] = pc.if_else(newly, value, cols[name])
    return pc.if_else(newly, S.FAILED, status)


def validate(table: pa.Table) -> pa.Table:
    """Add outcome columns; rows that cannot be processed are marked failed, not raised."""
    n = table.num_rows
    status = pa.array([S.OK] * n, pa.string())
    cols: dict[str, pa.Array] = {
        name: pa.nulls(n, pa.string()) for name in (S.STAGE, S.ERROR_CLASS, S.ERROR_MESSAGE)
    }
    status = _fail_where(
        pc.is_null(table.column(S.ID)).combine_chunks(),
        "validate",
        "MissingId",
        f"source row has no {S.ID}",
        status,
        cols,
    )
    status = _fail_where(
        pc.is_null(table.column(S.CREATED_AT)).combine_chunks(),
        "validate",
        "MissingTimestamp",
        f"source row has no {S.CREATED_AT}, or one that is not a timestamp",
        status,
        cols,
    )
    empty = None
    for name in S.FREE_TEXT:
        blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(table.column(name)), ""), True)
        empty = blank if empty is None else pc.and_(empty, blank)
    assert empty is not None
    status = _fail_where(
        empty.combine_chunks() if isinstance(empty, pa.ChunkedArray) else empty,
        "validate",
        "EmptyText",
        "problem description, technician notes and resolution are all empty",
        status,
        cols,
    )
    table = table.append_column(S.STATUS, status)
    for name in (S.STAGE, S.ERROR_CLASS, S.ERROR_MESSAGE):
        table = table.append_column(name, cols[name])
    return table


def compose_documents(table: pa.Table, max_chars: int,
                      policy: ScrubPolicy = DEFAULT_POLICY) -> pa.Table:
    """Scrub the free text and build the document sent to the LLM and embedded.

    Only the free-text columns carry PII; the structured columns (equipment, manufacturer,
    work type) are kept as they are, since a cue-based name pattern could mangle them
    ("Patient Monitor"). With ``policy.name_model`` each column's rule output then goes
    through the learned name model as one batch (``scrub_rows``: one model per process,
    loaded at the first batch); its ``[PERSON]`` masks are counted in ``redactions``.
    A value longer than ``scrub_limit(max_chars)`` is scrubbed up to that, cut at a line
    break, and its document marked truncated: the document could not hold the rest.
    """
    scrubbed: dict[str, pa.Array] = {}
    redactions: list[dict[str, int]] = [{} for _ in range(table.num_rows)]
    cut_any: pa.Array | None = None
    for name in S.FREE_TEXT:
        column, cut = _cut_long(table.column(name), scrub_limit(max_chars))
        if cut is not None:
            cut_any = cut if cut_any is None else pc.or_(cut_any, cut)
        scrubbed[name], counts = scrub_rows(column, policy)
        for total, row in zip(redactions, counts, strict=True):
            for kind, n in row.items():
                total[kind] = total.get(kind, 0) + n

    def field(label: str, values: Any) -> pa.Array:
        return pc.binary_join_element_wise(label, pc.fill_null(values, "-"), "")

    header = pc.binary_join_element_wise(
        field("Equipment: ", table.column("EQUIPMENT_TYPE")),
        field("Manufacturer: ", table.column("MANUFACTURER")),
        field("Model: ", table.column("MODEL")),
        field("Work type: ", table.column("WORK_TYPE")),
        field("Priority: ", table.column("PRIORITY")),
        "; ",
    )
    document = pc.binary_join_element_wise(
        header,
        field("Problem: ", scrubbed["PROBLEM_DESCRIPTION"]),
        field("Technician notes: ", scrubbed["TECHNICIAN_NOTES"]),
        field("Resolution: ", scrubbed["RESOLUTION"]),
        "\n",
    )
    lengths = pc.utf8_length(document)
    truncated = pc.greater(lengths, max_chars)
    if cut_any is not None:  # (what was not scrubbed was not sent either)
        truncated = pc.or_(truncated, cut_any)
    cut = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(document, 0, max_chars - len(TRUNCATION_MARK)), TRUNCATION_MARK, ""
    )
    document = pc.if_else(truncated, cut, document)
    return (table.append_column(S.DOCUMENT, document).append_column(S.TRUNCATED, truncated)
            .append_column(S.REDACTIONS, pa.array(
                [json.dumps(r, sort_keys=True) for r in redactions], pa.string())))


def mark_duplicates(table: pa.Table, duplicate_ids: frozenset[str]) -> pa.Table:
    """Rows whose id occurs more than once in the run's range (found by the planner) are
    failed: which copy is the work order is a question for a person, not for the LLM."""
    if not duplicate_ids:
        return table
    mask = pc.fill_null(pc.is_in(table.column(S.ID), pa.array(sorted(duplicate_ids))), False)
    status = table.column(S.STATUS).combine_chunks()
    cols = {name: table.column(name).combine_chunks()
            for name in (S.STAGE, S.ERROR_CLASS, S.ERROR_MESSAGE)}
    status = _fail_where(mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask,
                         "validate", "DuplicateId",
                         f"{S.ID} occurs more than once in the source range", status, cols)
    table = table.set_column(table.schema.get_field_index(S.STATUS), S.STATUS, status)
    for name, col in cols.items():
        table = table.set_column(table.schema.get_field_index(name), name, col)
    return table


def prepare_blocks(table: pa.Table, *, batch_size: int, **kwargs: Any) -> Iterator[pa.Table]:
    """A block prepared ``batch_size`` rows at a time. The pipeline cuts each partition into
    blocks of ``batch_size`` rows before this stage and gives each block to its own task (no
    ``batch_size`` in ``map_batches``, which would make Ray Data wait for that many rows
    before it starts a task): a batch leaves as soon as it is scrubbed, and the run's small
    first partition travels alone, so its commit comes after the answers of a few records
    instead of a whole batch's (issue 14's first commit)."""
    for offset in range(0, table.num_rows, batch_size):
        yield prepare_batch(table.slice(offset, batch_size), **kwargs)


def prepare_batch(
    table: pa.Table,
    *,
    dsn: str,
    schema: str,
    run_id: str,
    max_chars: int,
    duplicate_ids: frozenset[str] = frozenset(),
    skip_done: bool = True,
    seal_key: bytes | None = None,
    policy: ScrubPolicy = DEFAULT_POLICY,
) -> pa.Table:
    """``seal_key``: seal the raw free text for its way past the API actors (backfill.seal)."""
    if skip_done:
        table = drop_done(table, dsn, schema, run_id, duplicate_ids)
    table = compose_documents(mark_duplicates(validate(table), duplicate_ids), max_chars,
                              policy)
    return seal(table, seal_key) if seal_key else table


def sendable_documents(table: pa.Table) -> list[str]:
    """The documents of a prepared table that the job would send to the LLM, in order: the
    rows that passed validation and the scrubber, and then the guard at the door (the
    others are dead-lettered by the pipeline). What the dry run samples and what batch
    mode submits."""
    return [document for _, document in sendable_rows(table)]


def sendable_rows(table: pa.Table) -> list[tuple[int, str]]:
    """``sendable_documents`` with each document's row index in the table."""
    sent = []
    for i, (status, document) in enumerate(zip(table.column(S.STATUS).to_pylist(),
                                               table.column(S.DOCUMENT).to_pylist(),
                                               strict=True)):
        if status != S.OK:
            continue
        try:
            check_outgoing([document], "the LLM")
        except RecordError:
            continue  # the pipeline dead-letters it (scrub/PHIGuard)
        sent.append((i, document))
    return sent
