"""Stage 4 (async actor pool): embeddings of the scrubbed documents, batched per request.

A request the API rejects is retried input by input, so that one bad input fails only its
own record.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

import numpy as np
import openai
import pyarrow as pa

from backfill import schema as S
from backfill.config import EmbeddingConfig
from backfill.errors import FatalError, RecordError, TransientError
from backfill.extract import MAX_CONSECUTIVE_UNAVAILABLE, apply_outcomes
from backfill.openai_client import Deployment, classify, quiet_unclosed_sessions


def _vector(embedding: str | list[float]) -> np.ndarray:
    """A vector from the answer: base64 of little-endian float32 (what we ask for), or a
    JSON list from a server that ignores ``encoding_format``."""
    if isinstance(embedding, str):
        return np.frombuffer(base64.b64decode(embedding), dtype="<f4")
    return np.asarray(embedding, dtype=np.float32)


class Embedder:
    """Ray Data callable class: batched embedding requests, several in flight."""

    def __init__(self, cfg: EmbeddingConfig, quota: Any = None, actors: int = 1) -> None:
        self.cfg = cfg
        self.api = Deployment(cfg, quota, actors)
        self.unavailable_streak = 0

    async def _embed(self, texts: list[str]) -> list[np.ndarray]:
        estimate = self.api.tokens(texts)
        body = {
            "model": self.cfg.deployment,
            "input": texts,
            "dimensions": self.cfg.dimensions,
            "encoding_format": "base64",
        }
        try:
            raw = await self.api.post("/embeddings", body, estimate)
        except openai.OpenAIError as exc:
            err = classify(exc, "embed")
            if isinstance(err, openai.OpenAIError):
                raise FatalError(
                    f"{type(exc).__name__}: {exc}. Check embedding.endpoint, "
                    "embedding.api_key and embedding.deployment.",
                    dependency="Embedding API",
                ) from exc
            raise err from exc
        try:
            answer = raw.json()
            data = sorted(answer["data"], key=lambda d: d["index"])
            vectors = [_vector(d["embedding"]) for d in data]
            usage = answer.get("usage") or {}
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise RecordError(
                "embed", "MalformedResponse", f"{type(exc).__name__}: {raw.text[:300]!r}"
            ) from None
        if len(vectors) != len(texts):
            raise RecordError(
                "embed", "MalformedResponse", f"{len(vectors)} vectors for {len(texts)} inputs"
            )
        if "total_tokens" in usage:
            self.api.correct(estimate, int(usage["total_tokens"]))
        for v in vectors:
            if v.shape != (self.cfg.dimensions,):
                raise RecordError(
                    "embed",
                    "WrongDimensions",
                    f"got {v.shape[0]} dimensions, expected {self.cfg.dimensions}",
                )
        return vectors

    async def _embed_chunk(self, texts: list[str]) -> list[np.ndarray | Exception]:
        try:
            vectors: list[np.ndarray | Exception] = list(await self._embed(texts))
            self.unavailable_streak = 0
            return vectors
        except RecordError as exc:
            if len(texts) == 1:
                return [exc]
        except TransientError as exc:
            self.unavailable_streak += 1
            if self.unavailable_streak >= MAX_CONSECUTIVE_UNAVAILABLE:
                raise FatalError(
                    str(exc), dependency=f"embedding deployment {self.cfg.deployment!r}"
                ) from exc
            return [exc] * len(texts)
        # The request was rejected as a whole: find the input(s) at fault.
        results = await asyncio.gather(*(self._embed_chunk([t]) for t in texts))
        return [r[0] for r in results]

    async def __call__(self, table: pa.Table) -> pa.Table:
        quiet_unclosed_sessions()
        status = table.column(S.STATUS).to_pylist()
        docs = table.column(S.DOCUMENT).to_pylist()
        todo = [i for i, s in enumerate(status) if s == S.OK]
        size = self.cfg.batch_size
        chunks = [todo[k : k + size] for k in range(0, len(todo), size)]
        answers = await asyncio.gather(*(self._embed_chunk([docs[i] for i in c]) for c in chunks))
        results: list[Any] = [r for chunk in answers for r in chunk]
        return apply_outcomes(
            table, todo, results, {S.EMBEDDING: pa.list_(pa.float32(), self.cfg.dimensions)}
        )
