"""The dry run's estimate: tokens, cost and duration of a planned run, measured on a sample
of the run's own rows put through the job's own steps (validation, scrubber, guard, prompt).

Prompt and embedding tokens are counted with tiktoken on every sampled document, and
carried over to the range by its documents' length, which Snowflake counts for the whole
range in one query (``range_mean``). An answer's length is not known without asking, so a
few sampled documents are sent (``pipeline.dry_run_sample_calls``): their reported ``usage``
gives the answers' length, and the service's own count of the prompts, to which the
tiktoken counts are fitted.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import pyarrow as pa

from backfill import schema as S
from backfill.config import Config
from backfill.embed import Embedder
from backfill.errors import RecordError, TransientError
from backfill.extract import RESPONSE_FORMAT, Extractor
from backfill.limiter import AdaptiveMaxTokens
from backfill.prepare import prepare_batch, sendable_rows
from backfill.scrub import ScrubPolicy
from backfill.source import Partition, normalize, session_call, text_chars
from backfill.tokens import count_tokens, counter

# Tokens that prime the answer ("<|start|>assistant<|message|>"), once per request, as
# OpenAI's cookbook counts a chat prompt.
REPLY_PRIMING_TOKENS = 3
# Fewer answered calls than this fit no slope (see fitted_mean).
MIN_CALLS_TO_FIT = 5


def prompt_tokens(document: str, encoding: str) -> int:
    """``prompt_tokens`` of one extraction request as OpenAI and Azure OpenAI count them:
    the system prompt and the document (each message's tokens plus the chat format's
    overhead per message), the tokens priming the answer, and the response format, whose
    JSON schema the service adds to the prompt. The service's rendering of the schema is
    not published: it is counted as its JSON text (~780 tokens of o200k_base), likely more
    than the service counts; the sample calls' reported usage corrects that.

    The local simulator counts otherwise: characters / 4 of the messages' text, without
    the schema, and characters / 4 of the answer as completion tokens, of each embeddings
    input as its tokens (backfill/devstack/simulator.py). The fit to the sample calls
    absorbs that too.
    """
    return (count_tokens([S.SYSTEM_PROMPT, document], encoding) + REPLY_PRIMING_TOKENS
            + _schema_tokens(encoding))


@lru_cache(maxsize=4)
def _schema_tokens(encoding: str) -> int:
    return counter(encoding).count(json.dumps(RESPONSE_FORMAT["json_schema"]))


def embedding_tokens(document: str, encoding: str) -> int:
    """What an embeddings request reports for one input: its tokens, nothing added."""
    return counter(encoding).count(document)


def fitted_mean(x_mean: float, call_x: Sequence[float],
                call_y: Sequence[float], default_slope: float) -> float:
    """The mean of y over the whole sample, when y is known for the calls only.

    x (our count) is known for every sampled document (its mean: ``x_mean``), y (what the
    service reported) for those sent. The regression estimator carries the calls' mean of y
    over to the whole sample: mean_y(calls) + b * (x_mean - mean_x(calls)), b fitted by
    least squares on the calls, or ``default_slope`` when they are too few or x hardly
    varies (a slope fitted to differences of a token or two says nothing). Measured on the
    demo data (the simulator's answers to 3,000 documents, resampled: 1,000 rows, 20
    calls), the prompt tokens' standard error is 2.4% this way, against 12% for the calls'
    mean alone and 7% for the ratio of the means (our count holds the schema, a constant
    the simulator does not count).
    """
    if not call_y:
        return x_mean
    mx, my = statistics.fmean(call_x), statistics.fmean(call_y)
    slope = default_slope
    if len(call_x) >= MIN_CALLS_TO_FIT:
        vx = statistics.pvariance(call_x, mx)
        if vx > (0.01 * mx) ** 2:
            slope = sum((x - mx) * (y - my) for x, y in zip(call_x, call_y, strict=True)) / (
                len(call_x) * vx)
    return max(0.0, my + slope * (x_mean - mx))


@dataclass(frozen=True)
class SampleLengths:
    """The free-text length (``source.text_chars``) of each sampled row, the row of each
    sendable document, and the range's mean length as Snowflake counted it."""

    row_chars: list[int]
    sent_rows: list[int]
    range_mean: float

    @property
    def sample_mean(self) -> float:
        return statistics.fmean(self.row_chars) if self.row_chars else 0.0

    def range_mean_of(self, per_document: Sequence[float]) -> float:
        """A per-document count's mean over the range's sendable records.

        The regression estimator again, over the sampled rows (a row not sent counts 0):
        mean + b * (range's mean length - sample's), b fitted by least squares. Seen on the
        demo data: four pasted logs of ~3,300 tokens among 3,000 documents of 118 on
        average, of which a 1,000-row sample drew none to four, put the sample's mean
        embedding tokens anywhere from -0.6% to +16.2% of the run's; their length is in the
        range's mean whether the sample drew them or not."""
        per_row = [0.0] * len(self.row_chars)
        for row, value in zip(self.sent_rows, per_document, strict=True):
            per_row[row] = value
        if not per_row or not self.sent_rows:
            return 0.0
        share = len(self.sent_rows) / len(per_row)
        return fitted_mean(self.range_mean, self.row_chars, per_row, 0.0) / share


