"""Stage 3 (async actor pool): structured extraction of each work order by the LLM.

The answer must validate against ``schema.Extraction`` (sent as a strict JSON schema). An
invalid answer gets one repair attempt; a refusal, a content-filter verdict or a second
invalid answer makes the record a failed record, never a failed block.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pyarrow as pa
from openai.lib._pydantic import to_strict_json_schema  # the schema `parse()` sends
from pydantic import ValidationError

from backfill import schema as S
from backfill.config import LLMConfig
from backfill.errors import RecordError, SystemicError, TransientError
from backfill.grounding import grounding_warnings
from backfill.guard import check_outgoing, is_guarded
from backfill.journal import Journal, JournalTarget, Stored
from backfill.limiter import AdaptiveMaxTokens, next_batch_priority
from backfill.openai_client import Deployment, quiet_unclosed_sessions
from backfill.outcomes import Breaker, apply_outcomes

RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "work_order_extraction",
        "strict": True,
        "schema": to_strict_json_schema(S.Extraction),
    },
}


def first_messages(system_prompt: str, document: str) -> list[dict[str, Any]]:
    """The messages of a record's first request: the system prompt and the document."""
    return [{"role": "system", "content": system_prompt}, {"role": "user", "content": document}]


def request_body(cfg: LLMConfig, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The body of one extraction request: what the real-time API is sent, and each line of
    a batch input file carries (backfill.batch), so that both get the same answer."""
    return {
        "model": cfg.deployment,
        "messages": messages,
        "response_format": RESPONSE_FORMAT,
        "temperature": cfg.temperature,
        "max_tokens": cfg.max_output_tokens,
    }


# failed_records.error_class of a batch-mode record left without an answer (backfill.batch)
BATCH_FAILED = "BatchFailed"


class Extractor:
    """Ray Data callable class: one async client, many requests in flight.

    ``journal_only`` (``llm.mode: batch``): the answers were asked through the Batch API
    before the pipeline ran and wait in the journal; a record without one is dead-lettered
    as extract/BatchFailed instead of being sent to the real-time API."""

    def __init__(self, cfg: LLMConfig, quota: Any = None, actors: int = 1,
                 retrying: bool = False, usage: Any = None,
                 prompt_version: str = S.PROMPT_VERSION,
                 journal: JournalTarget | None = None, journal_only: bool = False,
                 seed_answer_tokens: int = 0,
                 watch: tuple[str, str] | None = None) -> None:
        self.cfg = cfg
        self.journal_only = journal_only and journal is not None
        # another version than the current one only for `backfill eval --prompt-version`
        self.system_prompt = S.PROMPTS[prompt_version]
        self.journal = Journal.for_chat(journal, cfg.deployment) if journal else None
        self.api = Deployment(cfg, quota, actors, "extract", watch)
        self.max_tokens = AdaptiveMaxTokens(cfg.max_output_tokens, cfg.adaptive_max_tokens,
                                            seed_answer_tokens)
        # The strict schema and the system prompt travel with every request: counted once.
        self.fixed_tokens = self.api.tokens([json.dumps(RESPONSE_FORMAT), self.system_prompt])
        self.breaker = Breaker(self.api, count_rejections=not retrying)
        self.api.ledger = usage  # the run's usage.UsageLedger

    async def _ask(self, messages: list[dict[str, Any]], at_cap: bool = False,
                   key: str = "") -> tuple[str, int, int]:
        # messages[0] is the system prompt, counted in fixed_tokens
        texts = [m["content"] for m in messages[1:]]
        # The last check on what leaves: the document and, on a repair, the model's answer
        # sent back with it (RecordError scrub/PHIGuard, naming kinds, never values).
        check_outgoing(texts, "the LLM")
        counted = self.api.tokens(texts) + self.fixed_tokens
        prompt = self.api.fitted(counted)
        body = request_body(self.cfg, messages)

        def charge() -> int:
            """Azure admits the request against prompt + max_tokens; the limit is taken
            when the request leaves, so that it follows the answers seen meanwhile."""
            nonlocal prompt
            if not at_cap:
                body["max_tokens"] = self.max_tokens.limit
            prompt = self.api.fitted(counted)
            return prompt + int(body["max_tokens"])

        raw = await self.api.post("/chat/completions", body, charge, (
            self.journal.in_flight([key]) if key and self.journal is not None else None))
        limit = int(body["max_tokens"])
        try:
            answer = raw.json()
            choice = answer["choices"][0]
            message = choice["message"]
            usage = answer.get("usage") or {}
            tin, tout = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise RecordError(
                "extract", "MalformedResponse",
                f"{type(exc).__name__} reading an answer of {len(raw.content):,} bytes "
                f"(HTTP {raw.status_code}, request id {raw.headers.get('x-request-id', '-')})"
            ) from None
        finish = choice.get("finish_reason")
        if usage:
            self.api.correct(prompt + limit, tin + limit)
            self.api.fit(counted, tin)
            self.api.count_usage(tin, tout)
            if finish != "length":
                self.max_tokens.observe(tout)
        if finish == "content_filter":
            raise RecordError("extract", "ContentFilter", "answer withheld by the content filter")
        if message.get("refusal"):
            # The refusal's words may quote the work order: stored is that it refused.
            raise RecordError("extract", "Refusal", "the model refused to answer "
                              f"({len(str(message['refusal']))} characters of refusal)")
        if finish == "length" and limit < self.cfg.max_output_tokens:
            # cut at the fitted limit: once more at the configured one
            self.max_tokens.cut += 1
            content, tin2, tout2 = await self._ask(messages, at_cap=True, key=key)
            return content, tin + tin2, tout + tout2
        if finish == "length":
            raise RecordError(
                "extract",
                "AnswerTooLong",
                f"answer exceeded llm.max_output_tokens={self.cfg.max_output_tokens}",
            )
        return message.get("content") or "", tin, tout

    async def extract_one(self, document: str) -> tuple[str, int, int]:
        """Return (JSON of extraction and warnings, input tokens, output tokens)."""
        extraction, tin, tout = await self.ask(document)
        return _outcome(extraction, document, tin, tout)

    async def ask(self, document: str, key: str = "") -> tuple[S.Extraction, int, int]:
        """The model's valid extraction of ``document`` (one repair attempt), and its tokens.
        ``key``: its journal key, recorded in flight before a request leaves."""
        messages = first_messages(self.system_prompt, document)
        content, tin, tout = await self._ask(messages, key=key)
        try:
            extraction = S.Extraction.model_validate_json(content)
        except ValidationError as first:
            # One repair attempt: show the model its answer and what was wrong with it.
            messages += [
                {"role": "assistant", "content": content},
                {
                    "role": "user",
                    "content": "That answer is invalid: "
                    f"{_short_errors(first)}. Answer again with JSON matching the schema.",
                },
            ]
            content, tin2, tout2 = await self._ask(messages, key=key)
            tin, tout = tin + tin2, tout + tout2
            try:
                extraction = S.Extraction.model_validate_json(content)
            except ValidationError as second:
                kind = "InvalidJSON" if _is_json_error(second) else "SchemaViolation"
                raise RecordError(
                    "extract", kind, f"after one repair: {_short_errors(second)}"
                ) from None
        return extraction, tin, tout

    async def _guarded(self, document: str, key: str = "", stored: Stored | None = None,
                       left: set[str] | None = None) -> tuple[str, int, int] | Exception:
        """One record's outcome; a SystemicError (from the API or the breaker) stops the job.
        A journaled answer (``stored``) is taken instead of a request if it still passes.
        ``left``: gets the key of a failed request left in flight for the sink to settle."""
        try:
            if stored is not None and (reused := _reuse(stored, document)) is not None:
                if not self.journal_only:  # batch mode: the Batch API's answer, not reuse
                    self.api.usage.reused += 1
                return reused
            if self.journal_only:
                return _batch_failed(document)
            extraction, tin, tout = await self.ask(document, key)
        except (RecordError, TransientError, SystemicError) as exc:
            # answered with an error, or given up: the record's dead letter settles it
            if self.journal is not None and self.journal.settle(
                    key, failed=not isinstance(exc, SystemicError)) and left is not None:
                left.add(key)
            if isinstance(exc, SystemicError):
                raise
            if not is_guarded(exc):  # nothing was sent: it says nothing about the API
                self.breaker.failed(exc, document)
            return exc
        self.breaker.passed()
        if self.journal is not None:
            self.journal.add_chat(key, extraction.model_dump_json(), tin, tout)
        return _outcome(extraction, document, tin, tout)

    async def __call__(self, table: pa.Table) -> pa.Table:
        quiet_unclosed_sessions()
        next_batch_priority()  # this batch's requests go before those of later ones
        status = table.column(S.STATUS).to_pylist()
        docs = table.column(S.DOCUMENT).to_pylist()
        todo = [i for i, s in enumerate(status) if s == S.OK]
        keys, stored = ([""] * len(todo), {}) if self.journal is None else (
            await self.journal.lookup([docs[i] for i in todo]))
        # Records with the same document in one batch (templated preventive-maintenance
        # orders) are asked once: the journal would only find the answer of the first
        # after both were paid for.
        first: dict[str, int] = {}
        for n, i in enumerate(todo):
            first.setdefault(docs[i], n)
        asked = sorted(first.values())
        left: set[str] = set()
        answers = await asyncio.gather(*(self._guarded(docs[todo[n]], keys[n],
                                                       stored.get(keys[n]), left)
                                         for n in asked))
        by_document = {docs[todo[n]]: a for n, a in zip(asked, answers, strict=True)}
        results = [by_document[docs[i]] for i in todo]
        if not self.journal_only:
            self.api.usage.reused += len(todo) - len(asked)
        if self.journal is not None:
            await self.journal.flushed()  # what leaves the actor is journaled
            self.api.usage.add(self.journal.take_paid_twice())
        await self.api.hand_usage()
        return apply_outcomes(
            table,
            todo,
            results,
            {
                S.EXTRACTION: pa.string(),
                S.TOKENS_IN: pa.int32(),
                S.TOKENS_OUT: pa.int32(),
            },
            {i: keys[n] for n, i in enumerate(todo) if keys[n] in left},
        )


def _outcome(extraction: S.Extraction, document: str, tin: int,
             tout: int) -> tuple[str, int, int]:
    """The stage's result for a record: JSON of the extraction and its grounding warnings."""
    doc = {
        "extraction": extraction.model_dump(mode="json"),
        "warnings": grounding_warnings(extraction, document),
    }
    return json.dumps(doc), tin, tout


def _reuse(stored: Stored, document: str) -> tuple[str, int, int] | None:
    """A journaled answer through the checks a fresh one passes (the guard on the document,
    validation, grounding); None if it no longer validates: the model is asked again."""
    check_outgoing([document], "the LLM")
    try:
        extraction = S.Extraction.model_validate_json(stored.answer or "")
    except ValidationError:
        return None
    return _outcome(extraction, document, stored.input_tokens, stored.output_tokens)


def _batch_failed(document: str) -> RecordError:
    """A batch-mode record without a journaled answer: its batch line failed twice (or was
    never answered). The guard's verdict first: a document it stops was never submitted."""
    check_outgoing([document], "the LLM")
    return RecordError("extract", BATCH_FAILED, "no answer from the Batch API for this "
                       "document (its line failed, was resubmitted once and failed again)")


def _short_errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:5]
    )[:1000]


def _is_json_error(exc: ValidationError) -> bool:
    return any(e["type"] == "json_invalid" for e in exc.errors())
