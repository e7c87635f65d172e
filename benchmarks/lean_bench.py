"""The lean baseline of issue 14: a plain asyncio script that does the job's minimum, against
the same simulator, source and Postgres as ``pipeline_bench.py``, so that the job's CPU a
record has a yardstick measured on the same box.

    python benchmarks/lean_bench.py --records 20000 --latency-ms 50
    python benchmarks/lean_bench.py --records 20000 --latency-ms 50 --scrub

One process, one event loop: read the table through the Snowflake connector (Arrow batches),
build each record's document (the job's header and free text; ``--scrub``: the free text
through ``backfill.scrub.scrub_text`` first, the job's scrubber), one chat request a record
(the job's system prompt, strict JSON schema, temperature and ``max_tokens``) with at most
``--concurrency`` in flight, one embeddings request per batch of documents, and binary COPY of
the raw rows, the answers (jsonb) and the vectors (pgvector) into three tables of a schema of
its own. None of the job's guarantees: no journal, no resume, no validation beyond
``json.loads``, no grounding, no limiter, no dead letters, no progress. What it costs is the
floor for this work in Python on this box.

CPU is this process's (every thread, ``time.process_time``), from the first read to the last
commit; the simulator, the fakesnow server and Postgres are apart, as in ``pipeline_bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openai
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backfill import schema as S  # noqa: E402
from backfill import source  # noqa: E402
from backfill import tables as T  # noqa: E402
from backfill.config import Config  # noqa: E402
from backfill.devstack.stack import local_stack  # noqa: E402
from backfill.extract import first_messages, request_body  # noqa: E402
from backfill.scrub import scrub_text  # noqa: E402

SCHEMA = "lean"
# the source's columns as the job's maintenance_logs declares them (backfill.tables)
SOURCE = [T.MAINTENANCE_LOGS.column(n) for n in T.SOURCE_COLUMNS]


@dataclass
class Result:
    records: int
    scrub: bool
    seconds: float
    records_per_hour: int
    cpu_ms_per_record: float
    rows_in_postgres: int
    chat_requests: int
    embedding_requests: int


def _tables(conn: psycopg.Connection[Any], dims: int) -> None:
    cols = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type)) for c in SOURCE]
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {s} CASCADE; CREATE SCHEMA {s}").format(
        s=sql.Identifier(SCHEMA)))
    conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(SCHEMA)))
    conn.execute(sql.SQL("CREATE TABLE logs ({})").format(sql.SQL(", ").join(cols)))
    conn.execute("CREATE TABLE answers (id text PRIMARY KEY, data jsonb)")
    conn.execute(f"CREATE TABLE vectors (id text PRIMARY KEY, embedding vector({dims}))")
    conn.commit()


def _document(row: dict[str, Any], scrub: bool, max_chars: int) -> str:
    header = "; ".join(f"{label}: {row[col] or '-'}" for label, col in (
        ("Equipment", "EQUIPMENT_TYPE"), ("Manufacturer", "MANUFACTURER"), ("Model", "MODEL"),
        ("Work type", "WORK_TYPE"), ("Priority", "PRIORITY")))
    texts = [row[c] for c in S.FREE_TEXT]
    if scrub:
        texts = [scrub_text(t).text for t in texts]
    document = "\n".join([header, *(f"{label}: {t or '-'}" for label, t in zip(
        ("Problem", "Technician notes", "Resolution"), texts, strict=True))])
    return document[:max_chars]  # the job cuts there too (pipeline.max_text_chars)


def _write(conn: psycopg.Connection[Any], rows: list[dict[str, Any]],
           answers: list[tuple[str, str]], vectors: list[tuple[str, np.ndarray]]) -> None:
    names = S.SOURCE_SCHEMA.names
    with conn.cursor() as cur:
        with cur.copy(sql.SQL("COPY logs FROM STDIN WITH (FORMAT BINARY)")) as copy:
            copy.set_types([T.COPY_TYPES[c.type] for c in SOURCE])
            for row in rows:  # Postgres text holds no NUL, which some source rows carry
                copy.write_row([v.replace("\x00", "") if isinstance(v, str) else v
                                for v in (row[n] for n in names)])
        with cur.copy("COPY answers FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["text", "jsonb"])
            for answer in answers:
                copy.write_row(answer)
        with cur.copy("COPY vectors FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["text", "vector"])
            for vector in vectors:
                copy.write_row(vector)
    conn.commit()


async def _lean(cfg: Config, dsn: str, scrub: bool, concurrency: int,
                batch: int) -> tuple[int, int, int]:
    client = openai.AsyncOpenAI(base_url=cfg.llm.endpoint, api_key="local-simulator",
                                max_retries=3, http_client=openai.DefaultAioHttpClient())
    conn = psycopg.connect(dsn)
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    conn.commit()
    register_vector(conn)
    _tables(conn, cfg.embedding.dimensions)
    gate = asyncio.Semaphore(concurrency)
    one_writer = asyncio.Lock()  # one connection: one COPY at a time
    counts = {"chat": 0, "embeddings": 0}

    async def ask(document: str) -> str:
        async with gate:
            reply = await client.chat.completions.create(
                **request_body(cfg.llm, first_messages(S.SYSTEM_PROMPT, document)))
            counts["chat"] += 1
        content = reply.choices[0].message.content or "{}"
        json.loads(content)
        return content

    async def one_batch(rows: list[dict[str, Any]]) -> None:
        documents = [_document(r, scrub, cfg.pipeline.max_text_chars) for r in rows]
        answers = await asyncio.gather(*(ask(d) for d in documents))
        async with gate:
            reply = await client.embeddings.create(
                model=cfg.embedding.deployment, input=documents,
                dimensions=cfg.embedding.dimensions)
            counts["embeddings"] += 1
        ids = [r[S.ID] for r in rows]
        vectors = [np.asarray(d.embedding, dtype=np.float32) for d in reply.data]
        async with one_writer:
            await asyncio.to_thread(_write, conn, rows, list(zip(ids, answers, strict=True)),
                                    list(zip(ids, vectors, strict=True)))

    snow = source.connect(cfg.snowflake)
    cur = snow.cursor()
    cols = ", ".join(S.SOURCE_SCHEMA.names)
    cur.execute(f"SELECT {cols} FROM {cfg.snowflake.table}")
    pending: set[asyncio.Task[None]] = set()
    for arrow in cur.fetch_arrow_batches():
        rows = arrow.to_pylist()
        for i in range(0, len(rows), batch):
            # a few batches in flight, as the job's actors have
            while len(pending) >= 4:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            pending.add(asyncio.ensure_future(one_batch(rows[i:i + batch])))
    if pending:
        await asyncio.gather(*pending)
    snow.close()
    n = conn.execute("SELECT count(*) FROM vectors v JOIN answers a USING (id)").fetchone()
    conn.close()
    await client.close()
    return (n[0] if n else 0), counts["chat"], counts["embeddings"]


def run(records: int, latency_ms: float, scrub: bool, concurrency: int, batch: int,
        workdir: str | None) -> Result:
    work = Path(workdir or tempfile.mkdtemp(prefix="leanbench", dir="/tmp"))
    with local_stack(work, records, latency_ms=latency_ms, pg_schema="bench",
                     bad_rows=False) as stack:
        t0, cpu0 = time.monotonic(), time.process_time()
        stored, chats, embeds = asyncio.run(
            _lean(stack.config, stack.dsn, scrub, concurrency, batch))
        seconds, cpu = time.monotonic() - t0, time.process_time() - cpu0
    return Result(records=records, scrub=scrub, seconds=round(seconds, 1),
                  records_per_hour=round(records / seconds * 3600),
                  cpu_ms_per_record=round(cpu / records * 1000, 2), rows_in_postgres=stored,
                  chat_requests=chats, embedding_requests=embeds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--scrub", action="store_true", help="the job's scrubber on the free text")
    ap.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    ap.add_argument("--batch", type=int, default=200,
                    help="records a batch: one embeddings request and one commit")
    ap.add_argument("--workdir")
    args = ap.parse_args()
    result = run(args.records, args.latency_ms, args.scrub, args.concurrency, args.batch,
                 args.workdir)
    print(json.dumps(asdict(result)))
    if result.rows_in_postgres != args.records:
        sys.exit(f"lean_bench: {result.rows_in_postgres} of {args.records} records stored")


if __name__ == "__main__":
    main()
