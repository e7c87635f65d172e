"""``llm.mode: batch``: the run's extraction through the Batch API (Azure OpenAI Global Batch,
OpenAI Batch) before the pipeline runs; half the price, and a quota of its own.

Three phases, each safe to repeat after a kill (``backfill run --run-id ID``):

1. **Submit.** Each pending partition is read and prepared as the pipeline does (validation,
   duplicate ids, scrubber, guard); each document's answer-journal key is its line's
   ``custom_id``, and the line's body is the real-time request's (``extract.request_body``).
   Keys already journaled are not submitted. The lines, sorted by key, are cut into files
   within ``llm.batch_max_lines`` / ``batch_max_bytes``; each is uploaded and its batch
   created and recorded in ``etl_metadata`` (kind ``batch``, item the batch id, info the
   input file, partition, round and the first and last key) before the next: a partition
   resumed halfway skips the keys within the ranges recorded. A partition whose lines were
   all submitted is recorded too (kind ``batch_partition``) and not read again.
2. **Poll.** Every recorded batch not yet collected is looked at every
   ``llm.batch_poll_seconds``; once it ends, its valid answers are written to the answer
   journal (``ON CONFLICT DO NOTHING``: collecting twice changes nothing), and the lines
   without a valid answer (error file, expired, invalid) are submitted once more in a batch
   of round 2. What fails there is left to the pipeline.
3. **Pipeline.** The normal run; its extract stage takes every answer from the journal and
   sends no chat request (``Extractor(journal_only=True)``): a record without an answer
   becomes a dead letter extract/BatchFailed. Embeddings stay real-time (Azure has no batch
   embeddings).

A kill between the Batch API creating a batch and its row being committed would leave a
batch that no row knows, paid for and submitted again on resume. So the uploaded file is
recorded first (kind ``batch_intent``, item the file id); the batch's row replaces it in one
transaction. A resume finds an intent still there and looks for a batch made from its file
in the service's list (newest first, back to an hour before the intent): found, it is
recorded; not found, the batch was never created, and it is created from the file now.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TextIO

import openai
import pyarrow as pa
from pydantic import ValidationError
from tenacity import (
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from backfill import schema as S
from backfill.config import Config, LLMConfig
from backfill.db import connect, with_pg_retry
from backfill.errors import FatalError
from backfill.extract import first_messages, request_body
from backfill.journal import CHAT, Journal, JournalTarget, insert_answers
from backfill.openai_client import dependency_name
from backfill.prepare import prepare_batch, sendable_documents
from backfill.progress import RunRecord
from backfill.scrub import ScrubPolicy
from backfill.source import Partition, normalize, session_call

log = logging.getLogger(__name__)

KIND, PARTITION_KIND, INTENT_KIND = "batch", "batch_partition", "batch_intent"
SUBMITTED, COLLECTED = "submitted", "collected"
ENDING = frozenset({"completed", "expired", "failed", "cancelled"})
ROUNDS = 2  # a line is submitted at most twice: once, and once more if it failed

Line = tuple[str, bytes]  # (custom_id, the JSONL line)


def batch_endpoint(cfg: LLMConfig) -> str:
    """The ``endpoint`` of a batch and the ``url`` of its lines: Azure's without ``/v1``."""
    return "/chat/completions" if cfg.provider == "azure_openai" else "/v1/chat/completions"


def batch_line(custom_id: str, body: dict[str, Any], url: str) -> bytes:
    """One JSONL line of an input file (``model`` in the body is the Azure deployment)."""
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body},
                      ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def split_lines(lines: Iterable[Line], max_lines: int, max_bytes: int) -> list[list[Line]]:
    """Consecutive runs of ``lines`` within both limits per file. A line alone over
    ``max_bytes`` is a ConfigError-worthy impossibility: it gets a file of its own and the
    API's refusal names it."""
    files: list[list[Line]] = []
    current: list[Line] = []
    size = 0
    for line in lines:
        if current and (len(current) >= max_lines or size + len(line[1]) > max_bytes):
            files.append(current)
            current, size = [], 0
        current.append(line)
        size += len(line[1])
    if current:
        files.append(current)
    return files


