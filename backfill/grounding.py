"""Grounding checks of one extraction against the text it was made from: what the answer
names should be found in the work order. A check that fails adds a warning to the row
(``ai_extracted_data.warnings``); the answer itself is kept as the model gave it.

Runs per record inside the extract actors, so it is cheap: the text is split into words
once, and every check is set look-ups and a few binary searches.

The checks:

* a part named in ``parts_replaced`` none of whose words (3 letters or more) is in the text;
* a ``failure_mode`` or ``equipment_category`` none of whose words (``data/grounding.yaml``)
  is in the text (``other`` is never flagged);
* a ``root_cause`` none of whose content words (4 letters or more, not a filler such as
  "failure") is in the text.

A word of the answer is "in the text" when a word of the text begins with the same five
letters (or is the same word, when shorter): "batteries" and "battery", "occluded" and
"occlusion" agree; "latch" and "door" do not.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from importlib import resources

import yaml

from backfill import schema as S

_WORD = re.compile(r"[a-z0-9]+")
_STEM = 5
# Words that say nothing about what the text holds: a root cause made of these only is not
# checked ("device failure").
_FILLER = frozenset(
    "failure failed fault faulty issue issues problem problems cause caused causing unit "
    "device equipment system with from that this were have been into than then when also "
    "because unknown likely possible possibly probably internal normal there their".split()
)


@dataclass(frozen=True)
class _Evidence:
    """The words that show one failure mode or category: whole words, stems (a word
    ending in * in the YAML) and phrases, each of which is enough."""

    words: frozenset[str]
    stems: tuple[str, ...]
    phrases: tuple[str, ...]  # " a b " with spaces around, matched in " ".join(words)


def _evidence(entries: list[str]) -> _Evidence:
    words, stems, phrases = set(), [], []
    for entry in entries:
        tokens = _WORD.findall(str(entry).lower())
        if len(tokens) > 1:
            phrases.append(" " + " ".join(tokens) + " ")
        elif str(entry).endswith("*"):
            stems.append(tokens[0])
        else:
            words.add(tokens[0])
    return _Evidence(frozenset(words), tuple(stems), tuple(phrases))


@functools.cache
def evidence() -> dict[str, dict[str, _Evidence]]:
    """field -> value -> its evidence, from ``backfill/data/grounding.yaml``; every key
    there must be a value of the field's enum (checked here, so a typo fails at once)."""
    raw = yaml.safe_load(resources.files("backfill").joinpath("data/grounding.yaml").read_text())
    enums = {"failure_mode": S.FailureMode, "equipment_category": S.EquipmentCategory}
    out: dict[str, dict[str, _Evidence]] = {}
    for field, enum in enums.items():
        values = raw[field]
        unknown = set(values) - {e.value for e in enum}
        if unknown:
            raise ValueError(f"backfill/data/grounding.yaml: {field} has no value "
                             f"{sorted(unknown)}")
        out[field] = {value: _evidence(entries) for value, entries in values.items()}
    return out


class _Text:
    """One document, split once for every check."""

    def __init__(self, document: str) -> None:
        tokens = _WORD.findall(document.lower())
        self.words = set(tokens)
        self.sorted = sorted(self.words)
        self.stems = {t[:_STEM] for t in tokens}
        self.joined = " " + " ".join(tokens) + " "

    def has_stem_of(self, word: str) -> bool:
        return word[:_STEM] in self.stems

    def has_prefix(self, prefix: str) -> bool:
        i = bisect.bisect_left(self.sorted, prefix)
        return i < len(self.sorted) and self.sorted[i].startswith(prefix)

    def shows(self, ev: _Evidence) -> bool:
        return (not ev.words.isdisjoint(self.words)
                or any(self.has_prefix(s) for s in ev.stems)
                or any(p in self.joined for p in ev.phrases))


def grounding_warnings(extraction: S.Extraction, document: str) -> list[str]:
    """What the answer names that the text does not show, one warning each."""
    text = _Text(document)
    warnings = []
    for part in extraction.parts_replaced:
        tokens = [t for t in _WORD.findall(part.lower()) if len(t) > 2]
        if tokens and not any(text.has_stem_of(t) for t in tokens):
            warnings.append(f"part not found in text: {part}")
    table = evidence()
    for field, value, label in (
        ("failure_mode", str(extraction.failure_mode), "failure mode"),
        ("equipment_category", str(extraction.equipment_category), "equipment category"),
    ):
        ev = table[field].get(value)
        if ev is not None and not text.shows(ev):
            warnings.append(f"{label} not supported by the text: {value}")
    if extraction.root_cause:
        content = [t for t in _WORD.findall(extraction.root_cause.lower())
                   if len(t) > 3 and t not in _FILLER and not t.isdigit()]
        if content and not any(text.has_stem_of(t) for t in content):
            warnings.append(f"root cause not found in text: {extraction.root_cause}")
    return warnings
