"""The learned number layer: after the rules, a number they left whose context says it is a
patient's identifier becomes ``[OTHER_ID]`` (config ``scrub.number_model``, docs/phi.md).

Why learned: on text no rule was written against, numbers are the scrubber's weakest kinds
(MRNs, accounts, health plans, "other" ids), and every generic rule measured (every number of
six digits or more on a line with a masked identifier; the same after the word for "number" in
25 languages; an insurer's name then an id) cost two to three engineering look-alikes for each
identifier it found there: serials, tickets and lots stand on the same lines and under the same
words as the patient's numbers. A logistic regression over the number's shape and the words
around it, trained on the hand-labelled corpus's read files (``tests/data/phi``, written by
many hands), tells them apart better: one look-alike lost for five to seven identifiers on the
unread files (the figures and the threshold's choice: docs/phi.md, "Version 34" and "Version
35").

Why by hand at run time: the model is a sum of weights over binary features, read from a text
file beside this module; scoring is one dictionary lookup a feature (no scikit-learn, numpy or
model file format at run time). scikit-learn trains it (``python -m backfill.numbers train``,
the ``dev`` extra) and measures the threshold (``python -m backfill.numbers cv``). The file
names the scrubber version and the corpus files it was trained on; a test fails when either
changes without training again (the features are the rules' output: new rules, new inputs).
"""

from __future__ import annotations

import hashlib
import math
import sys
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

from backfill.relead import compile_led

__all__ = ["MODEL_PATH", "NumberModel", "candidates", "features", "load_model", "mask_numbers"]

MODEL_PATH = Path(__file__).resolve().parent / "data" / "number_model.tsv"
PLACEHOLDER = "[OTHER_ID]"

# A token that holds a digit (within its first 64 characters: bounded, so that a long run of
# words without one costs linear time), glued to the groups of digits that follow it after one
# space ("80752 00031 86603 2208"), not inside a word or a placeholder; four digits at least.
# (Version 36: a group is whole words only: "2008T 2T8SKF0412", a model and its serial, had
# become "[OTHER_ID]T8SKF0412", and "05/03/2024 14h20" "[OTHER_ID]h20".)
_CANDIDATE = compile_led(
    r"(?<![\w\[])[+#]?(?=[\w\-./]{0,64}\d)\w[\w\-./:]*(?:[ ](?=\d)\d[\d\-./]*(?!\w))*")
_MIN_DIGITS = 4
_WORD = compile_led(r"\S+")
_PLACEHOLDER = compile_led(r"\[[A-Z_]+\]")
_LEADING_LETTERS = compile_led(r"[^\W\d_]+")
_ANY_DIGIT = compile_led(r"\d")


# A private network's address (RFC 1918, loopback) on a line that configures a network
# ("IP 10.120.203.87, VLAN 154") is the hospital's equipment, kept by policy (docs/phi.md):
# never judged. Version 40's training had learned "IP" before a number from the read files'
# patient-owned home devices, whose lines say no such thing.
_PRIVATE_IP = compile_led(r"(?:10|127)(?:\.\d{1,3}){3}|192\.168(?:\.\d{1,3}){2}"
                         r"|172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2}")
_NETWORK_WORDS = compile_led(r"(?i:vlan|subnet|gateway|netmask|dhcp|dns|static ip|switch port"
                            r"|network|ethernet)")


def _network_address(text: str, start: int, end: int) -> bool:
    if not _PRIVATE_IP.fullmatch(text, start, end):
        return False
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return _NETWORK_WORDS.search(text, line_start, len(text) if line_end < 0 else line_end) \
        is not None


# (version 52) A calendar date, with its time or not ("2024-06-07", "06.08.2025",
# "2024-07-08T22:10:00Z"), is never judged: a date is a birth date by the date rules' cues
# (and any date before ``scrub.birth_dates_before``), or the date of the work, which the
# extraction needs; the layer had learned to take some for identifiers (leave one file out
# at 0.4 on version 51's rules: +672 identifiers for 235 look-alikes without them, +660 for
# 242 with them; docs/phi.md, version 52).
_CALENDAR_DATE = compile_led(
    r"(?:(?:19|20)\d\d([\-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])([\-/.])(?:0?[1-9]|1[0-2])\2(?:(?:19|20)\d\d|\d\d)"
    r"|(?:0?[1-9]|1[0-2])([\-/.])(?:0?[1-9]|[12]\d|3[01])\3(?:19|20)\d\d)"
    r"(?:T\d\d:\d\d(?::\d\d)?Z?)?")


def candidates(text: str) -> Iterator[tuple[int, int]]:
    """Start and end of every number the layer judges, in order."""
    for m in _CANDIDATE.finditer(text):
        start, end = m.span()
        while end > start and text[end - 1] in ".:/-":
            end -= 1
        if sum(c.isdigit() for c in text[start:end]) >= _MIN_DIGITS and not (
                _network_address(text, start, end)
                or _CALENDAR_DATE.fullmatch(text, start, end)):
            yield start, end


