"""The whole job on 2,500 synthetic records, through every real component: fakesnow
server + real connector, the OpenAI-compatible simulator + real openai client, local Ray,
embedded Postgres + pgvector. Assertions read the database and the simulator's log."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import psycopg
import pyarrow as pa
import pytest
from cli_output import json_document

from backfill.devstack.simulator import read_request_log
from backfill.devstack.stack import LocalStack, local_stack
from backfill.pipeline import first_partition_rows
from backfill.runner import RunRequest, RunResult, execute

pytestmark = pytest.mark.integration
SCHEMA = "e2e"
N = 2_500


@pytest.fixture(scope="module")
def stack(
    pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("e2e")
    with local_stack(work, N, latency_ms=5, pg_schema=SCHEMA, partition_rows=625, dsn=pg_dsn) as s:
        yield s


@pytest.fixture(scope="module")
def run(stack: LocalStack) -> RunResult:
    return execute(stack.config, RunRequest(config_path=str(stack.config_path)))


def _conn(stack: LocalStack) -> psycopg.Connection:
    conn = psycopg.connect(stack.dsn, autocommit=True)
    conn.execute(f"SET search_path TO {SCHEMA}, public")
    return conn


def test_run_completes_within_failure_budget(run: RunResult) -> None:
    assert run.exit_code == 0, run.summary
    assert run.rows_expected == N
    assert run.rows_ok + run.rows_failed == N
    assert run.rows_ok > 0.98 * N


def _metric_series(name: str) -> list[tuple[dict[str, str], float]]:
    """Every series of a metric the job exported, from each node's Prometheus endpoint."""
    import urllib.request

    import ray

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    found = []
    for node in ray.nodes():
        url = f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics"
        text = opener.open(url, timeout=10).read().decode()
        for line in text.splitlines():
            m = re.match(rf"{name}{{(.*)}} ([0-9.e+]+)$", line)
            if m:
                labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
                found.append((labels, float(m.group(2))))
    return found


def test_the_jobs_metrics_reach_rays_metrics_endpoint(stack: LocalStack, run: RunResult) -> None:
    import time

    with _conn(stack) as conn:
        ok = conn.execute("SELECT count(*) FROM ai_extracted_data WHERE run_id = %s",
                          (run.run_id,)).fetchone()[0]
        # failed rows counted per committed block, as the metric (duplicate ids dead-lettered
        # twice are one failed_records row, two rows)
        failed_rows = conn.execute(
            "SELECT coalesce(sum(rows_failed), 0) FROM etl_metadata WHERE run_id = %s "
            "AND kind = 'block'", (run.run_id,)).fetchone()[0]
        stages = {r[0] for r in conn.execute(
            "SELECT DISTINCT stage FROM failed_records WHERE run_id = %s", (run.run_id,))}
        partitions = conn.execute(
            "SELECT count(*) FROM etl_metadata WHERE run_id = %s AND kind = 'partition' "
            "AND state = 'done'", (run.run_id,)).fetchone()[0]

    def totals() -> tuple[dict[tuple[str, str], float], float, float]:
        records: dict[tuple[str, str], float] = {}
        for labels, value in _metric_series("ray_backfill_records_total"):
            if labels.get("run_id") == run.run_id:
                key = (labels["outcome"], labels["stage"])
                records[key] = records.get(key, 0) + value
        done = sum(v for lb, v in _metric_series("ray_backfill_partitions_done_total")
                   if lb.get("run_id") == run.run_id)
        tokens = sum(v for _, v in _metric_series("ray_backfill_tokens_total"))
        return records, done, tokens

    def failed(records: dict[tuple[str, str], float]) -> float:
        return sum(v for (outcome, _), v in records.items() if outcome == "failed")

    deadline = time.monotonic() + 90  # Ray exports metrics every few seconds
    while True:
        records, done, tokens = totals()
        if (records.get(("ok", "write")) == ok and failed(records) == failed_rows
                and done == partitions) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert records.get(("ok", "write")) == ok
    assert failed(records) == failed_rows > 0
    assert {stage for (outcome, stage) in records if outcome == "failed"} == stages
    assert done == partitions > 0
    assert tokens > 0