def make_client(cfg: LLMConfig) -> openai.OpenAI:
    """A synchronous client of the deployment's Files and Batches API (the driver's only)."""
    api_key = cfg.api_key.get_secret_value() if cfg.api_key else ""
    common: dict[str, Any] = {"max_retries": 0, "timeout": max(cfg.timeout_seconds, 300.0)}
    if cfg.provider == "azure_openai":
        if cfg.auth == "entra_id":
            return openai.AzureOpenAI(azure_endpoint=cfg.endpoint or "",
                                      api_version=cfg.api_version,
                                      azure_ad_token_provider=_sync_token(cfg), **common)
        return openai.AzureOpenAI(azure_endpoint=cfg.endpoint or "", api_key=api_key,
                                  api_version=cfg.api_version, **common)
    return openai.OpenAI(base_url=cfg.endpoint or None, api_key=api_key, **common)


def _sync_token(cfg: LLMConfig) -> Callable[[], str]:
    """The Entra ID token source of a synchronous client (the job's actors use async)."""
    if cfg.entra_token_file:
        from backfill.azure_auth import TokenFile

        source = TokenFile(cfg.entra_token_file, "llm.entra_token_file")
        return lambda: asyncio.run(source())
    from azure.identity import DefaultAzureCredential, get_bearer_token_provider

    provider: Callable[[], str] = get_bearer_token_provider(
        DefaultAzureCredential(managed_identity_client_id=cfg.entra_client_id), cfg.entra_scope)
    return provider


_TRANSIENT = (openai.APIConnectionError, openai.APITimeoutError, openai.RateLimitError,
              openai.InternalServerError)


@dataclass
class Recorded:
    """A batch as ``etl_metadata`` holds it."""

    batch_id: str
    state: str
    partition: int
    info: dict[str, Any]


@dataclass
class Answer:
    key: str
    extraction_json: str
    tokens_in: int
    tokens_out: int


