"""``backfill search``: the work orders nearest a question, from what a run wrote.

Two rankings of the same rows of ``semantic_embeddings`` (those of the configured
``embedding.deployment``):

- vector: cosine distance (``<=>``) between the question's embedding and each document's,
  read from the HNSW index (``db.SEARCH_INDEXES``) in distance order;
- full text: Postgres ``ts_rank`` of the scrubbed document against the question's words
  (English stemming; the documents holding every word of it, as in a web search), read
  through the GIN index.

``hybrid`` (the default) fuses the two by reciprocal rank fusion (Cormack, Clarke and
Buettcher, SIGIR 2009): a work order scores the sum of ``1 / (60 + rank)`` over the lists
that hold it, so what both rankings put high comes first, and neither ranking's scale
matters. ``vector`` is the embedding ranking alone.

The question is embedded by the job's own code (``embed.Embedder``), after the PHI guard:
it leaves the network as a document does. What is printed comes from the structured and
extracted columns (equipment type, failure mode, the LLM's summary of the scrubbed text),
never from ``maintenance_logs``' free text, which holds PII.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql

from backfill.config import Config, EmbeddingConfig
from backfill.db import (
    HNSW_INDEX,
    SEARCH_INDEXES,
    connect,
    resolve_dsn,
    search_index_ddl,
    with_pg_retry,
)
from backfill.embed import Embedder
from backfill.errors import ConfigError, FatalError, RecordError, TransientError
from backfill.guard import check_outgoing

log = logging.getLogger(__name__)

MODES = ("hybrid", "vector")
RRF_K = 60  # the constant of the RRF paper; it damps the weight of the very first ranks
# Each ranking's candidates before fusion: a work order that neither list holds in its
# first 100 cannot reach the fused top ten in practice (1/160 + 1/160 < 1/61).
CANDIDATES = 100
MAX_LIMIT = 1000  # hnsw.ef_search's maximum: the index cannot return more in one scan
QUERY_RETRIES = 2  # someone is waiting at a terminal: fail in seconds, not minutes
SUMMARY_CHARS = 80


@dataclass(frozen=True)
class SearchRequest:
    text: str
    limit: int = 10
    equipment: str | None = None  # maintenance_logs.equipment_type, any case
    since: dt.datetime | None = None  # created_at >= since
    mode: str = "hybrid"


@dataclass(frozen=True)
class Hit:
    work_order_id: str
    created_at: dt.datetime | None
    equipment_type: str | None
    failure_mode: str | None
    summary: str | None
    score: float  # hybrid: the RRF score; vector: cosine similarity
    similarity: float | None  # cosine similarity, when in the vector candidates
    vector_rank: int | None
    text_rank: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "work_order_id": self.work_order_id,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "equipment_type": self.equipment_type,
            "failure_mode": self.failure_mode,
            "summary": self.summary,
            "score": round(self.score, 6),
            "similarity": None if self.similarity is None else round(self.similarity, 6),
            "vector_rank": self.vector_rank,
            "text_rank": self.text_rank,
        }


@dataclass(frozen=True)
class SearchResult:
    mode: str
    model: str
    request: SearchRequest
    hits: list[Hit]
    missing_indexes: list[str]

    def to_json(self) -> dict[str, Any]:
        req = self.request
        return {
            "mode": self.mode,
            "model": self.model,
            "limit": req.limit,
            "equipment": req.equipment,
            "since": req.since.isoformat() if req.since else None,
            "missing_indexes": self.missing_indexes,
            "hits": [h.to_json() for h in self.hits],
        }


def fuse(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: every id scores the sum of ``1 / (k + rank)`` (rank from 1)
    over the rankings that hold it; best first, ties by the best single rank, then id."""
    score: dict[str, float] = {}
    best: dict[str, int] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            score[key] = score.get(key, 0.0) + 1.0 / (k + rank)
            best[key] = min(best.get(key, rank), rank)
    return sorted(score.items(), key=lambda kv: (-kv[1], best[kv[0]], kv[0]))