def _shape(value: str) -> str:
    out: list[str] = []
    for c in value:
        k = "9" if c.isdigit() else "A" if c.isupper() else "a" if c.isalpha() else c
        if not out or out[-1] != k:
            out.append(k)
    return "".join(out)


def _norm(word: str) -> str:
    bare = word.strip(".,;:()")
    if _PLACEHOLDER.fullmatch(bare):
        return bare
    return word.lower().strip(".,;:()[]{}<>\"'!?*")


class _Line:
    """What every number of one line shares: its words (with their spans, for the words before
    and after a number) and the features of the whole line. Built once a line, so that a line
    of many numbers costs linear time."""

    __slots__ = ("end", "features", "spans", "start", "text")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text, self.start, self.end = text, start, end
        self.spans = [m.span() for m in _WORD.finditer(text, start, end)]
        words = [text[s:e] for s, e in self.spans]
        self.features = ["lph=" + p for p in sorted(set(_PLACEHOLDER.findall(text, start, end)))]
        self.features += ["lb=" + w for w in sorted({_norm(w) for w in words})]
        if words:
            self.features.append("first=" + _norm(words[0]))

    def before(self, at: int, n: int) -> list[str]:
        """The last ``n`` words of the line before ``at`` (the last one cut at ``at``)."""
        i = bisect_left(self.spans, (at, -1))  # words that start before ``at``
        return [self.text[max(s, min(e, at) - _WORD_MAX):min(e, at)]
                for s, e in self.spans[max(i - n, 0):i]]

    def after(self, at: int, n: int) -> list[str]:
        """The first ``n`` words of the line from ``at`` (the first one cut at ``at``)."""
        i = bisect_left(self.spans, (at, -1))
        if i and self.spans[i - 1][1] > at:
            i -= 1
        return [self.text[max(s, at):min(e, max(s, at) + _WORD_MAX)]
                for s, e in self.spans[i:i + n]]


# A word beside a number is read up to this many characters next to it: in text without
# blanks the "word" before every number was all the text before it, and its 4-grams made the
# layer quadratic (32,000 characters of "-acct:E-12(": 3 s). The corpus's longest is 456 (a
# FHIR resource's JSON), so the shipped weights are what training gives with or without it.
_WORD_MAX = 1024
_IPV4 = compile_led(r"\d{1,3}(?:\.\d{1,3}){3}")


def _line(text: str, at: int) -> _Line:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return _Line(text, start, len(text) if end < 0 else end)


def features(text: str, start: int, end: int, line: _Line | None = None) -> list[str]:
    """The binary features of the number at ``text[start:end]``: its shape, digit and letter
    counts, leading letters, separators and character trigrams (digits as 9); the three words
    before it (with their character 4-grams) and two after; the characters at its edges; the
    words and placeholders of its line, and the line's first word (a key or a table's column).
    ``line``: the number's line, when the caller judges several numbers of it."""
    if line is None:
        line = _line(text, start)
    own, trigrams = _own_features(text, start, end, line)
    return own + line.features + trigrams


def _own_features(text: str, start: int, end: int, line: _Line) -> tuple[list[str], list[str]]:
    """``features`` but the line's: what comes before them and the trigrams after them.
    Apart, because a line's features are the same for all its numbers: summed once a line,
    a long line of many numbers (a pasted one-line JSON or log) costs linear time, not its
    numbers times its words."""
    value = text[start:end]
    digits = sum(c.isdigit() for c in value)
    letters = sum(c.isalpha() for c in value)
    f = ["bias", "shape=" + _shape(value), f"nd={min(digits, 14)}", f"na={min(letters, 4)}"]
    lead = _LEADING_LETTERS.match(value)
    if lead:
        f.append("pre=" + lead.group().lower()[:4])
    f.extend("sep=" + c for c in sorted({c for c in value if not c.isalnum()}))
    prev = [_norm(w) for w in line.before(start, 3)]
    for i, w in enumerate(reversed(prev), 1):
        f.append(f"w-{i}={w}")
        f.append(f"wb={w}")
        if i <= 2 and not w.startswith("["):
            x = f"<{w}>"
            f.extend(f"g{i}={x[k:k + 4]}" for k in range(len(x) - 3))
    for i, w in enumerate([_norm(w) for w in line.after(end, 2)], 1):
        f.append(f"w+{i}={w}")
    b = start
    while b > line.start and text[b - 1].isspace():
        b -= 1
    f.append("cb=" + (text[b - 1] if b > line.start else "^"))
    a = end
    while a < line.end and text[a].isspace():
        a += 1
    f.append("ca=" + (text[a] if a < line.end else "$"))
    f.extend("bph=" + p for p in sorted(set(_PLACEHOLDER.findall(text, max(line.start, start - 40),
                                                                  start))))
    x = _ANY_DIGIT.sub("9", f"<{value.lower()}>")
    return f, sorted({"cg=" + x[k:k + 3] for k in range(len(x) - 2)})


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