@dataclass(frozen=True)
class SampleCalls:
    """What the sample requests reported: per answered document, our prompt count (x) and
    the reported prompt and completion tokens; per document the embedding API took, our
    count and the reported one."""

    counted: list[int]
    prompt: list[int]
    completion: list[int]
    failed: int = 0
    embedding_counted: list[int] = field(default_factory=list)
    embedding_reported: list[int] = field(default_factory=list)

    def embedding_ratio(self) -> float | None:
        """The service's count over ours, per document, the median: one long pasted log
        that a tokenizer counts very differently (seen: 0.6 where the others are 1.03)
        must not set the ratio for the thousand documents of the sample, as it did when
        the sample's inputs went in one request and only their sum was known."""
        pairs = [r / c for c, r in zip(self.embedding_counted, self.embedding_reported,
                                       strict=True) if c]
        return statistics.median(pairs) if pairs else None


async def call_sample(cfg: Config, documents: list[str]) -> SampleCalls:
    """Send ``documents`` (scrubbed, past the guard) to the LLM, one extraction request each,
    and to the embedding model (one request each too), with the job's own code (same body, client
    and retries; no quota). A document the LLM refuses counts as failed; an error that
    stops the job (a SystemicError) stops the dry run."""
    if not documents:
        return SampleCalls([], [], [])
    enc = cfg.llm.encoding()
    extractor = Extractor(cfg.llm)
    try:
        answers = await asyncio.gather(
            *(extractor.extract_one(d) for d in documents), return_exceptions=True)
    finally:
        await extractor.api.aclose()
    counted, prompt, completion, failed = [], [], [], 0
    for doc, answer in zip(documents, answers, strict=True):
        if isinstance(answer, RecordError | TransientError):
            failed += 1
        elif isinstance(answer, BaseException):
            raise answer
        else:
            counted.append(prompt_tokens(doc, enc))
            prompt.append(answer[1])
            completion.append(answer[2])
    # One embeddings request per document (a tiny cost over one request for
    # all): the API reports usage per request, and only per document can the fit see past
    # an input its tokenizer counts unlike ours. An input the API rejects (the job
    # dead-letters it) is left out of the fit; the others still count.
    emb_enc = cfg.embedding.encoding()
    emb_counted, emb_reported = [], []
    embedder = Embedder(cfg.embedding)
    try:
        for doc in documents:
            before = embedder.api.usage.prompt_tokens
            (vector,) = await embedder.embed_chunk([doc])
            reported = embedder.api.usage.prompt_tokens - before
            if not isinstance(vector, Exception) and reported:
                emb_counted.append(embedding_tokens(doc, emb_enc))
                emb_reported.append(reported)
    finally:
        await embedder.api.aclose()
    return SampleCalls(counted, prompt, completion, failed, emb_counted, emb_reported)


def sample_documents(cfg: Config, session: Any, start: Any, end: Any,
                     duplicate_ids: frozenset[str], range_rows: int,
                     ) -> tuple[int, list[str], SampleLengths | None]:
    """Read ``pipeline.dry_run_sample_rows`` rows at random from ``[start, end)`` and make
    their documents as the job does (prepare_batch: validation, duplicate ids, scrubber,
    truncation). Return the rows read, the documents that would be sent (the rows that
    pass validation and the guard, backfill.guard, the job's last check before a request)
    and their lengths against the range's; when the sample holds fewer rows than the range
    (``range_rows``), Snowflake counts the range's length (``SnowflakeSession.text_length``)."""
    max_chars = cfg.pipeline.max_text_chars
    batches = session_call(session.sample_batches, start, end, cfg.pipeline.dry_run_sample_rows)
    tables = [normalize(t, -1) for b in batches if (t := b.to_arrow()).num_rows]
    if not tables:
        return 0, [], None
    table = prepare_batch(pa.concat_tables(tables), dsn="", schema="", run_id="",
                          max_chars=max_chars, duplicate_ids=duplicate_ids,
                          skip_done=False, policy=ScrubPolicy.from_config(cfg.scrub))
    sent = sendable_rows(table)
    row_chars = text_chars(table, max_chars)
    range_mean = statistics.fmean(row_chars)
    if table.num_rows < range_rows:
        rows, chars = session_call(session.text_length, start, end, max_chars)
        range_mean = chars / rows if rows else range_mean
    lengths = SampleLengths(row_chars, [i for i, _ in sent], range_mean)
    return table.num_rows, [d for _, d in sent], lengths


