"""PostgreSQL: connections, the schema (created idempotently), and retry of faults that a
reconnect cures."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from tenacity import (
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from backfill.config import Config
from backfill.errors import FatalError
from backfill.tables import TABLES

log = logging.getLogger(__name__)
T = TypeVar("T")

# Errors a new connection may cure: the server restarted, the backend was terminated,
# the network dropped, a serialization conflict. Anything else is a bug or bad data.
TRANSIENT_PG_ERRORS = (
    psycopg.OperationalError,
    psycopg.errors.SerializationFailure,
    psycopg.errors.DeadlockDetected,
)


def resolve_dsn(cfg: Config) -> str:
    """The configured DSN; for ``embedded``, the embedded server's (started on demand)."""
    assert cfg.postgres.dsn is not None  # the config model refuses an empty one
    if not cfg.postgres.embedded:
        from backfill.secrets import EnvSecret, EnvStr

        dsn = cfg.postgres.dsn
        if isinstance(dsn, EnvSecret):  # travels to the writers as the variable's name
            return EnvStr(dsn.get_secret_value(), dsn.var)
        return dsn.get_secret_value()
    from backfill.devstack.postgres import embedded_dsn

    return embedded_dsn(cfg.postgres.embedded_dir)


def connect(dsn: str, schema: str, **kwargs: Any) -> psycopg.Connection[Any]:
    conn = psycopg.connect(dsn, connect_timeout=15, **kwargs)
    conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema)))
    conn.commit()
    return conn


# One connection per worker process and purpose: Ray reuses worker processes across tasks,
# so a connection outlives the task that opened it.
_cached: dict[tuple[str, str, str, int], psycopg.Connection[Any]] = {}


def cached_connection(
    dsn: str, schema: str, purpose: str,
    setup: Callable[[psycopg.Connection[Any]], None] | None = None, **kwargs: Any,
) -> psycopg.Connection[Any]:
    """This process's connection for ``purpose``; a new one (``setup`` run on it) if none
    is open."""
    key = (dsn, schema, purpose, os.getpid())
    conn = _cached.get(key)
    if conn is None or conn.closed or conn.broken:
        conn = connect(dsn, schema, **kwargs)
        if setup is not None:
            setup(conn)
        _cached[key] = conn
    return conn


def drop_cached_connection(dsn: str, schema: str, purpose: str) -> None:
    """Forget (and close) a connection a transient error has made suspect."""
    conn = _cached.pop((dsn, schema, purpose, os.getpid()), None)
    if conn is not None:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - already broken; closing is best effort
            pass


def pg_transaction(
    dsn: str, schema: str, purpose: str, fn: Callable[[psycopg.Cursor[Any]], T], what: str,
    setup: Callable[[psycopg.Connection[Any]], None] | None = None, **kwargs: Any,
) -> T:
    """``fn(cursor)`` in one transaction on this process's connection for ``purpose``,
    retried on a new connection after faults a reconnect cures."""

    def attempt() -> T:
        conn = cached_connection(dsn, schema, purpose, setup, **kwargs)
        try:
            with conn.transaction(), conn.cursor() as cur:
                return fn(cur)
        except TRANSIENT_PG_ERRORS:
            drop_cached_connection(dsn, schema, purpose)
            raise

    return with_pg_retry(attempt, what)


def pg_error_text(exc: BaseException) -> str:
    """A Postgres error as its class, SQLSTATE and the names of what it concerns; never its
    message, which can quote values (``DETAIL: Failing row contains (...)``, ``invalid input
    syntax for type ...: "<value>"``, a trigger's own text): record data, PHI included."""
    if not isinstance(exc, psycopg.Error):
        return type(exc).__name__
    parts = [type(exc).__name__]
    if exc.sqlstate:
        parts.append(f"SQLSTATE {exc.sqlstate}")
    diag = exc.diag
    for label, name in (("constraint", diag.constraint_name), ("table", diag.table_name),
                        ("column", diag.column_name)):
        if name:
            parts.append(f"{label} {name}")
    return ", ".join(parts)


