"""Tests for backfill.scrub_eval, and the scrubber's floor on the held-out corpus."""

from __future__ import annotations

import math

import pytest

from backfill.cli import main
from backfill.scrub_eval import (
    DEFAULT_CORPUS,
    Span,
    WorkOrder,
    check_offsets,
    evaluate,
    gate_failures,
    load_corpus,
    score,
)

pytestmark = pytest.mark.unit

CORPUS = {p.stem: p for p in DEFAULT_CORPUS}

IDENTIFIER_KINDS = {"name", "staff_name", "mrn", "ssn", "phone", "fax", "email", "dob", "account",
                    "health_plan", "address", "other_id"}


# --- the corpus itself ----------------------------------------------------------------------


# Every file, the unread ones too (measured, never tuned on: not in DEFAULT_CORPUS).
@pytest.mark.parametrize("path", sorted(DEFAULT_CORPUS[0].parent.glob("*.jsonl")),
                         ids=lambda p: p.stem)
def test_corpus_offsets_are_sound(path) -> None:
    orders = load_corpus(path)
    assert check_offsets(orders) == []
    for order in orders:
        assert {s.kind for s in order.spans} <= IDENTIFIER_KINDS, order.id
        assert order.spans or order.lookalikes, order.id


def test_corpus_size_and_split() -> None:
    tune = [o for name, p in CORPUS.items() if name.startswith("tune") for o in load_corpus(p)]
    heldout = [o for name, p in CORPUS.items() if name.startswith("heldout")
               for o in load_corpus(p)]
    assert len(tune) + len(heldout) >= 690
    assert not {o.text for o in tune} & {o.text for o in heldout}
    assert len({o.id for o in tune + heldout}) == len(tune) + len(heldout)


def test_check_offsets_reports_bad_labels() -> None:
    order = WorkOrder("x", "pt Ann Lee SN 123", (Span(3, 10, "name"), Span(2, 6, "name")),
                      (Span(14, 20, "serial"),))
    problems = check_offsets([order])
    assert any("overlaps" in p for p in problems)
    assert any("' Ann'" in p for p in problems)  # padded with a space
    assert any("out of range" in p for p in problems)


# --- scoring on tiny hand-made cases -------------------------------------------------------


def _order(text: str, spans: dict[str, str], lookalikes: dict[str, str]) -> WorkOrder:
    def at(value: str, kind: str) -> Span:
        start = text.index(value)
        return Span(start, start + len(value), kind)

    return WorkOrder("t", text, tuple(at(v, k) for v, k in spans.items()),
                     tuple(at(v, k) for v, k in lookalikes.items()))


def test_half_a_name_is_a_leak() -> None:
    order = _order("pt Maria Gonzalez pump SN 12045873", {"Maria Gonzalez": "name"},
                   {"12045873": "serial"})
    s = score([order], lambda t: t.replace("Maria", "[PATIENT_NAME]"))
    assert (s.recall["name"].good, s.recall["name"].total) == (0, 1)
    assert s.misses == [{"id": "t", "kind": "name", "leaked": "Maria Gonzalez"}]


def test_removed_identifier_and_intact_lookalike() -> None:
    order = _order("pt Maria Gonzalez pump SN 12045873", {"Maria Gonzalez": "name"},
                   {"12045873": "serial"})
    s = score([order], lambda t: t.replace("Maria Gonzalez", "[PATIENT_NAME]"))
    assert s.recall["name"].rate == 1.0
    assert s.precision["serial"].rate == 1.0
    assert s.misses == []


def test_mangled_lookalike_is_not_kept() -> None:
    order = _order("call 6175550199 re pump SN 4412-0093", {"6175550199": "phone"},
                   {"4412-0093": "serial"})
    s = score([order], lambda t: t.replace("6175550199", "[PHONE]").replace("4412-", "[X]"))
    assert s.recall["phone"].rate == 1.0
    assert s.precision["serial"].rate == 0.0


def test_token_also_outside_the_identifier_is_no_leak() -> None:
    # "Park" is a name here and a word elsewhere: the word surviving is not the name leaking
    order = _order("RN asked Park to move the pump to Park St garage", {"Park": "staff_name"}, {})
    s = score([order], lambda t: t[:9] + "[NAME]" + t[13:])
    assert s.recall["staff_name"].rate == 1.0
    s = score([order], lambda t: t)
    assert s.recall["staff_name"].rate == 0.0


