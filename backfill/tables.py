"""The Postgres tables, each declared once: its columns (Postgres type, nullability, default),
key and indexes. The DDL (``db.ddl``) and the sink's binary COPY types are derived from here.

The source columns of ``maintenance_logs`` come from ``schema.SOURCE_SCHEMA`` and the
per-field columns of ``ai_extracted_data`` from the ``schema.Extraction`` model, so a new
source column or extraction field is one edit. The order of the columns existing databases
have must stay (tests/test_tables.py pins it). A new column lands at the end of its group in
a new database, at the end of the table in an older one (the ALTER): the sink does not mind,
since every COPY and INSERT names its columns.
"""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from psycopg import sql

from backfill import schema as S

# Postgres type -> the name ``Copy.set_types`` takes for binary COPY.
COPY_TYPES = {
    "text": "text",
    "timestamp": "timestamp",
    "timestamptz": "timestamptz",
    "double precision": "float8",
    "real": "float4",
    "integer": "int4",
    "bigint": "int8",
    "boolean": "bool",
    "jsonb": "jsonb",
    "vector": "vector",
    "bytea": "bytea",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a key of COPY_TYPES; "vector" takes the embedding dimensions in the DDL
    not_null: bool = False
    default: str | None = None  # SQL text of ours, never data

    @property
    def copy_type(self) -> str:
        return COPY_TYPES[self.type]

    def sql_type(self, dimensions: int) -> str:
        return f"vector({int(dimensions)})" if self.type == "vector" else self.type

    def definition(self, dimensions: int, adding: bool = False) -> sql.Composed:
        """The column's definition in CREATE TABLE, or (``adding``) in ALTER TABLE ... ADD
        COLUMN on a table that has rows: there a NOT NULL column without a default is added
        nullable, since its old rows have no value for it (Postgres would refuse)."""
        not_null = self.not_null and (self.default is not None or not adding)
        return sql.SQL("{} {}{}{}").format(
            sql.Identifier(self.name),
            sql.SQL(self.sql_type(dimensions)),
            sql.SQL(" NOT NULL") if not_null else sql.SQL(""),
            sql.SQL(f" DEFAULT {self.default}") if self.default is not None else sql.SQL(""),
        )


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    where: str | None = None  # SQL text of ours


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    indexes: tuple[Index, ...] = ()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    def copy_types(self, names: typing.Iterable[str]) -> list[str]:
        """The binary COPY type of each named column, in that order."""
        return [self.column(n).copy_type for n in names]

    def ddl(self, schema: str, dimensions: int) -> list[sql.Composed]:
        """CREATE TABLE IF NOT EXISTS, then ADD COLUMN IF NOT EXISTS for every column (a
        table made by an older version gains the new ones, at its end), then the indexes,
        which may name a column only the ALTER has added."""
        table = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(self.name))
        key = sql.SQL("PRIMARY KEY ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, self.key)))
        statements = [
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
                table,
                sql.SQL(", ").join([*(c.definition(dimensions) for c in self.columns), key]),
            ),
            # One statement, so one lock of the table, for all its columns.
            sql.SQL("ALTER TABLE {} {}").format(
                table,
                sql.SQL(", ").join(
                    sql.SQL("ADD COLUMN IF NOT EXISTS {}").format(
                        c.definition(dimensions, adding=True))
                    for c in self.columns
                ),
            ),
        ]
        for index in self.indexes:
            statements.append(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({}){}").format(
                    sql.Identifier(index.name),
                    table,
                    sql.SQL(", ").join(map(sql.Identifier, index.columns)),
                    sql.SQL(f" WHERE {index.where}") if index.where else sql.SQL(""),
                )
            )
        return statements