def with_pg_retry(fn: Callable[[], T], what: str, attempts: int = 6) -> T:
    """Run ``fn`` (which opens its own connection), retrying faults a reconnect cures."""

    @retry(
        retry=retry_if_exception_type(TRANSIENT_PG_ERRORS),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(multiplier=0.5, max=20),
        reraise=True,
    )
    def attempt() -> T:
        return fn()

    try:
        return attempt()
    except TRANSIENT_PG_ERRORS as exc:
        raise FatalError(
            f"{what} failed {attempts} times: {pg_error_text(exc)}", dependency="PostgreSQL"
        ) from exc


def ddl(schema: str, dimensions: int) -> list[sql.Composed]:
    """Statements that create (or bring up to date) the schema, tables and indexes declared
    in ``tables``; every one is safe to run again."""
    statements = [
        sql.SQL("CREATE EXTENSION IF NOT EXISTS vector").format(),
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)),
    ]
    for table in TABLES:
        statements += table.ddl(schema, dimensions)
    return statements


def ensure_schema(dsn: str, schema: str, dimensions: int) -> None:
    """Create the extension, schema, tables and indexes if missing; check the vector size."""

    def run() -> None:
        with psycopg.connect(dsn, connect_timeout=15, autocommit=True) as conn:
            # Two runs starting at once must not race on CREATE ... IF NOT EXISTS.
            conn.execute("SELECT pg_advisory_lock(hashtext('backfill-ddl'))")
            try:
                for stmt in ddl(schema, dimensions):
                    conn.execute(stmt)
                row = conn.execute(
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                    "%s::regclass AND attname = 'embedding'",
                    (f"{psycopg.sql.Identifier(schema).as_string(conn)}.semantic_embeddings",),
                ).fetchone()
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext('backfill-ddl'))")
        if row and row[0] != f"vector({dimensions})":
            from backfill.errors import ConfigError

            raise ConfigError(
                f"embedding.dimensions is {dimensions} but {schema}.semantic_embeddings.embedding "
                f"is {row[0]}: use the same dimensions, or another postgres.schema"
            )

    with_pg_retry(run, "creating the schema")


def tables_exist(dsn: str, schema: str) -> bool:
    """Whether the job's tables are there (read-only: a dry run creates nothing)."""

    def look() -> bool:
        with psycopg.connect(dsn, connect_timeout=15, autocommit=True) as conn:
            row = conn.execute("SELECT to_regclass(%s)", (
                f"{sql.Identifier(schema).as_string(conn)}.etl_metadata",)).fetchone()
        return bool(row and row[0])

    return with_pg_retry(look, "looking for the tables")


# The search indexes, built after the load (DESIGN decision 9): the HNSW graph of the
# embeddings (cosine, what `backfill search` orders by) and a GIN index of the scrubbed
# documents' full text (its hybrid ranking). Maintained row by row during a bulk load the
# HNSW index cost 7x the insert time.
SEARCH_INDEXES = {
    "semantic_embeddings_hnsw": "USING hnsw (embedding vector_cosine_ops)",
    "semantic_embeddings_fts": "USING gin (to_tsvector('english', document))",
}
HNSW_INDEX, TEXT_INDEX = SEARCH_INDEXES  # names, in SEARCH_INDEXES' order


def search_index_ddl(schema: str) -> dict[str, sql.Composed]:
    """CREATE INDEX IF NOT EXISTS of each search index, by index name."""
    return {
        name: sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {}.semantic_embeddings {}").format(
            sql.Identifier(name), sql.Identifier(schema), sql.SQL(how))
        for name, how in SEARCH_INDEXES.items()
    }


