"""``backfill eval``: extraction quality of the configured deployment and a prompt version,
measured on a golden set of hand-written work orders with their expected extraction.

Each work order goes the job's own way: its document is composed and scrubbed by
``prepare.compose_documents`` and sent by ``extract.Extractor`` (same body, client, retries
and PHI guard, grounding checks included), so a change of model, deployment or prompt is
judged before a backfill pays for it.

Scores, per field, over every work order (one that failed scores 0 on every field):

* the enum fields and ``follow_up_needed``: exact match;
* ``root_cause``, ``summary`` and ``actions_taken`` (joined): token F1 (words of letters and
  digits, lower case, articles dropped), averaged; null and null agree (1), null and a
  text do not (0);
* ``parts_replaced``: precision, recall and F1 of the normalised names (lower case, no
  punctuation, a plural s dropped), summed over all work orders before dividing;
* overall: the mean of those nine field scores.

Printed for the whole set and for each split (``tune``, ``holdout``), with the share of
answers the grounding checks flagged, the failures by class and the tokens used.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml
from pydantic import BaseModel, ValidationError, create_model

from backfill import schema as S
from backfill.config import Config
from backfill.errors import ConfigError, FatalError, RecordError, TransientError
from backfill.extract import Extractor
from backfill.prepare import compose_documents
from backfill.scrub import ScrubPolicy

__all__ = ["DEFAULT_GOLDEN", "Expected", "GoldenCase", "Scores", "evaluate", "load_golden",
           "normalise_part", "part_scores", "report_text", "token_f1"]

# Shipped with the package (backfill/data), so that `backfill eval` runs wherever the job is
# installed; its header says how it was written and which cases are held out.
DEFAULT_GOLDEN = "golden_extractions.yaml"
SPLITS = ("tune", "holdout")

# The fields scored, derived from the model: every enum field, then the rest by kind.
ENUM_FIELDS = tuple(name for name, info in S.Extraction.model_fields.items()
                    if isinstance(info.annotation, type) and issubclass(info.annotation, Enum))
EXACT_FIELDS = (*ENUM_FIELDS, "follow_up_needed")
TEXT_FIELDS = ("root_cause", "summary", "actions_taken")
PARTS = "parts_replaced"
FIELDS = (*EXACT_FIELDS, *TEXT_FIELDS, PARTS)
NOT_EXPECTED = ("confidence",)  # the model's own opinion: nothing to compare it with

# What a golden case expects: the Extraction's fields but confidence, same types.
Expected: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "Expected",
    __config__=S.Extraction.model_config,
    **{name: (info.annotation, ...) for name, info in S.Extraction.model_fields.items()
       if name not in NOT_EXPECTED},
)
# The source columns a case's input names, as the job's document is composed from them.
INPUT_COLUMNS = {"equipment_type": "EQUIPMENT_TYPE", "manufacturer": "MANUFACTURER",
                 "model": "MODEL", "work_type": "WORK_TYPE", "priority": "PRIORITY",
                 "problem": "PROBLEM_DESCRIPTION", "notes": "TECHNICIAN_NOTES",
                 "resolution": "RESOLUTION"}

_WORD = re.compile(r"[a-z0-9]+")
_ARTICLES = frozenset({"a", "an", "the"})


@dataclass(frozen=True)
class GoldenCase:
    id: str
    split: str
    input: dict[str, str | None]
    expected: dict[str, Any]


def default_golden() -> Path:
    return Path(str(resources.files("backfill").joinpath("data", DEFAULT_GOLDEN)))


def load_golden(path: str | Path) -> list[GoldenCase]:
    """The cases of a golden file: YAML (``cases: [...]``) or JSONL (one case a line).
    A case that does not validate is a ConfigError naming the file and the case."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--golden {path}: {exc.strerror}") from None
    raw: Any
    try:
        if path.suffix == ".jsonl":
            raw = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            loaded = yaml.safe_load(text)
            raw = loaded.get("cases") if isinstance(loaded, dict) else None
    except (ValueError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = getattr(exc, "lineno", None) or (mark.line + 1 if mark is not None else "?")
        raise ConfigError(f"--golden {path}: not valid {path.suffix[1:] or 'YAML'} at line "
                          f"{line} ({type(exc).__name__})") from None
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"--golden {path}: no cases (YAML: a list under 'cases'; JSONL: one "
                          "case a line)")
    cases, seen = [], set()
    for i, case in enumerate(raw):
        cases.append(_case(path, i, case))
        if cases[-1].id in seen:
            raise ConfigError(f"--golden {path}: case id {cases[-1].id!r} occurs twice")
        seen.add(cases[-1].id)
    return cases


