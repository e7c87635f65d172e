"""The table declarations: the Extraction model, the DDL and the sink's COPY lists agree,
and the DDL creates (or brings up to date) what is declared."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

from backfill import schema as S
from backfill import sink
from backfill import tables as T
from backfill.db import connect, ddl, ensure_schema
from backfill.devstack.enriched import enriched_rows

DIM = 8

# The columns existing databases have, in their order (CONTRACT.md and DESIGN): a
# declaration may add columns, never drop, rename or reorder these.
EXISTING = {
    "maintenance_logs": [
        "work_order_id", "created_at", "updated_at", "facility_id", "department",
        "equipment_id", "equipment_type", "manufacturer", "model", "work_type", "priority",
        "status", "problem_description", "technician_notes", "resolution", "labor_hours",
        "run_id", "partition_id", "loaded_at",
    ],
    "ai_extracted_data": [
        "work_order_id", "equipment_category", "failure_mode", "root_cause", "actions_taken",
        "parts_replaced", "severity", "patient_safety_impact", "follow_up_needed", "summary",
        "confidence", "extraction", "warnings", "input_truncated", "model", "prompt_version",
        "input_tokens", "output_tokens", "run_id", "extracted_at",
    ],
    "semantic_embeddings": [
        "work_order_id", "model", "embedding", "document", "run_id", "embedded_at",
    ],
    "failed_records": [
        "run_id", "work_order_id", "stage", "error_class", "error_message", "attempts",
        "partition_id", "first_seen_at", "last_seen_at", "resolved_at", "last_block",
    ],
    "etl_metadata": [
        "run_id", "kind", "item", "state", "partition_id", "rows_expected", "rows_ok",
        "rows_failed", "info", "created_at", "updated_at",
    ],
    "answer_journal": [
        "answer_key", "kind", "model", "answer", "vector", "input_tokens", "output_tokens",
        "created_at",
    ],
    "requests_in_flight": ["answer_key", "kind", "model", "owner", "sent_at"],
}


def _is_subsequence(sub: list[str], seq: list[str]) -> bool:
    it = iter(seq)
    return all(name in it for name in sub)


@pytest.mark.unit
def test_existing_columns_keep_their_names_and_order() -> None:
    assert [t.name for t in T.TABLES] == list(EXISTING)
    for table in T.TABLES:
        assert _is_subsequence(EXISTING[table.name], table.names), table.name


@pytest.mark.unit
def test_every_extraction_field_is_a_column_of_its_type() -> None:
    expected = {"text", "jsonb", "boolean", "real", "integer"}
    for name, info in S.Extraction.model_fields.items():
        column = T.AI_EXTRACTED_DATA.column(name)
        assert column.type in expected, name
        optional = type(None) in getattr(info.annotation, "__args__", ())
        assert column.not_null is not optional, name
        assert name in sink.EXTRACT_COLUMNS, name


@pytest.mark.unit
def test_field_types_map_to_postgres() -> None:
    f = T._from_annotation
    assert f("a", S.Severity) == ("text", False)
    assert f("a", str | None) == ("text", True)
    assert f("a", list[str]) == ("jsonb", False)
    assert f("a", bool) == ("boolean", False)
    assert f("a", float) == ("real", False)
    assert f("a", int | None) == ("integer", True)
    with pytest.raises(TypeError, match="Extraction.a"):
        f("a", dict[str, int])


@pytest.mark.unit
def test_source_columns_follow_the_source_schema() -> None:
    source = T.MAINTENANCE_LOGS.columns[: len(S.SOURCE_SCHEMA)]
    assert [c.name for c in source] == [n.lower() for n in S.SOURCE_SCHEMA.names]
    assert [c.type for c in source] == [
        "text", "timestamp", "timestamp", *["text"] * 12, "double precision"]
    assert [c.name for c in source if c.not_null] == ["work_order_id", "created_at"]


def _ddl_columns() -> dict[str, dict[str, str]]:
    """Column -> Postgres type of each CREATE TABLE that db.ddl emits, read from its SQL."""
    out: dict[str, dict[str, str]] = {}
    for stmt in ddl("s", DIM):
        text = stmt.as_string(None)
        m = re.match(r'CREATE TABLE IF NOT EXISTS "s"\."(\w+)" \((.*), PRIMARY KEY', text)
        if m:
            pairs = re.findall(r'"(\w+)" (double precision|vector\(\d+\)|\w+)', m.group(2))
            out[m.group(1)] = dict(pairs)
    return out


class _Cursor:
    """Stands in for a cursor where the sink only executes statements."""

    def execute(self, *args: Any) -> None:
        pass


@pytest.mark.unit
@pytest.mark.parametrize("direct", [True, False])
def test_copy_lists_agree_with_the_ddl(monkeypatch: pytest.MonkeyPatch, direct: bool) -> None:
    """Every COPY the sink makes names columns of the DDL, with their binary types, rows as
    wide as the column list, and every NOT NULL column without a default."""
    copies: list[tuple[str, list[str], list[str], list[tuple[Any, ...]]]] = []

    def copy_rows(cur: Any, table: str, columns: list[str], types: list[str], rows: Any) -> None:
        copies.append((table, columns, types, list(rows)))

    monkeypatch.setattr(sink, "_copy_rows", copy_rows)
    block = enriched_rows(3, DIM)
    target = sink.WriteTarget("", "s", "run", "llm", "emb")
    cur: Any = _Cursor()
    sink._write_logs(cur, block, target.run_id, direct=direct)
    sink._write_enriched(cur, block, target, direct=direct)

    staging = {"stage_logs": "maintenance_logs", "stage_extract": "ai_extracted_data",
               "stage_embed": "semantic_embeddings"}
    created = _ddl_columns()
    assert sorted(staging.get(c[0], c[0]) for c in copies) == sorted(staging.values())
    for table, columns, types, rows in copies:
        name = staging.get(table, table)
        declared = T.TABLES[[t.name for t in T.TABLES].index(name)]
        ddl_types = created[name]
        assert set(columns) <= set(ddl_types), name
        assert types == [
            T.COPY_TYPES[re.sub(r"\(\d+\)", "", ddl_types[c])] for c in columns], name
        required = {c.name for c in declared.columns if c.not_null and c.default is None}
        assert required <= set(columns), name
        assert rows and all(len(r) == len(columns) for r in rows), name

    extract = next(c for c in copies if staging.get(c[0], c[0]) == "ai_extracted_data")
    row = dict(zip(extract[1], extract[3][0], strict=True))
    for field in S.Extraction.model_fields:
        assert row[field] == row["extraction"][field], field


def _catalog(conn: psycopg.Connection[Any], schema: str, table: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT column_name, udt_name, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "ORDER BY ordinal_position",
        (schema, table),
    ).fetchall()


@pytest.mark.integration
def test_ddl_creates_the_declaration_and_adds_missing_columns(pg_dsn: str) -> None:
    schema = "tablestest"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    ensure_schema(pg_dsn, schema, DIM)
    ensure_schema(pg_dsn, schema, DIM)  # a second run changes nothing and does not fail

    with connect(pg_dsn, schema) as conn:
        for table in T.TABLES:
            rows = _catalog(conn, schema, table.name)
            assert [r[0] for r in rows] == table.names
            for (name, udt, nullable, default), col in zip(rows, table.columns, strict=True):
                assert udt == col.copy_type, name
                assert (nullable == "NO") == col.not_null, name
                # Postgres stores the default with its cast: '[]' becomes '[]'::jsonb.
                assert (default or "").startswith(col.default or ""), name
                assert (default is None) == (col.default is None), name
            indexes = {r[0] for r in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
                (schema, table.name))}
            assert indexes == {f"{table.name}_pkey", *(i.name for i in table.indexes)}
            key = conn.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'p' "
                "AND conrelid = %s::regclass", (f"{schema}.{table.name}",)).fetchone()
            assert key == (f"PRIMARY KEY ({', '.join(table.key)})",)

        # A table made by an older version, holding a row, lacks three columns: one with a
        # default, one NOT NULL without one, one an index needs.
        conn.execute(
            "INSERT INTO ai_extracted_data (work_order_id, equipment_category, failure_mode, "
            "actions_taken, parts_replaced, severity, patient_safety_impact, follow_up_needed, "
            "summary, confidence, extraction, model, prompt_version, run_id) VALUES "
            "('1', 'other', 'other', '[]', '[]', 'low', 'none', false, 's', 0.5, '{}', 'm', "
            "'v', 'r')")
        conn.execute("ALTER TABLE ai_extracted_data DROP COLUMN warnings, DROP COLUMN summary, "
                     "DROP COLUMN failure_mode")
        conn.commit()

    ensure_schema(pg_dsn, schema, DIM)

    with connect(pg_dsn, schema) as conn:
        rows = {r[0]: r for r in _catalog(conn, schema, "ai_extracted_data")}
        assert set(rows) == set(T.AI_EXTRACTED_DATA.names)
        assert rows["warnings"][1:3] == ("jsonb", "NO")
        # Its old rows have no value: added nullable rather than refused.
        assert rows["summary"][1:3] == ("text", "YES")
        assert rows["failure_mode"][1:3] == ("text", "YES")
        assert conn.execute(
            "SELECT warnings, summary FROM ai_extracted_data WHERE work_order_id = '1'"
        ).fetchone() == ([], None)
        assert conn.execute(
            "SELECT 1 FROM pg_indexes WHERE schemaname = %s AND indexname = %s",
            (schema, "ai_extracted_failure_idx")).fetchone() == (1,)