def _from_arrow(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_float64(t):
        return "double precision"
    raise TypeError(f"no Postgres type declared for the source's arrow type {t}")


def _from_annotation(name: str, annotation: Any) -> tuple[str, bool]:
    """(Postgres type, nullable) of an Extraction field."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1 and len(args) == 2:
            return _from_annotation(name, inner[0])[0], True
    elif typing.get_origin(annotation) is list and args == (str,):
        return "jsonb", False  # psycopg writes the list as a JSON array
    elif isinstance(annotation, type):
        # bool before int: a bool is an int to issubclass.
        for base, pg in ((bool, "boolean"), (enum.Enum, "text"), (str, "text"),
                         (int, "integer"), (float, "real")):
            if issubclass(annotation, base):
                return pg, False
    raise TypeError(f"Extraction.{name}: no Postgres type declared for {annotation}; "
                    "add it to tables._from_annotation")


def _timestamp_now(name: str) -> Column:
    return Column(name, "timestamptz", not_null=True, default="now()")


# maintenance_logs: the source row as read, names lower-cased. created_at is NOT NULL: a
# source row without one is dead-lettered instead of loaded (the contract allows either).
SOURCE_COLUMNS: tuple[str, ...] = tuple(n.lower() for n in S.SOURCE_SCHEMA.names)
MAINTENANCE_LOGS = Table(
    "maintenance_logs",
    (
        *(
            Column(f.name.lower(), _from_arrow(f.type),
                   not_null=f.name in (S.ID, S.CREATED_AT))
            for f in S.SOURCE_SCHEMA
        ),
        Column("run_id", "text", not_null=True),
        Column("partition_id", "integer"),
        _timestamp_now("loaded_at"),
        # schema.content_hashes of the row as written: ``run --incremental`` compares it with
        # the source's row now. NULL: written before this column existed.
        Column("content_hash", "text"),
    ),
    key=("work_order_id",),
    indexes=(
        # a run's work orders by partition: closing a partition counts them, verify hashes them
        Index("maintenance_logs_run_partition_idx", ("run_id", "partition_id")),
        Index("maintenance_logs_created_idx", ("created_at",)),
    ),
)

# ai_extracted_data: one column per Extraction field, then the whole answer and how it was
# made. The sink writes these in this order, and adds run_id.
EXTRACTION_FIELDS: tuple[str, ...] = tuple(S.Extraction.model_fields)
EXTRACTION_BOOKKEEPING = (
    Column("extraction", "jsonb", not_null=True),
    Column("warnings", "jsonb", not_null=True, default="'[]'"),
    Column("input_truncated", "boolean", not_null=True, default="false"),
    Column("model", "text", not_null=True),
    Column("prompt_version", "text", not_null=True),
    # schema.SCHEMA_VERSION: the Extraction schema the answer was asked in; NULL for rows
    # made before it was recorded. With model and prompt_version: what selects rows to
    # extract again after a change of any of the three.
    Column("schema_version", "text"),
    Column("input_tokens", "integer"),
    Column("output_tokens", "integer"),
    # the scrubber that made the text the LLM saw, and what it replaced (kind -> count);
    # NULL: a version before 3, which did not record it
    Column("scrubber_version", "text"),
    Column("redactions", "jsonb", not_null=True, default="'{}'"),
)


def _extraction_column(name: str) -> Column:
    pg, nullable = _from_annotation(name, S.Extraction.model_fields[name].annotation)
    return Column(name, pg, not_null=not nullable)


AI_EXTRACTED_DATA = Table(
    "ai_extracted_data",
    (
        Column("work_order_id", "text", not_null=True),
        *(_extraction_column(name) for name in EXTRACTION_FIELDS),
        *EXTRACTION_BOOKKEEPING,
        Column("run_id", "text", not_null=True),
        _timestamp_now("extracted_at"),
    ),
    key=("work_order_id",),
    indexes=(Index("ai_extracted_failure_idx", ("failure_mode",)),
             # status counts a running run's extractions live
             Index("ai_extracted_run_idx", ("run_id",))),
)

# The search indexes (HNSW on embedding, GIN on the document's full text) are not here: they
# are built after the load (db.SEARCH_INDEXES), since maintaining the HNSW index row by row
# cost 7x the insert time.
SEMANTIC_EMBEDDINGS = Table(
    "semantic_embeddings",
    (
        Column("work_order_id", "text", not_null=True),
        Column("model", "text", not_null=True),
        Column("embedding", "vector", not_null=True),
        Column("document", "text", not_null=True),
        Column("run_id", "text", not_null=True),
        _timestamp_now("embedded_at"),
        Column("scrubber_version", "text"),  # of the document embedded
        # the vector's size as the model made it (NULL: rows written before it was kept)
        Column("dimensions", "integer"),
    ),
    key=("work_order_id", "model"),
)

FAILED_RECORDS = Table(
    "failed_records",
    (
        Column("run_id", "text", not_null=True),
        Column("work_order_id", "text", not_null=True),
        Column("stage", "text", not_null=True),
        Column("error_class", "text", not_null=True),
        Column("error_message", "text", not_null=True),
        Column("attempts", "integer", not_null=True, default="1"),
        Column("partition_id", "integer"),
        _timestamp_now("first_seen_at"),
        _timestamp_now("last_seen_at"),
        Column("resolved_at", "timestamptz"),
        Column("last_block", "text"),
    ),
    key=("run_id", "work_order_id"),
    indexes=(Index("failed_records_open_idx", ("run_id",), where="resolved_at IS NULL"),
             # the sink resolves a committed record's open dead letters of any run
             Index("failed_records_open_id_idx", ("work_order_id",),
                   where="resolved_at IS NULL")),
)

# One table for a run, its partitions, its written blocks and its alerts (kind = run |
# partition | block | alert); item is '' for the run row, the partition index,
# partition/block-key, or kind:incident of an alert.
ETL_METADATA = Table(
    "etl_metadata",
    (
        Column("run_id", "text", not_null=True),
        Column("kind", "text", not_null=True),
        Column("item", "text", not_null=True),
        Column("state", "text", not_null=True),
        Column("partition_id", "integer"),
        Column("rows_expected", "bigint"),
        Column("rows_ok", "bigint", not_null=True, default="0"),
        Column("rows_failed", "bigint", not_null=True, default="0"),
        Column("info", "jsonb", not_null=True, default="'{}'"),
        _timestamp_now("created_at"),
        _timestamp_now("updated_at"),
    ),
    key=("run_id", "kind", "item"),
)

# answer_journal: every valid answer of the LLM (the extraction, with what it cost in tokens)
# and of the embedding model (the vector, float32 little-endian), written as it arrives and
# looked up before any request (backfill.journal). The key is a hash of the scrubbed
# document and of what else decides the answer; the document itself is not stored.
ANSWER_JOURNAL = Table(
    "answer_journal",
    (
        Column("answer_key", "text", not_null=True),
        Column("kind", "text", not_null=True),  # chat | embedding
        Column("model", "text", not_null=True),
        Column("answer", "jsonb"),  # chat: the validated Extraction
        Column("vector", "bytea"),  # embedding
        Column("input_tokens", "integer"),
        Column("output_tokens", "integer"),
        _timestamp_now("created_at"),
    ),
    key=("answer_key",),
)

# requests_in_flight: the journal key of each request about to leave an API actor, written
# (and committed) before it is sent, deleted once its answer is journaled or its record has
# failed (backfill.journal). What a killed attempt leaves here is what it paid for and never
# received: the next attempt that sends one of these keys counts it as paid twice.
REQUESTS_IN_FLIGHT = Table(
    "requests_in_flight",
    (
        Column("answer_key", "text", not_null=True),
        Column("kind", "text", not_null=True),  # chat | embedding
        Column("model", "text", not_null=True),
        Column("owner", "text", not_null=True),  # the attempt that sent it (JournalTarget.owner)
        _timestamp_now("sent_at"),
    ),
    key=("answer_key",),
)

TABLES = (MAINTENANCE_LOGS, AI_EXTRACTED_DATA, SEMANTIC_EMBEDDINGS, FAILED_RECORDS, ETL_METADATA,
          ANSWER_JOURNAL, REQUESTS_IN_FLIGHT)