@dataclass(frozen=True)
class Estimate:
    """What a run will use: per record, in total, at what cost and in how long at least.
    Token figures are what the services will report (``usage``), not our count."""

    partitions: int
    records: int
    sampled_rows: int
    sent_share: float  # of the sampled rows, the share that reaches the LLM
    calls: int  # sample requests answered
    failed_calls: int
    llm_records: int  # records the run will send to the LLM
    prompt_per_record: float
    counted_prompt_per_record: float  # tiktoken's count (prompt_tokens), before the fit
    completion_per_record: float
    completion_from: str  # "sample calls" | "preflight"
    embedding_per_record: float
    prompt_tokens: int
    completion_tokens: int
    embedding_tokens: int
    sample_prompt_tokens: int  # what the sample calls themselves used
    sample_completion_tokens: int
    llm_cost: float | None
    embedding_cost: float | None
    minutes: dict[str, float]  # each quota's bound on the duration
    # max_tokens each chat request will be charged at admission (fitted, or the cap)
    max_tokens_charged: int = 0
    # free-text characters per row: the sample's mean and the range's (Snowflake's count)
    sample_chars_per_row: float = 0.0
    range_chars_per_row: float = 0.0

    @property
    def duration_minutes(self) -> float:
        """The binding bound: the stages run side by side, each within its quota; Azure
        admits a chat request by its prompt plus max_tokens (llm_tokens_admitted)."""
        return max((v for k, v in self.minutes.items() if k != "llm_tokens_used"), default=0.0)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "duration_minutes": self.duration_minutes}

    def llm_cost_by_mode(self, batch_price_factor: float) -> dict[str, float | None]:
        """The LLM's cost in real time and through the Batch API."""
        return {"realtime": self.llm_cost, "batch": None if self.llm_cost is None
                else self.llm_cost * batch_price_factor}


def estimate(cfg: Config, parts: list[Partition], sampled_rows: int, documents: list[str],
             calls: SampleCalls, preflight_answer_tokens: int,
             lengths: SampleLengths | None = None) -> Estimate:
    """The estimate from the sample's documents and what the sample calls reported;
    ``lengths`` carries the documents' token counts over to the range by its length."""
    llm_enc, emb_enc = cfg.llm.encoding(), cfg.embedding.encoding()
    counted = [float(prompt_tokens(d, llm_enc)) for d in documents]
    counted_emb = [float(embedding_tokens(d, emb_enc)) for d in documents]

    def range_mean(per_document: list[float]) -> float:
        if lengths is not None:
            return lengths.range_mean_of(per_document)
        return statistics.fmean(per_document) if per_document else 0.0

    counted_mean = range_mean(counted)
    share = len(documents) / sampled_rows if sampled_rows else 0.0
    # Rows without a timestamp lie in no range and fail validation: they cost no request.
    per_part = [0 if p.null_timestamps else round(p.rows * share) for p in parts]
    llm_records = sum(per_part)
    answered = len(calls.prompt)
    if answered:
        prompt = fitted_mean(counted_mean, calls.counted, calls.prompt, 1.0)
        completion = fitted_mean(counted_mean, calls.counted, calls.completion, 0.0)
    else:
        prompt = counted_mean
        completion = float(preflight_answer_tokens)
    emb = range_mean(counted_emb)
    if (ratio := calls.embedding_ratio()) is not None:
        emb *= ratio
    # A record the LLM refused is not embedded.
    embedded = llm_records * (answered / (answered + calls.failed) if answered else 1.0)
    totals = (round(llm_records * prompt), round(llm_records * completion), round(embedded * emb))
    charged = charged_max_tokens(cfg, calls.completion)
    return Estimate(
        partitions=len(parts), records=sum(p.rows for p in parts), sampled_rows=sampled_rows,
        sent_share=share, calls=answered, failed_calls=calls.failed, llm_records=llm_records,
        prompt_per_record=prompt,
        counted_prompt_per_record=counted_mean,
        completion_per_record=completion,
        completion_from="sample calls" if answered else "preflight",
        embedding_per_record=emb, prompt_tokens=totals[0], completion_tokens=totals[1],
        embedding_tokens=totals[2], sample_prompt_tokens=sum(calls.prompt),
        sample_completion_tokens=sum(calls.completion),
        llm_cost=cfg.llm.cost(totals[0], totals[1]), embedding_cost=cfg.embedding.cost(totals[2]),
        minutes=quota_minutes(cfg, per_part, prompt, completion, totals[2], charged),
        max_tokens_charged=charged,
        sample_chars_per_row=lengths.sample_mean if lengths else 0.0,
        range_chars_per_row=lengths.range_mean if lengths else 0.0,
    )