def check_request(req: SearchRequest) -> None:
    """Refuse a request before anything is read or sent; name the flag."""
    if not req.text.strip():
        raise ConfigError("the search text is empty")
    if not 1 <= req.limit <= MAX_LIMIT:
        raise ConfigError(f"--limit {req.limit}: give a number from 1 to {MAX_LIMIT}")
    if req.mode not in MODES:
        raise ConfigError(f"--mode {req.mode}: one of {', '.join(MODES)}")
    try:
        check_outgoing([req.text], "the embedding API")
    except RecordError as exc:  # its message names the kind, never the value
        raise ConfigError(
            f"the search text: {exc.message}. Search with the equipment's and the fault's "
            "words; a patient's identifiers are not in the scrubbed documents anyway"
        ) from None


def search(cfg: Config, req: SearchRequest) -> SearchResult:
    """The ``req.limit`` work orders that best answer ``req.text``, best first."""
    check_request(req)
    dsn, schema = resolve_dsn(cfg), cfg.postgres.schema_
    model = cfg.embedding.deployment

    def look() -> list[str]:
        with connect(dsn, schema, autocommit=True) as conn:
            check_embeddings(conn, schema, model, cfg.embedding.dimensions)
            return missing_indexes(conn, schema)

    missing = with_pg_retry(look, "reading the search tables")
    for name in missing:
        if name == HNSW_INDEX or req.mode == "hybrid":
            _warn_missing(name, schema)
    vector = asyncio.run(embed_query(cfg.embedding, req.text))

    def find() -> list[Hit]:
        with connect(dsn, schema, autocommit=True) as conn:
            register_vector(conn)
            return rank(conn, vector, model, req)

    hits = with_pg_retry(find, "searching the embeddings")
    return SearchResult(req.mode, model, req, hits, missing)


def check_embeddings(conn: psycopg.Connection[Any], schema: str, model: str,
                     dimensions: int) -> None:
    """Exit 2 (``ConfigError``) unless there are embeddings of ``model`` of this size to
    search; say which runs there are."""
    table = f"{sql.Identifier(schema).as_string(conn)}.semantic_embeddings"
    row = conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attname = 'embedding'", (table,)).fetchone()
    if row is None:
        raise ConfigError(f"no backfill tables in schema {schema} (postgres.schema): no run "
                          "has written there")
    if row[0] not in ("vector", f"vector({dimensions})"):
        raise ConfigError(f"embedding.dimensions is {dimensions} but {schema}.semantic_embeddings"
                          f".embedding is {row[0]}: use the dimensions of the run that wrote it")
    if conn.execute("SELECT 1 FROM semantic_embeddings WHERE model = %s LIMIT 1",
                    (model,)).fetchone() is None:
        runs = conn.execute(
            "SELECT run_id, state, info->'params'->>'embedding_deployment' FROM etl_metadata "
            "WHERE kind = 'run' AND item = '' ORDER BY created_at DESC LIMIT 5").fetchall()
        found = "; ".join(f"run {r} ({state}, embedding.deployment {m})" for r, state, m in runs)
        raise ConfigError(
            f"no embeddings of model {model!r} (embedding.deployment) in {schema}."
            "semantic_embeddings: "
            + (f"set embedding.deployment to the model of a run there, newest first: {found}"
               if runs else "no run has written there yet")
        )


def missing_indexes(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    present = {r[0] for r in conn.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = %s "
        "AND tablename = 'semantic_embeddings'", (schema,))}
    return [name for name in SEARCH_INDEXES if name not in present]


def _warn_missing(name: str, schema: str) -> None:
    what = "vector" if name == HNSW_INDEX else "full-text"
    statement = search_index_ddl(schema)[name].as_string(None)
    log.warning(
        "search index %s is missing: the %s ranking reads every row (slow on a large table). "
        "A run builds it when it finishes (postgres.build_index), or run in psql: %s",
        name, what, statement)


async def embed_query(cfg: EmbeddingConfig, text: str) -> np.ndarray:
    """The question's embedding, by the request every document's embedding was made with."""
    embedder = Embedder(cfg.model_copy(update={"max_retries": min(cfg.max_retries,
                                                                  QUERY_RETRIES)}))
    api = embedder.api
    try:
        (vector,) = await embedder.embed([text])
    except FatalError:  # SystemicError: names the deployment and the keys to check
        raise
    except TransientError as exc:
        raise FatalError(
            f"the search text's embedding request failed after {api.cfg.max_retries} "
            f"retries: {exc}. Check embedding.endpoint (reachable?) or try again later",
            dependency=api.name) from exc
    except RecordError as exc:  # the message is the API's error code, never the text
        raise FatalError(f"the embedding API refused the search text: {exc}",
                         dependency=api.name) from exc
    finally:
        await api.aclose()
    return vector