class BatchRun:
    """The submit and poll phases of one run (on the driver)."""

    def __init__(self, cfg: Config, dsn: str, run_id: str, out: TextIO, resume_hint: str = "",
                 beat: Callable[[], None] | None = None) -> None:
        self.cfg, self.llm, self.dsn, self.run_id, self.out = cfg, cfg.llm, dsn, run_id, out
        self.schema = cfg.postgres.schema_
        self.resume_hint, self.beat = resume_hint, beat
        self.journal = Journal.for_chat(JournalTarget(dsn, self.schema), cfg.llm.deployment)
        self.client = make_client(cfg.llm)
        self.url = batch_endpoint(cfg.llm)
        self.submitted: set[str] = set()  # keys in a batch of this run, this process

    # -- the API, retried and converted at the boundary ---------------------------------
    def _api(self, what: str, call: Callable[[], Any]) -> Any:
        @retry(retry=retry_if_exception_type(_TRANSIENT), stop=stop_after_attempt(
            self.llm.max_retries + 1), wait=wait_exponential_jitter(1, 60), reraise=True)
        def attempt() -> Any:
            return call()

        try:
            return attempt()
        except openai.OpenAIError as exc:
            status = getattr(exc, "status_code", None)
            raise FatalError(
                f"Batch API {what}: {type(exc).__name__}" + (f" HTTP {status}" if status else "")
                + ". Check llm.endpoint, llm.deployment and llm.api_version (the deployment "
                "must be a Global Batch one on Azure)",
                dependency=dependency_name(self.llm, "extract"),
                resume_hint=self.resume_hint) from exc

    def _download(self, file_id: str | None) -> bytes:
        if not file_id:
            return b""
        return bytes(self._api(f"downloading file {file_id}",
                               lambda: self.client.files.content(file_id).read()))

    # -- etl_metadata ------------------------------------------------------------------
    def _recorded(self) -> list[Recorded]:
        def read() -> list[Recorded]:
            with connect(self.dsn, self.schema, autocommit=True) as conn:
                rows = conn.execute(
                    "SELECT item, state, partition_id, info FROM etl_metadata WHERE run_id = %s "
                    "AND kind = %s ORDER BY created_at, item", (self.run_id, KIND)).fetchall()
            return [Recorded(i, s, p, info) for i, s, p, info in rows]

        return with_pg_retry(read, "reading the run's batches")

    def _submitted_partitions(self) -> set[int]:
        def read() -> set[int]:
            with connect(self.dsn, self.schema, autocommit=True) as conn:
                return {int(r[0]) for r in conn.execute(
                    "SELECT item FROM etl_metadata WHERE run_id = %s AND kind = %s",
                    (self.run_id, PARTITION_KIND))}

        return with_pg_retry(read, "reading the run's submitted partitions")

    def _write(self, sql: str, *params: Any) -> None:
        def write() -> None:
            with connect(self.dsn, self.schema) as conn, conn.transaction():
                conn.execute(sql, params)

        with_pg_retry(write, "recording the run's batches")

    # -- submit ------------------------------------------------------------------------
    def submit(self, session: Any, run: RunRecord, pending: list[Partition]) -> None:
        self._adopt_intents()
        done = self._submitted_partitions()
        for part in pending:
            if part.index in done:
                continue
            ranges = [(b.info["first_key"], b.info["last_key"]) for b in self._recorded()
                      if b.partition == part.index and b.info.get("round") == 1]
            keys = self._partition_documents(session, run, part)
            # A document that occurs in two partitions is one line: the second finds the
            # answer in the journal. (Across a kill, in another partition's batch, it is
            # not known here: submitted once more.)
            fresh = {k: d for k, d in keys.items() if k not in self.submitted
                     and not any(lo <= k <= hi for lo, hi in ranges)}
            journaled = asyncio.run(self.journal.lookup(
                [fresh[k] for k in sorted(fresh)]))[1] if fresh else {}
            lines = [(k, self._line(k, fresh[k])) for k in sorted(fresh) if k not in journaled]
            self.submitted.update(k for k, _ in lines)
            files = split_lines(lines, self.llm.batch_max_lines, self.llm.batch_max_bytes)
            for chunk in files:
                self._submit_file(chunk, part.index, 1)
            self._write("INSERT INTO etl_metadata (run_id, kind, item, state, partition_id, "
                        "rows_expected, info) VALUES (%s, %s, %s, 'submitted', %s, %s, %s) "
                        "ON CONFLICT DO NOTHING", self.run_id, PARTITION_KIND, str(part.index),
                        part.index, len(keys), json.dumps({
                            "lines": len(lines), "journaled": len(journaled),
                            "files": len(files)}))
            print(f"[{self.run_id}] partition {part.index}: {len(keys):,} documents, "
                  f"{len(lines):,} submitted in {len(files)} batches, {len(journaled):,} "
                  "answered before (answer journal)", file=self.out, flush=True)

    def _partition_documents(self, session: Any, run: RunRecord,
                             part: Partition) -> dict[str, str]:
        """The journal key and document of each of the partition's records that the
        pipeline would send to the LLM (made by the same steps, so the same text)."""
        batches = session_call(session.partition_batches, part)
        tables = [normalize(t, part.index) for b in batches if (t := b.to_arrow()).num_rows]
        if not tables:
            return {}
        table = prepare_batch(
            pa.concat_tables(tables), dsn=self.dsn, schema=self.schema, run_id=self.run_id,
            max_chars=self.cfg.pipeline.max_text_chars,
            duplicate_ids=frozenset(run.duplicate_ids), skip_done=True,
            policy=ScrubPolicy.from_config(self.cfg.scrub))
        return {self.journal.key(d): d for d in sendable_documents(table)}

    def _line(self, key: str, document: str) -> bytes:
        body = request_body(self.llm, first_messages(S.SYSTEM_PROMPT, document))
        return batch_line(key, body, self.url)

    def _submit_file(self, chunk: list[Line], partition: int, round_: int,
                     parent: str | None = None) -> str:
        """Upload, create, record: the row is committed before anything else is sent."""
        data = b"".join(line for _, line in chunk)
        name = f"{self.run_id}-p{partition}-r{round_}-{chunk[0][0][:12]}.jsonl"
        uploaded = self._api("uploading a batch file", lambda: self.client.files.create(
            file=(name, io.BytesIO(data), "application/jsonl"), purpose="batch"))
        self._write(
            "INSERT INTO etl_metadata (run_id, kind, item, state, partition_id, rows_expected, "
            "info) VALUES (%s, %s, %s, 'creating', %s, %s, %s)", self.run_id, INTENT_KIND,
            uploaded.id, partition, len(chunk), json.dumps({
                "input_file_id": uploaded.id, "round": round_, "parent": parent,
                "lines": len(chunk), "bytes": len(data), "first_key": chunk[0][0],
                "last_key": chunk[-1][0]}))
        return self._create(uploaded.id)

    def _create(self, file_id: str) -> str:
        batch = self._api("creating a batch", lambda: self.client.batches.create(
            input_file_id=file_id, endpoint=self.url,  # type: ignore[arg-type]
            completion_window="24h"))
        self._record(file_id, batch.id, batch.status)
        return str(batch.id)

    def _record(self, file_id: str, batch_id: str, status: str) -> None:
        """The batch's row takes its intent's place, in one transaction."""
        self._write(
            "WITH intent AS (DELETE FROM etl_metadata WHERE run_id = %s AND kind = %s "
            "AND item = %s RETURNING partition_id, rows_expected, info) "
            "INSERT INTO etl_metadata (run_id, kind, item, state, partition_id, rows_expected, "
            "info) SELECT %s, %s, %s, %s, partition_id, rows_expected, "
            "info || jsonb_build_object('status', %s::text) FROM intent ON CONFLICT DO NOTHING",
            self.run_id, INTENT_KIND, file_id, self.run_id, KIND, batch_id, SUBMITTED, status)

    def _adopt_intents(self) -> None:
        """Files uploaded by a process killed before their batch's row was committed: the
        batch the service made from each (if it did) is recorded, else created now."""
        def read() -> list[tuple[str, Any]]:
            with connect(self.dsn, self.schema, autocommit=True) as conn:
                return conn.execute(
                    "SELECT item, created_at FROM etl_metadata WHERE run_id = %s AND kind = %s",
                    (self.run_id, INTENT_KIND)).fetchall()

        intents = dict(with_pg_retry(read, "reading the run's batch files"))
        if not intents:
            return
        since = min(intents.values()).timestamp() - 3600
        made: dict[str, Any] = {}

        def find() -> None:
            for batch in self.client.batches.list(limit=100):  # pages on by itself
                if batch.input_file_id in intents:
                    made.setdefault(batch.input_file_id, batch)
                if len(made) == len(intents) or batch.created_at < since:
                    return

        self._api("listing the batches", find)
        for file_id in intents:
            if (batch := made.get(file_id)) is not None:
                self._record(file_id, batch.id, batch.status)
            else:
                self._create(file_id)
            print(f"[{self.run_id}] batch file {file_id}: "
                  + (f"batch {batch.id} found" if batch is not None else "batch created")
                  + " (the last run stopped before recording it)", file=self.out, flush=True)

    # -- poll --------------------------------------------------------------------------
    def poll(self) -> None:
        """Until every recorded batch is collected, resubmitting failed lines once."""
        self._adopt_intents()
        while True:
            waiting = [b for b in self._recorded() if b.state == SUBMITTED]
            if not waiting:
                return
            lines = []
            for rec in waiting:
                batch_id = rec.batch_id
                batch = self._api(f"reading batch {batch_id}",
                                  lambda: self.client.batches.retrieve(batch_id))  # noqa: B023
                counts = batch.request_counts
                done, failed = (counts.completed, counts.failed) if counts else (0, 0)
                lines.append(f"  batch {rec.batch_id} (partition {rec.partition}, round "
                             f"{rec.info.get('round')}): {batch.status}, {done:,}/"
                             f"{rec.info['lines']:,} lines done, {failed:,} failed")
                if batch.status in ENDING:
                    lines.append(self._collect(rec, batch))
            if self.beat is not None:
                self.beat()
            left = sum(1 for b in self._recorded() if b.state == SUBMITTED)
            print(f"[{self.run_id}] Batch API: {len(waiting) - left} of {len(waiting)} "
                  f"batches collected this round, {left} waiting (results within 24 h; "
                  f"killed, `{self.resume_hint or 'backfill run --run-id ' + self.run_id}` "
                  "polls them again)\n" + "\n".join(lines), file=self.out, flush=True)
            if left:
                time.sleep(self.llm.batch_poll_seconds)  # the poll interval, not a sync

    def _collect(self, rec: Recorded, batch: Any) -> str:
        """Journal the batch's valid answers; submit the others once more (round 1 only);
        then mark it collected. Repeating this after a kill journals nothing twice. Returns
        what became of its lines, for the operator."""
        sent = _lines_by_key(self._download(rec.info["input_file_id"]))
        answers = [a for a in _answers(self._download(batch.output_file_id)) if a.key in sent]
        errors = len(_lines_by_key(self._download(batch.error_file_id)))
        if answers:
            def write() -> None:
                with connect(self.dsn, self.schema, autocommit=True) as conn:
                    insert_answers(conn, CHAT, self.llm.deployment, [
                        (a.key, a.extraction_json, None, a.tokens_in, a.tokens_out)
                        for a in answers])

            with_pg_retry(write, "journaling the batch's answers")
        answered = {a.key for a in answers}
        unanswered = sorted(k for k in sent if k not in answered)
        children: list[str] = []
        if unanswered and rec.info.get("round", 1) < ROUNDS:
            for chunk in split_lines([(k, sent[k]) for k in unanswered],
                                     self.llm.batch_max_lines, self.llm.batch_max_bytes):
                children.append(self._submit_file(chunk, rec.partition, rec.info["round"] + 1,
                                                  rec.batch_id))
        info = {"status": batch.status, "answered": len(answered),
                "unanswered": len(unanswered), "error_lines": errors,
                "resubmitted_in": children,
                "prompt_tokens": sum(a.tokens_in for a in answers),
                "completion_tokens": sum(a.tokens_out for a in answers)}
        self._write("UPDATE etl_metadata SET state = %s, rows_ok = %s, rows_failed = %s, "
                    "info = info || %s::jsonb, updated_at = now() WHERE run_id = %s AND "
                    "kind = %s AND item = %s", COLLECTED, len(answered), len(unanswered),
                    json.dumps(info), self.run_id, KIND, rec.batch_id)
        # The provider's "failed" counts its error lines only; a line it completed with a
        # refusal, a cut or an invalid answer is done for it and without an answer for us.
        provider = min(errors, len(unanswered))
        other = len(unanswered) - provider
        why = ", ".join(p for p in (
            f"{provider:,} with a provider error" if provider else "",
            f"{other:,} refused, cut, invalid or not answered" if other else "") if p)
        said = (f"    collected: {len(answered):,} of {len(sent):,} lines answered validly"
                + (f"; {len(unanswered):,} without ({why})" if unanswered else ""))
        if children:
            return said + f", sent once more in {len(children)} batch(es)"
        if unanswered:
            return said + (" a second time: their records become extract/BatchFailed dead "
                           "letters (backfill retry-failed asks for them in real time)")
        return said


