"""What a SIGKILL may make the job pay again, counted from the simulator's request log: the
bound shared by the kill tests (test_journal_kill, test_resume).

The answer journal's promise (DESIGN decision 4): a kill loses the answers in flight and at
most a flush interval's. The log is written when the simulator answers, so the last
``latency + 2 flush intervals`` of it are the answers that may not be journaled yet (one
interval for the flush, one for the write itself). "In flight" also covers the answers the
simulator has sent but an actor's event loop has not yet read: on this CPU-bound box (two
cores for a dozen processes) an extract actor reads an answer 0.3 s after the simulator
sent it at the median and up to 3.6 s later (measured against answer_journal.created_at
over an 8,000-record run; see docs/benchmarks.md). The log cannot see those reads, so they
are counted as the most the actors can hold: ``llm.max_concurrency`` per extract actor,
from the run's config. A run without the journal pays again for every record answered
and not committed: 261-621 records at the kill points of these tests (measured; the
journal's kill test slows the simulator's embeddings to 400 ms so that there are such records
on a fast box too: a CI box had left only 28)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from backfill.config import PipelineConfig
from backfill.journal import FLUSH_SECONDS


def first_attempt(request: dict[str, Any]) -> str | None:
    """The document of a chat request answered 200 that is a record's first attempt (a
    repair request carries the answer and the complaint too)."""
    if request["kind"] == "chat" and len(request["texts"]) == 2 and request["status"] == 200:
        return str(request["texts"][-1])
    return None


def first_attempts(requests: list[dict[str, Any]]) -> list[str]:
    return [d for r in requests if (d := first_attempt(r)) is not None]


def in_flight_limit(config_path: Path) -> int:
    """The most requests the run's extract actors keep in flight: ``llm.max_concurrency``
    times ``pipeline.extract_actors``, read from the config file (the kill tests set both
    through the devstack's config)."""
    raw = yaml.safe_load(Path(config_path).read_text())
    per_actor = raw["llm"]["max_concurrency"]
    assert isinstance(per_actor, int), "the kill tests need a fixed llm.max_concurrency"
    pipeline = PipelineConfig.model_validate(raw.get("pipeline", {}))
    return per_actor * pipeline.extract_actors


def paid_again_bound(before: list[dict[str, Any]], killed_at: float, latency_ms: float,
                     in_flight: int) -> int:
    """Records a kill at ``killed_at`` may pay again: the requests in flight, and the first
    attempts the log shows answered within the journal's flush window before the kill."""
    window = latency_ms / 1000 + 2 * FLUSH_SECONDS
    recent = sum(1 for r in before if first_attempt(r) is not None and r["ts"] > killed_at - window)
    return in_flight + recent