_MEMORY_UNITS = {"kB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}
# What one vector takes in maintenance_work_mem while pgvector builds the HNSW graph (m=16):
# the vector (4 bytes a dimension) and this much for its node and neighbour lists. Measured
# from pgvector's own notice: 2GB held 313,988 vectors of 1536 dimensions (6,839 bytes each;
# benchmarks/index_bench.py, docs/benchmarks.md "The HNSW index at 1M"); rounded up.
HNSW_NODE_BYTES = 768


def memory_bytes(setting: str) -> int:
    """``"2GB"`` (postgres.index_build_memory's form) in bytes."""
    number, unit = setting[:-2].strip(), setting[-2:]
    return int(number) * _MEMORY_UNITS[unit]


def hnsw_build_memory(rows: int, dimensions: int) -> int:
    """The maintenance_work_mem an HNSW build of ``rows`` vectors needs to keep its graph in
    memory (beyond it the build slows: docs/benchmarks.md, "The HNSW index at 1M")."""
    return rows * (4 * dimensions + HNSW_NODE_BYTES)


def unindexed_vectors(dsn: str, schema: str) -> tuple[int, int] | None:
    """(rows, dimensions) of semantic_embeddings when its HNSW index is missing, else None."""
    def look() -> tuple[int, int] | None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            table = f"{sql.Identifier(schema).as_string(conn)}.semantic_embeddings"
            row = conn.execute("SELECT to_regclass(%s), to_regclass(%s)",
                               (table, f"{sql.Identifier(schema).as_string(conn)}.{HNSW_INDEX}")
                               ).fetchone()
            if row is None or row[0] is None or row[1] is not None:
                return None
            typmod = conn.execute(
                "SELECT atttypmod FROM pg_attribute WHERE attrelid = %s::regclass "
                "AND attname = 'embedding'", (table,)).fetchone()
            count = conn.execute(sql.SQL("SELECT count(*) FROM {}.semantic_embeddings").format(
                sql.Identifier(schema))).fetchone()
            return (int(count[0]) if count else 0, int(typmod[0]) if typmod else 0)

    return with_pg_retry(look, "counting the vectors to index")


def build_index(conn: psycopg.Connection, schema: str, name: str) -> None:
    """Create one search index if it is missing, with the parallel workers the server allows.

    Postgres plans an index build's workers from the table's heap pages, and a 1536-dimension
    vector (6 KB) lives in the TOAST table: the heap of semantic_embeddings looks small and no
    worker was planned, whatever ``max_parallel_maintenance_workers`` said (pgvector issue 397).
    For the build the table says how many (the server's ``max_parallel_maintenance_workers``),
    unless it already says; then that is reset. Measured with ``benchmarks/index_bench.py``,
    100,000 vectors on 2 cores: 90.8 s serially, 53.7 s with one worker beside the leader."""
    statement = search_index_ddl(schema)[name]
    table = sql.SQL("{}.semantic_embeddings").format(sql.Identifier(schema))
    row = conn.execute(
        "SELECT to_regclass(%s), c.reloptions FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = 'semantic_embeddings'",
        (f"{sql.Identifier(schema).as_string(conn)}.{name}", schema)).fetchone()
    if row is None or row[0] is not None:  # no table (nothing to index), or the index is there
        return
    options = row[1] or []
    setting = conn.execute("SHOW max_parallel_maintenance_workers").fetchone()
    workers = int(setting[0]) if setting else 0
    if name != HNSW_INDEX or workers == 0 or any(
            o.startswith("parallel_workers=") for o in options):
        conn.execute(statement)
        return
    conn.execute(sql.SQL("ALTER TABLE {} SET (parallel_workers = {})").format(
        table, sql.Literal(workers)))
    try:
        conn.execute(statement)
    finally:
        conn.execute(sql.SQL("ALTER TABLE {} RESET (parallel_workers)").format(table))


def ensure_search_index(dsn: str, schema: str, memory: str = "2GB") -> None:
    """Build the search indexes after the load, those missing, and refresh the statistics
    of the tables search reads: right after a load, before autovacuum got to them, the
    planner took ``model = ...`` for 10 rows and sorted every vector instead of reading the
    HNSW index (tests/test_search.py)."""

    def run() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("SET maintenance_work_mem = {}").format(sql.Literal(memory)))
            for name in SEARCH_INDEXES:
                build_index(conn, schema, name)
            for table in ("semantic_embeddings", "maintenance_logs", "ai_extracted_data"):
                conn.execute(sql.SQL("ANALYZE {}.{}").format(sql.Identifier(schema),
                                                              sql.Identifier(table)))

    with_pg_retry(run, "building the search indexes")