def _lines_by_key(data: bytes) -> dict[str, bytes]:
    """The lines of a JSONL file by their custom_id."""
    out: dict[str, bytes] = {}
    for raw in data.splitlines(keepends=True):
        if raw.strip():
            try:
                out[str(json.loads(raw)["custom_id"])] = raw if raw.endswith(b"\n") else raw + b"\n"
            except (ValueError, KeyError, TypeError):
                log.warning("Batch API: a line of %d bytes without a custom_id was skipped",
                            len(raw))
    return out


def _answers(data: bytes) -> list[Answer]:
    """The output file's answers that pass as the extract stage's would (200, a whole
    answer, no refusal, valid against the schema). No repair attempt: an invalid answer is
    a failed line."""
    out = []
    for raw in data.splitlines():
        try:
            line = json.loads(raw)
            response = line["response"]
            if response["status_code"] != 200:
                continue
            body = response["body"]
            choice = body["choices"][0]
            message = choice["message"]
            usage = body.get("usage") or {}
        except (ValueError, KeyError, IndexError, TypeError):
            continue
        if choice.get("finish_reason") in ("content_filter", "length") or message.get("refusal"):
            continue
        try:
            extraction = S.Extraction.model_validate_json(message.get("content") or "")
        except ValidationError:
            continue
        out.append(Answer(str(line["custom_id"]), extraction.model_dump_json(),
                          int(usage.get("prompt_tokens", 0)),
                          int(usage.get("completion_tokens", 0))))
    return out