def test_a_word_keeps_its_vowel_signs_as_one_token() -> None:
    # "सुनील" split at its vowel signs was "स", "न", "ल": the address left in the text has the
    # same letters, so the name removed counted as leaked (the scorer before version 17)
    order = _order("तकनीशियन: सुनील यादव; पता: मकान नं. 27, लाजपत नगर",
                   {"सुनील यादव": "staff_name", "मकान नं. 27, लाजपत नगर": "address"}, {})
    s = score([order], lambda t: t.replace("सुनील यादव", "[PERSON]"))
    assert s.recall["staff_name"].rate == 1.0
    assert s.recall["address"].rate == 0.0


def test_gate_counts_staff_names_and_exit_code(capsys, tmp_path) -> None:
    order = _order("RN Kelly Brandt called", {"Kelly Brandt": "staff_name"}, {})
    s = score([order], lambda t: t, name="x")
    assert gate_failures([s], 100, 100) == ["x: recall staff_name 0.0% < 100%"]
    # a name no rule can know: a lower-case common word with no cue
    corpus = tmp_path / "gate.jsonl"
    corpus.write_text('{"id": "g1", "text": "ask mark to sign the pump out", "spans": '
                      '[{"start": 4, "end": 8, "kind": "name"}], "lookalikes": []}\n')
    assert main(["scrub-eval", str(corpus)]) == 0
    assert main(["scrub-eval", str(corpus), "--min-recall", "100"]) == 3
    assert "gate: recall name 0.0% < 100.0%" in capsys.readouterr().out


def test_guard_column_counts_records_the_guard_stops() -> None:
    # an identity scrubber lets "MRN of K-8812093" through (tests/test_guard.py); the guard
    # stops the record
    text = "Screen still showed MRN of K-8812093 after discharge"
    order = _order(text, {"K-8812093": "mrn"}, {})
    s = score([order], lambda t: t)
    assert s.recall["mrn"].rate == 0.0 and s.door["mrn"].rate == 1.0 and s.stopped == 1


