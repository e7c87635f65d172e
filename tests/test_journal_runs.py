"""The answer journal through the real job: a second run (new run id) over a finished range
pays for nothing, and a changed model in the key does pay. Counted from the simulator's
request log and the tables, on 1,000 records."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pyarrow as pa
import pytest

from backfill import schema as S
from backfill.devstack.simulator import read_request_log
from backfill.devstack.stack import LocalStack, local_stack
from backfill.embed import Embedder
from backfill.extract import Extractor
from backfill.journal import JournalTarget
from backfill.preflight import SAMPLE_WORK_ORDER
from backfill.report import report_from
from backfill.runner import RunRequest, RunResult, execute

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # two whole runs (~75 s)
SCHEMA = "journalrun"
N = 500
EXTRACTIONS = ("SELECT work_order_id, extraction, warnings, model, prompt_version, input_tokens, "
               "output_tokens, run_id FROM ai_extracted_data ORDER BY 1")
EMBEDDINGS = ("SELECT work_order_id, model, embedding::text, document, run_id "
              "FROM semantic_embeddings ORDER BY 1")
FAILURES = ("SELECT work_order_id, stage, error_class FROM failed_records WHERE run_id = %s "
            "AND resolved_at IS NULL ORDER BY 1")


@pytest.fixture(scope="module")
def stack(pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("journalrun")
    # The synthetic data's bad rows are ~2% of so few records: over the default 1%.
    with local_stack(work, N, latency_ms=5, pg_schema=SCHEMA, partition_rows=N, dsn=pg_dsn,
                     seed=7, overrides={"pipeline": {"max_failed_fraction": 0.1}}) as s:
        yield s


def _query(stack: LocalStack, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        return conn.execute(sql, args).fetchall()


def _without_run(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [r[:-1] for r in rows]


@pytest.fixture(scope="module")
def two_runs(stack: LocalStack) -> dict[str, Any]:
    first = execute(stack.config, RunRequest(run_id="journal-first"))
    assert first.exit_code == 0, first.summary
    before = {q: _query(stack, q) for q in (EXTRACTIONS, EMBEDDINGS)}
    log_at = len(read_request_log(stack.request_log))
    second = execute(stack.config, RunRequest(run_id="journal-second"))
    return {"first": first, "second": second, "before": before,
            "requests": read_request_log(stack.request_log)[log_at:]}


def _is_preflight(request: dict[str, Any]) -> bool:
    return request["texts"][-1:] == [SAMPLE_WORK_ORDER]


def test_a_new_run_over_a_finished_range_sends_no_answered_record_again(
    stack: LocalStack, two_runs: dict[str, Any]
) -> None:
    second: RunResult = two_runs["second"]
    assert second.exit_code == 0, second.summary
    requests = [r for r in two_runs["requests"] if not _is_preflight(r)]
    answered = {r[3] for r in two_runs["before"][EMBEDDINGS]}
    # Nothing answered in the first run is sent again, to either API...
    assert [r for r in requests if set(r["texts"]) & answered] == []
    # ... only what failed there: failed answers (a 400, an invalid answer twice) are not
    # journaled. At most one first attempt per record that failed at the API stages.
    failed_api = [r for r in _query(stack, FAILURES, "journal-first")
                  if r[1] in ("extract", "embed")]
    firsts = [r for r in requests if r["kind"] == "chat" and len(r["texts"]) == 2]
    assert len(firsts) <= len(failed_api)
    assert sum(1 for r in requests if r["kind"] == "embeddings") <= len(failed_api)
    print(f"second run: {len(requests)} requests besides the preflight, for "
          f"{len(failed_api)} records that failed at the API stages in the first run")
    assert second.rows_ok > 0.9 * N


def test_the_second_runs_tables_hold_the_same_answers(
    stack: LocalStack, two_runs: dict[str, Any]
) -> None:
    for query, rows in two_runs["before"].items():
        after = _query(stack, query)
        assert _without_run(after) == _without_run(rows), query
    runs = {r[-1] for r in _query(stack, EXTRACTIONS)} | {r[-1] for r in _query(stack, EMBEDDINGS)}
    assert runs == {"journal-second"}
    assert (_query(stack, FAILURES, "journal-second") == _query(stack, FAILURES, "journal-first")
            != [])


def test_the_report_counts_the_answers_reused(stack: LocalStack,
                                              two_runs: dict[str, Any]) -> None:
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        report = report_from(conn, "journal-second", stack.config)
    reused = {u["deployment"]: u["reused"] for u in report["usage"]}
    # One reuse per record that passed each stage: the rows each table holds for the run,
    # and for the extraction also the records that failed only at the embedding (a record
    # that failed at a stage was asked again, not reused).
    extracted, embedded = (
        _query(stack, f"SELECT count(*) FROM {t} WHERE run_id = %s", "journal-second")[0][0]
        for t in ("ai_extracted_data", "semantic_embeddings"))
    failed_embed = sum(1 for r in _query(stack, FAILURES, "journal-second") if r[1] == "embed")
    assert reused == {stack.config.llm.deployment: extracted + failed_embed,
                      stack.config.embedding.deployment: embedded}
    assert extracted > 0.9 * N
    assert two_runs["second"].summary["answers_reused"] == extracted + failed_embed + embedded


def _prepared(docs: list[str]) -> pa.Table:
    n = len(docs)
    return pa.table({
        S.ID: pa.array([f"OTHER-{i}" for i in range(n)], pa.string()),  # ids play no part
        S.STATUS: pa.array([S.OK] * n, pa.string()),
        S.STAGE: pa.array([None] * n, pa.string()),
        S.ERROR_CLASS: pa.array([None] * n, pa.string()),
        S.ERROR_MESSAGE: pa.array([None] * n, pa.string()),
        S.DOCUMENT: pa.array(docs, pa.string()),
    })


def _chat_documents(stack: LocalStack, log_at: int) -> list[str]:
    return [r["texts"][-1] for r in read_request_log(stack.request_log)[log_at:]
            if r["kind"] == "chat"]


def test_a_changed_model_or_fresh_asks_again_and_the_same_key_does_not(
    stack: LocalStack, two_runs: dict[str, Any]
) -> None:
    rows = _query(stack, "SELECT DISTINCT ON (document) document, extraction FROM "
                  "semantic_embeddings JOIN ai_extracted_data USING (work_order_id) "
                  "ORDER BY document LIMIT 20")
    docs = [r[0] for r in rows]
    target = JournalTarget(stack.dsn, SCHEMA)
    llm = stack.config.llm

    def extract(cfg: Any, journal: JournalTarget) -> tuple[pa.Table, list[str]]:
        log_at = len(read_request_log(stack.request_log))
        out = asyncio.run(Extractor(cfg, journal=journal)(_prepared(docs)))
        return out, _chat_documents(stack, log_at)

    same, sent = extract(llm, target)
    assert sent == []
    assert [json.loads(x)["extraction"] for x in same.column(S.EXTRACTION).to_pylist()] == [
        r[1] for r in rows]
    other, sent = extract(llm.model_copy(update={"deployment": "gpt-4o-mini-2"}), target)
    assert sorted(sent) == sorted(docs)
    assert other.column(S.STATUS).to_pylist() == [S.OK] * len(docs)
    # the other model's answers are journaled under their own key: asked once only
    _, sent = extract(llm.model_copy(update={"deployment": "gpt-4o-mini-2"}), target)
    assert sent == []
    _, sent = extract(llm, JournalTarget(stack.dsn, SCHEMA, fresh=True))
    assert sorted(sent) == sorted(docs)


def test_a_document_twice_in_a_batch_is_asked_once_and_a_race_is_counted_paid_twice(
    stack: LocalStack, two_runs: dict[str, Any]
) -> None:
    """Templated work orders: the same document in one batch is sent once. Two actors that
    ask for the same new document at once both pay, and the one whose answer the journal
    already held counts it as paid twice, with its tokens (the simulator's own count)."""
    llm = stack.config.llm.model_copy(update={"deployment": "gpt-4o-mini-race"})
    target = JournalTarget(stack.dsn, SCHEMA)
    doc = "Equipment: infusion pump; Work type: preventive\nProblem: -\nTechnician notes: PM done."
    log_at = len(read_request_log(stack.request_log))
    one = Extractor(llm, journal=target)
    out = asyncio.run(one(_prepared([doc] * 3)))
    assert out.column(S.STATUS).to_pylist() == [S.OK] * 3
    assert _chat_documents(stack, log_at) == [doc]
    assert one.api.usage.take()["reused"] == 2  # (handed to no ledger: still counted here)

    race = "Equipment: defibrillator; Work type: preventive\nProblem: -\nNotes: PM done."
    a, b = Extractor(llm, journal=target), Extractor(llm, journal=target)

    async def both() -> None:
        await asyncio.gather(a(_prepared([race])), b(_prepared([race])))

    log_at = len(read_request_log(stack.request_log))
    asyncio.run(both())
    sent = [r for r in read_request_log(stack.request_log)[log_at:] if r["kind"] == "chat"]
    assert [r["texts"][-1] for r in sent] == [race, race]
    twice = [x.api.usage.take() for x in (a, b)]
    assert sorted(t["paid_twice"] for t in twice) == [0, 1]
    counted = next(t for t in twice if t["paid_twice"])
    assert counted["paid_twice_prompt_tokens"] == counted["prompt_tokens"] > 0
    assert counted["paid_twice_completion_tokens"] == counted["completion_tokens"] > 0


def test_a_document_twice_in_a_batch_is_embedded_once(stack: LocalStack,
                                                       two_runs: dict[str, Any]) -> None:
    """The embedding stage as the extract stage: the same document in one batch is one input
    of one request (the same input twice is paid twice), and every record gets its vector."""
    emb = stack.config.embedding.model_copy(update={"deployment": "text-embedding-dedupe"})
    doc = "Equipment: suction pump; Work type: preventive\nProblem: -\nNotes: PM done, 2024."
    other = "Equipment: ECG cart; Work type: preventive\nProblem: -\nNotes: PM done, 2024."
    log_at = len(read_request_log(stack.request_log))
    embedder = Embedder(emb, journal=JournalTarget(stack.dsn, SCHEMA))
    out = asyncio.run(embedder(_prepared([doc, other, doc, doc])))
    assert out.column(S.STATUS).to_pylist() == [S.OK] * 4
    vectors = out.column(S.EMBEDDING).to_pylist()
    assert vectors[0] == vectors[2] == vectors[3] != vectors[1]
    inputs = [t for r in read_request_log(stack.request_log)[log_at:]
              if r["kind"] == "embeddings" for t in r["texts"]]
    assert sorted(inputs) == sorted([doc, other])
    assert embedder.api.usage.take()["reused"] == 2
