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

TUNE, TUNE2, HELDOUT, HELDOUT2, HELDOUT3 = DEFAULT_CORPUS

IDENTIFIER_KINDS = {"name", "staff_name", "mrn", "ssn", "phone", "fax", "email", "dob", "account",
                    "health_plan", "address", "other_id"}


# --- the corpus itself ----------------------------------------------------------------------


@pytest.mark.parametrize("path", DEFAULT_CORPUS, ids=lambda p: p.stem)
def test_corpus_offsets_are_sound(path) -> None:
    orders = load_corpus(path)
    assert check_offsets(orders) == []
    for order in orders:
        assert {s.kind for s in order.spans} <= IDENTIFIER_KINDS, order.id
        assert order.spans or order.lookalikes, order.id


def test_corpus_size_and_split() -> None:
    tune = load_corpus(TUNE) + load_corpus(TUNE2)
    heldout = load_corpus(HELDOUT) + load_corpus(HELDOUT2) + load_corpus(HELDOUT3)
    assert len(tune) + len(heldout) >= 360
    assert 0.45 <= len(heldout) / (len(tune) + len(heldout)) <= 0.6
    assert not {o.text for o in tune} & {o.text for o in heldout}


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


def test_gate_counts_staff_names_and_exit_code(capsys) -> None:
    order = _order("RN Kelly Brandt called", {"Kelly Brandt": "staff_name"}, {})
    s = score([order], lambda t: t, name="x")
    assert gate_failures([s], 100, 100) == ["x: recall staff_name 0.0% < 100%"]
    assert main(["scrub-eval", str(HELDOUT)]) == 0
    assert main(["scrub-eval", str(HELDOUT), "--min-recall", "100"]) == 3
    assert "recall name" in capsys.readouterr().out


# --- the current scrubber on the held-out splits -------------------------------------------
#
# Targets of issue 10: recall 100% on MRN, SSN, phone, fax, e-mail, DOB, account and
# health-plan numbers and street addresses; >= 98% on names; precision >= 95% on look-alikes.
# Scrubber version 3 (cue rules + name lists, backfill/names.py) on the held-out splits:
#   heldout  (52 orders):  name 95.0%, staff_name 100%, health_plan 66.7%, other_id 50%,
#                          every other kind 100%; look-alike precision 99.0%.
#   heldout2 (70 orders, written for names that are also words):  name 87.2%, staff_name
#                          84.9%, dob 85.7%, mrn 87.5%, phone 85.7%, health_plan 50%, other_id
#                          33.3%, ssn/email/fax/account/address 100%; look-alike precision 98.8%.
#   heldout3 (80 orders, written after version 3 was finished and measured once):  name
#                          87.8%, staff_name 59.7%, phone 61.5%, fax 50%, address 50%,
#                          other_id 33.3%, the rest 100%; look-alike precision 98.4%.
# (Version 2 on heldout: name 75%, staff_name 0%; version 1: name 60%.)  Names are short of
# the target.  These floors are today's figures rounded down: raise them as the scrubber
# improves; never tune the scrubber against heldout*.jsonl (tests/data/phi/README.md).
HELDOUT_RECALL_FLOOR = {
    "heldout": {"name": 0.95, "staff_name": 1.0, "mrn": 1.0, "ssn": 1.0, "phone": 1.0,
                "fax": 1.0, "email": 1.0, "dob": 1.0, "account": 1.0, "health_plan": 0.66,
                "address": 1.0, "other_id": 0.5},
    "heldout2": {"name": 0.87, "staff_name": 0.84, "mrn": 0.87, "ssn": 1.0, "phone": 0.85,
                 "fax": 1.0, "email": 1.0, "dob": 0.85, "account": 1.0, "health_plan": 0.5,
                 "address": 1.0, "other_id": 0.33},
    "heldout3": {"name": 0.87, "staff_name": 0.59, "mrn": 1.0, "ssn": 1.0, "phone": 0.61,
                 "fax": 0.5, "email": 1.0, "dob": 1.0, "account": 1.0, "health_plan": 1.0,
                 "address": 0.5, "other_id": 0.33},
}
HELDOUT_PRECISION_FLOOR = {"heldout": 0.99, "heldout2": 0.98, "heldout3": 0.98}


@pytest.mark.parametrize("path", [HELDOUT, HELDOUT2, HELDOUT3], ids=lambda p: p.stem)
def test_scrubber_floor_on_heldout(path) -> None:
    (heldout,) = evaluate([path])
    recall = {kind: k.rate for kind, k in heldout.recall.items()}
    for kind, floor in HELDOUT_RECALL_FLOOR[path.stem].items():
        assert recall[kind] >= floor, (kind, recall[kind])
    kept = sum(k.good for k in heldout.precision.values())
    total = sum(k.total for k in heldout.precision.values())
    assert kept / total >= HELDOUT_PRECISION_FLOOR[path.stem]
    assert math.isfinite(heldout.records_per_s) and heldout.records_per_s > 0