# --- the current scrubber on the held-out splits -------------------------------------------
#
# Targets of issue 10: recall 100% on MRN, SSN, phone, fax, e-mail, DOB, account and
# health-plan numbers and street addresses; >= 98% on names; precision >= 95% on look-alikes.
#
# What each file measured when it was new to the scrubber (measured once, before any rule was
# written against it; docs/phi.md has the whole table):
#   heldout3 with version 3:  name 87.8%, phone 61.5%, fax 50%, address 50%, other_id 33.3%.
#   heldout4 with version 4 (first cut):  name 82.4%, phone 93.5%, address 88.9%, dob 76.9%,
#       mrn 83.3%, email 83.3%, health_plan 55.6%, other_id 62.5%; precision 97.9%.
#   heldout5 with version 4 (second cut):  name 89.4%, phone 77.4%, address 50%, dob 78.6%,
#       mrn 84.6%, email 75%, health_plan 40%, other_id 56.2%, ssn 50%; precision 98.2%.
#   heldout6 with version 4 (third cut):  name 79.4%, phone 95.8%, address 78.6%, dob 72.2%,
#       mrn 58.3%, email 87.5%, health_plan 45.5%, other_id 66.7%, account 57.1%; precision 99.1%.
#   heldout8 with version 5:  name 88.4%, staff 88.7%, phone 80%, dob 75%, account 66.7%,
#       mrn 90%, address 85.7%, other_id 87.5%, ssn 44.4%; precision 99.2%.
#   heldout9 with version 5:  name 74.5%, staff 77.5%, mrn 52.4%, address 53.8%, health_plan
#       61.1%, account 63.6%, other_id 66.7%, dob 71.4%, phone 82.8%, ssn 50%; precision 97.4%.
#   heldout10 with version 6:  name 96.2%, staff 87.5%, mrn 93.1%, address 58.8%, account 53.3%,
#       health_plan 71.4%, other_id 53.8%, ssn 75%; precision 97.6%.
#   heldout11 with version 7 (its first cut, after heldout10):  name 85.4%, staff 95.2%, mrn
#       73.2%, address 66%, account 58.8%, health_plan 50%, other_id 70.8%, phone 84.2%, ssn
#       54.5%, fax 81.8%, dob 87.1%; precision 95.9%.
#   heldout12 with version 7 (after heldout11):  name 83.6%, staff 68.7%, mrn 76.3%, address
#       55.6%, account 47.1%, health_plan 60%, other_id 58.3%, phone 91.3%, ssn 81.8%, email
#       90.9%, dob 89.3%; precision 98.5%.
#   heldout13 with version 7 (after heldout12):  name 72.5%, staff 83.2%, mrn 63.2%, address
#       60%, account 50%, health_plan 54.3%, other_id 16.3%, phone 90.3%, ssn 63.6%, email
#       95.8%, dob 50% (ages over 89 and dates in tables of other languages); precision 96.1%.
#   heldout14 with version 7 (after heldout13):  name 88.7%, staff 82.5%, mrn 73%, address
#       48.1%, account 70.6%, health_plan 54.5%, other_id 16.2%, phone 95.7%, fax 77.8%, ssn
#       72.7%, email 95.5%, dob 66.7%; precision 94.2%.
#   heldout15 with version 8 (after heldout14):  name 83.8%, staff 87.3%, mrn 63.9%, address
#       53.1%, account 68%, health_plan 53.2%, other_id 55.4%, phone 86.8%, fax 81%, ssn 81%,
#       email 100%, dob 83.3%; precision 96.5%.
#   heldout16 with version 9 (after heldout15):  name 83%, staff 87.6%, mrn 50%, address 73.3%,
#       account 80%, health_plan 75.6%, other_id 49.3%, phone 86.8%, ssn 77.3%, dob 76.5%, fax
#       and email 100%; precision 97.7%.
#   heldout17 with version 10 (after heldout16):  name 88.3%, staff 90.6%, mrn 79.1%, address
#       64.2%, account 57.9%, health_plan 57.9%, other_id 54.5%, phone 92.8%, fax 84.2%, ssn
#       71.2%, dob 64.9%, email 100%; precision 97.2%.
#   heldout18 with version 11 (after heldout17):  name 92.5%, staff 89.6%, mrn 68.3%, address
#       45.8%, account 81.8%, health_plan 63.6%, other_id 73.8%, phone 94.2%, fax 95.8%, ssn
#       74.2%, dob 72.9%, email 100%; precision 97.3%.
#   heldout19 with version 12 (after heldout18):  name 87.8%, staff 93.4%, mrn 68.3%, address
#       65.1%, account 31.2%, health_plan 63.9%, other_id 74.4%, phone 91.5%, fax 86.4%, ssn
#       90.3%, dob 74.4%, email 100%; precision 98.0%.
#   heldout20 with version 13 (after heldout19):  name 87.8%, staff 82.8%, mrn 72.1%, address
#       81.7%, account 60.8%, health_plan 60%, other_id 32.7%, phone 87.8%, fax 75.9%, ssn
#       66.7%, dob 72.3%, email 100%; precision 96.7%.
#   heldout21 with version 14 (after heldout20):  name 80%, staff 81.9%, mrn 60%, address
#       66.7%, account 48.1%, health_plan 57.5%, other_id 34.7%, phone 87.3%, fax 90.6%, ssn
#       80.6%, dob 73.9%, email 100%; precision 96.3%.
#   heldout22 with version 15 (after heldout21):  name 87.4%, staff 85%, mrn 63.5%, address
#       56.6%, account 50.8%, health_plan 62.5%, other_id 21.4%, phone 82%, fax 80%, ssn
#       73.4%, dob 62.6%, email 100%; precision 98.1%.
#   heldout23 with version 16 (after heldout22), its labels corrected (titles and scheme words
#       moved out of the spans) and the scorer's tokens fixed (vowel signs kept in words):
#       name 66.5%, staff 72.7%, mrn 50%, address 50%, account 27.5%, health_plan 47.4%,
#       other_id 22.2%, phone 88.2%, fax 87.1%, ssn 64.3%, dob 65.5%, email 100%; precision
#       96.0%. (As first scored: name 63.2%, staff 46%, mrn 48.8%, the rest as above.)
#   heldout24 with version 17 (after heldout23), labels corrected the same way unseen: name
#       85%, staff 75.5%, mrn 62.3%, address 66.7%, account 31.1%, health_plan 54.9%,
#       other_id 15.6%, phone 85.5%, fax 76%, ssn 75.9%, dob 74.7%, email 100%; precision 97.1%.
#   heldout25 with version 18 (after heldout24): name 83.3%, staff 76.2%, mrn 57.4%, address
#       55.6%, account 35%, health_plan 63.5%, other_id 40%, phone 82.8%, fax 77.8%, ssn 66%,
#       dob 70.9%, email 97.8%; precision 96.3%. Version 19, before it was read: account 40%,
#       health_plan 69.8%, other_id 48.9%, phone 86.7%, fax 81.5%, ssn 77.7%, dob 72.1%.
#   heldout26 with versions 18-22 (after heldout24; unread until version 23): version 22 name
#       80.2%, staff 81.4%, mrn 70.8%, address 70%, account 48.8%, health_plan 71.4%, other_id
#       50%, phone 78.8%, fax 84.1%, ssn 89.5%, dob 79.7%, email 100%; precision 96.2%.
#   heldout27 with versions 18 and 22-28 (after version 22; unread until version 29): version
#       28 name 87.3%, phone 88.4%, dob 82.4%, address 79.3%; 1,042 of 1,313 identifiers,
#       precision 97.6%.
#   heldout28 with versions 23-32 (after version 23; unread until version 33): version 32
#       name 92%, staff 88.4%, mrn 83.1%, address 86.8%, account 45.7%, health_plan 72.1%,
#       other_id 37.9%, phone 86%, fax 93.1%, ssn 89.9%, dob 87.8%, email 100%; 1,051 of 1,229
#       identifiers, precision 95.8%.
#   heldout29 with versions 23-34 (after version 28; unread until version 35): version 33
#       name 97.1%, staff 89.4%, mrn 85.1%, address 78.7%, account 65.5%, health_plan 87.5%,
#       other_id 48.5%, phone 90.2%, fax 91.9%, ssn 88.2%, dob 83.3%, email 98.1%; 1,067 of
#       1,211 identifiers, precision 95.7% (version 34, with the number layer: 1,088).
#   heldout30 with versions 28-35 (after version 28; unread until version 36): version 35
#       name 93%, staff 89.1%, mrn 86.3%, address 75.9%, account 69.2%, health_plan 88%,
#       other_id 59%, phone 92.3%, fax 100%, ssn 93.2%, dob 90%, email 100%; 1,172 of 1,313
#       identifiers, precision 97.3%.
#   heldout31 with versions 32-37 (written while version 33 was made; unread until version
#       38): version 37 name 89.3%, staff 89.4%, mrn 81.9%, address 67.9%, account 68.6%,
#       health_plan 69.2%, other_id 40%, phone 92.8%, fax 84.2%, ssn 88.7%, dob 91.5%, email
#       98.3%; 1,179 of 1,390 identifiers, precision 95.7%.
#   heldout32 with versions 33-38 (written at the start of version 34's round; unread until
#       version 39): version 38 name 93.2%, staff 83.1%, mrn 86.1%, address 67.9%, account
#       68.2%, health_plan 85.5%, other_id 41.2%, phone 89%, fax 88.9%, ssn 85.3%, dob 77.4%,
#       email 97.6%; 1,005 of 1,185 identifiers, precision 94.9%.
#   heldout33 with versions 35-39 (written at the start of version 36's round; unread until
#       version 40): version 39 name 93.1%, staff 89.9%, mrn 85.5%, address 65.2%, account
#       64.7%, health_plan 82.1%, other_id 60.9%, phone 86.7%, fax 66.7%, ssn 88.7%, dob 83.9%,
#       email 100%; 1,049 of 1,191 identifiers, precision 95.0%.
#   heldout34 with versions 37-40 (written at the start of version 38's round; unread until
#       version 41): version 40 name 92.1%, staff 86.1%, mrn 86.5%, address 66.7%, account
#       70.8%, health_plan 81.4%, other_id 55.6%, phone 88.6%, fax 100%, ssn 88.3%, dob 85%,
#       email 98.4%; 1,053 of 1,211 identifiers, precision 96.0%.
# Each was then read and the scrubber tuned on it: all files are regression data now, like
# tune*.  These floors are today's figures rounded down: raise them as the scrubber improves.
# The next measurement on unseen text needs a new file written by a new hand.
_ALL = ("mrn", "ssn", "phone", "fax", "email", "dob", "account", "health_plan", "address",
        "other_id")