def test_every_source_id_is_written_exactly_once(stack: LocalStack, run: RunResult) -> None:
    source_ids = {i for i in stack.data.table.column("WORK_ORDER_ID").to_pylist() if i}
    with _conn(stack) as conn:
        rows = conn.execute("SELECT work_order_id FROM maintenance_logs").fetchall()
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids))
    assert set(ids) == source_ids


def test_every_record_has_extraction_and_embedding_or_a_failure(
    stack: LocalStack, run: RunResult
) -> None:
    with _conn(stack) as conn:
        missing = conn.execute(
            "SELECT m.work_order_id FROM maintenance_logs m "
            "LEFT JOIN ai_extracted_data a USING (work_order_id) "
            "LEFT JOIN semantic_embeddings e ON e.work_order_id = m.work_order_id "
            "LEFT JOIN failed_records f ON f.work_order_id = m.work_order_id "
            "  AND f.run_id = %s AND f.resolved_at IS NULL "
            "WHERE (a.work_order_id IS NULL OR e.work_order_id IS NULL) "
            "  AND f.work_order_id IS NULL",
            (run.run_id,),
        ).fetchall()
        dims = conn.execute(
            "SELECT DISTINCT vector_dims(embedding) FROM semantic_embeddings"
        ).fetchall()
    assert missing == []
    assert dims == [(1536,)]


def test_bad_rows_are_failed_records_with_stage_and_reason(
    stack: LocalStack, run: RunResult
) -> None:
    with _conn(stack) as conn:
        failed = conn.execute(
            "SELECT work_order_id, stage, error_class, error_message, attempts, first_seen_at, "
            "last_seen_at FROM failed_records WHERE run_id = %s AND resolved_at IS NULL",
            (run.run_id,),
        ).fetchall()
    by_id = {r[0]: r for r in failed}
    assert all(r[3] and r[4] >= 1 and r[5] and r[6] for r in failed)
    expectations = {
        "simfault_refusal": ("extract", "Refusal"),
        "simfault_malformed": ("extract", "InvalidJSON"),
        "simfault_schema": ("extract", "SchemaViolation"),
        "simfault_content_filter": ("extract", "ContentFilter"),
        "simfault_embed": ("embed", "BadRequest"),
        "empty_text": ("validate", "EmptyText"),
    }
    for kind, (stage, error_class) in expectations.items():
        ids = stack.data.bad_ids.get(kind, [])
        assert ids, f"synthetic data has no {kind} rows"
        for wid in ids:
            assert wid in by_id, f"{kind} row {wid} has no failed record"
            assert by_id[wid][1:3] == (stage, error_class), by_id[wid]
    null_id_failures = [r for r in failed if r[2] == "MissingId"]
    assert len(null_id_failures) == len(stack.data.bad_ids.get("null_id", []))


def test_no_planted_pii_leaves_the_scrubber(stack: LocalStack, run: RunResult) -> None:
    requests = read_request_log(stack.request_log)
    assert len(requests) > N / 2  # the log really holds the traffic
    sent = "\n".join(t for r in requests for t in r["texts"])
    with _conn(stack) as conn:
        stored = "\n".join(
            r[0]
            for r in conn.execute(
                "SELECT extraction::text FROM ai_extracted_data UNION ALL "
                "SELECT document FROM semantic_embeddings"
            ).fetchall()
        )
    pii = stack.data.planted_pii
    assert len(pii) > 100
    leaked_sent = [p for p in pii if p in sent]
    leaked_stored = [p for p in pii if p in stored]
    assert leaked_sent == []
    assert leaked_stored == []


