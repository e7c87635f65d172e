"""The answer journal (DESIGN decision 4): every valid answer of the LLM and of the embedding
model is written to ``answer_journal`` as soon as it arrives, and looked up before a request
is sent, so that no answer is paid for twice: not after a kill, not by a new run over a
range already done, not by ``retry-failed`` for a record whose extraction had succeeded.

The key is a hash of everything that decides the answer: the exact scrubbed document sent,
the model (deployment), the prompt version and the version of the extraction's JSON schema
(for embeddings: the dimensions). No record id: the same text gives the same answer, so a
record sent again under another id, or a template repeated across records, is paid once.
The document itself is never stored (the hash is the key); what is stored is derived from
scrubbed text only: the extraction and its token counts, or the vector.

Durable as soon as it arrives: each API actor hands its answers to a writer thread that
writes what it holds every ``FLUSH_SECONDS`` or ``FLUSH_ROWS`` answers, whichever comes
first, in one statement, while the actor's event loop goes on sending. A SIGKILL loses the
answers in flight and at most one flush interval's. A batch leaves the actor only once its
answers are written, so whatever reaches the sink is journaled.

What a kill loses is paid twice: the answers in flight and those not yet written. To count
them, each request's key is written to ``requests_in_flight`` (and committed) before the
request leaves, and deleted once its answer is journaled, or, when its record failed (a
refusal, invalid JSON twice), by the sink with the record's dead letter. A key
another attempt left there is a request that attempt paid for and never saw answered: the
attempt that sends it again counts it in usage as ``paid_twice``. The writes are grouped: the
requests admitted within ``INTENT_GATHER_SECONDS`` of one another wait for one statement.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg

from backfill import schema as S
from backfill.db import TRANSIENT_PG_ERRORS, connect, pg_error_text, with_pg_retry

log = logging.getLogger(__name__)

CHAT = "chat"
EMBEDDING = "embedding"
# A kill loses at most this much of answers received (measured cost: docs/benchmarks.md).
FLUSH_SECONDS = 0.25
FLUSH_ROWS = 200
STATEMENT_ROWS = 1000
# Answers held while Postgres refuses the writes; past it the oldest are dropped (they are
# only paid again if their records are not committed either).
MAX_PENDING = 50_000
# How long a batch waits for its answers to be written before it leaves the actor anyway.
FLUSH_WAIT_SECONDS = 60.0
# Requests admitted within this long of one another record their keys in one statement
# before they leave (the delay it adds is small against an answer's seconds).
INTENT_GATHER_SECONDS = 0.005


def answer_key(kind: str, model: str, prompt_version: str, schema_version: str,
               document: str) -> str:
    """The journal key: SHA-256 (hex) of the parts, each length-prefixed so that no two
    different tuples of parts spell the same bytes."""
    digest = hashlib.sha256()
    for part in (kind, model, prompt_version, schema_version, document):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def prompt_version() -> str:
    """``schema.PROMPT_VERSION`` and a hash of the system prompt's words: a prompt edited
    without bumping its version still asks again."""
    words = hashlib.blake2b(S.SYSTEM_PROMPT.encode(), digest_size=4).hexdigest()
    return f"{S.PROMPT_VERSION}+{words}"


@dataclass(frozen=True)
class JournalTarget:
    """Where the API actors journal (picklable: it travels to them). ``fresh``: ask the API
    even where an answer is journaled, and replace it with the new one (a deliberate second
    payment: nothing is counted as paid twice then). ``owner``: the attempt, shared by all its
    actors (made once by the driver), that its requests in flight are recorded under."""

    dsn: str
    schema: str
    fresh: bool = False
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class Stored:
    """A journaled answer: the extraction's JSON text (chat) or the vector's float32
    little-endian bytes (embedding), and the tokens it cost."""

    answer: str | None
    vector: bytes | None
    input_tokens: int
    output_tokens: int


class Journal:
    """One API actor's side of the journal for one kind of answer and one model."""

    def __init__(self, target: JournalTarget, kind: str, model: str, prompt: str = "",
                 schema_version: str = "") -> None:
        self.target, self.kind, self.model = target, kind, model
        self.versions = (prompt, schema_version)
        self.writer = _Writer(target, kind, model)
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()  # lookups of concurrent batches share one connection
        self._live: set[str] = set()  # keys of this actor's requests recorded in flight
        self._resent: set[str] = set()  # of them, those an earlier attempt had sent
        self._gathering: list[str] = []
        self._gathered: asyncio.Future[None] | None = None

    @classmethod
    def for_chat(cls, target: JournalTarget, model: str) -> Journal:
        return cls(target, CHAT, model, prompt_version(), S.SCHEMA_VERSION)

    @classmethod
    def for_embedding(cls, target: JournalTarget, model: str, dimensions: int) -> Journal:
        return cls(target, EMBEDDING, model, "", f"dimensions={dimensions}")

    def key(self, document: str) -> str:
        return answer_key(self.kind, self.model, *self.versions, document)

    async def lookup(self, documents: list[str]) -> tuple[list[str], dict[str, Stored]]:
        """Each document's key, and the answers journaled for them (one query)."""
        keys = [self.key(d) for d in documents]
        if self.target.fresh or not keys:
            return keys, {}
        return keys, await asyncio.to_thread(self._lookup, sorted(set(keys)))

    def _lookup(self, keys: list[str]) -> dict[str, Stored]:
        rows = self._query("SELECT answer_key, answer::text, vector, input_tokens, "
                           "output_tokens FROM answer_journal WHERE answer_key = ANY(%(keys)s)",
                           {"keys": keys}, "looking up the answer journal")
        return {k: Stored(a, bytes(v) if v is not None else None, tin or 0, tout or 0)
                for k, a, v, tin, tout in rows}

    def _query(self, statement: str, params: dict[str, Any], what: str) -> list[tuple[Any, ...]]:
        """One statement on the actor's connection (made again after a transient error)."""
        def query() -> list[tuple[Any, ...]]:
            with self._lock:
                if self._conn is None or self._conn.closed or self._conn.broken:
                    self._conn = connect(self.target.dsn, self.target.schema, autocommit=True)
                try:
                    return self._conn.execute(statement, params, binary=True).fetchall()
                except TRANSIENT_PG_ERRORS:
                    self._conn.close()
                    raise

        return with_pg_retry(query, what)

    async def sending(self, keys: list[str]) -> None:
        """Record that requests for ``keys`` are about to leave; returns once that is
        committed. Called when a request is admitted, just before it is sent (a key already
        recorded by this actor costs nothing)."""
        new = [k for k in keys if k not in self._live]
        if self.target.fresh or not new:
            return
        self._live.update(new)
        self._gathering += new
        if self._gathered is None:
            self._gathered = asyncio.ensure_future(self._record_gathered())
        await asyncio.shield(self._gathered)

    async def _record_gathered(self) -> None:
        await asyncio.sleep(INTENT_GATHER_SECONDS)
        # sorted: concurrent statements of two actors lock shared keys in one order
        keys, self._gathering, self._gathered = sorted(set(self._gathering)), [], None
        rows = await asyncio.to_thread(self._query, _RECORD_SENT, {
            "keys": keys, "kind": self.kind, "model": self.model, "owner": self.target.owner,
        }, "recording the requests in flight")
        self._resent.update(r[0] for r in rows)

    def in_flight(self, keys: list[str]) -> InFlight:
        """What a request for ``keys`` hands to ``Deployment.post``."""
        return InFlight(self, keys)

    def withdraw(self, keys: list[str]) -> None:
        """Recorded in flight, and not sent after all (the driver let go meanwhile)."""
        for key in keys:
            live, _ = self._over(key)
            self.writer.add(None, live, False, key)

    def settle(self, key: str, failed: bool = False) -> bool:
        """The request for ``key`` is over without an answer to journal. Counted paid twice
        if an earlier attempt had sent it. ``failed``: its record failed and goes to the sink
        as a dead letter; its key stays in requests_in_flight until the sink commits that
        dead letter (``S.IN_FLIGHT_KEY``), so that an attempt after a kill that lost it counts
        the request it sends again. Returns whether the key stays for the sink."""
        live, resent = self._over(key)
        self.writer.add(None, live and not failed, resent, key)
        return live and failed

    def _over(self, key: str) -> tuple[bool, bool]:
        """Whether ``key`` was recorded in flight by this actor, and sent by an earlier
        attempt before; it is not in flight any more."""
        live, resent = key in self._live, key in self._resent
        self._live.discard(key)
        self._resent.discard(key)
        return live, resent

    def add_chat(self, key: str, extraction_json: str, tokens_in: int, tokens_out: int) -> None:
        """Journal a valid extraction (non-blocking: the writer thread writes it); its request
        is no longer in flight. If an earlier attempt had sent it, it was paid twice, with
        these tokens."""
        self.writer.add((key, extraction_json, None, tokens_in, tokens_out), *self._over(key))

    def add_vector(self, key: str, vector: bytes, tokens: int = 0) -> None:
        self.writer.add((key, None, vector, tokens, 0), *self._over(key))

    def take_paid_twice(self) -> dict[str, int]:
        """Answers paid for whose key the journal already held (two records with the same
        text in flight at once, or an answer sent again that a lookup would have found),
        and their tokens, since the last call: counted in usage as ``paid_twice``."""
        return self.writer.take_paid_twice()

    async def flushed(self) -> None:
        """Wait until every answer added so far is written."""
        await asyncio.to_thread(self.writer.wait_written, FLUSH_WAIT_SECONDS)