class NumberModel:
    """Weights by feature, the intercept and the threshold (a probability)."""

    def __init__(self, weights: dict[str, float], intercept: float, threshold: float,
                 meta: dict[str, str]) -> None:
        self.weights = weights
        self.intercept = intercept
        self.threshold = threshold
        self.meta = meta

    @property
    def logit(self) -> float:
        """The threshold as log-odds, what ``score`` is compared with."""
        return _logit(self.threshold)

    def score(self, feats: Sequence[str]) -> float:
        """The log-odds that the number is a patient's identifier (features counted once)."""
        w = self.weights
        return self.intercept + sum(w.get(x, 0.0) for x in set(feats))

    def dump(self, path: Path) -> None:
        lines = [f"# {k}\t{v}" for k, v in self.meta.items()]
        lines += [f"# intercept\t{self.intercept:.6f}", f"# threshold\t{self.threshold}"]
        lines += [f"{w:.4f}\t{x}" for x, w in sorted(self.weights.items())]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> NumberModel:
        weights: dict[str, float] = {}
        meta: dict[str, str] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("\t")
            if key.startswith("# "):
                meta[key[2:]] = value
            elif line:
                weights[value] = float(key)
        intercept = float(meta.pop("intercept"))
        threshold = float(meta.pop("threshold"))
        return cls(weights, intercept, threshold, meta)


@lru_cache(maxsize=1)
def load_model() -> NumberModel:
    """The shipped model, read once a process."""
    return NumberModel.read(MODEL_PATH)


def _with_lines(text: str) -> Iterator[tuple[int, int, _Line]]:
    """Every candidate with its line, the words of a line gathered once for all its numbers
    (the same object for every number of a line)."""
    line: _Line | None = None
    for s, e in candidates(text):
        if line is None or s > line.end:
            line = _line(text, s)
        yield s, e, line