def test_no_record_sent_to_the_llm_twice(stack: LocalStack, run: RunResult) -> None:
    """Each ok record costs one chat request (two with the repair attempt), no more."""
    chats = [r for r in read_request_log(stack.request_log) if r["kind"] == "chat"]
    users = Counter(r["texts"][1] for r in chats if r["status"] == 200)
    assert max(users.values()) <= 2


def test_progress_rows_account_for_every_partition(stack: LocalStack, run: RunResult) -> None:
    with _conn(stack) as conn:
        parts = conn.execute(
            "SELECT item, state, rows_expected, rows_ok + rows_failed FROM etl_metadata "
            "WHERE run_id = %s AND kind = 'partition'",
            (run.run_id,),
        ).fetchall()
        state = conn.execute(
            "SELECT state, info->'summary' FROM etl_metadata WHERE run_id = %s AND kind = 'run'",
            (run.run_id,),
        ).fetchone()
    assert len(parts) >= 4
    assert all(p[1] == "done" and p[2] == p[3] for p in parts), parts
    assert state is not None and state[0] == "done"
    assert state[1]["records"] == N


def test_the_first_partition_is_small_and_commits_on_its_own(
        stack: LocalStack, run: RunResult) -> None:
    """Issue 14's first commit: a new run's first partition holds an eighth of a batch, and
    its records reach Postgres in a transaction of their own, not merged into a batch of
    the next partition's (which would make the first commit wait for 200 answers)."""
    head = first_partition_rows(stack.config.pipeline.batch_size)
    with _conn(stack) as conn:
        parts = conn.execute(
            "SELECT item::int, rows_expected FROM etl_metadata WHERE run_id = %s "
            "AND kind = 'partition' ORDER BY item::int", (run.run_id,)).fetchall()
        # loaded_at is the writing transaction's start: one value per commit
        commits = conn.execute(
            "SELECT loaded_at, array_agg(DISTINCT partition_id), count(*) FROM maintenance_logs "
            "WHERE run_id = %s GROUP BY loaded_at", (run.run_id,)).fetchall()
    assert 0 < parts[0][1] <= head < parts[1][1], parts
    assert sum(rows for _, rows in parts) == N
    first = [(parts_in, rows) for _, parts_in, rows in commits if 0 in parts_in]
    assert len(first) == 1, first
    assert first[0][0] == [0] and first[0][1] <= head, first
    # and the other batches still go whole: the head does not make every block small
    assert max(rows for _, _, rows in commits) == stack.config.pipeline.batch_size


def test_rerunning_a_finished_run_does_nothing(stack: LocalStack, run: RunResult) -> None:
    before = stack.simulator.stats()["requests"]
    again = execute(stack.config, RunRequest(run_id=run.run_id))
    assert again.exit_code == 0
    assert stack.simulator.stats()["requests"] == before


def test_status_and_report_commands(
    stack: LocalStack, run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    from backfill.cli import main

    assert main(["status", "--config", str(stack.config_path)]) == 0
    assert run.run_id in capsys.readouterr().out
    assert (
        main(
            [
                "report",
                "--config",
                str(stack.config_path),
                "--run-id",
                run.run_id,
                "--format",
                "json",
            ]
        )
        == 0
    )
    rep = json_document(capsys.readouterr().out)
    assert rep["records"]["expected"] == N
    duplicates = len(stack.data.bad_ids.get("duplicate_id", []))
    assert rep["embeddings"] == rep["extractions"]["rows"] >= run.rows_ok - duplicates
    assert main(["report", "--config", str(stack.config_path), "--run-id", "nope"]) == 2


def test_search_index_exists(stack: LocalStack, run: RunResult) -> None:
    with _conn(stack) as conn:
        row = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND "
            "indexname = 'semantic_embeddings_hnsw'",
            (SCHEMA,),
        ).fetchone()
    assert row and "hnsw" in row[0]


