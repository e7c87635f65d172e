"""Tests for the synthetic work-order generator (backfill.devstack.synthetic)."""

from __future__ import annotations

import collections
import re
import statistics
import time
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backfill.devstack.synthetic import (
    BAD_ROW_KINDS,
    FREE_TEXT_COLUMNS,
    SCHEMA,
    SIMFAULT_KINDS,
    SyntheticData,
    generate_work_orders,
    write_parquet,
)

pytestmark = pytest.mark.unit

N = 5000
SEED = 42

EXPECTED_SCHEMA = pa.schema(
    [
        ("WORK_ORDER_ID", pa.string()),
        ("CREATED_AT", pa.timestamp("us")),
        ("UPDATED_AT", pa.timestamp("us")),
        ("FACILITY_ID", pa.string()),
        ("DEPARTMENT", pa.string()),
        ("EQUIPMENT_ID", pa.string()),
        ("EQUIPMENT_TYPE", pa.string()),
        ("MANUFACTURER", pa.string()),
        ("MODEL", pa.string()),
        ("WORK_TYPE", pa.string()),
        ("PRIORITY", pa.string()),
        ("STATUS", pa.string()),
        ("PROBLEM_DESCRIPTION", pa.string()),
        ("TECHNICIAN_NOTES", pa.string()),
        ("RESOLUTION", pa.string()),
        ("LABOR_HOURS", pa.float64()),
    ]
)
NON_LATIN = re.compile(
    "[\u0400-\u04ff\u0600-\u06ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af\u2600-\u27bf"
    "\U0001f300-\U0001faff]"
)


@pytest.fixture(scope="module")
def data() -> SyntheticData:
    return generate_work_orders(N, seed=SEED)


@pytest.fixture(scope="module")
def cols(data: SyntheticData) -> dict[str, list]:
    return {name: data.table.column(name).to_pylist() for name in data.table.column_names}


def _text_rows(cols: dict[str, list]) -> list[tuple[str | None, str | None, str | None]]:
    return list(zip(*(cols[c] for c in FREE_TEXT_COLUMNS), strict=True))


_TOKEN = re.compile(r"\w+")


def _rows_containing(needles: list[str], rows: list[tuple]) -> set[int]:
    """Indices of rows with any needle in any cell (token index: O(rows) not O(rows*needles))."""
    index: dict[str, set[int]] = collections.defaultdict(set)
    for i, row in enumerate(rows):
        for cell in row:
            if cell:
                for tok in _TOKEN.findall(cell):
                    index[tok].add(i)
    hits: set[int] = set()
    for needle in needles:
        key = max(_TOKEN.findall(needle), key=len)
        for i in index.get(key, ()):
            if any(cell and needle in cell for cell in rows[i]):
                hits.add(i)
    return hits


def test_schema_and_row_count(data: SyntheticData) -> None:
    assert data.table.schema.equals(EXPECTED_SCHEMA)
    assert SCHEMA.equals(EXPECTED_SCHEMA)
    assert data.table.num_rows == N


@pytest.mark.parametrize("n", [0, 1, 7, 150, 1000])
def test_row_count_exact_for_small_n(n: int) -> None:
    d = generate_work_orders(n, seed=1)
    assert d.table.num_rows == n
    assert d.table.schema.equals(EXPECTED_SCHEMA)


def test_ids_unique_except_duplicates(data: SyntheticData, cols: dict[str, list]) -> None:
    ids = cols["WORK_ORDER_ID"]
    non_null = [i for i in ids if i is not None]
    assert all(re.fullmatch(r"WO-\d{8}", i) for i in non_null)
    counts = collections.Counter(non_null)
    dup_ids = {i for i, c in counts.items() if c > 1}
    assert dup_ids == set(data.bad_ids["duplicate_id"])
    assert all(counts[i] == 2 for i in dup_ids)
    # the non-bad rows are numbered consecutively from first_id
    nums = sorted(int(i[3:]) for i in counts)
    assert nums == list(range(1, len(nums) + 1))


def test_duplicate_rows_have_different_text(data: SyntheticData, cols: dict[str, list]) -> None:
    rows = _text_rows(cols)
    for dup in data.bad_ids["duplicate_id"]:
        texts = [rows[i] for i, x in enumerate(cols["WORK_ORDER_ID"]) if x == dup]
        assert len(texts) == 2 and texts[0] != texts[1]


