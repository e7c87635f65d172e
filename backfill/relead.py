"""A first-character lookahead for costly regular expressions (scrubber speed, issue 14).

Python's ``re`` skips ahead to candidate positions only when a pattern starts with a literal or
a case-sensitive character class. The scrubber's patterns mostly start with a lookbehind, a
case-insensitive list of cue words in many languages or an optional group, so ``search`` and
``sub`` try the whole pattern at every position of the text: a 300-word alternation is tried
word by word at every word start. ``lead(pattern)`` puts a lookahead in front that admits only
the characters a match can start with, computed from the parsed pattern; a position any other
character starts is refused at the cost of one class test.

The matches are the same by construction: the lookahead is a necessary condition of every
match (the first character consumed is in the class; lookarounds and anchors before it consume
nothing). Where the pattern can match the empty string, starts with a back-reference, a negated
class or "any character", or uses a construct this module does not know, ``lead`` returns the
pattern unchanged. ``tests/test_relead.py`` holds the matches to the unled pattern's on the
corpus and the synthetic texts. No maintained library does this (the regex module would, but
the scrubber's patterns are written for ``re``; a rewrite for it changes matches).
"""

from __future__ import annotations

import re
from re import _constants as C  # type: ignore[attr-defined]  # the parser's opcodes (stdlib)
from re import _parser  # type: ignore[attr-defined]  # stdlib's own parser, as re.compile uses
from typing import Any

__all__ = ["compile_led", "first_class", "lead", "unlead"]

# the class escapes of the parser's categories (the pattern's own flags apply to them)
_CATEGORIES = {
    C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_WORD: r"\w",
    C.CATEGORY_NOT_WORD: r"\W", C.CATEGORY_SPACE: r"\s", C.CATEGORY_NOT_SPACE: r"\S",
}
# where the lookahead ends and the pattern begins (a "]" or ")" in the class is escaped)
_OPEN = "]))(?:"
_BEGINNINGS = (C.AT_BEGINNING, C.AT_BEGINNING_LINE, C.AT_BEGINNING_STRING)
_ZERO_WIDTH = (C.AT, C.ASSERT, C.ASSERT_NOT)
_REPEATS = tuple(getattr(C, name) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
                 if hasattr(C, name))


class _Unknown(Exception):
    """A construct whose first characters this module does not compute."""


def _item(op: object, av: Any) -> str:
    if op is C.LITERAL:
        return re.escape(chr(av))
    if op is C.RANGE:
        return f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}"
    if op is C.CATEGORY and av in _CATEGORIES:
        return _CATEGORIES[av]
    raise _Unknown(op)


def _first(seq: list, ignorecase: bool, out: list[tuple[str, bool]]) -> bool:
    """Add to ``out`` the (class item, ignore case) a match of ``seq`` can start with; True
    if ``seq`` can match the empty string."""
    for op, av in seq:
        if op in _ZERO_WIDTH:
            continue
        if op is C.LITERAL:
            out.append((_item(op, av), ignorecase))
            return False
        if op is C.IN:
            if any(o is C.NEGATE for o, _ in av):
                raise _Unknown(op)
            out.extend((_item(o, a), ignorecase) for o, a in av)
            return False
        if op is C.SUBPATTERN:
            _group, add, remove, sub = av
            flags = (re.I if ignorecase else 0) | add
            if not _first(list(sub), bool(flags & re.I) and not remove & re.I, out):
                return False
            continue
        if op is getattr(C, "ATOMIC_GROUP", None):
            if not _first(list(av), ignorecase, out):
                return False
            continue
        if op is C.BRANCH:
            empty = False
            for alt in av[1]:
                empty = _first(list(alt), ignorecase, out) or empty
            if not empty:
                return False
            continue
        if op in _REPEATS:
            low, _high, sub = av
            if not _first(list(sub), ignorecase, out) and low > 0:
                return False
            continue
        raise _Unknown(op)
    return True


def _skips_already(seq: list, ignorecase: bool) -> bool:
    """``re`` finds the candidate positions itself: the pattern starts with a case-sensitive
    literal or class, or a choice of such literals (as ``re._compiler`` looks for them); or
    it starts with a test that refuses most positions as cheaply: "^", a lookbehind."""
    while seq and seq[0][0] is C.SUBPATTERN:
        _group, add, remove, sub = seq[0][1]
        ignorecase = bool(((re.I if ignorecase else 0) | add) & re.I) and not remove & re.I
        seq = list(sub)
    if not seq:
        return False
    op, av = seq[0]
    if op is C.AT and av in _BEGINNINGS or op is C.ASSERT and av[0] < 0:
        return True  # "^" or a lookbehind (each a test as cheap as the class's)
    if ignorecase:
        return False
    if op is C.BRANCH:
        return all(alt and alt[0][0] is C.LITERAL for alt in av[1])
    return op in (C.LITERAL, C.IN)


def first_class(pattern: re.Pattern[str]) -> str | None:
    """A lookahead that admits the characters a match of ``pattern`` can start with, or None
    where it cannot be computed, would admit most positions (a word character, anything but a
    space or a digit) or where ``re`` skips to the candidates itself."""
    if not isinstance(pattern.pattern, str):
        return None
    return _first_class(pattern.pattern, pattern.flags)


def _first_class(source: str, flags: int) -> str | None:
    if flags & (re.LOCALE | re.VERBOSE) or re.match(r"\(\?[aiLmsux]+\)", source):
        return None  # (global flags in the source must stay at its start)
    try:
        parsed = _parser.parse(source, flags)
        ignorecase = bool(parsed.state.flags & re.I)
        if _skips_already(list(parsed), ignorecase):
            return None
        items: list[tuple[str, bool]] = []
        if _first(list(parsed), ignorecase, items):
            return None  # it can match the empty string: at any position
    except _Unknown:
        return None
    if any(i in (r"\w", r"\W", r"\S", r"\D") for i, _ in items):
        return None
    cased = "".join(dict.fromkeys(i for i, ic in items if not ic))
    caseless = "".join(dict.fromkeys(i for i, ic in items if ic))
    parts = ([f"(?-i:[{cased}])"] if cased else []) + ([f"(?i:[{caseless}])"] if caseless else [])
    return f"(?={'|'.join(parts)})"


def lead(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` with a first-character lookahead in front: the same matches, found faster
    where the pattern starts with no literal (see the module's docstring). Unchanged where the
    class cannot be computed, or where the source opens with global flags."""
    ahead = first_class(pattern)
    if ahead is None:
        return pattern
    return re.compile(f"{ahead}(?:{pattern.pattern})", pattern.flags)


def unlead(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The pattern ``lead`` was given (for the tests and benchmarks that compare the two)."""
    ahead = first_class(re.compile(pattern.pattern[pattern.pattern.find(_OPEN) + len(_OPEN):-1],
                                   pattern.flags)) if _OPEN in pattern.pattern else None
    if ahead is None or not pattern.pattern.startswith(ahead + "(?:"):
        return pattern
    return re.compile(pattern.pattern[len(ahead) + 3:-1], pattern.flags)


def compile_led(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``lead(re.compile(pattern, flags))``, without compiling the unled pattern: how the
    scrubber compiles its module-level patterns."""
    ahead = _first_class(pattern, flags)
    return re.compile(pattern if ahead is None else f"{ahead}(?:{pattern})", flags)
