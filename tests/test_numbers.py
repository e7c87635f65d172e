"""The scrubber's learned number layer (backfill.numbers, config ``scrub.number_model``).

Its worth is measured on the corpus files it was not trained on (the unread ones of
tests/data/phi/README.md), with the scorer of ``scrub_eval``: identifiers counted gone and
look-alikes counted kept from the labels, not from the layer's own counts."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pytest

from backfill import numbers
from backfill.numbers import NumberModel, load_model, mask_numbers
from backfill.scrub import SCRUBBER_VERSION, ScrubPolicy, scrub_rows, scrub_text
from backfill.scrub_eval import DEFAULT_CORPUS, load_corpus, score

pytestmark = pytest.mark.unit

RULES_ONLY = ScrubPolicy(number_model=False)
TRAINED_ON = {p.name for p in DEFAULT_CORPUS}
UNREAD = sorted(p for p in DEFAULT_CORPUS[0].parent.glob("heldout*.jsonl")
                if p.name not in TRAINED_ON)


def test_the_model_was_trained_on_the_read_files_and_the_rules_of_this_version() -> None:
    """Its features are the rules' output: new rules or a changed corpus need a new training
    (python -m backfill.numbers train)."""
    meta = load_model().meta
    assert meta["scrubber_version"] == SCRUBBER_VERSION
    trained = {k.removeprefix("trained_on "): v for k, v in meta.items()
               if k.startswith("trained_on ")}
    assert trained == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in DEFAULT_CORPUS}


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
def test_training_again_gives_the_shipped_weights(corpus_rules) -> None:
    """The shipped file is what the training code makes of the corpus (no hand edits, no stale
    features): the same weights to the file's precision. (scikit-learn comes with the dev
    extra that ``make`` installs: missing, this fails rather than skips.)"""
    files = list(DEFAULT_CORPUS)
    shipped = load_model()
    # numbers._rules_output(files), from the session's rules output (conftest)
    out = {o.text: corpus_rules(o.text).text or "" for f in files for o in load_corpus(f)}
    fresh = numbers.fit(files, out, shipped.threshold)
    assert fresh.weights.keys() == shipped.weights.keys()
    assert max(abs(fresh.weights[k] - w) for k, w in shipped.weights.items()) < 2e-4
    assert abs(fresh.intercept - shipped.intercept) < 2e-6


def _totals(paths, policy: ScrubPolicy, corpus_scrub) -> tuple[int, int]:
    ids = kept = 0
    for path in paths:
        s = score(load_corpus(path), lambda text: corpus_scrub(text, policy))
        ids += sum(k.good for k in s.recall.values())
        kept += sum(k.good for k in s.precision.values())
    return ids, kept


def test_on_files_it_was_not_trained_on_it_finds_far_more_identifiers_than_it_loses(
        corpus_scrub) -> None:
    """Version 54 on heldout35-44: +463 identifiers, -102 look-alikes against its rules alone;
    version 53: +466, -104;
    version 52 (dates no longer judged, trained again): +466, -105.
    Version 51 (threshold 0.4, chosen on the read files to keep 96% of their look-alikes
    out of sample) on heldout35-43: +387 identifiers, -92 look-alikes against the rules alone
    (version 50 at 0.7: +245, -30); on heldout44, written after the choice, +62/-15 (version 50:
    +37/-4).
    Version 47 on heldout35-41 (fourteen hands, none read): +213 identifiers, -27 look-alikes
    against the rules alone; on heldout40 and heldout41, new in session 33, +55/-2 and +19/-4;
    on heldout42 (scored in session 34) +17/-1.
    Version 46 on heldout35-39 (ten hands): +138 identifiers, -24 look-alikes; on heldout39, new
    in session 32, +17/-6. Version 45 on heldout35-38: +125/-18, by file +20/-2, +29/-15, +30/-0
    and +46/-1 (version 44: +127/-19; on heldout35-37 version 45 +79/-17, version 44 +82, -17;
    version 43: +80, -18; version 41: +78, -18; version 40 on heldout34-36: +76, -19; version 39
    on heldout33-35: +63, -4). The bound was four identifiers for each look-alike lost until
    heldout36 measured two: it is three, with the issue's own line under it, 95% of the look-
    alikes kept with the layer on (96.7% on the four)."""
    assert len(UNREAD) >= 3, UNREAD
    ids_off, kept_off = _totals(UNREAD, RULES_ONLY, corpus_scrub)
    ids_on, kept_on = _totals(UNREAD, ScrubPolicy(), corpus_scrub)
    gained, lost = ids_on - ids_off, kept_off - kept_on
    assert gained >= 50 and gained >= 3 * lost, (gained, lost)
    lookalikes = sum(len(o.lookalikes) for p in UNREAD for o in load_corpus(p))
    assert kept_on >= 0.95 * lookalikes, (kept_on, lookalikes)


TOY = NumberModel({"w-1=kundennr": 3.0, "nd=8": 0.5}, intercept=-2.0, threshold=0.7, meta={})


def test_a_number_the_model_judges_an_identifier_becomes_other_id() -> None:
    text = "Kunde Lang, kundennr 44190027, s/n 11209345\nkundennr 1234"
    assert mask_numbers(text, TOY) == ("Kunde Lang, kundennr [OTHER_ID], s/n 11209345\n"
                                       "kundennr [OTHER_ID]", 2)
    assert mask_numbers("kundennr 123", TOY) == ("kundennr 123", 0)  # fewer than four digits
    assert mask_numbers("no digits at all", TOY) == ("no digits at all", 0)


def test_the_layer_runs_after_the_rules_and_counts_what_it_masks(monkeypatch) -> None:
    monkeypatch.setattr(numbers, "load_model", lambda: TOY)
    text = "mail to jane@example.org\npump loan: kundennr 44190027"
    assert scrub_text(text, RULES_ONLY).text == "mail to [EMAIL]\npump loan: kundennr 44190027"
    res = scrub_text(text)
    assert res.text == "mail to [EMAIL]\npump loan: kundennr [OTHER_ID]"
    assert res.counts == {"EMAIL": 1, "OTHER_ID": 1}
    out, counts = scrub_rows(pa.array([text, None, ""]))
    assert out.to_pylist() == [res.text, None, ""]
    assert counts == [res.counts, {}, {}]
    _, off = scrub_rows(pa.array([text]), RULES_ONLY)
    assert off == [{"EMAIL": 1}]


def test_features_see_the_words_around_the_number_on_its_line_only() -> None:
    text = "first line 999\npt no:4471902) called\nlast"
    s = text.index("4471902")
    f = numbers.features(text, s, s + 7)
    assert "w-1=no" in f and "w-2=pt" in f and not any(x.startswith("w-3=") for x in f)
    assert "w+1=" in f and "w+2=called" in f  # ")" alone, stripped
    assert "first=pt" in f and "lb=line" not in f and "lb=last" not in f
    assert "cb=:" in f and "ca=)" in f and "shape=9" in f and "nd=7" in f
    assert f == numbers.features(text, s, s + 7, numbers._line(text, s))


def test_a_calendar_date_is_never_judged() -> None:
    """Version 52: dates are the date rules' (a birth date by its cue, any date before
    ``scrub.birth_dates_before``) or the work's; a model that would mask every number leaves
    them, and still masks the number beside them."""
    everything = NumberModel({}, intercept=5.0, threshold=0.5, meta={})
    text = ("PM 2025-03-14, due 14.09.2025 / 09/14/2025, log 2025-03-14T08:30:00Z; "
            "kundennr 44190027")
    assert mask_numbers(text, everything) == (text.replace("44190027", "[OTHER_ID]"), 1)
    # not a date: a month 13, a day 32, a separator that changes
    for value in ("2025-13-14", "32.09.2025", "2025-03/14", "14.09-2025"):
        assert mask_numbers(f"no {value} x", everything) == ("no [OTHER_ID] x", 1), value