def _case(path: Path, index: int, case: Any) -> GoldenCase:
    where = f"--golden {path}, case {index + 1}"
    if not isinstance(case, dict):
        raise ConfigError(f"{where}: not a mapping")
    where = f"--golden {path}, case {case.get('id', index + 1)!r}"
    split = case.get("split", "tune")
    if split not in SPLITS:
        raise ConfigError(f"{where}: split {split!r} is not one of {', '.join(SPLITS)}")
    given = case.get("input")
    if not isinstance(given, dict) or set(given) - set(INPUT_COLUMNS):
        raise ConfigError(f"{where}: input must be a mapping of {', '.join(INPUT_COLUMNS)}")
    try:
        expected = Expected.model_validate(case.get("expected")).model_dump(mode="json")
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"{where}: expected.{'.'.join(map(str, first['loc']))}: "
                          f"{first['msg']}") from None
    return GoldenCase(str(case.get("id", index + 1)), split,
                      {k: None if v is None else str(v) for k, v in given.items()}, expected)


def documents(cases: Sequence[GoldenCase], cfg: Config) -> list[str]:
    """Each case's document as the job composes it (scrubbed, truncated, with its header)."""
    columns = {column: pa.array([c.input.get(key) for c in cases], pa.string())
               for key, column in INPUT_COLUMNS.items()}
    table = compose_documents(pa.table(columns), cfg.pipeline.max_text_chars,
                              ScrubPolicy.from_config(cfg.scrub))
    return [str(d) for d in table.column(S.DOCUMENT).to_pylist()]


# --------------------------------------------------------------------------- scoring


def _tokens(text: str) -> list[str]:
    return [t for t in _WORD.findall(text.lower()) if t not in _ARTICLES]


