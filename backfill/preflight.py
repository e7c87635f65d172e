"""Before a run plans anything: one chat request and one embeddings request, sent by the
stages' own code (same body, same client, same retries, no quota), prove that both
deployments exist, take our parameters and JSON schema, answer what ``schema.Extraction``
accepts, and return vectors of ``embedding.dimensions``.

Without it a wrong deployment name or a parameter the model refuses is learnt only from the
pipeline's first answers, after Snowflake is read and actors are started; an error that
is not systemic by its code is learnt after a streak of dead-lettered records.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from backfill.config import Config
from backfill.embed import Embedder
from backfill.errors import FatalError, RecordError, RejectedRequest, TransientError
from backfill.extract import Extractor
from backfill.openai_client import Deployment, config_keys
from backfill.usage import merge

# Synthetic, with no identifier in it: it leaves the network without passing the scrubber.
SAMPLE_WORK_ORDER = (
    "Infusion pump in the ICU alarmed with an occlusion error during a routine check. "
    "Technician found a kinked pressure sensor line, replaced the pressure sensor and "
    "the door latch, ran a flow-rate calibration and returned the pump to service."
)


@dataclass(frozen=True)
class PreflightResult:
    """What the two requests measured (seconds include our retries, if any)."""

    llm_seconds: float
    embedding_seconds: float
    llm_answer_tokens: int
    # what the two requests were billed, by deployment (usage.FIELDS)
    usage: dict[str, dict[str, int]] = field(default_factory=dict)


def preflight(cfg: Config) -> PreflightResult:
    """Check both deployments with one request each; raise ``FatalError`` naming the
    deployment (name and endpoint), what failed and the config keys to check."""
    return asyncio.run(check_deployments(cfg))


async def check_deployments(cfg: Config) -> PreflightResult:
    extractor = Extractor(cfg.llm)
    try:
        started = time.monotonic()
        with _stopping(extractor.api, "the chat request"):
            _, _, answer_tokens = await extractor.extract_one(SAMPLE_WORK_ORDER)
        llm_seconds = time.monotonic() - started
    finally:
        await extractor.api.aclose()
    embedder = Embedder(cfg.embedding)
    try:
        started = time.monotonic()
        with _stopping(embedder.api, "the embeddings request"):
            await embedder.embed([SAMPLE_WORK_ORDER])  # checks the vectors' size
        embedding_seconds = time.monotonic() - started
    finally:
        await embedder.api.aclose()
    return PreflightResult(llm_seconds, embedding_seconds, answer_tokens,
                           merge(_billed(extractor.api), _billed(embedder.api)))


def _billed(api: Deployment) -> dict[str, dict[str, int]]:
    api.usage.rate_limited += api.pacer.rate_limited
    return {api.cfg.deployment: api.usage.take()}


@contextlib.contextmanager
def _stopping(api: Deployment, what: str) -> Iterator[None]:
    """Turn what one preflight request raised into a ``FatalError`` for the operator."""
    section = "llm" if api.stage == "extract" else "embedding"
    try:
        yield
    except FatalError as exc:  # SystemicError: already names the keys to check
        raise FatalError(f"preflight, {what}: {exc.message}", dependency=api.name) from exc
    except TransientError as exc:
        raise FatalError(
            f"preflight, {what} failed after {api.cfg.max_retries} retries: {exc}. "
            f"Check {section}.endpoint (reachable?) or try again later.",
            dependency=api.name,
        ) from exc
    except RecordError as exc:
        keys = config_keys(api.stage, 400, exc.param if isinstance(exc, RejectedRequest) else "")
        if api.stage == "extract":
            keys += ", llm.max_output_tokens"
        raise FatalError(
            f"preflight, {what} with a sample work order: {exc}. The deployment does not "
            f"answer as the job needs (structured output matching schema.Extraction). "
            f"Check {keys}.",
            dependency=api.name,
        ) from exc
