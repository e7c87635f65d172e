"""Evaluation of the PII scrubber on hand-labeled work orders it was not written against.

Corpus: JSONL, one work order a line (format and kinds: ``tests/data/phi/README.md``).
``spans`` are identifiers that must go (kinds from the HIPAA Safe Harbor list, plus
``staff_name``: every person's name is removed, docs/phi.md); ``lookalikes`` are engineering
numbers and words that must survive (serials, parts, error codes, rooms ...).

Scoring works on the scrubbed text alone, since the scrubber reports no offsets:

* recall (per identifier kind): share of spans none of whose alphanumeric tokens survive (half a
  name is a leak); a token the input also holds outside identifiers leaks only if the output
  has it more often ("Park" the nurse and "Park St" the garage).
* precision (per look-alike kind): share of look-alikes whose exact text is still in the output
  as often as in the input.  "SN [PHONE]" for "SN 6175550199" is a look-alike lost.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backfill.guard import find_identifiers
from backfill.scrub import scrub_text
from backfill.textnorm import normalize

__all__ = ["DEFAULT_CORPUS", "KindScore", "Span", "SplitScore", "WorkOrder", "check_offsets",
           "evaluate", "gate_failures", "load_corpus", "score", "scores_text"]

# The corpus ships with the tests, not the package: scrub-eval is run from a checkout.
_CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "phi"
# tune*: may be read while improving the scrubber; heldout*: only measured (README there).
DEFAULT_CORPUS = tuple(_CORPUS_DIR / f"{name}.jsonl" for name in (
    "tune", "tune2", "tune3", "heldout", "heldout2", "heldout3", "heldout4", "heldout5",
    "heldout6", "heldout7", "heldout8", "heldout9", "heldout10", "heldout11", "heldout12",
    "heldout13", "heldout14", "heldout15", "heldout16", "heldout17", "heldout18", "heldout19",
    "heldout20", "heldout21", "heldout22", "heldout23", "heldout24", "heldout25",
    "heldout26", "heldout27", "heldout28", "heldout29", "heldout30", "heldout31", "heldout32",
    "heldout33", "heldout34", "heldout45", "heldout46", "heldout47", "heldout48",
    "heldout49"))

# A token is a run of letters and digits with the combining marks inside it: the vowel signs
# of Indic, Thai, Lao, Myanmar and Khmer words and Latin accents written as marks ("Bọ́sẹ̀")
# are not \w, and without them "सुनील" was three one-letter tokens that any other leak of the
# text could make count as this name's (scorer fix, version 17's round).
_TOKEN = re.compile(r"[^\W_](?:[^\W_]|[\u0300-\u036f\u0900-\u0dff\u0e31-\u0e4e\u0eb1-\u0ecd"
                    r"\u0f71-\u0f84\u1000-\u109f\u17b4-\u17d3\u200c\u200d])*")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    kind: str


@dataclass(frozen=True, slots=True)
class WorkOrder:
    id: str
    text: str
    spans: tuple[Span, ...]
    lookalikes: tuple[Span, ...]


@dataclass(slots=True)
class KindScore:
    total: int = 0
    good: int = 0  # identifier removed / look-alike kept

    @property
    def rate(self) -> float:
        return self.good / self.total if self.total else 1.0


@dataclass(slots=True)
class SplitScore:
    name: str
    records: int = 0
    recall: dict[str, KindScore] = field(default_factory=dict)
    # identifiers that do not leave: removed by the scrubber, or in a record the guard at the
    # door (backfill.guard) stops; and how many records the guard stops
    door: dict[str, KindScore] = field(default_factory=dict)
    stopped: int = 0
    precision: dict[str, KindScore] = field(default_factory=dict)
    misses: list[dict[str, str]] = field(default_factory=list)  # leaked ids, lost look-alikes
    records_per_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        def table(scores: dict[str, KindScore]) -> dict[str, dict[str, float]]:
            return {k: {"total": s.total, "good": s.good, "rate": round(s.rate, 4)}
                    for k, s in sorted(scores.items())}

        return {"split": self.name, "records": self.records, "recall": table(self.recall),
                "at_the_door": table(self.door), "stopped_by_guard": self.stopped,
                "precision": table(self.precision), "records_per_s": round(self.records_per_s),
                "misses": self.misses}


def load_corpus(path: Path | str) -> list[WorkOrder]:
    orders = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            orders.append(WorkOrder(
                raw["id"], raw["text"],
                tuple(Span(s["start"], s["end"], s["kind"]) for s in raw["spans"]),
                tuple(Span(s["start"], s["end"], s["kind"]) for s in raw["lookalikes"])))
    return orders


def check_offsets(orders: Iterable[WorkOrder]) -> list[str]:
    """Problems with the labels: spans out of range, empty, padded with spaces, overlapping."""
    problems, seen = [], set()
    for order in orders:
        if order.id in seen:
            problems.append(f"{order.id}: duplicate id")
        seen.add(order.id)
        every = sorted(order.spans + order.lookalikes, key=lambda s: (s.start, s.end))
        for span in every:
            value = order.text[span.start:span.end]
            if not 0 <= span.start < span.end <= len(order.text):
                problems.append(f"{order.id}: {span} out of range")
            elif value != value.strip() or not _TOKEN.search(value):
                problems.append(f"{order.id}: {span} is {value!r}")
        for before, after in zip(every, every[1:], strict=False):
            if after.start < before.end:
                problems.append(f"{order.id}: {before} overlaps {after}")
    return problems


def score(orders: Sequence[WorkOrder], scrub: Callable[[str], str], name: str = "",
          guard: Callable[[str], list[str]] = find_identifiers) -> SplitScore:
    """Scrub every text once and count, per kind, identifiers removed and look-alikes kept;
    and identifiers that do not leave once the guard has stopped the records it flags."""
    result = SplitScore(name, records=len(orders))
    for order in orders:
        out = scrub(order.text)
        stopped = bool(guard(out))
        result.stopped += stopped
        out_tokens = Counter(_TOKEN.findall(out))
        outside = list(order.text)
        for span in order.spans:  # blank the identifiers: what is left may legitimately survive
            outside[span.start:span.end] = " " * (span.end - span.start)
        # values are compared as the scrubber reads them (backfill/textnorm.py): a value
        # written "512\u201044\u20109084" leaks as "512-44-9084"
        outside_tokens = Counter(_TOKEN.findall(normalize("".join(outside))))
        whole = normalize(order.text)
        for span in order.spans:
            value = normalize(order.text[span.start:span.end])
            leaked = any(out_tokens[t] > outside_tokens[t] for t in _TOKEN.findall(value))
            _count(result.recall, span.kind, not leaked)
            _count(result.door, span.kind, not leaked or stopped)
            if leaked:
                result.misses.append({"id": order.id, "kind": span.kind, "leaked": value})
        for span in order.lookalikes:
            value = normalize(order.text[span.start:span.end])
            kept = out.count(value) >= whole.count(value)
            _count(result.precision, span.kind, kept)
            if not kept:
                result.misses.append({"id": order.id, "kind": span.kind, "lost": value})
    return result


def _count(scores: dict[str, KindScore], kind: str, good: bool) -> None:
    s = scores.setdefault(kind, KindScore())
    s.total += 1
    s.good += good


def _records_per_s(texts: Sequence[str], min_seconds: float = 0.3,
                   spent: float = 0.0) -> float:
    """Texts scrubbed per second in this process (one core). ``spent``: the seconds the
    scoring pass took to scrub ``texts`` once; repeated only if that timed less than 0.3 s."""
    if spent >= min_seconds and texts:
        return len(texts) / spent
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < min_seconds or not done:
        for text in texts:
            scrub_text(text)
        done += len(texts)
    return done / elapsed


def evaluate(paths: Sequence[Path | str] = DEFAULT_CORPUS) -> list[SplitScore]:
    """One score per file, named after it (``tune``, ``heldout``); its records/s from the
    same pass (the scrubber alone is timed, not the scoring)."""
    scores = []
    for path in paths:
        orders = load_corpus(path)
        spent = 0.0

        def timed(text: str) -> str:
            nonlocal spent
            started = time.perf_counter()
            out = scrub_text(text).text or ""
            spent += time.perf_counter() - started
            return out

        split = score(orders, timed, Path(path).stem)
        split.records_per_s = _records_per_s([o.text for o in orders], spent=spent)
        scores.append(split)
    return scores


def gate_failures(scores: Sequence[SplitScore], min_recall: float | None,
                  min_precision: float | None) -> list[str]:
    """Misses of the thresholds (%): recall per identifier kind, precision over all look-alikes."""
    failures = []
    for s in scores:
        for kind, k in sorted(s.recall.items()):
            if min_recall is not None and 100 * k.rate < min_recall:
                failures.append(f"{s.name}: recall {kind} {100 * k.rate:.1f}% < {min_recall}%")
        kept = sum(k.good for k in s.precision.values())
        total = sum(k.total for k in s.precision.values())
        if min_precision is not None and total and 100 * kept / total < min_precision:
            failures.append(f"{s.name}: look-alike precision {100 * kept / total:.1f}% "
                            f"< {min_precision}%")
    return failures


def scores_text(scores: Sequence[SplitScore]) -> str:
    lines = []
    for s in scores:
        lines.append(f"{s.name}: {s.records} work orders, {s.records_per_s:,.0f} records/s "
                     "on one core")
        lines.append(f"  {'identifier':<14}{'recall':>10}{'removed':>9}{'of':>5}"
                     f"{'with guard':>12}")
        for kind, k in sorted(s.recall.items()):
            door = s.door[kind]
            lines.append(f"  {kind:<14}{100 * k.rate:>9.1f}%{k.good:>9}{k.total:>5}"
                         f"{100 * door.rate:>11.1f}%")
        lines.append(f"  (with guard: removed, or the record stopped at the door: "
                     f"{s.stopped} of {s.records} records stopped)")
        lines.append(f"  {'look-alike':<14}{'precision':>10}{'kept':>9}{'of':>5}")
        for kind, k in sorted(s.precision.items()):
            lines.append(f"  {kind:<14}{100 * k.rate:>9.1f}%{k.good:>9}{k.total:>5}")
    return "\n".join(lines)
