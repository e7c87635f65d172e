"""Planner arithmetic and Arrow normalisation (unit); planning against fakesnow (integration)."""

from __future__ import annotations

import datetime as dt
import pickle

import pyarrow as pa
import pytest

from backfill import schema as S
from backfill.errors import ConfigError, FatalError, RecordError, TransientError
from backfill.source import Partition, normalize, pack_buckets

D = dt.datetime


@pytest.mark.unit
def test_partitions_tile_the_range_without_gaps() -> None:
    buckets = [(D(2020, 1, d), n) for d, n in [(1, 40), (2, 30), (3, 50), (5, 10), (6, 90)]]
    parts = pack_buckets(buckets, D(2020, 1, 1), D(2020, 1, 10), target_rows=70)
    assert parts[0].lo == D(2020, 1, 1) and parts[-1].hi == D(2020, 1, 10)
    for a, b in zip(parts, parts[1:], strict=False):
        assert a.hi == b.lo
    assert sum(p.rows for p in parts) == 220
    assert [p.index for p in parts] == list(range(len(parts)))
    assert all(p.rows <= 90 for p in parts)


@pytest.mark.unit
def test_empty_range_is_one_empty_partition() -> None:
    parts = pack_buckets([], D(2020, 1, 1), D(2020, 2, 1), 100)
    assert parts == [Partition(0, D(2020, 1, 1), D(2020, 2, 1), 0)]


@pytest.mark.unit
def test_partition_json_round_trip() -> None:
    p = Partition(3, D(2020, 1, 1, 5), D(2020, 1, 2), 42)
    assert Partition.from_json(p.to_json()) == p


@pytest.mark.unit
def test_normalize_casts_numeric_ids_and_drops_nul() -> None:
    n = 2
    cols = {name: pa.array(["x\x00y", None]) for name in S.CANONICAL_COLUMNS}
    cols[S.ID] = pa.array([123, 4560], pa.decimal128(38, 0))
    cols[S.CREATED_AT] = pa.array([D(2020, 1, 1), D(2020, 1, 2)], pa.timestamp("ns"))
    cols["UPDATED_AT"] = pa.array([None, None], pa.timestamp("ns"))
    cols["LABOR_HOURS"] = pa.array([1.5, None])
    out = normalize(pa.table(cols), partition=7)
    assert out.column(S.ID).to_pylist() == ["123", "4560"]
    assert out.column("PROBLEM_DESCRIPTION").to_pylist() == ["xy", None]
    assert out.column(S.PARTITION).to_pylist() == [7] * n
    assert out.schema.field(S.CREATED_AT).type == pa.timestamp("us")


@pytest.mark.unit
@pytest.mark.parametrize(
    "exc",
    [
        ConfigError("snowflake.table: bad"),
        FatalError("down", "PostgreSQL", "backfill run --run-id x"),
        TransientError("429"),
        RecordError("extract", "Refusal", "no"),
    ],
)
def test_errors_survive_pickling(exc: Exception) -> None:
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc) and str(back) == str(exc)


@pytest.mark.unit
def test_unparseable_text_timestamps_become_null_not_a_failed_block() -> None:
    cols = {name: pa.array(["x", "y"]) for name in S.CANONICAL_COLUMNS}
    cols[S.CREATED_AT] = pa.array(["2021-03-01T12:00:00", "last tuesday"])
    cols["UPDATED_AT"] = pa.array([None, None], pa.timestamp("us"))
    cols["LABOR_HOURS"] = pa.array([1.0, 2.0])
    out = normalize(pa.table(cols), partition=0)
    assert out.column(S.CREATED_AT).to_pylist() == [D(2021, 3, 1, 12), None]


@pytest.mark.unit
def test_snowflake_errors_keep_codes_and_drop_quoted_values() -> None:
    import snowflake.connector.errors as sf

    from backfill.source import snowflake_error_text

    value = sf.ProgrammingError(msg="Numeric value 'Jane Roe 555-0100' is not recognized",
                                errno=100038, sqlstate="22018")
    text = snowflake_error_text(value)
    assert "100038" in text and "22018" in text and "Jane" not in text, text
    missing = sf.ProgrammingError(msg="Object 'WORK_ORDERS' does not exist or not authorized.",
                                  errno=2003, sqlstate="42S02")
    assert "WORK_ORDERS" in snowflake_error_text(missing)


@pytest.mark.unit
def test_null_timestamp_partition_selects_null_rows_and_round_trips() -> None:
    p = Partition(5, D(2021, 1, 1), D(2021, 1, 1), 7, null_timestamps=True)
    assert p.where("TS") == ("TS IS NULL", ())
    assert Partition.from_json(p.to_json()) == p
    q = Partition(0, D(2020, 1, 1), D(2020, 2, 1), 3)
    assert q.where("TS") == ("TS >= %s AND TS < %s", (D(2020, 1, 1), D(2020, 2, 1)))