def _floor(name: float, staff: float, **other: float) -> dict[str, float]:
    return {"name": name, "staff_name": staff} | dict.fromkeys(_ALL, 1.0) | other


RECALL_FLOOR = {
    "tune": _floor(1.0, 1.0),
    "tune2": _floor(0.95, 0.85),
    "tune3": _floor(0.94, 0.85),
    "heldout": _floor(1.0, 1.0),
    "heldout2": _floor(0.97, 0.86),
    "heldout3": _floor(0.97, 0.68),
    "heldout4": _floor(0.94, 0.88, other_id=0.87, phone=0.96),
    "heldout5": _floor(0.94, 0.79, dob=0.92),
    "heldout6": _floor(0.88, 0.77, other_id=0.75),
    "heldout7": _floor(0.96, 0.98, account=0.88, mrn=0.91, other_id=0.8),
    "heldout8": _floor(0.94, 0.91, address=0.85, mrn=0.9, other_id=0.87, phone=0.85),
    "heldout9": _floor(0.87, 0.87, account=0.9, address=0.69, dob=0.95, mrn=0.95, other_id=0.8,
                       phone=0.98),
    "heldout10": _floor(0.99, 0.96, address=0.94),
    # (dob 0.96 since version 41: a dictated part number is kept now, "part number one zero
    # five four two six zero", and its words are the ones the masked birth date and the
    # leaked spoken address are made of; the score counts words, so the date counts as leaked)
    "heldout11": _floor(0.97, 1.0, account=0.94, address=0.8, dob=0.96, fax=0.9,
                        health_plan=0.96, mrn=0.92, other_id=0.87, phone=0.97, ssn=0.72),
    "heldout12": _floor(0.9, 0.91, account=0.58, address=0.92, dob=0.96, email=0.9,
                        health_plan=0.96, mrn=0.97, other_id=0.94, phone=0.97),
    "heldout13": _floor(0.89, 0.91, account=0.68, address=0.68, dob=0.9, email=0.95,
                        health_plan=0.89, mrn=0.73, other_id=0.69, phone=0.9, ssn=0.81),
    "heldout14": _floor(0.96, 0.95, account=0.94, address=0.66, health_plan=0.86, mrn=0.94,
                        other_id=0.72),
    "heldout15": _floor(0.96, 0.96, account=0.92, address=0.71, dob=0.93, fax=0.9,
                        health_plan=0.78, mrn=0.86, other_id=0.8, phone=0.94, ssn=0.9),
    "heldout16": _floor(0.93, 0.98, account=0.96, address=0.86, dob=0.91, health_plan=0.9,
                        mrn=0.94, other_id=0.86, phone=0.97, ssn=0.86),
    "heldout17": _floor(0.98, 0.95, account=0.94, address=0.88, dob=0.97, health_plan=0.98,
                        mrn=0.9, other_id=0.81, phone=0.98),
    "heldout18": _floor(0.95, 0.93, account=0.87, address=0.63, dob=0.95, health_plan=0.89,
                        mrn=0.8, other_id=0.83, phone=0.96, ssn=0.87),
    "heldout19": _floor(0.9, 0.96, account=0.96, address=0.79, dob=0.93, health_plan=0.9,
                        mrn=0.9, other_id=0.9, phone=0.96, ssn=0.9),
    "heldout20": _floor(0.93, 0.91, account=0.8, address=0.85, dob=0.77, fax=0.79,
                        health_plan=0.75, mrn=0.84, other_id=0.5, phone=0.9, ssn=0.73),
    "heldout21": _floor(0.87, 0.83, account=0.67, address=0.67, dob=0.87, fax=0.96,
                        health_plan=0.73, mrn=0.69, other_id=0.36, phone=0.91, ssn=0.81),
    "heldout22": _floor(0.87, 0.84, account=0.65, address=0.56, dob=0.7, fax=0.83,
                        health_plan=0.72, mrn=0.75, other_id=0.33, phone=0.85, ssn=0.74),
    "heldout23": _floor(0.92, 0.89, account=0.58, address=0.85, dob=0.77, fax=0.96,
                        health_plan=0.63, mrn=0.7, other_id=0.24, phone=0.92, ssn=0.91),
    "heldout24": _floor(0.92, 0.88, account=0.4, address=0.67, dob=0.81, fax=0.88,
                        health_plan=0.6, mrn=0.7, other_id=0.15, phone=0.88, ssn=0.78),
    "heldout25": _floor(0.83, 0.76, account=0.4, address=0.55, dob=0.72, email=0.97, fax=0.81,
                        health_plan=0.69, mrn=0.59, other_id=0.46, phone=0.86, ssn=0.77),
    "heldout26": _floor(0.85, 0.81, account=0.48, address=0.7, dob=0.79, fax=0.84,
                        health_plan=0.73, mrn=0.7, other_id=0.5, phone=0.78, ssn=0.89),
    "heldout27": _floor(0.87, 0.9, account=0.4, address=0.79, dob=0.82, fax=0.92,
                        health_plan=0.77, mrn=0.65, other_id=0.33, phone=0.89, ssn=0.9),
    "heldout28": _floor(0.95, 0.9, account=0.45, address=0.86, dob=0.87, fax=0.93,
                        health_plan=0.73, mrn=0.83, other_id=0.37, phone=0.94, ssn=0.92),
    "heldout29": _floor(0.97, 0.93, account=0.9, address=0.78, dob=0.9, email=0.98, fax=0.97,
                        health_plan=0.92, mrn=0.94, other_id=0.84, phone=0.93, ssn=0.97),
    "heldout30": _floor(0.94, 0.94, address=0.75, dob=0.95, health_plan=0.98, mrn=0.98,
                        other_id=0.87, phone=0.96, ssn=0.95),
    # (other_id 0.84 since version 44: the number layer, trained again, leaves two device
    # serials of patients it took before; 0.82 since version 47, two more: "H-SB 4712", "FC
    # 30215877", the layer's churn when trained on version 47's output, 4 identifiers fewer on
    # the read files than before the training, against +66 for the version's rules)
    "heldout31": _floor(0.9, 0.94, account=0.94, address=0.67, dob=0.96, fax=0.89,
                        health_plan=0.83, mrn=0.95, other_id=0.82, phone=0.96, ssn=0.94),
    # (phone 0.92 since version 41: the number layer trained with heldout34 no longer takes a
    # Tehran number in Persian digits, one phone)
    "heldout32": _floor(0.93, 0.9, address=0.71, dob=0.87, email=0.97, health_plan=0.92,
                        mrn=0.95, other_id=0.91, phone=0.92, ssn=0.93),
    "heldout33": _floor(0.95, 0.94, account=0.88, address=0.78, dob=0.96, health_plan=0.96,
                        mrn=0.96, phone=0.97, ssn=0.98),
    "heldout34": _floor(0.94, 0.9, address=0.79, email=0.98, health_plan=0.95, mrn=0.94,
                        other_id=0.83, phone=0.95, ssn=0.96),
    # (written in session 40 after version 54, from a brief that asked for the kinds the
    # scrubber misses most; version 54 on it before it was read: 1,362 of 1,674, 81.4%,
    # look-alikes 96.5%; read for version 55)
    "heldout45": _floor(0.89, 0.82, address=0.65, dob=0.81, email=0.97, health_plan=0.96,
                        mrn=0.93, other_id=0.93, phone=0.95, ssn=0.91),
    # (written in session 41 after version 55, from a brief that asked for lower-case first
    # names, caseless scripts, OCR-garbled names, landmark and hotel addresses; version 55 on
    # it before it was read: 1,338 of 1,692, 79.1%, look-alikes 96.2%; read for version 56)
    "heldout46": _floor(0.88, 0.83, address=0.61, dob=0.80, health_plan=0.96, other_id=0.87,
                        phone=0.97, ssn=0.93),
    # (written in session 42 after version 56, from a brief that asked for staff as they sign
    # and chat, names without cues, addresses in local order, patients' own devices, spoken
    # numbers; version 56 on it before it was read: 1,410 of 1,713, 82.3% (13 age spans
    # trimmed of their year word), look-alikes 94.3%; read for version 57)
    "heldout47": _floor(0.93, 0.85, address=0.62, dob=0.81, email=0.97, fax=0.62,
                        health_plan=0.92, mrn=0.98, other_id=0.9, phone=0.94, ssn=0.89),
    # (written in session 43 after version 57, four hands from four parts of the world, the
    # heldout47 brief; version 57 on it before it was read: 1,461 of 1,755, 83.2%, look-alikes
    # 93.9%; read for version 58)
    "heldout48": _floor(0.9, 0.86, address=0.59, dob=0.81, health_plan=0.92, mrn=0.98,
                        other_id=0.9, phone=0.94, ssn=0.97),
    # (written in session 44 after version 58, four hands, one family of documents each:
    # machine-made records, people talking, paper, technicians' notes; version 58 on it before
    # it was read: 1,525 of 1,793, 85.1%, look-alikes 94.6%; read for version 59)
    "heldout49": _floor(0.91, 0.91, address=0.76, dob=0.8, email=0.95, health_plan=0.95,
                        mrn=0.98, other_id=0.89, phone=0.98, ssn=0.91),
}
PRECISION_FLOOR = {"tune": 1.0, "tune2": 1.0, "tune3": 0.99, "heldout": 1.0, "heldout2": 0.99,
                   "heldout3": 0.99, "heldout4": 0.99, "heldout5": 1.0, "heldout6": 0.99,
                   "heldout7": 0.97, "heldout8": 0.99, "heldout9": 0.97, "heldout10": 0.98,
                   "heldout11": 0.97, "heldout12": 0.98, "heldout13": 0.96, "heldout14": 0.98,
                   "heldout15": 0.96, "heldout16": 0.97, "heldout17": 0.98,
                   "heldout18": 0.97, "heldout19": 0.97, "heldout20": 0.96, "heldout21": 0.96,
                   "heldout22": 0.97, "heldout23": 0.95, "heldout24": 0.97,
                   "heldout25": 0.95, "heldout26": 0.96, "heldout27": 0.97, "heldout28": 0.95,
                   "heldout29": 0.95, "heldout30": 0.97, "heldout31": 0.96, "heldout32": 0.95,
                   "heldout33": 0.95, "heldout34": 0.95, "heldout45": 0.96,
                   "heldout46": 0.96, "heldout47": 0.95, "heldout48": 0.95,
                   "heldout49": 0.96}