def rank(conn: psycopg.Connection[Any], vector: np.ndarray, model: str,
         req: SearchRequest) -> list[Hit]:
    """Both rankings (or the vector one), fused, and the details of the best ``limit``."""
    # (the vector mode reads as many candidates as the hybrid one and keeps the best: an HNSW
    # scan is approximate and its top 10 depends on ef_search, so with fewer candidates a
    # hybrid search that no document's words match could rank otherwise than the vectors alone)
    n = max(CANDIDATES, req.limit)
    with conn.transaction():
        nearest = _nearest(conn, vector, model, req, n)
        matched = _full_text(conn, req.text, model, req, n) if req.mode == "hybrid" else []
    similarity = {key: 1.0 - distance for key, distance in nearest}
    vector_rank = {key: i for i, (key, _) in enumerate(nearest, start=1)}
    text_rank = {key: i for i, key in enumerate(matched, start=1)}
    if req.mode == "hybrid":
        best = fuse([[key for key, _ in nearest], matched])[: req.limit]
    else:
        best = [(key, similarity[key]) for key, _ in nearest[: req.limit]]
    details = _details(conn, [key for key, _ in best])
    hits = []
    for key, score in best:
        created, equipment, failure_mode, summary = details.get(key, (None, None, None, None))
        hits.append(Hit(key, created, equipment, failure_mode, summary, score,
                        similarity.get(key), vector_rank.get(key), text_rank.get(key)))
    return hits


def _filters(req: SearchRequest) -> tuple[sql.Composable, sql.Composable, dict[str, Any]]:
    """(join, conditions, parameters) of the filters on maintenance_logs' columns."""
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if req.equipment is not None:
        # ILIKE of the escaped name, not lower() = lower(): the planner estimates it from
        # the column's statistics (3,556 of 20,000 infusion pumps, where lower() = lower()
        # guessed 100 and read every pump's vector instead of the index).
        conditions.append(sql.SQL(" AND m.equipment_type ILIKE %(equipment)s"))
        params["equipment"] = re.sub(r"([\\%_])", r"\\\1", req.equipment)
    if req.since is not None:
        conditions.append(sql.SQL(" AND m.created_at >= %(since)s"))
        params["since"] = req.since
    if not conditions:
        return sql.SQL(""), sql.SQL(""), params
    join = sql.SQL(" JOIN maintenance_logs m ON m.work_order_id = e.work_order_id")
    return join, sql.Composed(conditions), params


# ORDER BY the distance expression itself, ascending, under a LIMIT: the shape the HNSW
# index answers. The model (and any filter) is checked on what the index hands up; with
# pgvector >= 0.8 an iterative scan goes on until the LIMIT is filled (without it, a
# filter that drops most rows leaves fewer hits than asked). Relaxed order: results may be
# slightly out of distance order, so they are sorted again below.
NEAREST = sql.SQL(
    "SELECT e.work_order_id, e.embedding <=> %(q)s FROM semantic_embeddings e{join} "
    "WHERE e.model = %(model)s{conditions} ORDER BY e.embedding <=> %(q)s LIMIT %(n)s")


def nearest_settings(n: int) -> list[sql.Composed]:
    """SET LOCAL statements of the vector query, in its transaction.

    - ef_search is the candidate list of one scan: below the LIMIT, fewer rows come back.
    - No scan of every row where the index can answer: a 1536-dimension vector is stored
      out of line (TOAST), which the planner's cost of reading every row leaves out, so on
      20,000 work orders it sorted every vector (200-700 ms) instead of reading the HNSW
      index (35 ms); with sequential scans off it read every row through the primary key's
      bitmap instead. Without the index, reading every row is still the plan.
    """
    return [
        sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(max(40, n))),
        sql.SQL("SET LOCAL hnsw.iterative_scan = relaxed_order").format(),
        sql.SQL("SET LOCAL enable_seqscan = off").format(),
        sql.SQL("SET LOCAL enable_bitmapscan = off").format(),
    ]