def _judged(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """Every candidate with its features (training)."""
    for s, e, line in _with_lines(text):
        yield s, e, features(text, s, e, line)


def mask_numbers(text: str, model: NumberModel | None = None,
                 threshold: float | None = None, keep_ips: bool = False) -> tuple[str, int]:
    """``text`` with the numbers the model judges identifiers replaced, and how many.
    ``threshold``: the probability from which a number is masked, instead of the model's
    (config ``scrub.number_threshold``); ``keep_ips``: IPv4 addresses are never judged (a
    site's ``scrub.public_ip_addresses: false``, which the layer must not overrule)."""
    if not _ANY_DIGIT.search(text):
        return text, 0
    model = model or load_model()
    logit = model.logit if threshold is None else _logit(threshold)
    weights = model.weights
    parts: list[str] = []
    done = 0
    scored: _Line | None = None
    line_score = 0.0
    for s, e, line in _with_lines(text):
        if line is not scored:
            # (the line's features are its own, distinct from a number's: "lb=", "lph=",
            # "first=" against "wb=", "bph=" ...: summed once a line, as ``score`` would)
            scored, line_score = line, sum(weights.get(x, 0.0) for x in line.features)
        if keep_ips and _IPV4.fullmatch(text, s, e):
            continue
        own, trigrams = _own_features(text, s, e, line)
        if model.score(own + trigrams) + line_score >= logit:
            parts += [text[done:s], PLACEHOLDER]
            done = e
    if not parts:
        return text, 0
    parts.append(text[done:])
    return "".join(parts), len(parts) // 2


# ---------------------------------------------------------------------------------------------
# Training and the threshold's measurement: scikit-learn (the ``dev`` extra), from a checkout.

_C = 1.0  # L2 strength; 0.3 and 3 gave the same frontier by leave-one-file-out (docs/phi.md)
_MIN_COUNT = 2  # a feature seen once in training is not kept (a word of one work order)
_PRUNE = 0.005  # weights smaller than this are not written (no change to the decisions)


def _labelled(text: str, out: str, spans: Sequence[tuple[int, int]]
              ) -> Iterator[tuple[list[str], int]]:
    """The features of every candidate of the rules' output ``out`` with 1 when one of its
    tokens with a digit is an identifier's and nowhere else in the input, 0 when none is an
    identifier's; one that is both is left out. (Tokens as ``scrub_eval`` counts them.)"""
    from backfill.scrub_eval import _TOKEN

    ids: Counter[str] = Counter()
    outside = list(text)
    for s, e in spans:
        ids.update(_TOKEN.findall(text[s:e]))
        outside[s:e] = " " * (e - s)
    rest = Counter(_TOKEN.findall("".join(outside)))
    for s, e, feats in _judged(out):
        tokens = [t for t in _TOKEN.findall(out[s:e]) if _ANY_DIGIT.search(t)]
        if any(ids[t] and not rest[t] for t in tokens):
            yield feats, 1
        elif not any(ids[t] for t in tokens):
            yield feats, 0


def _rules_output(files: Sequence[Path]) -> dict[str, str]:
    """What the layer sees at run time: the rules' output, before any later step."""
    from backfill.scrub import DEFAULT_POLICY, _scrub_rules
    from backfill.scrub_eval import load_corpus

    return {o.text: _scrub_rules(o.text, DEFAULT_POLICY).text or ""
            for f in files for o in load_corpus(f)}


def _dataset(files: Sequence[Path], out: dict[str, str]) -> tuple[list[list[str]], list[int]]:
    from backfill.scrub_eval import load_corpus

    x: list[list[str]] = []
    y: list[int] = []
    for f in files:
        for o in load_corpus(f):
            spans = [(s.start, s.end) for s in o.spans]
            for feats, label in _labelled(o.text, out[o.text], spans):
                x.append(feats)
                y.append(label)
    return x, y


def fit(files: Sequence[Path], out: dict[str, str], threshold: float) -> NumberModel:
    """Logistic regression (L2, lbfgs: deterministic) on the candidates of ``files``."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    x, y = _dataset(files, out)
    seen = Counter(f for feats in x for f in set(feats))
    keep = [{f: 1 for f in feats if seen[f] >= _MIN_COUNT or f == "bias"} for feats in x]
    vec = DictVectorizer()
    reg = LogisticRegression(C=_C, max_iter=5000).fit(vec.fit_transform(keep), y)
    weights = {f: float(w) for f, w in zip(vec.get_feature_names_out(), reg.coef_[0], strict=True)
               if abs(w) >= _PRUNE}
    return NumberModel(weights, float(reg.intercept_[0]), threshold, {})


def _corpus_meta(files: Sequence[Path]) -> dict[str, str]:
    from backfill.scrub import SCRUBBER_VERSION

    meta = {"scrubber_version": SCRUBBER_VERSION}
    for f in files:
        meta[f"trained_on {f.name}"] = hashlib.sha256(f.read_bytes()).hexdigest()
    return meta


def train(threshold: float | None = None) -> NumberModel:
    """Train on the corpus's read files (``scrub_eval.DEFAULT_CORPUS``) and write the model."""
    from backfill.scrub_eval import DEFAULT_CORPUS

    files = list(DEFAULT_CORPUS)
    if threshold is None:
        threshold = load_model().threshold
    model = fit(files, _rules_output(files), threshold)
    model.meta = _corpus_meta(files)
    model.dump(MODEL_PATH)
    load_model.cache_clear()
    return model


def cross_validate(thresholds: Sequence[float]) -> str:
    """Leave one read file out (one session's hands), train on the rest, and count on the file
    left out the identifiers gained and look-alikes lost at each threshold against the rules."""
    from backfill.scrub_eval import DEFAULT_CORPUS, load_corpus, score

    files = list(DEFAULT_CORPUS)
    out = _rules_output(files)
    gained: Counter[float] = Counter()
    lost: Counter[float] = Counter()
    for left in files:
        model = fit([f for f in files if f != left], out, 0.5)
        orders = load_corpus(left)
        base = score(orders, out.__getitem__)
        for t in thresholds:
            model.threshold = t

            def layered(text: str, m: NumberModel = model) -> str:
                return mask_numbers(out[text], m)[0]

            s = score(orders, layered)
            gained[t] += (sum(k.good for k in s.recall.values())
                          - sum(k.good for k in base.recall.values()))
            lost[t] += (sum(k.good for k in base.precision.values())
                        - sum(k.good for k in s.precision.values()))
    return "\n".join(f"threshold {t}: identifiers +{gained[t]}, look-alikes -{lost[t]}"
                     for t in thresholds)


if __name__ == "__main__":  # python -m backfill.numbers train [THRESHOLD] | cv [THRESHOLD ...]
    args = sys.argv[1:]
    if args[:1] == ["train"]:
        m = train(float(args[1]) if len(args) > 1 else None)
        print(f"{MODEL_PATH}: {len(m.weights)} weights, threshold {m.threshold}")
    elif args[:1] == ["cv"]:
        print(cross_validate([float(a) for a in args[1:]] or [0.5, 0.6, 0.7, 0.8, 0.9]))
    else:
        sys.exit("usage: python -m backfill.numbers train [THRESHOLD] | cv [THRESHOLD ...]")