def charged_max_tokens(cfg: Config, answers: list[int]) -> int:
    """The ``max_tokens`` the run's requests will be charged: fitted to the sample calls'
    answers as the extract stage fits it (``llm.adaptive_max_tokens``), else the cap."""
    llm = cfg.llm
    if not llm.adaptive_max_tokens or not answers:
        return llm.max_output_tokens
    return AdaptiveMaxTokens.fitted(llm.max_output_tokens, answers)


def quota_minutes(cfg: Config, records: list[int], prompt: float, completion: float,
                  embedding_tokens: int, max_tokens: int | None = None) -> dict[str, float]:
    """Minutes each configured limit needs for the run (``records``: per partition;
    ``max_tokens``: what each chat request is charged beyond its prompt, by default
    ``llm.max_output_tokens``)."""
    llm, emb = cfg.llm, cfg.embedding
    n = sum(records)
    charged = llm.max_output_tokens if max_tokens is None else max_tokens
    # The embed stage gets blocks of pipeline.batch_size rows (a partition's last one
    # smaller) and sends at most embedding.batch_size inputs per request.
    per_request = min(emb.batch_size, cfg.pipeline.batch_size)
    emb_requests = sum(math.ceil(r / per_request) for r in records)
    return {
        "llm_requests": n / llm.requests_per_minute,
        # Azure admits a request against the TPM limit by its prompt plus max_tokens (the
        # answer is not known yet): that is the bound a deployment enforces.
        "llm_tokens_admitted": n * (prompt + charged) / llm.tokens_per_minute,
        # The same with the answers' real length: the bound if only used tokens counted.
        "llm_tokens_used": n * (prompt + completion) / llm.tokens_per_minute,
        "embedding_requests": emb_requests / emb.requests_per_minute,
        "embedding_tokens": embedding_tokens / emb.tokens_per_minute,
    }


def dry_run_estimate(cfg: Config, session: Any, start: Any, end: Any, parts: list[Partition],
                     duplicate_ids: frozenset[str], preflight_answer_tokens: int) -> Estimate:
    """Sample the range, send a few of its documents, estimate. Writes nothing."""
    range_rows = sum(p.rows for p in parts if not p.null_timestamps)
    rows, documents, lengths = (sample_documents(cfg, session, start, end, duplicate_ids,
                                                 range_rows)
                                if range_rows else (0, [], None))
    k = min(cfg.pipeline.dry_run_sample_calls, len(documents))
    # The sample comes in no particular order (maybe the table's): draw the calls from it.
    sent = random.Random(0).sample(documents, k)
    calls = asyncio.run(call_sample(cfg, sent))
    return estimate(cfg, parts, rows, documents, calls, preflight_answer_tokens, lengths)


def _max_tokens_text(cfg: Config, est: Estimate) -> str:
    charged = est.max_tokens_charged or cfg.llm.max_output_tokens
    if charged == cfg.llm.max_output_tokens:
        return str(charged)
    return (f"{charged}, fitted to the sample's answers as the run fits it; "
            f"llm.max_output_tokens {cfg.llm.max_output_tokens}")


def _duration(minutes: float) -> str:
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    return f"{minutes:,.1f} min" if minutes < 90 else f"{minutes / 60:,.1f} h"


