"""Extraction quality, measured: ``backfill eval`` on the shipped golden set against the
simulator (figures checked against the golden file read here and the simulator's request
log), a weak prompt scoring lower, the grounding checks one rule at a time, answers the
simulator made ungrounded on purpose flagged (and only those), and a run storing
``prompt_version`` / ``schema_version`` and the flags per row."""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from backfill import evaluate as ev
from backfill import schema as S
from backfill.cli import main
from backfill.config import Config, expand_env, parse_config
from backfill.devstack.simulator import (
    DEFAULT_CONFIG,
    UNGROUNDED_PARTS,
    SimulatorProcess,
    read_request_log,
)
from backfill.devstack.stack import LocalStack, local_stack, local_template
from backfill.errors import ConfigError
from backfill.grounding import evidence, grounding_warnings

GOLDEN = ev.default_golden()


def _golden_raw() -> list[dict[str, Any]]:
    """The golden file as written, read without backfill.evaluate."""
    cases = yaml.safe_load(GOLDEN.read_text())["cases"]
    assert isinstance(cases, list)
    return cases


# --------------------------------------------------------------------------- the golden set


@pytest.mark.unit
def test_the_golden_set_covers_what_it_says() -> None:
    raw = _golden_raw()
    assert len(raw) == 60
    splits = Counter(c["split"] for c in raw)
    assert splits == {"tune": 40, "holdout": 20}
    expected = [c["expected"] for c in raw]
    assert {e["failure_mode"] for e in expected} == {m.value for m in S.FailureMode}
    assert {e["equipment_category"] for e in expected} == {c.value for c in S.EquipmentCategory}
    assert any(not e["parts_replaced"] for e in expected)
    assert any(len(e["parts_replaced"]) > 1 for e in expected)
    assert any(e["root_cause"] is None for e in expected)
    assert {e["follow_up_needed"] for e in expected} == {True, False}
    # every case loads and validates against the Extraction's fields
    assert [c.id for c in ev.load_golden(GOLDEN)] == [c["id"] for c in raw]


@pytest.mark.unit
def test_the_golden_texts_are_not_the_generators() -> None:
    """Written by hand: no sentence of the synthetic catalogue is in a golden text."""
    catalogue = (Path(S.__file__).parent / "devstack" / "catalogue.yaml").read_text().lower()
    for case in _golden_raw():
        for key in ("problem", "notes", "resolution"):
            text = (case["input"].get(key) or "").lower()
            words = text.split()
            for i in range(max(0, len(words) - 7)):
                assert " ".join(words[i:i + 8]) not in catalogue, (case["id"], key)


@pytest.mark.unit
def test_a_bad_golden_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "g.jsonl"
    case = _golden_raw()[0]
    bad.write_text(json.dumps({**case, "expected": {**case["expected"],
                                                   "failure_mode": "gremlins"}}) + "\n")
    with pytest.raises(ConfigError, match=r"case 'G001': expected.failure_mode"):
        ev.load_golden(bad)
    with pytest.raises(ConfigError, match=r"missing.yaml: No such file"):
        ev.load_golden(tmp_path / "missing.yaml")


# --------------------------------------------------------------------------- scoring


@pytest.mark.unit
def test_token_f1_and_part_matching_by_hand() -> None:
    # 2 common of 3 answered and 4 expected: P 2/3, R 1/2, F1 4/7
    assert ev.token_f1("worn door latch", "the latch door was broken") == pytest.approx(4 / 7)
    assert ev.token_f1(None, None) == 1.0
    assert ev.token_f1("x", None) == 0.0
    assert ev.normalise_part("O-Rings") == ev.normalise_part("o ring")
    assert ev.normalise_part("Battery Modules") == "battery module"
    assert ev.normalise_part("glass") == "glass"  # not a plural
    assert ev.part_scores(["Door Gasket", "fuse"], ["door gaskets", "latch", "hinge"]) == (1, 2, 3)


# --------------------------------------------------------------------------- grounding rules

DOC = ("Equipment: Infusion Pump; Manufacturer: BD; Model: Alaris 8015; Work type: Corrective; "
       "Priority: High\nProblem: occlusion alarm keeps going off\nTechnician notes: door latch "
       "worn, replaced latch assy. tested ok\nResolution: returned to service")
GROUNDED = S.Extraction(
    equipment_category=S.EquipmentCategory.infusion, failure_mode=S.FailureMode.mechanical,
    root_cause="worn door latch", actions_taken=["replaced latch"],
    parts_replaced=["Latch Assy", "latches"], severity=S.Severity.medium,
    patient_safety_impact=S.SafetyImpact.potential, follow_up_needed=False,
    summary="Pump alarm; latch replaced.", confidence=0.8)


