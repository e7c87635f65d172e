"""The learned name detector (backfill/ner.py) on the labeled corpus, scored by scrub-eval's code.

    PYTHONPATH=$PWD taskset -c 0 python benchmarks/ner_eval.py            # the table
    PYTHONPATH=$PWD python benchmarks/ner_eval.py --sweep       # thresholds, selection files
    PYTHONPATH=$PWD taskset -c 0 python benchmarks/ner_eval.py --speed    # records/s on one core

Three ways per file: the rule scrubber alone (``scrub_text``), the model alone on the raw text
(its ``[PERSON]`` spans masked), and layered (``scrub_text`` first, then the model on what it
left). Recall of ``name`` and ``staff_name`` and look-alike precision (all kinds together) come
from ``backfill.scrub_eval.score``. The threshold is chosen on the selection files (tune*,
heldout..heldout3) only; heldout4-8 are reported with it untouched (heldout7 was read for
the rules of scrubber version 5; heldout8 is unread).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from backfill import ner
from backfill.scrub import scrub_text
from backfill.scrub_eval import load_corpus, score

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "phi"
SELECTION = ("tune", "tune2", "tune3", "heldout", "heldout2", "heldout3")
# never used to choose anything
REPORT = ("heldout4", "heldout5", "heldout6", "heldout7", "heldout8", "heldout9", "heldout10",
          "heldout11", "heldout12", "heldout13", "heldout14", "heldout15",
          "heldout16")
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _row(orders, outputs: dict[str, str], name: str) -> tuple[float, float, float, list]:
    s = score(orders, lambda text: outputs[text], name)
    kept = sum(k.good for k in s.precision.values())
    total = sum(k.total for k in s.precision.values())
    rec = {k: s.recall.get(k) for k in ("name", "staff_name")}
    return (rec["name"].rate if rec["name"] else 1.0,
            rec["staff_name"].rate if rec["staff_name"] else 1.0,
            kept / total if total else 1.0, s.misses)


_OLD_RULES = ("import json, sys\nfrom backfill.scrub import scrub_text\n"
              "print(json.dumps([scrub_text(t).text or '' for t in json.load(sys.stdin)]))")


def scrub_with(rules_dir: str | None, texts: list[str]) -> list[str]:
    """``scrub_text`` of this checkout, or of another one (``git archive COMMIT backfill``
    unpacked in ``rules_dir``: an older scrubber that never read a newer file), in a child."""
    if rules_dir is None:
        return [scrub_text(t).text or "" for t in texts]
    env = {**os.environ, "PYTHONPATH": rules_dir}
    out = subprocess.run([sys.executable, "-c", _OLD_RULES], input=json.dumps(texts),
                         capture_output=True, text=True, check=True, env=env, cwd=rules_dir)
    return json.loads(out.stdout)


class Split:
    rules_dir: str | None = None

    def __init__(self, name: str) -> None:
        self.name = name
        self.orders = load_corpus(CORPUS / f"{name}.jsonl")
        self.texts = [o.text for o in self.orders]
        self.scrubbed = scrub_with(self.rules_dir, self.texts)
        det = ner.detector()
        self.raw_words = det.word_scores(self.texts)
        self.scrubbed_words = det.word_scores(self.scrubbed)

    def outputs(self, mode: str, threshold: float, makers: bool) -> dict[str, str]:
        single, phrases = ner._kept((), makers)
        if mode == "rules":
            return dict(zip(self.texts, self.scrubbed, strict=True))
        base, words = ((self.texts, self.raw_words) if mode == "model"
                       else (self.scrubbed, self.scrubbed_words))
        return {t: ner._apply(b, w, threshold, single, phrases)[0]
                for t, b, w in zip(self.texts, base, words, strict=True)}


def over_masked(sp: Split, threshold: float, makers: bool) -> tuple[int, int]:
    """Model alone on the raw text: words it masks inside labeled name spans, and outside
    them (ordinary words, makers: damage the look-alike count does not see)."""
    single, phrases = ner._kept((), makers)
    inside = outside = 0
    for order, text, words in zip(sp.orders, sp.texts, sp.raw_words, strict=True):
        masked, _ = ner._apply(text, words, threshold, single, phrases)
        kept = Counter(re.findall(r"[^\W_]+", masked))
        names = [(s.start, s.end) for s in order.spans if s.kind in ("name", "staff_name")]
        for w in words:
            word = text[w.start:w.end]
            if w.score < threshold or kept[word] >= text.count(word) or not word.isalnum():
                continue
            if any(s <= w.start and w.end <= e for s, e in names):
                inside += 1
            else:
                outside += 1
    return inside, outside


def sweep(splits: Sequence[Split], makers: bool) -> None:
    print(f"threshold sweep on the selection files (makers guard {'on' if makers else 'off'}); "
          "name/staff recall and look-alike precision over the files together")
    for mode in ("model", "layered"):
        for th in THRESHOLDS:
            agg = {"name": [0, 0], "staff_name": [0, 0], "prec": [0, 0]}
            worst = 1.0
            for sp in splits:
                out = sp.outputs(mode, th, makers)
                s = score(sp.orders, out.__getitem__, sp.name)
                for k in ("name", "staff_name"):
                    if k in s.recall:
                        agg[k][0] += s.recall[k].good
                        agg[k][1] += s.recall[k].total
                kept = sum(k.good for k in s.precision.values())
                total = sum(k.total for k in s.precision.values())
                agg["prec"][0] += kept
                agg["prec"][1] += total
                worst = min(worst, kept / total)
            print(f"  {mode:<8} t={th:.1f}  name {100*agg['name'][0]/agg['name'][1]:5.1f}%  "
                  f"staff {100*agg['staff_name'][0]/agg['staff_name'][1]:5.1f}%  precision "
                  f"{100*agg['prec'][0]/agg['prec'][1]:5.1f}% (worst file {100*worst:5.1f}%)")


def table(splits: Sequence[Split], threshold: float, makers: bool, misses: bool) -> None:
    print(f"threshold {threshold}, makers guard {'on' if makers else 'off'}")
    print(f"{'file':<10}| {'rules alone':^21} | {'model alone':^21} | {'layered':^21} | "
          "model's masked words")
    print(f"{'':<10}| {'name':>6} {'staff':>6} {'prec':>6} | {'name':>6} {'staff':>6} "
          f"{'prec':>6} | {'name':>6} {'staff':>6} {'prec':>6} | name other")
    for sp in splits:
        cells, lost = [], []
        for mode in ("rules", "model", "layered"):
            n, st, p, m = _row(sp.orders, sp.outputs(mode, threshold, makers), sp.name)
            cells.append(f"{100*n:6.1f} {100*st:6.1f} {100*p:6.1f}")
            if mode == "layered":
                lost = m
        mark = " *" if sp.name in REPORT else ""
        inside, outside = over_masked(sp, threshold, makers)
        print(f"{sp.name + mark:<10}| " + " | ".join(cells) + f" | {inside:>4} {outside:>4}")
        if misses:
            for m in lost:
                if m.get("kind") in ("name", "staff_name") or "lost" in m:
                    print(f"      {m}")
    print("(* not used to choose the threshold; masked words: by the model alone on the raw "
          "text, inside a labeled name and elsewhere)")


def _rate(fn: Callable[[], object], n: int, min_s: float = 2.0) -> float:
    done, t0 = 0, time.perf_counter()
    while (el := time.perf_counter() - t0) < min_s or not done:
        fn()
        done += n
    return done / el


def speed(splits: Sequence[Split], threshold: float) -> None:
    texts = [t for sp in splits for t in sp.texts]
    mean = sum(map(len, texts)) / len(texts)
    print(f"records/s, {len(texts)} records of {mean:.0f} characters on average, "
          "one onnxruntime thread (run under taskset -c 0 for one core)")
    rules = _rate(lambda: [scrub_text(t) for t in texts], len(texts))
    print(f"  rules alone                         {rules:8,.0f}")
    one = _rate(lambda: [ner.mask_names(t, threshold) for t in texts], len(texts))
    print(f"  model alone, one record a run       {one:8,.0f}")

    def layered_single() -> None:
        for t in texts:
            ner.mask_names(scrub_text(t).text or "", threshold)
    print(f"  layered, one record a run           "
          f"{_rate(layered_single, len(texts)):8,.0f}")
    for bs in (8, 32):
        def layered_batch(bs: int = bs) -> None:
            ner.mask_names_batch([scrub_text(t).text or "" for t in texts], threshold,
                                 batch_size=bs)
        print(f"  layered, padded batches of {bs:<2}       "
              f"{_rate(layered_batch, len(texts)):8,.0f}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threshold", type=float, default=ner.DEFAULT_THRESHOLD)
    ap.add_argument("--no-makers", action="store_true",
                    help="do not keep the maker/product words of data/not_names.txt")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--misses", action="store_true", help="list layered misses")
    ap.add_argument("--files", nargs="+", metavar="NAME",
                    help="these corpus files (tests/data/phi/NAME.jsonl) instead of the "
                    "selection and report files, e.g. the newest unread ones")
    ap.add_argument("--rules-dir", help="layer after the scrubber of another checkout "
                    "(a directory holding its backfill/), e.g. version 3 from git archive")
    args = ap.parse_args(argv)
    Split.rules_dir = args.rules_dir
    makers = not args.no_makers
    if args.sweep:
        sweep([Split(n) for n in SELECTION], makers)
        return 0
    splits = [Split(n) for n in (args.files or SELECTION + REPORT)]
    if args.speed:
        speed(splits, args.threshold)
        return 0
    table(splits, args.threshold, makers, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