def _cost_text(cfg: Config, est: Estimate) -> str:
    if est.llm_cost is None and est.embedding_cost is None:
        return ("cost: no prices configured; set llm.input_price_per_million and "
                "llm.output_price_per_million, and embedding.input_price_per_million")
    parts = []
    if est.llm_cost is not None:
        parts.append(f"LLM {est.llm_cost:,.2f} (llm.input_price_per_million "
                     f"{cfg.llm.input_price_per_million}, output_price_per_million "
                     f"{cfg.llm.output_price_per_million or 0})")
    else:
        parts.append("LLM: no price (set llm.input_price_per_million, "
                     "llm.output_price_per_million)")
    if est.embedding_cost is not None:
        parts.append(f"embedding {est.embedding_cost:,.2f} (embedding.input_price_per_million "
                     f"{cfg.embedding.input_price_per_million})")
    else:
        parts.append("embedding: no price (set embedding.input_price_per_million)")
    total = (est.llm_cost or 0.0) + (est.embedding_cost or 0.0)
    text = f"cost: {total:,.2f} in all; " + "; ".join(parts)
    if est.llm_cost is not None:  # both modes, whichever llm.mode says
        batch = est.llm_cost * cfg.llm.batch_price_factor + (est.embedding_cost or 0.0)
        text += (f"\n  by mode: realtime {total:,.2f}; batch {batch:,.2f} (the LLM at "
                 f"llm.batch_price_factor {cfg.llm.batch_price_factor:g}, answers within 24 h, "
                 f"embeddings in real time); this run: llm.mode {cfg.llm.mode}")
    return text


def report_text(cfg: Config, parts: list[Partition], est: Estimate) -> str:
    """The dry run's report: plan, sample, tokens, cost, duration. Figures only, never text."""
    llm, emb, m = cfg.llm, cfg.embedding, est.minutes
    lines = [f"dry run: {est.partitions} partitions, {est.records:,} records"]
    lines += [f"  partition {p.index}: {p.describe()} {p.rows:,} rows" for p in parts[:20]]
    if len(parts) > 20:
        lines.append(f"  ... {len(parts) - 20} more partitions")
    lines.append(
        f"sample: {est.sampled_rows:,} rows read at random from the range; "
        f"{est.sent_share:.1%} of them reach the LLM (the others fail validation, are "
        "duplicate ids or are stopped by the PHI guard)")
    if est.range_chars_per_row:
        lines.append(
            f"  free text per row: {est.sample_chars_per_row:,.0f} characters in the sample, "
            f"{est.range_chars_per_row:,.0f} in the range (Snowflake's count); token counts "
            "are carried over to the range's length")
    if est.calls or est.failed_calls:
        lines.append(
            f"  {est.calls + est.failed_calls} sent to {llm.deployment} ({est.failed_calls} "
            f"failed) and to {emb.deployment}, scrubbed and checked as in the job; they used "
            f"{est.sample_prompt_tokens:,} prompt and {est.sample_completion_tokens:,} "
            "completion tokens")
    else:
        lines.append(
            "  none sent (pipeline.dry_run_sample_calls 0): prompts as tiktoken counts them, "
            "answers as long as preflight's one synthetic work order's")
    lines.append(
        f"tokens per record: LLM {est.prompt_per_record:,.0f} in, "
        f"{est.completion_per_record:,.0f} out; embedding {est.embedding_per_record:,.0f} "
        f"(tiktoken counts {est.counted_prompt_per_record:,.0f} in, the JSON schema included"
        + ("; fitted to the service's own count on the sample calls)" if est.calls else ")"))
    lines.append(
        f"tokens in all, {est.llm_records:,} records to the LLM: {est.prompt_tokens:,} in, "
        f"{est.completion_tokens:,} out; embedding {est.embedding_tokens:,}")
    lines.append(_cost_text(cfg, est))
    lines.append(
        f"duration at the configured quota: at least {_duration(est.duration_minutes)}")
    lines.append(
        f"  LLM: {est.llm_records:,} requests at {llm.requests_per_minute:,}/min: "
        f"{_duration(m['llm_requests'])}; prompt + max_tokens ({_max_tokens_text(cfg, est)}) at "
        f"{llm.tokens_per_minute:,} tokens/min: {_duration(m['llm_tokens_admitted'])} (Azure "
        "admits a request by its prompt plus max_tokens; with the answers' real length: "
        f"{_duration(m['llm_tokens_used'])})")
    lines.append(
        f"  embedding: requests of up to {min(emb.batch_size, cfg.pipeline.batch_size)} inputs "
        f"at {emb.requests_per_minute:,}/min: {_duration(m['embedding_requests'])}; "
        f"{est.embedding_tokens:,} tokens at {emb.tokens_per_minute:,}/min: "
        f"{_duration(m['embedding_tokens'])}")
    lines.append("nothing was written")
    return "\n".join(lines)
