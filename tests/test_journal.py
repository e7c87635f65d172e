"""The answer journal on its own: the key and what changes it, and the writer and lookup
against the embedded Postgres (rows counted in the table)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

import numpy as np
import psycopg
import pyarrow as pa
import pytest

from backfill import journal as J
from backfill import schema as S
from backfill.db import ensure_schema
from backfill.devstack.enriched import enriched_rows
from backfill.errors import RecordError
from backfill.outcomes import apply_outcomes
from backfill.progress import create_run
from backfill.sink import WriteTarget, write_block
from backfill.source import Partition

BASE = dict(kind=J.CHAT, model="gpt-4o-mini", prompt_version="extract-v1+abcd",
            schema_version="0123456789ab", document="Pump alarmed. Replaced the sensor.")


@pytest.mark.unit
def test_key_changes_with_each_part_and_nothing_else() -> None:
    base = J.answer_key(**BASE)
    assert base == J.answer_key(**BASE)  # deterministic: the same in every process
    assert len(base) == 64 and int(base, 16) >= 0
    for part, other in (("kind", J.EMBEDDING), ("model", "gpt-4o"),
                        ("prompt_version", "extract-v2+abcd"), ("schema_version", "ba9876543210"),
                        ("document", BASE["document"] + " ")):
        assert J.answer_key(**{**BASE, part: other}) != base, part
    # Parts are length-prefixed: moving a character from one part to the next is another key.
    shifted = {**BASE, "model": BASE["model"] + "e", "prompt_version": "xtract-v1+abcd"}
    assert J.answer_key(**shifted) != J.answer_key(
        **{**BASE, "prompt_version": "e" + shifted["prompt_version"]})


@pytest.mark.unit
def test_journal_key_takes_the_model_prompt_and_schema_but_not_the_record() -> None:
    target = J.JournalTarget("", "s")
    chat = J.Journal.__new__(J.Journal)  # no writer thread: only the key is looked at
    chat.kind, chat.model, chat.versions, chat.target = (
        J.CHAT, "gpt-4o-mini", (J.prompt_version(), S.SCHEMA_VERSION), target)
    doc = "Infusion pump occlusion alarm; replaced pressure sensor."
    # The key is the journal's function of the document alone: two records (any ids) with
    # the same scrubbed text share it.
    assert chat.key(doc) == J.answer_key(J.CHAT, "gpt-4o-mini", J.prompt_version(),
                                         S.SCHEMA_VERSION, doc)
    assert J.prompt_version().startswith(S.PROMPT_VERSION + "+")
    assert S.SCHEMA_VERSION.startswith("extraction-")


@pytest.mark.unit
def test_schema_version_follows_the_extraction_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    before = S.schema_version(S.Extraction)
    original = S.Extraction.model_json_schema

    def changed(*args: object, **kwargs: object) -> dict[str, object]:
        schema = original(*args, **kwargs)
        schema["properties"]["summary"]["description"] = "Two lines."  # type: ignore[index]
        return schema

    monkeypatch.setattr(S.Extraction, "model_json_schema", changed)
    assert S.schema_version(S.Extraction) != before


@pytest.fixture(scope="module")
def journal_dsn(pg_dsn: str) -> str:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS journaltest CASCADE")
    ensure_schema(pg_dsn, "journaltest", 8)
    return pg_dsn


def _rows(dsn: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT answer_key, kind, model, answer, vector, input_tokens, output_tokens "
            "FROM journaltest.answer_journal ORDER BY answer_key").fetchall()


@pytest.mark.integration
def test_writer_and_lookup_round_trip(journal_dsn: str) -> None:
    target = J.JournalTarget(journal_dsn, "journaltest")
    chat = J.Journal.for_chat(target, "m-chat")
    emb = J.Journal.for_embedding(target, "m-emb", 8)
    docs = [f"document {i}" for i in range(5)]
    answer = {"summary": "x", "parts_replaced": ["sensor"]}

    async def go() -> tuple[dict[str, J.Stored], dict[str, J.Stored], dict[str, J.Stored]]:
        keys, found = await chat.lookup(docs)
        assert found == {}
        for k in keys[:3]:
            chat.add_chat(k, json.dumps(answer), 100, 20)
        chat.add_chat(keys[0], json.dumps({"summary": "other"}), 1, 1)  # same key: kept first
        ekeys, _ = await emb.lookup(docs)
        emb.add_vector(ekeys[0], np.arange(8, dtype="<f4").tobytes())
        await chat.flushed()
        await emb.flushed()
        _, chat_found = await chat.lookup(docs)
        _, emb_found = await emb.lookup(docs)
        _, fresh = await J.Journal.for_chat(J.JournalTarget(journal_dsn, "journaltest",
                                                            fresh=True), "m-chat").lookup(docs)
        return chat_found, emb_found, fresh

    chat_found, emb_found, fresh = asyncio.run(go())
    rows = _rows(journal_dsn)
    assert len(rows) == 4
    assert sorted(r[1] for r in rows) == ["chat", "chat", "chat", "embedding"]
    assert len(chat_found) == 3 and len(emb_found) == 1 and fresh == {}
    stored = next(iter(chat_found.values()))
    assert json.loads(stored.answer or "") == answer and stored.input_tokens == 100
    vector = np.frombuffer(next(iter(emb_found.values())).vector or b"", dtype="<f4")
    assert vector.tolist() == list(range(8))
    # The document is not stored: no column holds its text.
    assert not any("document" in str(r[3]) for r in rows)


@pytest.mark.integration
def test_answers_are_written_within_a_flush_interval_without_waiting(journal_dsn: str) -> None:
    target = J.JournalTarget(journal_dsn, "journaltest")
    chat = J.Journal.for_chat(target, "m-interval")
    key = chat.key("only one answer")
    chat.add_chat(key, json.dumps({"summary": "y"}), 5, 5)
    # Nobody asks for a flush: the writer writes it on its own within FLUSH_SECONDS.
    deadline = time.monotonic() + 10
    while not any(r[0] == key for r in _rows(journal_dsn)):
        assert time.monotonic() < deadline, "answer not written by the writer thread"
        time.sleep(0.02)


@pytest.mark.integration
def test_fresh_replaces_the_journaled_answer(journal_dsn: str) -> None:
    old = J.Journal.for_chat(J.JournalTarget(journal_dsn, "journaltest"), "m-fresh")
    new = J.Journal.for_chat(J.JournalTarget(journal_dsn, "journaltest", fresh=True), "m-fresh")
    key = old.key("asked twice")

    async def go() -> dict[str, J.Stored]:
        old.add_chat(key, json.dumps({"summary": "old"}), 1, 1)
        await old.flushed()
        new.add_chat(key, json.dumps({"summary": "new"}), 2, 2)
        await new.flushed()
        return (await old.lookup(["asked twice"]))[1]

    found = asyncio.run(go())
    assert json.loads(found[key].answer or "") == {"summary": "new"}
    assert found[key].input_tokens == 2


def _in_flight(dsn: str) -> dict[str, str]:
    with psycopg.connect(dsn) as conn:
        return dict(conn.execute("SELECT answer_key, owner FROM journaltest.requests_in_flight"
                                 ).fetchall())


@pytest.mark.integration
def test_a_request_a_killed_attempt_sent_and_the_next_sends_again_is_counted_paid_twice(
        journal_dsn: str) -> None:
    """Keys are in requests_in_flight (committed) once `sending` returns and out of it once
    answered, or, for a record that failed, once its dead letter is written; what a killed
    attempt left there and the next attempt sends again is paid twice, with the tokens of
    the answer. Two actors of one attempt are not."""
    killed = J.Journal.for_chat(J.JournalTarget(journal_dsn, "journaltest"), "m-intent")
    k = [killed.key(f"in flight {i}") for i in range(6)]

    async def first_attempt() -> dict[str, str]:
        await killed.sending(k[:3] + k[5:])
        at_send = _in_flight(journal_dsn)  # read by another connection: committed
        killed.add_chat(k[0], json.dumps({"summary": "answered"}), 50, 10)
        # its record failed (refused): the key waits for the record's dead letter
        assert killed.settle(k[1], failed=True)
        assert not killed.settle(k[5])  # a fault that stops the job: not a record's failure
        await killed.flushed()
        return at_send

    at_send = asyncio.run(first_attempt())
    assert {key: at_send[key] for key in k[:3]} == dict.fromkeys(k[:3], killed.target.owner)
    # k[2]'s request never came back: the attempt was killed with it in flight, and with
    # k[1]'s dead letter not yet written.
    assert {key for key in _in_flight(journal_dsn) if key in k} == {k[1], k[2]}

    target = J.JournalTarget(journal_dsn, "journaltest")  # the next attempt, two actors
    one, other = J.Journal.for_chat(target, "m-intent"), J.Journal.for_chat(target, "m-intent")

    async def next_attempt() -> tuple[dict[str, int], dict[str, int]]:
        await asyncio.gather(one.sending([k[2], k[3], k[1]]), other.sending([k[4]]))
        await one.sending([k[2]])  # its repair request: recorded once
        await other.sending([k[3]])  # the same text in another actor's batch at once
        one.add_chat(k[2], json.dumps({"summary": "again"}), 120, 30)
        one.add_chat(k[3], json.dumps({"summary": "new"}), 7, 3)
        one.add_chat(k[1], json.dumps({"summary": "answered this time"}), 40, 8)
        await one.flushed()
        other.add_chat(k[3], json.dumps({"summary": "new"}), 7, 3)  # a race: paid twice
        other.add_chat(k[4], json.dumps({"summary": "new"}), 7, 3)
        await other.flushed()
        return one.take_paid_twice(), other.take_paid_twice()

    counted_one, counted_other = asyncio.run(next_attempt())
    assert counted_one == {"paid_twice": 2, "paid_twice_prompt_tokens": 160,
                           "paid_twice_completion_tokens": 38}
    assert counted_other == {"paid_twice": 1, "paid_twice_prompt_tokens": 7,
                             "paid_twice_completion_tokens": 3}
    assert not set(_in_flight(journal_dsn)) & set(k)


@pytest.mark.integration
def test_a_failed_records_request_leaves_flight_with_its_dead_letter(journal_dsn: str) -> None:
    """The extract stage leaves a failed record's key in requests_in_flight and on the row
    (S.IN_FLIGHT_KEY); the sink takes it out in the transaction that writes the dead letter,
    and the other keys stay."""
    failing = J.Journal.for_chat(J.JournalTarget(journal_dsn, "journaltest"), "m-dead")
    keys = [failing.key(f"refused {i}") for i in range(3)]

    async def send() -> None:
        await failing.sending(keys)
        for key in keys:
            assert failing.settle(key, failed=True)
        await failing.flushed()

    asyncio.run(send())
    assert set(keys) <= set(_in_flight(journal_dsn))
    with psycopg.connect(journal_dsn) as conn:
        whole = Partition(0, dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1), 100)
        conn.execute("SET search_path TO journaltest, public")
        create_run(conn, "dead-letters", {}, [whole])
    block = enriched_rows(4, 8, seed=9)
    failed = [S.OK, S.FAILED, S.FAILED, S.OK]
    refused, answered = RecordError("extract", "Refusal", "refused"), (
        block.column(S.EXTRACTION)[0].as_py(), 200, 80)
    block = apply_outcomes(
        block.drop_columns([S.EXTRACTION, S.TOKENS_IN, S.TOKENS_OUT]), [0, 1, 2, 3],
        [answered, refused, refused, answered],
        {S.EXTRACTION: pa.string(), S.TOKENS_IN: pa.int32(), S.TOKENS_OUT: pa.int32()},
        {1: keys[0], 2: keys[1]})
    assert block.column(S.STATUS).to_pylist() == failed
    write_block(block, WriteTarget(journal_dsn, "journaltest", "dead-letters", "m-dead", "e"))
    with psycopg.connect(journal_dsn) as conn:
        letters = conn.execute("SELECT count(*) FROM journaltest.failed_records WHERE run_id "
                               "= 'dead-letters' AND error_class = 'Refusal'").fetchone()
    assert letters == (2,)
    assert set(keys) & set(_in_flight(journal_dsn)) == {keys[2]}


@pytest.mark.integration
def test_fresh_requests_are_not_recorded_in_flight(journal_dsn: str) -> None:
    """--fresh pays again on purpose: nothing recorded, nothing counted."""
    fresh = J.Journal.for_chat(J.JournalTarget(journal_dsn, "journaltest", fresh=True), "m-f2")
    key = fresh.key("asked again on purpose")
    asyncio.run(fresh.sending([key]))
    assert key not in _in_flight(journal_dsn)
