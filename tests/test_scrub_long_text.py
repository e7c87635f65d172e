"""Long free text: the rules that scanned back and forth over a long stretch are bounded
(and find what they found before), and what the document cannot hold is not scrubbed.

The rules below were quadratic in a stretch's length (benchmarks/scrub_worst_bench.py:
32,000 blanks 17 s, 32,000 characters of spaced digit groups 16 s, a 48,000-character dotted
token 28 s in the guard). Two patterns now bound the part that ran away, and the numbers
before a patient's identifier are found in one pass. These tests hold each to what it
replaced (the old patterns rebuilt here from their text) on stretches of every length
around the bound, so a later edit cannot quietly change what they find. No test here
measures time: the benchmark does.
"""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pytest

from backfill import guard, scrub
from backfill import schema as S
from backfill.prepare import compose_documents, scrub_limit
from backfill.scrub import _Hits

# The old patterns, as they were before the bound (version 50's text).
_OLD_LABELED_PERSON = scrub.re.compile(
    scrub._LABELED_PERSON.pattern.replace(r"[ \t\u3000]{0,64}", r"[ \t\u3000]*", 1),
    scrub._LABELED_PERSON.flags)
_OLD_EMAIL = guard.re.compile(guard._EMAIL.pattern.replace(r"{0,63}", "*", 1))
_OLD_SPELLED_EMAIL = guard.re.compile(guard._SPELLED_EMAIL.pattern.replace(r"{0,63}", "*", 1))

BLANK_RUNS = [0, 1, 2, 3, 10, 62, 63, 64, 65, 66, 67, 100, 500]


def test_the_old_patterns_are_rebuilt() -> None:
    # (the rebuilt patterns must differ from the new ones, or the comparisons prove nothing)
    assert _OLD_LABELED_PERSON.pattern != scrub._LABELED_PERSON.pattern
    assert _OLD_EMAIL.pattern != guard._EMAIL.pattern
    assert _OLD_SPELLED_EMAIL.pattern != guard._SPELLED_EMAIL.pattern


def _labeled(pattern: scrub.re.Pattern, text: str, monkeypatch: pytest.MonkeyPatch
             ) -> tuple[str, list[str]]:
    monkeypatch.setattr(scrub, "_LABELED_PERSON", pattern)
    hits = _Hits()
    return scrub._labeled_persons(text, hits), list(hits)