def token_f1(answer: str | None, expected: str | None) -> float:
    """Token F1 of two texts (multisets of words); two empty texts agree."""
    got, want = Counter(_tokens(answer or "")), Counter(_tokens(expected or ""))
    if not got or not want:
        return float(not got and not want)
    common = sum((got & want).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def normalise_part(name: str) -> str:
    """Lower case, punctuation as spaces, a plural s dropped from each word."""
    words = [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
             for w in _WORD.findall(name.lower())]
    return " ".join(words)


def part_scores(answer: Iterable[str], expected: Iterable[str]) -> tuple[int, int, int]:
    """(matched, answered, expected) distinct normalised part names."""
    got = {normalise_part(p) for p in answer} - {""}
    want = {normalise_part(p) for p in expected} - {""}
    return len(got & want), len(got), len(want)


def _text(value: Any) -> str | None:
    return " ".join(value) if isinstance(value, list) else value


@dataclass
class CaseResult:
    id: str
    split: str
    scores: dict[str, float] = field(default_factory=dict)  # every field but parts
    parts: tuple[int, int, int] = (0, 0, 0)  # matched, answered, expected
    answer: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # the failure's class

    def to_json(self) -> dict[str, Any]:
        matched, answered, expected = self.parts
        return {"id": self.id, "split": self.split, "scores": self.scores,
                "parts": {"matched": matched, "answered": answered, "expected": expected},
                "answer": self.answer, "warnings": self.warnings, "error": self.error}


def score_case(case: GoldenCase, answer: dict[str, Any] | None) -> CaseResult:
    result = CaseResult(case.id, case.split, answer=answer)
    want = case.expected
    if answer is None:
        result.scores = {name: 0.0 for name in (*EXACT_FIELDS, *TEXT_FIELDS)}
        result.parts = (0, 0, len({normalise_part(p) for p in want[PARTS]} - {""}))
        return result
    for name in EXACT_FIELDS:
        result.scores[name] = float(answer[name] == want[name])
    for name in TEXT_FIELDS:
        result.scores[name] = token_f1(_text(answer[name]), _text(want[name]))
    result.parts = part_scores(answer[PARTS], want[PARTS])
    return result


@dataclass
class Scores:
    """Field scores of a set of case results (one split, or all)."""

    documents: int
    fields: dict[str, float]
    parts_precision: float
    parts_recall: float

    @property
    def overall(self) -> float:
        return sum(self.fields.values()) / len(self.fields)

    def to_json(self) -> dict[str, Any]:
        return {"documents": self.documents, "overall": self.overall, "fields": self.fields,
                "parts_precision": self.parts_precision, "parts_recall": self.parts_recall}


def summarise(results: Sequence[CaseResult]) -> Scores:
    n = len(results)
    fields = {name: sum(r.scores[name] for r in results) / n if n else 0.0
              for name in (*EXACT_FIELDS, *TEXT_FIELDS)}
    matched, answered, expected = (sum(r.parts[i] for r in results) for i in range(3))
    precision = matched / answered if answered else 1.0
    recall = matched / expected if expected else 1.0
    fields[PARTS] = (2 * precision * recall / (precision + recall)
                     if precision + recall else 0.0)
    return Scores(n, {name: fields[name] for name in FIELDS}, precision, recall)


# --------------------------------------------------------------------------- the run


@dataclass
class EvalReport:
    golden: str
    deployment: str
    prompt_version: str
    schema_version: str
    results: list[CaseResult]
    usage: dict[str, int]

    def scores(self, split: str | None = None) -> Scores:
        return summarise([r for r in self.results if split is None or r.split == split])

    @property
    def flagged(self) -> int:
        return sum(1 for r in self.results if r.warnings)

    @property
    def answered(self) -> int:
        return sum(1 for r in self.results if r.error is None)

    @property
    def failures(self) -> dict[str, int]:
        return dict(Counter(r.error for r in self.results if r.error is not None))

    def to_json(self) -> dict[str, Any]:
        return {
            "golden": self.golden,
            "deployment": self.deployment,
            "prompt_version": self.prompt_version,
            "schema_version": self.schema_version,
            "overall": self.scores().overall,
            "splits": {"all": self.scores().to_json(),
                       **{s: self.scores(s).to_json() for s in SPLITS}},
            "grounding": {"flagged": self.flagged, "answered": self.answered,
                          "share": self.flagged / self.answered if self.answered else 0.0},
            "failures": self.failures,
            "usage": self.usage,
            "results": [r.to_json() for r in self.results],
        }


def evaluate(cfg: Config, golden: str | Path | None = None,
             prompt_version: str = S.PROMPT_VERSION) -> EvalReport:
    """Send every golden case to ``cfg.llm`` with ``prompt_version`` and score the answers."""
    if prompt_version not in S.PROMPTS:
        raise ConfigError(f"--prompt-version {prompt_version!r} is not a prompt version; "
                          f"known: {', '.join(sorted(S.PROMPTS))}")
    path = Path(golden) if golden else default_golden()
    cases = load_golden(path)
    docs = documents(cases, cfg)
    answers, usage = asyncio.run(_ask_all(cfg, docs, prompt_version))
    unanswered = sum(isinstance(a, TransientError) for a in answers)
    if unanswered:
        # No answer is not a wrong answer: scores with holes would not measure the prompt.
        raise FatalError(
            f"{unanswered} of {len(answers)} golden cases got no answer from "
            f"{cfg.llm.deployment} after its retries (timeouts or 5xx); the scores would not "
            "measure the prompt, so none are printed. Check llm.endpoint (reachable?) or try "
            "again later", dependency=f"LLM deployment {cfg.llm.deployment!r}")
    results = []
    for case, outcome in zip(cases, answers, strict=True):
        if isinstance(outcome, BaseException):
            result = score_case(case, None)
            result.error = getattr(outcome, "error_class", None) or "Unavailable"
        else:
            result = score_case(case, outcome["extraction"])
            result.warnings = list(outcome["warnings"])
        results.append(result)
    return EvalReport(str(path), cfg.llm.deployment, prompt_version, S.SCHEMA_VERSION,
                      results, usage)


async def _ask_all(cfg: Config, docs: list[str], prompt_version: str
                   ) -> tuple[list[dict[str, Any] | BaseException], dict[str, int]]:
    extractor = Extractor(cfg.llm, prompt_version=prompt_version)

    async def one(doc: str) -> dict[str, Any] | BaseException:
        try:
            content, _, _ = await extractor.extract_one(doc)
        except (RecordError, TransientError) as exc:  # a FatalError stops the evaluation
            return exc
        parsed: dict[str, Any] = json.loads(content)
        return parsed

    try:
        # the deployment's in-flight window bounds how many are sent at once
        outcomes = await asyncio.gather(*(one(d) for d in docs))
    finally:
        await extractor.api.aclose()
    api = extractor.api
    api.usage.rate_limited += api.pacer.rate_limited
    return list(outcomes), api.usage.take()


# --------------------------------------------------------------------------- output


def report_text(report: EvalReport) -> str:
    splits = {"all": report.scores(), **{s: report.scores(s) for s in SPLITS}}
    head = "".join(f"{f'{name} ({s.documents})':>15}" for name, s in splits.items())
    lines = [
        f"golden set {report.golden}",
        f"deployment {report.deployment}, prompt {report.prompt_version}, "
        f"schema {report.schema_version}",
        "",
        f"{'field':<31}{head}",
    ]
    for name in FIELDS:
        kind = ("exact" if name in EXACT_FIELDS else "token F1" if name in TEXT_FIELDS
                else "F1")
        lines.append(f"{f'{name} ({kind})':<31}"
                     + "".join(f"{s.fields[name]:>15.3f}" for s in splits.values()))
    lines.append(f"{'  parts precision':<31}"
                 + "".join(f"{s.parts_precision:>15.3f}" for s in splits.values()))
    lines.append(f"{'  parts recall':<31}"
                 + "".join(f"{s.parts_recall:>15.3f}" for s in splits.values()))
    lines.append(f"{'overall':<31}" + "".join(f"{s.overall:>15.3f}" for s in splits.values()))
    share = report.flagged / report.answered if report.answered else 0.0
    failures = ", ".join(f"{k} {v}" for k, v in sorted(report.failures.items())) or "none"
    u = report.usage
    lines += [
        "",
        f"grounding: {report.flagged} of {report.answered} answers flagged ({share:.1%})",
        f"failures: {failures}",
        f"usage: {u.get('requests', 0):,} requests, {u.get('prompt_tokens', 0):,} input and "
        f"{u.get('completion_tokens', 0):,} output tokens, {u.get('rate_limited', 0):,} "
        "rate limited",
    ]
    return "\n".join(lines)
