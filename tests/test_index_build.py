"""The search index's build uses the parallel workers the server allows (issue 14: the index
at 1M). Postgres plans an index build's workers from the heap's pages, and 6 KB vectors live
in the TOAST table, so without the table's ``parallel_workers`` no worker was planned."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from backfill.db import HNSW_INDEX, SEARCH_INDEXES, build_index, ensure_schema
from backfill.devstack.enriched import enriched_rows
from backfill.progress import create_run
from backfill.sink import WriteTarget, write_block
from backfill.source import Partition

pytestmark = pytest.mark.integration

SCHEMA = "indexbuild"
DIM = 1536
HNSW = HNSW_INDEX


@pytest.fixture(scope="module")
def loaded(pg_dsn: str) -> str:
    ensure_schema(pg_dsn, SCHEMA, DIM)
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        whole = Partition(0, dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1), 400)
        create_run(conn, "bench", {}, [whole])
    write_block(enriched_rows(400, DIM), WriteTarget(
        pg_dsn, SCHEMA, "bench", "gpt-4o-mini", "text-embedding-3-small"))
    return pg_dsn


def _build(dsn: str, workers: int, reloptions: str | None = None) -> tuple[list[str], object]:
    """Drop and build the HNSW index with DEBUG1 messages on; the messages and the table's
    reloptions after the build."""
    messages: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.add_notice_handler(lambda d: messages.append(d.message_primary or ""))
        conn.execute(f"DROP INDEX IF EXISTS {SCHEMA}.{HNSW}")
        if reloptions:
            conn.execute(f"ALTER TABLE {SCHEMA}.semantic_embeddings SET ({reloptions})")
        conn.execute(f"SET max_parallel_maintenance_workers = {workers}")
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SET client_min_messages = debug1")
        build_index(conn, SCHEMA, HNSW)
        conn.execute("SET client_min_messages = notice")
        after = conn.execute(
            "SELECT c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = 'semantic_embeddings'", (SCHEMA,)).fetchone()
        assert conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.{HNSW}",)).fetchone()[0]
    return messages, after[0] if after else None


def test_the_hnsw_build_plans_the_servers_workers_and_leaves_the_table_as_it_was(
        loaded: str) -> None:
    # what Postgres alone plans for this table: no worker (the vectors are in TOAST)
    with psycopg.connect(loaded, autocommit=True) as conn:
        conn.execute(f"DROP INDEX IF EXISTS {SCHEMA}.{HNSW}")
        conn.execute("SET max_parallel_maintenance_workers = 1")
        conn.execute("SET client_min_messages = debug1")
        plain: list[str] = []
        conn.add_notice_handler(lambda d: plain.append(d.message_primary or ""))
        conn.execute(f"CREATE INDEX {HNSW} ON {SCHEMA}.semantic_embeddings "
                     f"{SEARCH_INDEXES[HNSW]}")
    assert not any("parallel workers" in m for m in plain), plain

    messages, after = _build(loaded, workers=1)
    assert any("using 1 parallel workers" in m for m in messages), messages
    assert after is None  # reset after the build

    messages, after = _build(loaded, workers=0)
    assert not any("parallel workers" in m for m in messages), messages


def test_a_table_that_says_its_workers_keeps_them(loaded: str) -> None:
    messages, after = _build(loaded, workers=1, reloptions="parallel_workers=1")
    assert after == ["parallel_workers=1"]
    with psycopg.connect(loaded, autocommit=True) as conn:
        conn.execute(f"ALTER TABLE {SCHEMA}.semantic_embeddings RESET (parallel_workers)")


def test_the_vectors_to_index_are_counted_only_while_the_index_is_missing(loaded: str) -> None:
    from backfill.db import hnsw_build_memory, memory_bytes, unindexed_vectors

    with psycopg.connect(loaded, autocommit=True) as conn:
        conn.execute(f"DROP INDEX IF EXISTS {SCHEMA}.{HNSW}")
        rows = conn.execute(f"SELECT count(*) FROM {SCHEMA}.semantic_embeddings").fetchone()[0]
    assert unindexed_vectors(loaded, SCHEMA) == (rows, DIM)
    assert unindexed_vectors(loaded, "no_such_schema") is None
    with psycopg.connect(loaded, autocommit=True) as conn:
        build_index(conn, SCHEMA, HNSW)
    assert unindexed_vectors(loaded, SCHEMA) is None
    # a million 1536-dimension vectors do not fit the default 2GB, and fit 8GB
    assert hnsw_build_memory(1_000_000, 1536) > memory_bytes("2GB")
    assert hnsw_build_memory(1_000_000, 1536) < memory_bytes("8GB")
    assert memory_bytes("512MB") == 512 * 2**20 and memory_bytes("64 kB") == 64 * 2**10