@pytest.mark.unit
def test_a_grounded_answer_has_no_flag() -> None:
    assert grounding_warnings(GROUNDED, DOC) == []
    # other is never flagged, nor a root cause of fillers only
    vague = GROUNDED.model_copy(update={"failure_mode": S.FailureMode.other,
                                        "equipment_category": S.EquipmentCategory.other,
                                        "root_cause": "device failure"})
    assert grounding_warnings(vague, DOC) == []


@pytest.mark.unit
@pytest.mark.parametrize(("change", "flag"), [
    ({"parts_replaced": ["Latch Assy", "flux capacitor"]},
     "part not found in text: flux capacitor"),
    ({"failure_mode": S.FailureMode.battery}, "failure mode not supported by the text: battery"),
    ({"failure_mode": S.FailureMode.leak}, "failure mode not supported by the text: leak"),
    ({"equipment_category": S.EquipmentCategory.imaging},
     "equipment category not supported by the text: imaging"),
    ({"equipment_category": S.EquipmentCategory.sterilization},
     "equipment category not supported by the text: sterilization"),
    ({"root_cause": "corroded relay contacts"},
     "root cause not found in text: corroded relay contacts"),
])
def test_each_grounding_rule_flags_what_the_text_does_not_say(change: dict[str, Any],
                                                               flag: str) -> None:
    answer = GROUNDED.model_copy(update=change)
    assert grounding_warnings(answer, DOC) == [flag]
    # the same answer is grounded once the text says it
    said = flag.rsplit(": ", 1)[1].replace("_", " ")
    assert grounding_warnings(answer, DOC + " " + said) == []


@pytest.mark.unit
def test_the_grounding_words_name_real_values() -> None:
    table = evidence()
    assert set(table["failure_mode"]) == {m.value for m in S.FailureMode} - {"other"}
    assert set(table["equipment_category"]) == {c.value for c in S.EquipmentCategory} - {"other"}


# --------------------------------------------------------------------------- versions


@pytest.mark.unit
def test_prompt_versions_and_schema_version() -> None:
    assert S.SYSTEM_PROMPT == S.PROMPTS[S.PROMPT_VERSION]
    assert "extract-v0-minimal" in S.PROMPTS
    assert S.SCHEMA_VERSION == S.schema_version(S.Extraction)

    class Wider(S.Extraction):
        serial_number: str | None

    assert S.schema_version(Wider) != S.SCHEMA_VERSION


# --------------------------------------------------------------------------- eval on the simulator


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    log = tmp_path_factory.mktemp("eval") / "requests.jsonl"
    with SimulatorProcess(log_path=log) as proc:
        yield proc


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> None:
    if "sim" in request.fixturenames:
        sim = request.getfixturevalue("sim")
        sim.configure(**DEFAULT_CONFIG)
        sim.reset()