def test_resuming_with_other_parameters_is_refused(stack: LocalStack, run: RunResult) -> None:
    import datetime as dt

    from backfill.errors import ConfigError

    with pytest.raises(ConfigError, match="exists with other parameters"):
        execute(stack.config, RunRequest(run_id=run.run_id, start=dt.datetime(2020, 1, 1)))


def test_exit_3_when_failures_exceed_the_budget(stack: LocalStack, run: RunResult) -> None:
    """A small range around a record the LLM refuses, with no failures allowed."""
    import datetime as dt

    table = stack.data.table
    refused = stack.data.bad_ids["simfault_refusal"][0]
    ids = table.column("WORK_ORDER_ID").to_pylist()
    when = table.column("CREATED_AT")[ids.index(refused)].as_py()
    strict = stack.config.model_copy(update={
        "pipeline": stack.config.pipeline.model_copy(update={"max_failed_fraction": 0.0})})
    result = execute(strict, RunRequest(start=when, end=when + dt.timedelta(hours=1)))
    assert result.rows_failed >= 1
    assert result.exit_code == 3


def test_retry_failed_of_records_the_api_rejects_again_completes(
    stack: LocalStack, run: RunResult
) -> None:
    """retry-failed sends the rejected records in a row: that streak is theirs, not the
    deployment's, so it must not stop the pass as systemic (it did)."""
    from backfill.retry import retry_failed

    again = retry_failed(stack.config, run.run_id)
    assert again.exit_code == 0, again.summary
    with _conn(stack) as conn:
        rows = conn.execute(
            "SELECT attempts FROM failed_records WHERE run_id = %s AND stage = 'embed' "
            "AND error_class = 'BadRequest' AND resolved_at IS NULL", (run.run_id,)
        ).fetchall()
        # the ranged run of test_exit_3_... took some work orders over
        taken = conn.execute("SELECT count(*) FROM maintenance_logs WHERE run_id <> %s",
                             (run.run_id,)).fetchone()
    assert len(rows) == len(stack.data.bad_ids["simfault_embed"]) and all(
        a == 2 for (a,) in rows), rows
    assert taken is not None
    assert again.rows_ok + again.rows_failed + taken[0] == N


def test_enriched_rows_record_scrubber_version_and_redactions(
    stack: LocalStack, run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    from backfill.cli import main
    from backfill.scrub import SCRUBBER_VERSION

    pii = stack.data.planted_pii
    texts = {r["WORK_ORDER_ID"]: " ".join(filter(None, (r["PROBLEM_DESCRIPTION"],
                                                         r["TECHNICIAN_NOTES"], r["RESOLUTION"])))
             for r in stack.data.table.to_pylist() if r["WORK_ORDER_ID"]}
    with _conn(stack) as conn:
        rows = conn.execute(
            "SELECT work_order_id, scrubber_version, redactions FROM ai_extracted_data "
            "WHERE run_id = %s", (run.run_id,)).fetchall()
        versions = conn.execute(
            "SELECT DISTINCT scrubber_version FROM semantic_embeddings WHERE run_id = %s",
            (run.run_id,)).fetchall()
    assert rows and {v for _, v, _ in rows} == {SCRUBBER_VERSION}
    assert versions == [(SCRUBBER_VERSION,)]
    # a record whose text carries planted PII says what was replaced; the report sums them
    # (whole values of 6 characters or more: "He" or "Wu" would match inside other words)
    # (one alternation, longest first: a pattern per value made this test take minutes)
    values = sorted({p for p in pii if len(p) >= 6}, key=len, reverse=True)
    long_pii = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, values)) + r")(?!\w)")
    planted = [wid for wid, _, _ in rows if long_pii.search(texts[wid])]
    assert planted and all(red for wid, _, red in rows if wid in planted)
    totals: Counter[str] = Counter()
    for _, _, red in rows:
        totals.update(red)
    main(["report", "--config", str(stack.config_path), "--run-id", run.run_id,
          "--format", "json"])
    rep = json_document(capsys.readouterr().out)
    assert rep["redactions"] == dict(totals) and sum(totals.values()) >= len(planted)
    assert rep["scrubber_versions"] == {SCRUBBER_VERSION: len(rows)}