def test_bad_rows_listed(data: SyntheticData, cols: dict[str, list]) -> None:
    assert set(data.bad_ids) == set(BAD_ROW_KINDS)
    for kind in BAD_ROW_KINDS:
        assert len(data.bad_ids[kind]) >= 1, kind
        assert len(data.bad_ids[kind]) <= max(3, N // 500), kind  # "a handful"

    null_idx = [i for i, x in enumerate(cols["WORK_ORDER_ID"]) if x is None]
    assert sorted(cols["CREATED_AT"][i].isoformat() for i in null_idx) == sorted(
        data.bad_ids["null_id"]
    )

    by_id = {x: i for i, x in enumerate(cols["WORK_ORDER_ID"]) if x is not None}
    for wo in data.bad_ids["empty_text"]:
        i = by_id[wo]
        assert all(cols[c][i] in (None, "") for c in FREE_TEXT_COLUMNS)

    problems = cols["PROBLEM_DESCRIPTION"]
    for kind in SIMFAULT_KINDS:
        marker = f"SIMFAULT:{kind}"
        listed = data.bad_ids[f"simfault_{kind}"]
        for wo in listed:
            assert marker in problems[by_id[wo]]
        # the marker appears nowhere else ("refusal" is not a prefix of another kind)
        assert sum(1 for p in problems if p and marker in p) == len(listed)


def test_min_one_bad_row_per_kind_at_1000() -> None:
    d = generate_work_orders(1000, seed=3)
    assert all(len(d.bad_ids[k]) >= 1 for k in BAD_ROW_KINDS)
    assert d.table.num_rows == 1000


def test_bad_rows_false() -> None:
    d = generate_work_orders(2000, seed=5, bad_rows=False)
    ids = d.table.column("WORK_ORDER_ID").to_pylist()
    assert None not in ids and len(set(ids)) == len(ids)
    assert not any(d.bad_ids.values())
    problems = d.table.column("PROBLEM_DESCRIPTION").to_pylist()
    assert not any(p and "SIMFAULT:" in p for p in problems)


def test_deterministic_for_seed(data: SyntheticData) -> None:
    again = generate_work_orders(N, seed=SEED)
    assert again.table.equals(data.table)
    assert again.planted_pii == data.planted_pii
    assert again.bad_ids == data.bad_ids
    other = generate_work_orders(N, seed=SEED + 1)
    assert not other.table.equals(data.table)


def test_first_id_and_time_window() -> None:
    start, end = datetime(2024, 3, 1), datetime(2024, 4, 1)
    d = generate_work_orders(500, seed=9, start=start, end=end, bad_rows=False, first_id=1000)
    ids = d.table.column("WORK_ORDER_ID").to_pylist()
    assert ids[0] == "WO-00001000" and ids[-1] == "WO-00001499"
    created = d.table.column("CREATED_AT").to_pylist()
    assert all(start <= c < end for c in created)
    assert created == sorted(created)


def test_timestamps(cols: dict[str, list]) -> None:
    created, updated = cols["CREATED_AT"], cols["UPDATED_AT"]
    assert None not in created
    assert all(datetime(2019, 1, 1) <= c < datetime(2025, 1, 1) for c in created)
    assert all(u >= c for c, u in zip(created, updated, strict=True) if u is not None)
    assert 0.03 < updated.count(None) / len(updated) < 0.3


def test_some_days_much_busier() -> None:
    d = generate_work_orders(20000, seed=2, start=datetime(2023, 1, 1), end=datetime(2024, 1, 1))
    per_day = collections.Counter(c.date() for c in d.table.column("CREATED_AT").to_pylist())
    median = statistics.median(per_day.values())
    busy = [v for v in per_day.values() if v >= 4 * median]
    assert 1 <= len(busy) <= 10


def test_null_shares(cols: dict[str, list]) -> None:
    assert None not in cols["CREATED_AT"]
    optional = [c for c in EXPECTED_SCHEMA.names if c not in ("WORK_ORDER_ID", "CREATED_AT")]
    shares = {c: cols[c].count(None) / N for c in optional}
    assert all(s > 0 for s in shares.values()), shares
    assert 0.06 < statistics.mean(shares.values()) < 0.15, shares


def test_categorical_domains(cols: dict[str, list]) -> None:
    domains = {
        "WORK_TYPE": {"corrective", "preventive", "recall", "inspection", "installation",
                      "calibration"},
        "PRIORITY": {"low", "medium", "high", "critical"},
        "STATUS": {"open", "in_progress", "completed", "cancelled", "deferred"},
    }
    for col, allowed in domains.items():
        assert set(cols[col]) - {None} == allowed, col
    types = set(cols["EQUIPMENT_TYPE"]) - {None}
    assert {"infusion pump", "ventilator", "MRI scanner", "CT scanner", "patient monitor",
            "defibrillator", "ultrasound", "X-ray", "dialysis machine", "anesthesia machine",
            "ECG", "autoclave/sterilizer", "surgical light", "hospital bed"} <= types
    assert all(re.fullmatch(r"FAC-\d{3}", f) for f in cols["FACILITY_ID"] if f)
    hours = [h for h in cols["LABOR_HOURS"] if h is not None]
    assert min(hours) >= 0 and max(hours) < 200


def test_planted_pii_is_truthful_and_about_a_quarter(
    data: SyntheticData, cols: dict[str, list]
) -> None:
    planted = data.planted_pii
    assert len(planted) == len(set(planted))
    cells = [x for c in FREE_TEXT_COLUMNS for x in cols[c] if x]
    blob = "\n".join(cells)
    missing = [p for p in planted if p not in blob]
    assert not missing, missing[:10]
    with_pii = len(_rows_containing(planted, _text_rows(cols)))
    assert 0.18 < with_pii / N < 0.32
    # MRN digit strings are listed on their own (7-10 digits)
    assert any(re.fullmatch(r"\d{7,10}", p) for p in planted)
    # every PII kind is represented
    assert any(re.fullmatch(r"\d{3}-\d{2}-\d{4}", p) for p in planted)  # SSN
    assert any("@" in p for p in planted)  # e-mail
    assert any(re.search(r"\(\d{3}\) \d{3}-\d{4}|\+1 \d{3}", p) for p in planted)  # phone
    assert any("'" in p or "-" in p for p in planted if p[0].isupper() and " " not in p)


def test_dirty_text_present(cols: dict[str, list]) -> None:
    rows = _text_rows(cols)
    notes = [n for n in cols["TECHNICIAN_NOTES"] if n]
    long_rows = sum(1 for n in notes if len(n) > 20_000)
    assert 1 <= long_rows <= N * 0.006
    nul_rows = sum(1 for r in rows if any(x and "\x00" in x for x in r))
    assert 1 <= nul_rows <= N * 0.004
    non_latin = sum(1 for r in rows if any(x and NON_LATIN.search(x) for x in r))
    assert N * 0.004 <= non_latin <= N * 0.02
    assert any(x == "" for c in FREE_TEXT_COLUMNS for x in cols[c])


def test_text_reads_like_tickets(cols: dict[str, list]) -> None:
    blob = "\n".join(x for c in FREE_TEXT_COLUMNS for x in cols[c] if x)
    for phrase in ("P/N ", "occlusion", "battery", "firmware", "Replaced", "PM", "calibrat",
                   "Electrical safety", "Root cause", "Follow-up", "SN "):
        assert phrase in blob, phrase
    assert re.search(r"\bE-\d{3}\b", blob)
    # varied: many distinct problem descriptions, lengths spread out
    problems = [p for p in cols["PROBLEM_DESCRIPTION"] if p]
    assert len(set(problems)) > 0.4 * len(problems)
    lengths = [len(n) for n in cols["TECHNICIAN_NOTES"] if n and len(n) < 20_000]
    assert statistics.pstdev(lengths) > 50


def test_write_parquet_roundtrip(tmp_path, data: SyntheticData) -> None:
    path = write_parquet(data, tmp_path / "sub" / "wo.parquet")
    assert pq.read_table(path).equals(data.table)


def test_generation_speed() -> None:
    t0 = time.perf_counter()
    d = generate_work_orders(50_000, seed=7)
    elapsed = time.perf_counter() - t0
    assert d.table.num_rows == 50_000
    assert elapsed < 6.0  # ~1 s on a dev laptop; 200k rows take ~4 s
