"""The masking rules of the learned name layer (backfill/ner.py), without the model: the
word scores are made up here. The model itself is measured by benchmarks/ner_eval.py."""

from __future__ import annotations

import re

import pytest

from backfill import ner
from backfill.ner import WordScore

pytestmark = pytest.mark.unit


def _words(text: str, names: set[str]) -> list[WordScore]:
    return [WordScore(m.start(), m.end(), 0.9 if m.group() in names else 0.01)
            for m in re.finditer(r"[^\W_]+", text)]


def _mask(text: str, names: set[str], keep: tuple[str, ...] = ()) -> str:
    single, phrases = ner._kept(keep, True)
    return ner._apply(text, _words(text, names), ner.DEFAULT_THRESHOLD, single, phrases)[0]


def test_adjacent_name_words_become_one_placeholder() -> None:
    assert _mask("pt Harold Pennington in 412", {"Harold", "Pennington"}) == "pt [PERSON] in 412"


def test_placeholders_keep_words_and_makers_are_kept() -> None:
    text = "[PATIENT_NAME] seen; Stryker bed from Lowell; call Lisa"
    assert _mask(text, {"PATIENT_NAME", "Stryker", "Lowell", "Lisa"}, keep=("Lowell",)) == \
        "[PATIENT_NAME] seen; Stryker bed from Lowell; call [PERSON]"


def test_product_words_are_kept() -> None:
    text = "Welch Allyn Connex, Mindray BeneHeart, Airvo 2 and TN500 for Dawn"
    names = {"Connex", "BeneHeart", "Airvo", "TN500", "Dawn"}
    assert _mask(text, names) == ("Welch Allyn Connex, Mindray BeneHeart, Airvo 2 and TN500 "
                                  "for [PERSON]")


def test_a_name_before_a_phone_or_street_number_is_still_a_name() -> None:
    text = "contact Agnieszka 508-555-0123; pt Nowak 501 W. 3rd St; Abena 612-A; McDonald"
    assert _mask(text, {"Agnieszka", "Nowak", "Abena", "McDonald"}) == \
        "contact [PERSON] 508-555-0123; pt [PERSON] 501 W. 3rd St; [PERSON] 612-A; [PERSON]"