def test_enriched_rows_record_model_prompt_and_schema_version(
    stack: LocalStack, run: RunResult
) -> None:
    """What a re-extraction after a change of model, prompt or schema selects rows by."""
    from backfill import schema as S

    with _conn(stack) as conn:
        made = conn.execute(
            "SELECT model, prompt_version, schema_version, count(*) FROM ai_extracted_data "
            "WHERE run_id = %s GROUP BY 1, 2, 3", (run.run_id,)).fetchall()
    assert [m[:3] for m in made] == [
        (stack.config.llm.deployment, S.PROMPT_VERSION, S.SCHEMA_VERSION)]
    # (test_exit_3_... ran another run over an hour of the range: those rows are its now)
    assert made[0][3] > 0.99 * run.rows_ok
    # and the prompt of that version is what the LLM was sent
    prompts = {e["texts"][0] for e in read_request_log(stack.request_log) if e["kind"] == "chat"}
    assert prompts == {S.PROMPTS[S.PROMPT_VERSION]}


def test_reprocess_sends_exactly_the_records_of_older_scrubbers(
    stack: LocalStack, run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    from backfill.cli import main
    from backfill.scrub import SCRUBBER_VERSION

    config = ["--config", str(stack.config_path), "--run-id", run.run_id]
    with _conn(stack) as conn:
        # 40 extractions as an older scrubber left them (no version recorded)
        old = [r[0] for r in conn.execute(
            "UPDATE ai_extracted_data SET scrubber_version = NULL WHERE work_order_id IN "
            "(SELECT work_order_id FROM ai_extracted_data WHERE run_id = %s "
            "ORDER BY work_order_id LIMIT 40) RETURNING work_order_id", (run.run_id,))]
        before = dict(conn.execute(
            "SELECT work_order_id, extracted_at FROM ai_extracted_data WHERE run_id = %s",
            (run.run_id,)).fetchall())
    sent_before = len(read_request_log(stack.request_log))
    # --fresh: the scrubbed text is the same as before here, so the answer journal would
    # give each its answer again without a request (test_journal_runs)
    assert main(["reprocess", *config, "--scrubber-below", SCRUBBER_VERSION, "--fresh"]) == 0
    requests = read_request_log(stack.request_log)[sent_before:]
    chats = [r for r in requests if r["kind"] == "chat" and r["status"] == 200]
    assert len({r["texts"][1] for r in chats}) == len(old)
    with _conn(stack) as conn:
        after = dict(conn.execute(
            "SELECT work_order_id, extracted_at FROM ai_extracted_data WHERE run_id = %s",
            (run.run_id,)).fetchall())
        left = conn.execute(
            "SELECT count(*) FROM ai_extracted_data WHERE scrubber_version IS DISTINCT FROM %s",
            (SCRUBBER_VERSION,)).fetchone()
    assert left == (0,)
    assert {w for w in after if after[w] != before[w]} == set(old)
    # nothing older is left: a second pass sends nothing; a version this scrubber is not, exit 2
    sent = len(read_request_log(stack.request_log))
    assert main(["reprocess", *config, "--scrubber-below", SCRUBBER_VERSION]) == 0
    assert len(read_request_log(stack.request_log)) == sent
    capsys.readouterr()
    assert main(["reprocess", *config, "--scrubber-below", "99"]) == 2
    assert "--scrubber-below 99" in capsys.readouterr().err


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
def test_reprocess_by_prompt_version_and_outdated_model(
    stack: LocalStack, run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    """run --reprocess 'prompt<N>' re-extracts the rows an older prompt made, and
    reprocess --outdated those another model or extraction schema made; nothing else is
    sent."""
    from backfill.cli import main
    from backfill.schema import PROMPT_VERSION, SCHEMA_VERSION

    config = ["--config", str(stack.config_path), "--run-id", run.run_id]
    with _conn(stack) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT work_order_id FROM ai_extracted_data WHERE run_id = %s "
            "ORDER BY work_order_id DESC LIMIT 35", (run.run_id,))]
        old_prompt, old_model, old_schema = set(ids[:20]), set(ids[20:30]), set(ids[30:])
        conn.execute("UPDATE ai_extracted_data SET prompt_version = 'extract-v0' "
                     "WHERE work_order_id = ANY(%s)", (sorted(old_prompt),))
        conn.execute("UPDATE ai_extracted_data SET model = 'gpt-35-turbo-retired' "
                     "WHERE work_order_id = ANY(%s)", (sorted(old_model),))
        conn.execute("UPDATE ai_extracted_data SET schema_version = 'extraction-0ld' "
                     "WHERE work_order_id = ANY(%s)", (sorted(old_schema),))

    def sent_during(*argv: str) -> set[str]:
        """The work orders whose document reached the simulator during the command."""
        before = len(read_request_log(stack.request_log))
        assert main(list(argv)) == 0
        chats = [r for r in read_request_log(stack.request_log)[before:]
                 if r["kind"] == "chat" and r["status"] == 200]
        with _conn(stack) as conn:
            return {r[0] for r in conn.execute(
                "SELECT work_order_id FROM semantic_embeddings WHERE document = ANY(%s)",
                ([c["texts"][1] for c in chats],))}

    # --fresh: the rows were only relabeled here, their requests are the same as the
    # journaled ones; without it the rows are rewritten from the journal and nothing is sent
    assert sent_during("run", *config, "--reprocess", "prompt<1", "--fresh") == old_prompt
    assert sent_during("reprocess", *config, "--outdated") == set()
    with _conn(stack) as conn:
        relabeled = conn.execute(
            "SELECT count(*) FROM ai_extracted_data WHERE work_order_id = ANY(%s) AND "
            "model = %s AND schema_version = %s", (sorted(old_model | old_schema),
                                                   stack.config.llm.deployment,
                                                   SCHEMA_VERSION)).fetchone()
    assert relabeled == (len(old_model | old_schema),)
    with _conn(stack) as conn:
        made = conn.execute("SELECT DISTINCT prompt_version, schema_version, model FROM "
                            "ai_extracted_data WHERE run_id = %s", (run.run_id,)).fetchall()
    assert made == [(PROMPT_VERSION, SCHEMA_VERSION, stack.config.llm.deployment)]
    assert sent_during("reprocess", *config, "--outdated") == set()
    capsys.readouterr()
    assert main(["run", *config, "--reprocess", "prompt<7"]) == 2
    assert main(["run", *config, "--reprocess", "model<1"]) == 2
    assert main(["reprocess", *config]) == 2
    err = capsys.readouterr().err
    assert "--prompt-below 7" in err and "prompt<N" in err and "--outdated" in err


