"""`backfill search` on a finished run of 2,000 synthetic work orders through the real stack.

What the simulator's embeddings can show: they are a hashed bag of words (simulator
``_vector``), so the vector ranking is lexical (documents sharing the question's words are
near), never semantic. The tests therefore check (1) that the vector ranking is the exact
cosine ranking of the stored vectors, computed here with numpy from a vector asked of the
simulator directly; (2) that hybrid search puts infusion-pump occlusion-alarm work orders
first, against a ground truth read from the data with plain SQL; (3) filters, formats,
refusals and the missing-index path. Ranking by meaning needs a real embedding model.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import yaml
from pgvector.psycopg import register_vector

from backfill.devstack.simulator import read_request_log
from backfill.devstack.stack import LocalStack, local_stack
from backfill.runner import RunRequest, RunResult, execute

SCHEMA = "search"
N = 2000
QUERY = "infusion pump occlusion alarm"
MODEL = "text-embedding-3-small"  # local.yaml's embedding.deployment
# Ground truth, from the catalogue's occlusion-alarm symptoms (backfill/devstack/
# catalogue.yaml, infusion pump): the scrubbed document of an infusion pump names the alarm.
RELEVANT = (
    "SELECT e.work_order_id FROM semantic_embeddings e JOIN maintenance_logs m "
    "USING (work_order_id) WHERE e.model = %s AND lower(m.equipment_type) = 'infusion pump' "
    "AND e.document ~* 'occlusion alarm|alarming (up|down)stream occlusion'"
)


@pytest.fixture(scope="module")
def stack(
    pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("search")
    with local_stack(work, N, latency_ms=5, pg_schema=SCHEMA, partition_rows=1000,
                     dsn=pg_dsn) as s:
        yield s


@pytest.fixture(scope="module")
def run(stack: LocalStack) -> RunResult:
    result = execute(stack.config, RunRequest(config_path=str(stack.config_path)))
    assert result.exit_code == 0, result.summary
    return result


def _conn(stack: LocalStack) -> psycopg.Connection:
    conn = psycopg.connect(stack.dsn, autocommit=True)
    conn.execute(f"SET search_path TO {SCHEMA}, public")
    return conn


def _search(stack: LocalStack, capsys: pytest.CaptureFixture[str], *args: str,
            config: Path | None = None) -> tuple[int, dict[str, Any] | None, str]:
    """(exit status, the JSON answer or None, stderr) of `backfill search ... --format json`."""
    from backfill.cli import main

    code = main(["search", "--config", str(config or stack.config_path), *args,
                 "--format", "json"])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 else None), out.err


def _ids(answer: dict[str, Any] | None) -> list[str]:
    assert answer is not None
    return [h["work_order_id"] for h in answer["hits"]]


def _relevant(stack: LocalStack) -> set[str]:
    with _conn(stack) as conn:
        return {r[0] for r in conn.execute(RELEVANT, (MODEL,))}


def _embeddings(stack: LocalStack) -> tuple[list[str], np.ndarray]:
    with _conn(stack) as conn:
        register_vector(conn)
        rows = conn.execute("SELECT work_order_id, embedding FROM semantic_embeddings "
                            "WHERE model = %s", (MODEL,)).fetchall()
    return [r[0] for r in rows], np.stack([r[1].to_numpy().astype(np.float64) for r in rows])


def _simulator_vector(stack: LocalStack, text: str) -> np.ndarray:
    """The question's vector asked of the simulator directly, not through the search code."""
    from openai import OpenAI

    with OpenAI(base_url=stack.simulator.openai_base_url, api_key="x", max_retries=0) as c:
        answer = c.embeddings.create(model=MODEL, input=[text], dimensions=1536,
                                     encoding_format="float")
    return np.asarray(answer.data[0].embedding, dtype=np.float64)


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_hybrid_puts_occlusion_alarm_work_orders_first(
    stack: LocalStack, run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    relevant = _relevant(stack)
    with _conn(stack) as conn:
        total = conn.execute("SELECT count(*) FROM semantic_embeddings WHERE model = %s",
                             (MODEL,)).fetchone()[0]
    assert 10 <= len(relevant) < total / 20  # a needle: about 1% of the work orders
    code, answer, _ = _search(stack, capsys, QUERY, "--limit", "10")
    assert code == 0
    hybrid = _ids(answer)
    assert len(hybrid) == 10
    precision = sum(h in relevant for h in hybrid) / 10
    # the base rate, what a ranking that knows nothing gets: about 0.01
    assert precision >= 0.9 > 20 * len(relevant) / total, (precision, hybrid)
    assert hybrid[0] in relevant
    # A word that no document holds: no document has every word, the vectors alone rank.
    with _conn(stack) as conn:
        assert conn.execute("SELECT count(*) FROM semantic_embeddings "
                            "WHERE document ~* 'weekend'").fetchone()[0] == 0
    code, answer, _ = _search(stack, capsys, QUERY + " weekend", "--limit", "10")
    assert code == 0 and answer is not None
    assert all(h["text_rank"] is None for h in answer["hits"])
    code, alone, _ = _search(stack, capsys, QUERY + " weekend", "--limit", "10", "--mode",
                             "vector")
    assert _ids(answer) == _ids(alone)
    code, answer, _ = _search(stack, capsys, QUERY, "--limit", "10", "--mode", "vector")
    vector = _ids(answer)
    # the simulator's lexical vectors alone, for the report's comparison (asserted loosely:
    # a bag of words finds alarms of other kinds on the same pump too)
    assert sum(h in relevant for h in vector[:5]) >= 2, vector


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_vector_mode_is_the_exact_cosine_ranking(
    stack: LocalStack, run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    """The HNSW index is approximate: its ten nearest must be (nearly) numpy's ten."""
    ids, matrix = _embeddings(stack)
    query = _simulator_vector(stack, QUERY)
    similarity = matrix @ query / np.linalg.norm(matrix, axis=1) / np.linalg.norm(query)
    exact = [ids[i] for i in np.argsort(-similarity)[:10]]
    code, answer, _ = _search(stack, capsys, QUERY, "--limit", "10", "--mode", "vector")
    assert code == 0 and answer is not None
    found = _ids(answer)
    assert len(set(found) & set(exact)) >= 9, (found, exact)
    by_id = dict(zip(ids, similarity, strict=True))
    for hit in answer["hits"]:
        assert hit["score"] == pytest.approx(by_id[hit["work_order_id"]], abs=1e-5)
    assert [h["score"] for h in answer["hits"]] == sorted(
        (h["score"] for h in answer["hits"]), reverse=True)


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_a_documents_own_text_finds_it_first(
    stack: LocalStack, run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    with _conn(stack) as conn:
        wid, document = conn.execute(
            "SELECT work_order_id, document FROM semantic_embeddings WHERE model = %s "
            "AND document ILIKE '%%defibrillator%%' ORDER BY work_order_id LIMIT 1",
            (MODEL,)).fetchone()
    code, answer, _ = _search(stack, capsys, document, "--limit", "3", "--mode", "vector")
    assert code == 0 and answer is not None
    assert answer["hits"][0]["work_order_id"] == wid
    assert answer["hits"][0]["similarity"] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_the_plain_vector_query_reads_the_hnsw_index(stack: LocalStack, run: RunResult) -> None:
    from psycopg import sql

    from backfill.search import NEAREST, nearest_settings

    query = NEAREST.format(join=sql.SQL(""), conditions=sql.SQL(""))
    with _conn(stack) as conn, conn.transaction():
        register_vector(conn)
        # `--mode vector --limit 10`. (The hybrid mode's 100 candidates on this small table:
        # the planner may as well sort all 1,989 vectors read through the primary key, a
        # plan whose cost does not grow with the limit; on 20,000 rows it reads the index.)
        for statement in nearest_settings(10):
            conn.execute(statement)
        plan = "\n".join(r[0] for r in conn.execute(
            sql.SQL("EXPLAIN ") + query,
            {"q": _simulator_vector(stack, QUERY), "model": MODEL, "n": 10}))
    assert "Index Scan using semantic_embeddings_hnsw" in plan, plan


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_equipment_and_since_filters(
    stack: LocalStack, run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    with _conn(stack) as conn:
        pumps = {r[0] for r in conn.execute(
            "SELECT e.work_order_id FROM semantic_embeddings e JOIN maintenance_logs m "
            "USING (work_order_id) WHERE e.model = %s AND m.equipment_type = 'infusion pump'",
            (MODEL,))}
        since = conn.execute(
            "SELECT percentile_disc(0.8) WITHIN GROUP (ORDER BY created_at) "
            "FROM maintenance_logs").fetchone()[0]
        recent = {r[0] for r in conn.execute(
            "SELECT e.work_order_id FROM semantic_embeddings e JOIN maintenance_logs m "
            "USING (work_order_id) WHERE e.model = %s AND m.created_at >= %s", (MODEL, since))}
    assert 100 < len(pumps) < 1000 and 100 < len(recent) < 1000
    # A limit above the matches: every one of them comes back, so the iterative index scan
    # went on past the first candidates the filter dropped (ef_search is at most 1000).
    code, answer, _ = _search(stack, capsys, "alarm", "--equipment", "INFUSION Pump",
                              "--limit", "1000", "--mode", "vector")
    assert code == 0
    assert set(_ids(answer)) == pumps
    code, answer, _ = _search(stack, capsys, "alarm", "--since", since.isoformat(),
                              "--limit", "1000")
    assert code == 0 and answer is not None
    assert set(_ids(answer)) == recent
    assert all(dt.datetime.fromisoformat(h["created_at"]) >= since for h in answer["hits"])
    code, answer, _ = _search(stack, capsys, QUERY, "--equipment", "infusion%")
    assert code == 0 and answer is not None and answer["hits"] == []  # a name, not a pattern
    code, answer, _ = _search(stack, capsys, QUERY, "--equipment", "syringe pump")
    assert code == 0 and answer is not None
    assert {h["equipment_type"] for h in answer["hits"]} == {"syringe pump"}


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_text_output_names_each_hit_and_no_record_text(
    stack: LocalStack, run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    from backfill.cli import main

    assert main(["search", "--config", str(stack.config_path), "pump battery",
                 "--limit", "50"]) == 0
    out = capsys.readouterr().out
    code, answer, _ = _search(stack, capsys, "pump battery", "--limit", "50")
    ids = _ids(answer)
    assert all(wid in out for wid in ids)
    with _conn(stack) as conn:
        raw = "\n".join(r[0] or "" for r in conn.execute(
            "SELECT concat_ws(' ', problem_description, technician_notes, resolution) "
            "FROM maintenance_logs WHERE work_order_id = ANY(%s)", (ids,)))
    planted = [p for p in stack.data.planted_pii if p in raw]
    assert planted, "no hit holds planted PII: the check below would prove nothing"
    assert [p for p in planted if p in out] == []


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_a_question_holding_an_identifier_is_refused_unsent(
    stack: LocalStack, run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    before = len(read_request_log(stack.request_log))
    for text, kind in (("pump alarm, call back 617-555-0143", "PHONE"),
                       ("patient SSN 219-09-9999 pump", "SSN")):
        code, _, err = _search(stack, capsys, text)
        assert code == 2
        assert kind in err
        assert "617-555-0143" not in err and "219-09-9999" not in err
    assert len(read_request_log(stack.request_log)) == before  # nothing was sent


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_no_embeddings_of_the_model_exit_2_naming_it_and_the_runs(
    stack: LocalStack, run: RunResult, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = yaml.safe_load(stack.config_path.read_text())
    config["embedding"]["deployment"] = "text-embedding-3-large"
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(config))
    code, _, err = _search(stack, capsys, QUERY, config=other)
    assert code == 2
    assert "text-embedding-3-large" in err and run.run_id in err and MODEL in err


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_without_the_indexes_a_warning_and_the_same_hits(
    stack: LocalStack, run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    from backfill.db import SEARCH_INDEXES, ensure_search_index

    code, indexed, err = _search(stack, capsys, QUERY)
    assert code == 0 and "missing" not in err
    with _conn(stack) as conn:
        for name in SEARCH_INDEXES:
            conn.execute(f"DROP INDEX {name}")
    try:
        code, scanned, err = _search(stack, capsys, QUERY)
        assert code == 0
        for name in SEARCH_INDEXES:
            assert f"search index {name} is missing" in err
        assert "CREATE INDEX" in err
        # exact scans instead of the approximate index: the same best hits
        assert _ids(scanned)[:5] == _ids(indexed)[:5]
    finally:
        ensure_search_index(stack.dsn, SCHEMA)
    with _conn(stack) as conn:
        names = {r[0] for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (SCHEMA,))}
    assert set(SEARCH_INDEXES) <= names


@pytest.mark.unit
def test_reciprocal_rank_fusion() -> None:
    from backfill.search import fuse

    fused = dict(fuse([["a", "b", "c"], ["c", "a", "d"]], k=60))
    assert fused == pytest.approx({"a": 1 / 61 + 1 / 62, "c": 1 / 63 + 1 / 61,
                                   "b": 1 / 62, "d": 1 / 63})
    assert [key for key, _ in fuse([["a", "b", "c"], ["c", "a", "d"]])] == ["a", "c", "b", "d"]
    # a tie (b: first in one list; c: first in the other) goes to the best single rank, then id
    assert [key for key, _ in fuse([["b"], ["c"]])] == ["b", "c"]


@pytest.mark.unit
@pytest.mark.parametrize(("text", "limit", "mode", "named"), [
    ("", 10, "hybrid", "empty"),
    ("pump", 0, "hybrid", "--limit 0"),
    ("pump", 1001, "hybrid", "--limit 1001"),
    ("pump", 10, "text", "--mode text"),
    ("pump for MRN 12345678", 10, "hybrid", "MRN"),
    ("mail jdoe@example.org about the pump", 10, "hybrid", "EMAIL"),
])
def test_bad_requests_are_refused_naming_the_flag_or_kind(
    text: str, limit: int, mode: str, named: str
) -> None:
    from backfill.errors import ConfigError
    from backfill.search import SearchRequest, check_request

    with pytest.raises(ConfigError, match=named) as raised:
        check_request(SearchRequest(text, limit, mode=mode))
    for value in ("12345678", "jdoe@example.org"):
        assert value not in str(raised.value)