@pytest.mark.parametrize("blank", [" ", "\t", "\u3000", " \t", "\u3000 "])
@pytest.mark.parametrize("before", ["", "|", "Pump ok.", "x;", "Sensor", "\n"])
def test_a_label_after_a_long_run_of_blanks_is_found_as_before(
        blank: str, before: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in BLANK_RUNS:
        run = (blank * n)[:n]
        for label in ("Patient: Ana Kowalska", "- Tech: Marek Nowak, ext 4471",
                      "Paciente: José Luis Ortega", "points: 4 5 6"):
            text = f"{before}{run}{label}\nnext line"
            old = _labeled(_OLD_LABELED_PERSON, text, monkeypatch)
            new = _labeled(scrub._LABELED_PERSON, text, monkeypatch)
            assert new == old, (repr(before), len(run), label)


def test_a_long_run_of_blanks_costs_the_label_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # 5,000 blanks of a fixed-width export's padding, then the field: still the patient's name
    text = "Pump 3" + " " * 5_000 + "Patient: Ana Kowalska\n"
    out, hits = _labeled(scrub._LABELED_PERSON, text, monkeypatch)
    assert "Kowalska" not in out and hits == ["PATIENT_NAME"]


def test_random_blank_stretches_find_the_same_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    pieces = [" ", "  ", "\t", "\u3000", "\n", "Patient:", "Tech:", "Ana", "Kowalska", "|",
              ";", ".", "-", "ok", "5"]
    for _ in range(300):
        text = "".join(rng.choice(pieces) if rng.random() < 0.7 else " " * rng.randint(0, 90)
                       for _ in range(rng.randint(3, 40)))
        assert (_labeled(scrub._LABELED_PERSON, text, monkeypatch)
                == _labeled(_OLD_LABELED_PERSON, text, monkeypatch)), repr(text)


def _groups(rng: random.Random, chars: int) -> str:
    out = str(rng.randint(1, 99999))
    while len(out) < chars:
        out += rng.choice([" ", " ", " ", "-", ".", " (", ") ", ", "]) + str(rng.randint(0, 99999))
    return out[:chars].rstrip()


def _replace(m: scrub.re.Match[str]) -> str:
    # what the scrubber's callback sees: the number, its gap and the match's span
    return f"<{m.group('num')}|{m.group('gap')}|{m.start()}-{m.end()}>"


def test_numbers_before_a_patient_id_are_found_in_one_pass_as_by_the_pattern() -> None:
    # (version 50's sub of the pattern, against the one-pass scan that replaced it, on
    # stretches of digit groups of every length with identifiers, gaps and breaks between)
    rng = random.Random(3)
    tails = [" / MRN [MRN]", " (daughter [PATIENT_NAME])", " [SSN]", ", [MRN]", ". [MRN]",
             " x", "\n[MRN]", " +44 [PHONE]", "-", " [OTHER_ID] 12 34 [MRN]", "A12 34 [MRN]"]
    for _ in range(3_000):
        text = "".join(rng.choice(["reading ", "", "ID ", "("]) + _groups(rng, rng.randint(1, 120))
                       + rng.choice(tails) for _ in range(rng.randint(1, 4)))
        assert (scrub._numbers_then_ids(text, _replace)
                == scrub._NUMBER_THEN_ID.sub(_replace, text)), repr(text)


def test_a_long_stretch_of_digit_groups_before_a_patient_id_is_masked_as_before() -> None:
    # (a pasted table of readings, then the patient's number and MRN: 4,000 characters, where
    # the pattern's sub took ~0.3 s and grew with the square of the length)
    text = "flow log " + " ".join(str(i % 97) for i in range(1_300)) + " 0772 901 334 MRN [MRN]"
    assert (scrub._numbers_then_ids(text, _replace)
            == scrub._NUMBER_THEN_ID.sub(_replace, text))
    assert "0772 901 334|" in scrub._numbers_then_ids(text, _replace)


@pytest.mark.parametrize("local", [1, 30, 62, 63, 64, 65, 100, 3_000])
def test_an_address_in_a_long_dotted_token_is_flagged_as_before(local: int) -> None:
    token = ("a.b" * local)[:local].strip(".") or "a"
    for text in (f"see trace {token}@example.org now", f"log com.vendor.{token}@x.org",
                 f"{token} at gmail dot com", f"{token} [at] hospital [dot] org"):
        low = text.lower()
        assert bool(guard._EMAIL.search(low)) == bool(_OLD_EMAIL.search(low)), text
        assert (bool(guard._SPELLED_EMAIL.search(low))
                == bool(_OLD_SPELLED_EMAIL.search(low))), text
        assert guard.find_identifiers(text), text


def _table(notes: list[str | None]) -> pa.Table:
    n = len(notes)
    return pa.table({
        S.ID: [f"WO-{i}" for i in range(n)],
        "EQUIPMENT_TYPE": ["Infusion Pump"] * n, "MANUFACTURER": ["Baxter"] * n,
        "MODEL": ["Sigma Spectrum"] * n, "WORK_TYPE": ["Corrective"] * n,
        "PRIORITY": ["High"] * n, "PROBLEM_DESCRIPTION": ["occlusion alarm"] * n,
        "TECHNICIAN_NOTES": notes, "RESOLUTION": ["replaced door seal"] * n})


def test_what_the_document_cannot_hold_is_not_scrubbed_and_the_document_says_truncated(
        ) -> None:
    max_chars = 2_000
    limit = scrub_limit(max_chars)
    log = "".join(f"{i:05d} flow 12.5 ml/h ok\n" for i in range(limit // 10))  # ~4x the limit
    notes: list[str | None] = [
        "Call pt wife Maria at 617-555-0163 about the pump.\n" + log
        + "SSN 123-45-6789 on the form\n",  # an identifier only beyond what is scrubbed
        "short note, nothing to cut",
        None,
        "x" * (limit + 500),  # one token longer than the limit: cut at the limit
    ]
    out = compose_documents(_table(notes), max_chars)
    documents = out.column(S.DOCUMENT).to_pylist()
    truncated = out.column(S.TRUNCATED).to_pylist()
    redactions = [json.loads(r) for r in out.column(S.REDACTIONS).to_pylist()]
    assert truncated == [True, False, False, True]
    assert all(len(d) <= max_chars for d in documents)
    assert "617-555-0163" not in documents[0] and "[PHONE]" in documents[0]
    assert redactions[0].get("PHONE") == 1
    # the SSN lay beyond the scrubbed part: nothing of it was scrubbed, counted or sent
    assert "SSN" not in redactions[0]
    assert "6789" not in documents[0]


def test_a_value_is_cut_at_a_line_break_so_no_identifier_is_cut_in_two() -> None:
    from backfill.prepare import _cut

    text = "line one\n" + "phone 617-555-0163 of the wife\n" * 100
    cut = _cut(text, 1_000)
    assert cut.endswith("of the wife") and len(cut) <= 1_000
    spaced = "word " * 300
    assert _cut(spaced, 1_000).endswith("word") and len(_cut(spaced, 1_000)) <= 1_000


def test_columns_without_text_pass_the_cut_as_they_are() -> None:
    from backfill.prepare import _cut_long

    nulls = pa.chunked_array([pa.array([None, None], pa.null())])
    assert _cut_long(nulls, 10) == (nulls, None)
    short = pa.chunked_array([pa.array(["ok", None])])
    assert _cut_long(short, 10) == (short, None)
    coded = pa.array(["x" * 20, "y"]).dictionary_encode()
    cut, which = _cut_long(coded, 10)
    assert cut.to_pylist() == ["x" * 10, "y"] and which is not None
    assert which.to_pylist() == [True, False]


def test_the_number_layer_judges_a_long_line_as_number_by_number() -> None:
    # (the line's features are summed once a line: the decisions must be those of scoring
    # every number's whole feature list, as the layer was trained)
    from backfill import numbers

    model = numbers.load_model()
    rng = random.Random(11)
    words = ["MRN", "pt", "lot", "SN", "acct", "[MRN]", "Pump", "tel", "ID", "order", "x"]
    for _ in range(200):
        text = " ".join(rng.choice(words) if rng.random() < 0.5 else str(rng.randint(10, 10**9))
                        for _ in range(rng.randint(1, 400)))
        if rng.random() < 0.5:
            text = text.replace(" x ", "\n")
        expected, done, parts = 0, 0, []
        for s, e, feats in numbers._judged(text):
            if model.score(feats) >= model.logit:
                parts += [text[done:s], numbers.PLACEHOLDER]
                done, expected = e, expected + 1
        reference = "".join(parts) + text[done:] if parts else text
        assert numbers.mask_numbers(text, model) == (reference, expected)


def test_the_logfmt_gate_answers_as_its_pattern_searched() -> None:
    # (the gate tries the first "k=v" of each line only: random lines of keys, values, "=",
    # blanks and line breaks, against the pattern's own search)
    rng = random.Random(5)
    pieces = ["a", "k", "_", "1", "=", "==", " ", "\n", "\t", "x.y", "-", "v", "key=", " b=",
              "\n=", "é", "=\n"]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        assert scrub._logfmt_hint(text) == (scrub._LOGFMT_HINT.search(text) is not None), text
    long_line = "extDOB=,)" * 5_000
    assert scrub._logfmt_hint(long_line) == (scrub._LOGFMT_HINT.search(long_line) is not None)
    assert scrub._logfmt_hint(long_line + "\nuser=ana host=x")


def test_the_number_layer_reads_a_word_beside_a_number_up_to_1024_characters() -> None:
    # (in text without blanks the word before every number was all the text before it)
    from backfill import numbers

    head = "-acct:E-12(" * 2_000
    text = head + " 48213377 ok"
    start = text.index("48213377")
    cut = head[-numbers._WORD_MAX:] + " 48213377 ok"
    cut_start = cut.index("48213377")
    # (the number's own features; the line's hold its words once a line, not once a number)
    own = numbers._own_features(text, start, start + 8, numbers._line(text, start))
    assert own == numbers._own_features(cut, cut_start, cut_start + 8,
                                        numbers._line(cut, cut_start))
    assert max(len(f) for part in own for f in part) < numbers._WORD_MAX + 16