@pytest.fixture(scope="module")
def config_path(sim: SimulatorProcess, tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = expand_env(local_template(), {"BACKFILL_FAKESNOW_PORT": "1",
                                        "BACKFILL_SIMULATOR_URL": sim.url})
    raw["llm"] = {**raw["llm"], "max_concurrency": 16, "max_retries": 1}
    path = tmp_path_factory.mktemp("evalcfg") / "backfill.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _cfg(path: Path) -> Config:
    return parse_config(yaml.safe_load(path.read_text()), str(path))


def _eval(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["eval", *args])
    return code, out.getvalue()


def _answers_by_document(sim: SimulatorProcess, since: int) -> dict[str, dict[str, Any]]:
    """The simulator's 200 answers of this test, by the user message they answered."""
    entries = read_request_log(sim.log_path)[since:]
    return {e["texts"][-1]: e for e in entries if e["kind"] == "chat" and e["status"] == 200}


def test_eval_prints_per_field_accuracy(sim: SimulatorProcess, config_path: Path) -> None:
    since = len(read_request_log(sim.log_path))
    code, out = _eval("--config", str(config_path), "--format", "json")
    assert code == 0
    report = json.loads(out)
    raw = _golden_raw()
    docs = ev.documents(ev.load_golden(GOLDEN), _cfg(config_path))
    logged = _answers_by_document(sim, since)
    assert len(logged) == len(raw) == 60
    answers = [json.loads(logged[d]["answer"]) for d in docs]
    # the system prompt sent is the current version's
    assert {logged[d]["texts"][0] for d in docs} == {S.PROMPTS[S.PROMPT_VERSION]}

    # exact-match fields, counted here from the file and the log
    for name in ("equipment_category", "failure_mode", "follow_up_needed"):
        right = sum(a[name] == c["expected"][name] for a, c in zip(answers, raw, strict=True))
        assert report["splits"]["all"]["fields"][name] == pytest.approx(right / 60), name
        held = [(a, c) for a, c in zip(answers, raw, strict=True) if c["split"] == "holdout"]
        right = sum(a[name] == c["expected"][name] for a, c in held)
        assert report["splits"]["holdout"]["fields"][name] == pytest.approx(right / 20), name
    # parts: recall's denominator is every part the file expects; precision's every
    # distinct part the simulator answered
    parts = [r["parts"] for r in report["results"]]
    assert sum(p["expected"] for p in parts) == sum(len(c["expected"]["parts_replaced"])
                                                    for c in raw)
    assert sum(p["answered"] for p in parts) == sum(
        len({" ".join(p.lower().split()) for p in a["parts_replaced"]} - {""})
        for a in answers)
    matched = sum(p["matched"] for p in parts)
    assert report["splits"]["all"]["parts_recall"] == pytest.approx(
        matched / sum(p["expected"] for p in parts))
    # tokens and requests, from the simulator's own counters
    stats = sim.stats()
    assert report["usage"]["requests"] == stats["chat"] == 60
    assert report["usage"]["prompt_tokens"] == stats["prompt_tokens"]
    assert report["usage"]["completion_tokens"] == stats["completion_tokens"]
    assert report["failures"] == {}
    assert report["grounding"]["flagged"] == sum(1 for r in report["results"] if r["warnings"])

    code, text = _eval("--config", str(config_path))
    assert code == 0
    line = next(t for t in text.splitlines() if t.startswith("equipment_category"))
    assert line.split()[2] == f"{report['splits']['all']['fields']['equipment_category']:.3f}"
    assert "holdout (20)" in text and "grounding:" in text


def test_a_weak_prompt_scores_lower(sim: SimulatorProcess, config_path: Path) -> None:
    cfg = _cfg(config_path)
    current = ev.evaluate(cfg)
    since = len(read_request_log(sim.log_path))
    weak = ev.evaluate(cfg, prompt_version="extract-v0-minimal")
    assert weak.scores().overall < current.scores().overall
    assert weak.scores().fields["parts_replaced"] < current.scores().fields["parts_replaced"]
    assert weak.scores().fields["failure_mode"] < current.scores().fields["failure_mode"]
    sent = {e["texts"][0] for e in read_request_log(sim.log_path)[since:]}
    assert sent == {S.PROMPTS["extract-v0-minimal"]}

    # the gate for CI: below --min-score is exit 3
    floor = (weak.scores().overall + current.scores().overall) / 2
    assert _eval("--config", str(config_path), "--min-score", f"{floor:.4f}")[0] == 0
    assert _eval("--config", str(config_path), "--min-score", f"{floor:.4f}",
                 "--prompt-version", "extract-v0-minimal")[0] == 3
    assert _eval("--config", str(config_path), "--prompt-version", "extract-v9")[0] == 2
    assert _eval("--config", str(config_path), "--min-score", "1.5")[0] == 2


def test_ungrounded_answers_are_flagged_and_only_those(sim: SimulatorProcess,
                                                         config_path: Path) -> None:
    cfg = _cfg(config_path)
    docs = ev.documents(ev.load_golden(GOLDEN), cfg)
    clean = ev.evaluate(cfg)
    sim.configure(ungrounded_rate=0.4)
    since = len(read_request_log(sim.log_path))
    spoiled = ev.evaluate(cfg)
    logged = _answers_by_document(sim, since)
    made = {c.id: logged[d]["faults"] for c, d in zip(clean.results, docs, strict=True)
            if logged[d]["faults"]}
    assert 10 <= len(made) <= 40, len(made)  # about 40% of 60
    assert sim.stats()["ungrounded"] == len(made)

    changed = {a.id for a, b in zip(clean.results, spoiled.results, strict=True)
               if a.warnings != b.warnings}
    assert changed == set(made)
    for result in spoiled.results:
        if result.id not in made:
            continue
        answer = result.answer
        assert answer is not None
        assert set(made[result.id]) >= {"ungrounded:parts_replaced"}
        # each thing made ungrounded has its own flag
        injected = answer["parts_replaced"][-1]
        assert injected in UNGROUNDED_PARTS
        assert f"part not found in text: {injected}" in result.warnings
        if "ungrounded:failure_mode" in made[result.id]:
            assert (f"failure mode not supported by the text: {answer['failure_mode']}"
                    in result.warnings)
        if "ungrounded:root_cause" in made[result.id]:
            assert f"root cause not found in text: {answer['root_cause']}" in result.warnings
    assert spoiled.flagged >= len(made)


def test_wrong_answers_and_refusals_are_counted(sim: SimulatorProcess,
                                                config_path: Path) -> None:
    cfg = _cfg(config_path)
    clean = ev.evaluate(cfg)
    sim.configure(wrong_rate=1.0)
    wrong = ev.evaluate(cfg)
    for a, b in zip(clean.results, wrong.results, strict=True):
        assert a.answer is not None and b.answer is not None
        for name in ev.ENUM_FIELDS:
            assert a.answer[name] != b.answer[name], (a.id, name)
    assert sim.stats()["wrong"] == 60

    sim.configure(wrong_rate=0.0, refusal_rate=0.25)
    sim.reset()
    since = len(read_request_log(sim.log_path))
    refused = ev.evaluate(cfg)
    entries = [e for e in read_request_log(sim.log_path)[since:] if e["kind"] == "chat"]
    refusals = sum(1 for e in entries if e["status"] == 200 and "answer" not in e)
    assert refusals > 0
    assert refused.failures == {"Refusal": refusals}
    failed = [r for r in refused.results if r.error]
    assert all(set(r.scores.values()) == {0.0} for r in failed)


# --------------------------------------------------------------------------- a run


@pytest.fixture(scope="module")
def spoiled_run(pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[LocalStack, str]]:
    from backfill.runner import RunRequest, execute

    work = tmp_path_factory.mktemp("evalrun")
    with local_stack(work, 400, pg_schema="evalrun", partition_rows=400, dsn=pg_dsn,
                     bad_rows=False, ungrounded_rate=0.3) as stack:
        result = execute(stack.config, RunRequest(config_path=str(stack.config_path)))
        assert result.exit_code == 0, result.summary
        yield stack, result.run_id


# A run of its own (fakesnow, simulator, Ray, Postgres): minutes on a 2-CPU machine, so
# slow; tests/test_end_to_end.py checks the versions per row in the normal suite.
@pytest.mark.integration
@pytest.mark.slow
def test_a_run_stores_versions_and_the_flags_of_ungrounded_answers(
        spoiled_run: tuple[LocalStack, str]) -> None:
    stack, run_id = spoiled_run
    with psycopg.connect(stack.dsn, autocommit=True) as conn:
        conn.execute("SET search_path TO evalrun, public")
        rows = conn.execute(
            "SELECT a.work_order_id, a.prompt_version, a.schema_version, a.warnings, "
            "s.document FROM ai_extracted_data a JOIN semantic_embeddings s USING "
            "(work_order_id) WHERE a.run_id = %s", (run_id,)).fetchall()
    assert len(rows) > 300
    assert {(r[1], r[2]) for r in rows} == {(S.PROMPT_VERSION, S.SCHEMA_VERSION)}
    logged = {e["texts"][-1]: e for e in read_request_log(stack.request_log)
              if e["kind"] == "chat" and e["status"] == 200 and "answer" in e}
    made = {r[0] for r in rows if "ungrounded:parts_replaced" in logged[r[4]]["faults"]}
    assert 0.2 * len(rows) < len(made) < 0.4 * len(rows)
    flagged = {r[0] for r in rows
               if any(w.startswith("part not found in text: ") and
                      w.split(": ", 1)[1] in UNGROUNDED_PARTS for w in r[3])}
    assert flagged == made

    code, out = io.StringIO(), None
    with contextlib.redirect_stdout(code):
        out = main(["report", "--config", str(stack.config_path), "--run-id", run_id,
                    "--format", "json"])
    assert out == 0
    rep = json.loads(code.getvalue())
    assert rep["extractions"]["with_grounding_warnings"] == sum(1 for r in rows if r[3])



@pytest.mark.integration
def test_an_unreachable_deployment_stops_eval_instead_of_scoring_zero(
        config_path: Path, tmp_path: Path) -> None:
    from backfill.errors import FatalError
    from backfill.evaluate import evaluate

    raw = yaml.safe_load(config_path.read_text())
    # a port nothing listens on, no retries: every case goes unanswered
    raw["llm"] = {**raw["llm"], "endpoint": "http://127.0.0.1:9/v1", "max_retries": 0}
    path = tmp_path / "down.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(FatalError, match=r"60 of 60 golden cases got no answer") as err:
        evaluate(_cfg(path), None, S.PROMPT_VERSION)
    assert err.value.exit_code == 1