@dataclass(frozen=True)
class InFlight:
    """A request's keys: recorded in flight before it leaves, withdrawn if it does not."""

    journal: Journal
    keys: list[str]

    async def record(self) -> None:
        await self.journal.sending(self.keys)

    def withdraw(self) -> None:
        self.journal.withdraw(self.keys)


class _Writer:
    """A daemon thread writing the answers it is handed, one statement per flush."""

    def __init__(self, target: JournalTarget, kind: str, model: str) -> None:
        self.target, self.kind, self.model = target, kind, model
        self.rows: list[tuple[str, str | None, bytes | None, int, int]] = []
        self.cond = threading.Condition()
        self.added = self.written = 0  # answers handed in, and written, so far
        self.urgent = False
        self.conn: psycopg.Connection[Any] | None = None
        self.statement = _insert_sql(target.fresh)
        self.paid_twice = [0, 0, 0]  # answers, prompt tokens, completion tokens
        self.settled: list[str] = []  # keys no longer in flight, to delete
        self.counted: set[str] = set()  # keys counted paid twice as sent again after a kill
        threading.Thread(target=self._loop, name=f"answer-journal-{kind}", daemon=True).start()

    def add(self, row: tuple[str, str | None, bytes | None, int, int] | None,
            live: bool = False, resent: bool = False, key: str = "") -> None:
        """Hand an answer (``row``) to write. ``live``: its key was recorded in flight, and is
        taken out once the row is written; ``resent``: an earlier attempt had sent it, so it
        was paid twice (counted here, not again when its row turns out to be there)."""
        key = row[0] if row is not None else key
        with self.cond:
            if row is not None:
                self.rows.append(row)
                self.added += 1
            if live:
                self.settled.append(key)
            if resent:
                if row is not None:
                    self.counted.add(key)
                self.paid_twice[0] += 1
                self.paid_twice[1] += row[3] if row is not None else 0
                self.paid_twice[2] += row[4] if row is not None else 0
            if len(self.rows) >= FLUSH_ROWS:
                self.cond.notify_all()

    def take_paid_twice(self) -> dict[str, int]:
        with self.cond:
            (n, tin, tout), self.paid_twice = self.paid_twice, [0, 0, 0]
        return {"paid_twice": n, "paid_twice_prompt_tokens": tin,
                "paid_twice_completion_tokens": tout}

    def _count_twice(self, rows: list[tuple[str, str | None, bytes | None, int, int]]) -> None:
        if rows:
            with self.cond:
                rows = [r for r in rows if r[0] not in self.counted]
                self.paid_twice[0] += len(rows)
                self.paid_twice[1] += sum(r[3] for r in rows)
                self.paid_twice[2] += sum(r[4] for r in rows)

    def wait_written(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            upto, self.urgent = self.added, True
            self.cond.notify_all()
            while self.written < upto:
                left = deadline - time.monotonic()
                if left <= 0:
                    log.warning("answer journal: %d answers not written after %.0f s; the "
                                "batch goes on (they are paid again only if lost)",
                                upto - self.written, timeout)
                    return
                self.cond.wait(left)

    def _loop(self) -> None:
        while True:
            with self.cond:
                self.cond.wait_for(lambda: len(self.rows) >= FLUSH_ROWS or self.urgent,
                                   timeout=FLUSH_SECONDS)
                rows, self.rows, upto, self.urgent = self.rows, [], self.added, False
                settled, self.settled = self.settled, []
            # The answers first, then their keys out of requests_in_flight: a kill between
            # the two leaves a key whose answer a lookup finds (never sent again).
            if rows and not self._write(rows):
                with self.cond:  # kept for the next flush, the oldest dropped past the cap
                    self.rows = (rows + self.rows)[-MAX_PENDING:]
                    self.settled = (settled + self.settled)[-MAX_PENDING:]
                    self.cond.notify_all()
                time.sleep(FLUSH_SECONDS)  # Postgres refused: no busy loop
                continue
            deleted = not settled or self._delete(settled)
            with self.cond:
                self.written = upto
                self.counted.difference_update(r[0] for r in rows)
                if not deleted:
                    self.settled = (settled + self.settled)[-MAX_PENDING:]
                self.cond.notify_all()
            if not deleted:
                time.sleep(FLUSH_SECONDS)

    def _delete(self, keys: list[str]) -> bool:
        """Take ``keys`` out of requests_in_flight; False if Postgres is unreachable."""
        try:
            if self.conn is None or self.conn.closed or self.conn.broken:
                self.conn = connect(self.target.dsn, self.target.schema, autocommit=True)
            self.conn.execute("DELETE FROM requests_in_flight WHERE answer_key = ANY(%s)",
                              (sorted(set(keys)),))
        except TRANSIENT_PG_ERRORS as exc:
            log.warning("answer journal: the requests in flight not updated, retried at the "
                        "next flush: %s", pg_error_text(exc))
            if self.conn is not None:
                self.conn.close()
            return False
        return True

    def _write(self, rows: list[tuple[str, str | None, bytes | None, int, int]]) -> bool:
        """Write ``rows``; False if Postgres is unreachable (kept for the next flush)."""
        # One key twice in one INSERT ... ON CONFLICT DO UPDATE fails: keep one, the first
        # (as DO NOTHING keeps the row already there), or the newest when replacing.
        by_key: dict[str, tuple[str, str | None, bytes | None, int, int]] = {}
        twice = []  # the same key answered twice in this flush: both were paid for
        for row in rows:
            if self.target.fresh or row[0] not in by_key:
                by_key[row[0]] = row
            else:
                twice.append(row)
        try:
            if self.conn is None or self.conn.closed or self.conn.broken:
                self.conn = connect(self.target.dsn, self.target.schema, autocommit=True)
            self._insert(list(by_key.values()))
        except TRANSIENT_PG_ERRORS as exc:
            log.warning("answer journal: write failed, retried at the next flush: %s",
                        pg_error_text(exc))
            if self.conn is not None:
                self.conn.close()
            return False
        except psycopg.Error as exc:
            # A value Postgres refuses (e.g. a NUL in a JSON string): write the rest one by
            # one, without the answers refused; their records still go on to the sink.
            log.warning("answer journal: %s; writing the %d answers one by one",
                        pg_error_text(exc), len(by_key))
            for row in by_key.values():
                try:
                    self._insert([row])
                except psycopg.Error:
                    continue
        self._count_twice(twice)
        return True

    def _insert(self, rows: list[tuple[str, str | None, bytes | None, int, int]]) -> None:
        assert self.conn is not None
        inserted = insert_answers(self.conn, self.kind, self.model, rows, self.statement)
        if not self.target.fresh:  # a key already there: its answer was paid before
            self._count_twice([r for r in rows if r[0] not in inserted])


def insert_answers(conn: psycopg.Connection[Any], kind: str, model: str,
                   rows: list[tuple[str, str | None, bytes | None, int, int]],
                   statement: str | None = None) -> set[str]:
    """Write journal rows (key, answer JSON, vector, tokens in, tokens out); a key already
    there is kept (``statement``: the writer's, which replaces it with --fresh). Also how
    backfill.batch journals the Batch API's answers. Returns the keys written."""
    statement = statement or _insert_sql(False)
    inserted: set[str] = set()
    # Bounded statements when a backlog built up (Postgres was away): a few MB each.
    for at in range(0, len(rows), STATEMENT_ROWS):
        keys, answers, vectors, tin, tout = (
            list(c) for c in zip(*rows[at:at + STATEMENT_ROWS], strict=True))
        # Binary parameters: a vector travels as its bytes, not as hex text twice its size
        # (measured: 4x the client's CPU per embedding in text format).
        inserted.update(r[0] for r in conn.execute(statement, {
            "kind": kind, "model": model, "keys": keys, "answers": answers,
            "vectors": vectors, "tin": tin, "tout": tout}, binary=True).fetchall())
    return inserted


# Records keys in flight under an owner, and returns those another owner had left there. The
# CTE's SELECT reads the table as it was before the INSERT (one snapshot).
_RECORD_SENT = (
    "WITH earlier AS (SELECT answer_key FROM requests_in_flight WHERE answer_key = "
    "ANY(%(keys)s) AND owner <> %(owner)s), recorded AS (INSERT INTO requests_in_flight "
    "(answer_key, kind, model, owner) SELECT k, %(kind)s, %(model)s, %(owner)s FROM "
    "unnest(%(keys)s::text[]) AS k ON CONFLICT (answer_key) DO UPDATE SET owner = "
    "excluded.owner, sent_at = now()) SELECT answer_key FROM earlier"
)


def _insert_sql(fresh: bool) -> str:
    # unnest of arrays: one statement and one round trip per flush, whatever its size.
    conflict = ("DO UPDATE SET answer = excluded.answer, vector = excluded.vector, "
                "input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, "
                "model = excluded.model, created_at = now()") if fresh else "DO NOTHING"
    return (
        "INSERT INTO answer_journal (answer_key, kind, model, answer, vector, input_tokens, "
        "output_tokens) SELECT k, %(kind)s, %(model)s, a::jsonb, v, ti, tu FROM unnest("
        "%(keys)s::text[], %(answers)s::text[], %(vectors)s::bytea[], %(tin)s::int[], "
        f"%(tout)s::int[]) AS t(k, a, v, ti, tu) ON CONFLICT (answer_key) {conflict} "
        "RETURNING answer_key"
    )