def _nearest(conn: psycopg.Connection[Any], vector: np.ndarray, model: str,
             req: SearchRequest, n: int) -> list[tuple[str, float]]:
    join, conditions, params = _filters(req)
    for statement in nearest_settings(n):
        conn.execute(statement)
    rows = conn.execute(NEAREST.format(join=join, conditions=conditions),
                        {"q": vector, "model": model, "n": n, **params}).fetchall()
    return sorted(((key, float(d)) for key, d in rows), key=lambda kd: (kd[1], kd[0]))


# Documents holding every word of the question (web-search syntax: "a phrase", or, -word).
# Measured on 2,000 work orders of the local stack (docs/benchmarks.md) against any word:
# 0.1 better at 10 on three questions (1.0, 0.9, 0.9 against 0.9, 0.8, 0.8), and only the
# documents holding them all are ranked: 42 for "infusion pump occlusion alarm" (6 ms) where
# any word ranked 803 (53 ms: ts_rank reads each one's text again), a share that does not
# shrink as the table grows. When no document holds every word, the vector ranking alone
# answers: falling back to any word then helped the simulator's bag-of-words vectors (0.5 ->
# 0.8 at 10) but halved a real model's (all-MiniLM-L6-v2 on a paraphrase: 0.6 -> 0.3), whose
# vectors already carry what single shared words say.
EVERY_WORD = "websearch_to_tsquery('english', %(text)s)"
# The expression of the GIN index (db.SEARCH_INDEXES), written the same way, or it is unused.
DOCUMENT_WORDS = "to_tsvector('english', e.document)"
FULL_TEXT = sql.SQL(
    "SELECT e.work_order_id FROM semantic_embeddings e{join}, "
    f"(SELECT {EVERY_WORD} AS words) q "
    f"WHERE e.model = %(model)s AND {DOCUMENT_WORDS} @@ q.words{{conditions}} "
    f"ORDER BY ts_rank({DOCUMENT_WORDS}, q.words) DESC, e.work_order_id LIMIT %(n)s")


def _full_text(conn: psycopg.Connection[Any], text: str, model: str, req: SearchRequest,
               n: int) -> list[str]:
    join, conditions, params = _filters(req)
    rows = conn.execute(FULL_TEXT.format(join=join, conditions=conditions),
                        {"text": text, "model": model, "n": n, **params}).fetchall()
    return [r[0] for r in rows]


Details = tuple[dt.datetime | None, str | None, str | None, str | None]


def _details(conn: psycopg.Connection[Any], keys: list[str]) -> dict[str, Details]:
    """Structured and extracted columns only: maintenance_logs' free text holds PII."""
    rows = conn.execute(
        "SELECT m.work_order_id, m.created_at, m.equipment_type, a.failure_mode, a.summary "
        "FROM maintenance_logs m LEFT JOIN ai_extracted_data a USING (work_order_id) "
        "WHERE m.work_order_id = ANY(%s)", (keys,)).fetchall()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def _one_line(text: str | None, width: int = SUMMARY_CHARS) -> str:
    line = re.sub(r"\s+", " ", text or "").strip() or "-"
    return line if len(line) <= width else line[: width - 1].rstrip() + "\u2026"


def result_text(result: SearchResult) -> str:
    """The hits as a table an operator reads: rank, score, work order, date, equipment,
    failure mode, summary."""
    how = ("full-text and vector rankings fused (RRF)" if result.mode == "hybrid"
           else "cosine similarity")
    if not result.hits:
        return f"no work order found (model {result.model})"
    rows = [["#", "score", "work order", "created", "equipment", "failure mode", "summary"]]
    for i, h in enumerate(result.hits, start=1):
        rows.append([str(i), f"{h.score:.4f}", h.work_order_id,
                     h.created_at.date().isoformat() if h.created_at else "-",
                     h.equipment_type or "-", h.failure_mode or "-", _one_line(h.summary)])
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
    lines = [f"{len(result.hits)} work orders, best first ({result.mode}: {how}; "
             f"model {result.model})"]
    for r in rows:
        lines.append("  ".join([*(v.ljust(w) for v, w in zip(r, widths, strict=False)), r[-1]]))
    return "\n".join(lines)