@pytest.mark.parametrize("path", DEFAULT_CORPUS, ids=lambda p: p.stem)
def test_scrubber_floor(path, corpus_scrub) -> None:
    heldout = score(load_corpus(path), corpus_scrub, path.stem)
    recall = {kind: k.rate for kind, k in heldout.recall.items()}
    for kind, floor in RECALL_FLOOR[path.stem].items():
        assert recall.get(kind, 1.0) >= floor, (kind, recall[kind])
    kept = sum(k.good for k in heldout.precision.values())
    total = sum(k.total for k in heldout.precision.values())
    assert kept / total >= PRECISION_FLOOR[path.stem]


def test_the_corpus_tests_scrub_as_scrub_text_does(corpus_scrub) -> None:
    """The floors and the number layer's tests reuse the rules' output (conftest): on every
    fifteenth text of every file, with and without the layer, it is scrub_text's output."""
    from backfill.scrub import ScrubPolicy, scrub_text

    texts = [o.text for p in sorted(DEFAULT_CORPUS[0].parent.glob("*.jsonl"))
             for o in load_corpus(p)][::15]
    assert len(texts) > 250
    for policy in (ScrubPolicy(), ScrubPolicy(number_model=False)):
        assert [corpus_scrub(t, policy) for t in texts] == [
            scrub_text(t, policy).text for t in texts]


def test_evaluate_scores_each_file_and_times_the_same_pass() -> None:
    """``backfill scrub-eval``'s figures: the scorer's over scrub_text, and a records/s."""
    from backfill.scrub import scrub_text

    path = CORPUS["heldout45"]
    (got,) = evaluate([path])
    want = score(load_corpus(path), lambda t: scrub_text(t).text or "", "heldout45")
    assert (got.name, got.recall, got.precision) == (want.name, want.recall, want.precision)
    assert math.isfinite(got.records_per_s) and got.records_per_s > 0