def test_api_stages_get_no_raw_text_and_the_logs_get_all_of_it(
    stack: LocalStack, run: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the extract and embed actors receive is the document and the sealed raw text;
    maintenance_logs still gets the raw text exactly as the source has it."""
    import ray

    from backfill import pipeline
    from backfill import schema as S
    from backfill.runner import _start_session
    from backfill.seal import SEALED
    from backfill.source import IdChunk

    source = {r["WORK_ORDER_ID"]: r for r in stack.data.table.to_pylist() if r["WORK_ORDER_ID"]}
    ids = sorted(source)[:300]
    seen: list[pa.Table] = []
    # the API stages replaced by what collects the blocks they would get
    monkeypatch.setattr(pipeline, "_api_stage", lambda ds, *a, **k: ds)
    session = _start_session(stack.config, "seal-probe")
    try:
        spec = pipeline.PipelineSpec(stack.config, stack.dsn, "seal-probe", session,
                                     [IdChunk(tuple(ids))], skip_done=False)
        for batch in pipeline.build_dataset(spec).iter_batches(batch_format="pyarrow"):
            seen.append(batch)
    finally:
        ray.kill(session)
    blocks = pa.concat_tables(seen)
    assert blocks.num_rows >= len(ids) and SEALED in blocks.column_names  # (duplicate ids)
    assert not set(S.FREE_TEXT) & set(blocks.column_names)
    # the raw texts that carry PII (the others are in the document as they are)
    pii = stack.data.planted_pii
    raw = [source[i][c] for i in ids for c in S.FREE_TEXT
           if source[i][c] and any(p in source[i][c] for p in pii)]
    # (the sealed column is ciphertext: random bytes may spell "Wu")
    held = "\n".join(str(v) for name, col in zip(blocks.column_names, blocks.columns,
                                                   strict=True)
                      if name != SEALED for v in col.to_pylist())
    assert raw and [t for t in raw if t in held] == []
    assert [p for p in pii if p in held] == []
    with _conn(stack) as conn:
        rows = conn.execute(
            "SELECT work_order_id, problem_description, technician_notes, resolution "
            "FROM maintenance_logs").fetchall()
    assert len(rows) == len(source)
    duplicates = set(stack.data.bad_ids.get("duplicate_id", []))
    for wid, *texts in rows:
        if wid not in duplicates:  # (which copy of a duplicate id is kept: test_sink)
            # (Postgres text holds no NUL: the sink drops them)
            expected = [None if source[wid][c] is None else source[wid][c].replace("\x00", "")
                        for c in S.FREE_TEXT]
            assert texts == expected, wid


def test_no_task_of_the_other_stages_runs_in_a_worker_that_scrubbed(
    stack: LocalStack, run: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that has scrubbed holds the name lists and the number model for life (~115
    MiB); prepare's tasks run in workers of their own, so the tasks of the other stages,
    pooled by Ray, never land in one (issue 14: the peak memory is the task workers alive).
    A task after prepare reports, from the process it ran in, whether the lists are loaded."""
    import ray

    from backfill import pipeline
    from backfill import schema as S
    from backfill.runner import _start_session
    from backfill.source import IdChunk

    def probe(batch: pa.Table) -> pa.Table:
        import os
        import sys

        names = sys.modules.get("backfill.names")
        loaded = bool(names and names._lists.cache_info().currsize)
        n = batch.num_rows
        return pa.table({"id": batch.column(S.ID), "pid": [os.getpid()] * n,
                         "lists_loaded": [loaded] * n})

    ids = sorted({r[S.ID] for r in stack.data.table.to_pylist() if r[S.ID]})
    def first_api_stage_probes(ds: ray.data.Dataset, stage: type,
                               *a: object, **k: object) -> ray.data.Dataset:
        if stage is not pipeline.Extractor:
            return ds
        return ds.map_batches(probe, batch_format="pyarrow", batch_size=None, num_cpus=0.5)

    monkeypatch.setattr(pipeline, "_api_stage", first_api_stage_probes)
    session = _start_session(stack.config, "worker-probe")
    try:
        spec = pipeline.PipelineSpec(stack.config, stack.dsn, "worker-probe", session,
                                     [IdChunk(tuple(ids))], skip_done=False)
        seen = pa.concat_tables(pipeline.build_dataset(spec).iter_batches(
            batch_format="pyarrow", batch_size=None))
    finally:
        ray.kill(session)
    rows = seen.to_pylist()
    # every record went through prepare, then through the probe
    assert {r["id"] for r in rows} >= set(ids)
    assert [r["pid"] for r in rows if r["lists_loaded"]] == []