def run_batches(cfg: Config, dsn: str, run: RunRecord, session: Any, pending: list[Partition],
                out: TextIO, resume_hint: str = "",
                beat: Callable[[], None] | None = None) -> None:
    """The submit and poll phases of a batch-mode run, before its pipeline phase."""
    job = BatchRun(cfg, dsn, run.run_id, out, resume_hint, beat)
    job.submit(session, run, pending)
    job.poll()


def batch_usage(conn: Any, run_id: str) -> dict[str, int]:
    """What the run's batches were billed (from their rows): lines, tokens in and out; and
    ``reused``, the documents not submitted because the journal held their answer."""
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE kind = %(b)s), coalesce(sum(rows_expected) FILTER "
        "(WHERE kind = %(b)s), 0), coalesce(sum((info->>'prompt_tokens')::bigint) FILTER "
        "(WHERE kind = %(b)s), 0), coalesce(sum((info->>'completion_tokens')::bigint) FILTER "
        "(WHERE kind = %(b)s), 0), coalesce(sum((info->>'journaled')::bigint) FILTER "
        "(WHERE kind = %(p)s), 0) FROM etl_metadata WHERE run_id = %(run)s AND kind IN "
        "(%(b)s, %(p)s)", {"b": KIND, "p": PARTITION_KIND, "run": run_id}).fetchone()
    return {"batches": int(row[0]), "lines": int(row[1]), "prompt_tokens": int(row[2]),
            "completion_tokens": int(row[3]), "reused": int(row[4])}
