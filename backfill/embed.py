"""Stage 4 (async actor pool): embeddings of the scrubbed documents, batched per request.

A batch the API rejects is bisected, one half after the other, so that one bad input fails
only its own record at the cost of about 2*log2(batch) requests (17 for 256), not one
request per input.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

import numpy as np
import pyarrow as pa

from backfill import schema as S
from backfill.config import EmbeddingConfig
from backfill.errors import RecordError, SystemicError, TransientError
from backfill.guard import check_outgoing
from backfill.journal import Journal, JournalTarget
from backfill.limiter import next_batch_priority
from backfill.local_embed import LocalDeployment
from backfill.openai_client import Deployment, quiet_unclosed_sessions
from backfill.outcomes import Breaker, apply_outcomes


def _vector(embedding: str | list[float]) -> np.ndarray:
    """A vector from the answer: base64 of little-endian float32 (what we ask for), or a
    JSON list from a server that ignores ``encoding_format``."""
    if isinstance(embedding, str):
        return np.frombuffer(base64.b64decode(embedding), dtype="<f4")
    return np.asarray(embedding, dtype=np.float32)


class Embedder:
    """Ray Data callable class: batched embedding requests, several in flight."""

    def __init__(self, cfg: EmbeddingConfig, quota: Any = None, actors: int = 1,
                 retrying: bool = False, usage: Any = None,
                 journal: JournalTarget | None = None,
                 watch: tuple[str, str] | None = None) -> None:
        self.cfg = cfg
        self.journal = (Journal.for_embedding(journal, cfg.deployment, cfg.dimensions)
                        if journal else None)
        self.api = (LocalDeployment(cfg) if cfg.provider == "local"
                    else Deployment(cfg, quota, actors, "embed", watch))
        self.breaker = Breaker(self.api, count_rejections=not retrying)
        self.api.ledger = usage  # the run's usage.UsageLedger

    async def embed(self, texts: list[str], keys: list[str] | None = None) -> list[np.ndarray]:
        """The vectors of ``texts``: one embeddings request (the body every request of the
        job sends), or the local model (embedding.provider local). ``keys``: their journal
        keys, recorded in flight before the request leaves."""
        if isinstance(self.api, LocalDeployment):
            vectors = await self.api.encode(texts)
        else:
            vectors = await self._request(texts, keys or [])
        for v in vectors:
            if v.shape != (self.cfg.dimensions,):
                # Every vector of this deployment will have that size: the config's fault.
                raise SystemicError(
                    f"answered vectors of {v.shape[0]} dimensions, embedding.dimensions is "
                    f"{self.cfg.dimensions}. Check embedding.dimensions and "
                    "embedding.deployment (a model that ignores 'dimensions'?).",
                    dependency=self.api.name,
                )
        return vectors

    async def _request(self, texts: list[str], keys: list[str]) -> list[np.ndarray]:
        estimate = self.api.tokens(texts)
        body = {
            "model": self.cfg.deployment,
            "input": texts,
            "dimensions": self.cfg.dimensions,
            "encoding_format": "base64",
        }
        raw = await self.api.post("/embeddings", body, estimate, (
            self.journal.in_flight(keys) if keys and self.journal is not None else None))
        try:
            answer = raw.json()
            data = sorted(answer["data"], key=lambda d: d["index"])
            vectors = [_vector(d["embedding"]) for d in data]
            usage = answer.get("usage") or {}
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise RecordError(
                "embed", "MalformedResponse",
                f"{type(exc).__name__} reading an answer of {len(raw.content):,} bytes "
                f"(HTTP {raw.status_code}, request id {raw.headers.get('x-request-id', '-')})"
            ) from None
        if len(vectors) != len(texts):
            raise RecordError(
                "embed", "MalformedResponse", f"{len(vectors)} vectors for {len(texts)} inputs"
            )
        if "total_tokens" in usage:
            self.api.correct(estimate, int(usage["total_tokens"]))
            self.api.count_usage(int(usage["total_tokens"]), 0)
        return vectors

    async def embed_chunk(self, texts: list[str], keys: list[str] | None = None
                          ) -> list[np.ndarray | Exception]:
        try:
            vectors: list[np.ndarray | Exception] = list(await self.embed(texts, keys))
        except SystemicError:
            if self.journal is not None:  # answered with an error (not a paid answer)
                for key in keys or []:
                    self.journal.settle(key)
            raise
        except TransientError as exc:
            self.breaker.failed(exc)  # one request, however many inputs
            return [exc] * len(texts)
        except RecordError as exc:
            if len(texts) == 1:
                self.breaker.failed(exc, texts[0])
                return [exc]
            # Rejected as a whole: bisect to the input(s) at fault. Halves one after the
            # other, so that a deployment rejecting everything trips the breaker after a
            # few requests instead of the whole tree's in flight at once.
            half = len(texts) // 2
            return (await self.embed_chunk(texts[:half], keys and keys[:half])
                    + await self.embed_chunk(texts[half:], keys and keys[half:]))
        self.breaker.passed()
        return vectors

    async def __call__(self, table: pa.Table) -> pa.Table:
        quiet_unclosed_sessions()
        next_batch_priority()  # this batch's requests go before those of later ones
        status = table.column(S.STATUS).to_pylist()
        docs = table.column(S.DOCUMENT).to_pylist()
        todo = [i for i, s in enumerate(status) if s == S.OK]
        # The last check on what leaves: a guarded input is taken out of the batch before
        # the request (its record fails as scrub/PHIGuard), the rest are embedded. It never
        # reaches the breaker: nothing was sent, so it says nothing about the deployment.
        guarded = {i: exc for i in todo if (exc := _guard(docs[i])) is not None}
        send = [i for i in todo if i not in guarded]
        reused, keys = await self._journaled(send, docs)
        send = [i for i in send if i not in reused]
        # Records with the same document in one batch (templated orders) are embedded once,
        # as the extract stage asks once: the same input twice in a request is paid twice.
        first: dict[str, int] = {}
        for i in send:
            first.setdefault(docs[i], i)
        asked = sorted(first.values())
        size = self.cfg.batch_size
        chunks = [asked[k : k + size] for k in range(0, len(asked), size)]
        answers = await asyncio.gather(*(self.embed_chunk(
            [docs[i] for i in c], [keys[i] for i in c] if keys else None) for c in chunks))
        by_row: dict[int, Any] = dict(zip(asked, (r for chunk in answers for r in chunk),
                                          strict=True))
        results: list[Any] = [by_row[first[docs[i]]] for i in send]
        self.api.usage.reused += len(send) - len(asked)
        left: set[str] = set()  # keys of failed requests, for the sink to settle
        if self.journal is not None:
            for i in asked:
                if isinstance(r := by_row[i], np.ndarray):
                    self.journal.add_vector(keys[i], r.astype("<f4", copy=False).tobytes())
                elif self.journal.settle(keys[i], failed=True):
                    left.add(keys[i])
            await self.journal.flushed()  # what leaves the actor is journaled
            self.api.usage.add(self.journal.take_paid_twice())
        await self.api.hand_usage()
        return apply_outcomes(
            table, send + list(guarded) + list(reused),
            results + list(guarded.values()) + list(reused.values()),
            {S.EMBEDDING: pa.list_(pa.float32(), self.cfg.dimensions)},
            {i: keys[i] for i in send if keys[i] in left} if left else None,
        )

    async def _journaled(self, rows: list[int], docs: list[str]
                         ) -> tuple[dict[int, np.ndarray], dict[int, str]]:
        """The journaled vectors of ``rows`` (by row), and every row's journal key."""
        if self.journal is None:
            return {}, {}
        keys, stored = await self.journal.lookup([docs[i] for i in rows])
        reused = {}
        for i, key in zip(rows, keys, strict=True):
            found = stored.get(key)
            if found is not None and found.vector is not None:
                vector = np.frombuffer(found.vector, dtype="<f4")
                if vector.shape == (self.cfg.dimensions,):  # as a fresh answer is checked
                    reused[i] = vector
        self.api.usage.reused += len(reused)
        return reused, dict(zip(rows, keys, strict=True))


def _guard(text: str) -> RecordError | None:
    try:
        check_outgoing([text], "the embedding API")
    except RecordError as exc:
        return exc
    return None
