"""The first-character lookahead (backfill/relead.py) changes no match: checked pattern by
pattern on the scrubber's own patterns over text it was not written from (the labeled corpus,
every file, and the dev stack's synthetic work orders), and on patterns written here to reach
each branch of the class's computation."""

from __future__ import annotations

import re
from functools import cache

import pytest

import backfill.names
import backfill.numbers
import backfill.scrub
from backfill.devstack.synthetic import generate_work_orders
from backfill.relead import compile_led, first_class, lead, unlead
from backfill.schema import FREE_TEXT
from backfill.scrub_eval import _CORPUS_DIR, load_corpus


@cache
def _texts() -> tuple[str, ...]:
    corpus = [o.text for path in sorted(_CORPUS_DIR.glob("*.jsonl")) for o in load_corpus(path)]
    rows = generate_work_orders(600, seed=7).table.select(list(FREE_TEXT)).to_pylist()
    synthetic = [v for row in rows for v in row.values() if v]
    return tuple(corpus + synthetic)


def _module_patterns() -> list[tuple[str, re.Pattern[str]]]:
    return [(f"{module.__name__}.{name}", value)
            for module in (backfill.scrub, backfill.names, backfill.numbers)
            for name, value in vars(module).items()
            if isinstance(value, re.Pattern) and unlead(value) is not value]


def _matches(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in pattern.finditer(text)]
    # and a search one character after each match's start, as the scrubber resumes after a
    # match its callback declines
    spans += [m.span() if (m := pattern.search(text, start + 1)) else (-1, start)
              for start, _ in spans[:3]]
    return spans


def test_the_scrubbers_patterns_are_led() -> None:
    led = _module_patterns()
    assert len(led) >= 150, "the scrubber's patterns lost their lookahead"
    names = {name for name, _ in led}
    assert "backfill.scrub._SPELLED_NUMBER" in names and "backfill.scrub._MRN_FOREIGN" in names


def _same_matches(name: str, pattern: re.Pattern[str], texts: tuple[str, ...]) -> None:
    source = unlead(pattern)
    assert source.pattern != pattern.pattern
    for text in texts:
        assert _matches(pattern, text) == _matches(source, text), (name, text[:80])


_IDS = {"ids": lambda v: v if isinstance(v, str) else ""}


@pytest.mark.parametrize("name,pattern", _module_patterns(), **_IDS)
def test_a_led_pattern_matches_where_its_source_does(name: str,
                                                      pattern: re.Pattern[str]) -> None:
    _same_matches(name, pattern, _texts()[::6])  # (all of them: the slow test below)


@pytest.mark.slow
@pytest.mark.parametrize("name,pattern", _module_patterns(), **_IDS)
def test_a_led_pattern_matches_where_its_source_does_on_every_text(
        name: str, pattern: re.Pattern[str]) -> None:
    _same_matches(name, pattern, _texts())


def test_the_class_is_every_character_a_match_can_start_with() -> None:
    # optional groups, alternations, nested flags, a lookbehind and \b before the first letter
    pattern = re.compile(r"(?<![\w-])(?:[A-Z]\.[ ]){0,2}\b(?i:mrn|h(?-i:N)o|\d{3})")
    ahead = first_class(pattern)
    assert ahead is not None
    gate = re.compile(ahead)
    for c in "AZmMhH05":
        assert gate.match(c), c
    for c in "n-x. (":
        assert not gate.match(c), c
    # "N" of "hNo" is case-sensitive, "h" is not
    assert lead(pattern).search("xx HNo") and not lead(pattern).search("xx Hno")
    assert [m.span() for m in lead(pattern).finditer("J. K. Mrn 123 x9 hNo")] == [
        m.span() for m in pattern.finditer("J. K. Mrn 123 x9 hNo")]


@pytest.mark.parametrize("source", [
    r"a?",                  # matches the empty string: at any position
    r"[^a]bc",              # a negated class
    r"(?i:x|.)",            # any character
    r"(a)\1",               # fine, but re finds the literal "a" itself
    r"\w+@",                # a word character: most positions
    r"^(?i:mrn)",           # "^" refuses most positions already
    r"(?<=MRN )\d+",        # so does a lookbehind
    r"(?x) m r n",          # global flags in the source
])
def test_lead_leaves_a_pattern_alone_where_it_cannot_help(source: str) -> None:
    pattern = re.compile(source)
    assert lead(pattern) is pattern
    assert unlead(pattern) is pattern


def test_compile_led_round_trips() -> None:
    led = compile_led(r"(?<![\w])(?i:dob|born)[ :]+(?P<val>\d{1,2}/\d{1,2}/\d{4})", re.M)
    assert led.pattern.startswith("(?=") and led.flags & re.M
    assert unlead(led).pattern == r"(?<![\w])(?i:dob|born)[ :]+(?P<val>\d{1,2}/\d{1,2}/\d{4})"
    assert led.groupindex == {"val": 1}
    assert led.search("pt DOB: 3/4/1950").group("val") == "3/4/1950"
