"""Logs (issue 12): -v / -q, text or JSON lines on stderr; and no secret, identifier or
record text in any log line a run writes, at debug level, on stderr, stdout or in the
files of its Ray session."""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import snowflake.connector
import yaml
from ray_sessions import kill_ray_session

from backfill import logs
from backfill.cli import main
from backfill.errors import EXIT_CONFIG, EXIT_OK
from backfill.estimate import SampleCalls, estimate, report_text
from backfill.resources import StagePlan
from backfill.runner import stall_message
from backfill.source import Partition

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """JSON mode sets Ray's JSON variables in the environment: undone after each test, as
    is the logging setup."""
    for var in (logs.FORMAT_ENV, "RAY_BACKEND_LOG_JSON", "RAY_DATA_LOGGING_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    yield
    logs.configure("text")


def _run_lines() -> list[str]:
    """What a run prints to ``out``: the runner's own texts (a multi-line one among them)."""
    parts = [Partition(0, dt.datetime(2021, 1, 1), dt.datetime(2021, 2, 1), 1200),
             Partition(1, dt.datetime(2021, 2, 1), dt.datetime(2021, 3, 1), 800)]
    return ["[run-1] 1,200/2,000 records (60.0%), 3 failed, partitions 1/2, 9,000 records/h, "
            "ETA 5.3 min",
            "note: WORK_ORDERS has no column for RESOLUTION; they are loaded as NULL",
            report_text(_config(), parts, estimate(
                _config(), parts, 10, ["Infusion pump; occlusion alarm"] * 10,
                SampleCalls([], [], []), 150)),
            stall_message("run-1", 660.0, StagePlan(1.0, 0.25, 2, 2, 2, 1, 2.0, 2.0, 1),
                          (1.0, 2.0))]


def _config() -> Any:
    from backfill.config import parse_config
    from backfill.devstack.stack import local_template

    return parse_config(local_template(), env={"BACKFILL_SIMULATOR_URL": "http://127.0.0.1:1",
                                               "BACKFILL_FAKESNOW_PORT": "1"})


def _print_all(out: Any) -> None:
    for text in _run_lines():
        print(text, file=out, flush=True)
    print("a line without flush", file=out)


@pytest.mark.unit
def test_text_mode_prints_the_run_lines_as_they_were(
    clean_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = io.StringIO()  # what the runner printed to stderr before issue 12
    _print_all(expected)
    logs.configure("text")
    capsys.readouterr()
    _print_all(logs.run_output())
    logging.getLogger("backfill.sink").warning("Postgres rejected work order %s", "WO-1")
    err = capsys.readouterr().err
    assert err.startswith(expected.getvalue())
    # other records keep the format of before: time, level, logger
    rest = err[len(expected.getvalue()):]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING backfill.sink: "
                        r"Postgres rejected work order WO-1\n", rest), rest


@pytest.mark.unit
def test_quiet_drops_progress_lines_but_keeps_warnings_and_errors(
    clean_env: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    logs.configure("text", quiet=True)
    capsys.readouterr()
    _print_all(logs.run_output())
    logging.getLogger("backfill.sink").warning("Postgres rejected work order %s", "WO-1")
    err = capsys.readouterr().err.splitlines()
    stall = _run_lines()[3]
    assert err[0] == stall  # the stall warning is kept, the progress line and notes are not
    assert len(err) == 2 and err[1].endswith("WARNING backfill.sink: Postgres rejected "
                                             "work order WO-1")
    # the command's error line stays, through the real command line
    missing = tmp_path / "missing.yaml"
    assert main(["status", "--config", str(missing), "-q"]) == EXIT_CONFIG
    assert capsys.readouterr().err == (f"backfill: configuration error: --config {missing}: "
                                       "cannot read (No such file or directory)\n")


@pytest.mark.unit
def test_json_mode_writes_one_object_per_line(
    clean_env: None, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logs.configure("json")
    logs.set_run_id("run-1")
    capsys.readouterr()
    _print_all(logs.run_output())
    logging.getLogger("backfill.sink").warning("Postgres rejected work order %s", "WO-1")
    err = capsys.readouterr().err.splitlines()
    records = [json.loads(line) for line in err]
    lines = "\n".join(_run_lines()).splitlines() + ["a line without flush"]
    assert [r["message"] for r in records] == [*lines, "Postgres rejected work order WO-1"]
    for r in records:
        stamp = dt.datetime.fromisoformat(r["timestamp"])
        assert stamp.utcoffset() == dt.timedelta(0)
        assert abs((dt.datetime.now(dt.UTC) - stamp).total_seconds()) < 600
    assert {r["logger"] for r in records[:-1]} == {"backfill.run"}
    assert {r["run_id"] for r in records[:-1]} == {"run-1"}
    assert records[-1]["logger"] == "backfill.sink" and records[-1]["level"] == "WARNING"
    stalled = [r for r in records if "STALLED" in r["message"]]
    assert len(stalled) == 1 and stalled[0]["level"] == "WARNING"
    assert {r["level"] for r in records if r not in stalled[:1]} == {"INFO", "WARNING"}
    # the error line of the command, a usage error, and the variable for `ray job submit`
    missing = tmp_path / "missing.yaml"
    assert main(["status", "--config", str(missing), "--log-format", "json"]) == EXIT_CONFIG
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line)["message"].startswith("backfill: configuration error: --config ")
    with pytest.raises(SystemExit):
        main(["status", "--log-format", "json", "--no-such-flag"])
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line)["level"] == "ERROR"
    monkeypatch.setenv(logs.FORMAT_ENV, "json")
    assert main(["status", "--config", str(missing)]) == EXIT_CONFIG
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line)["logger"] == "backfill.cli"


# --- a whole run at debug level in JSON: nothing secret or personal in any log ----------

SCHEMA = "logs_leak"
N = 2_000
RUN_ID = "logleak-1"
API_KEY = "sk-logleak-5e1f0c7a9b3d48e6a2c1f7b9d0e4a6c8"
SNOWFLAKE_PASSWORD = "SnowLeak-8d3b1f6e2a9c"
PG_PASSWORD = "PgLeak-4c7e9a2d6b1f"
SENTENCE = "A periwinkle glow flickered behind the bezel like a lighthouse beacon at dusk"
PLANTED = {  # work order -> free-text columns; identifiers of every kind, and a sentence
    "LOGPII-1": {
        "PROBLEM_DESCRIPTION": "Pt Zebediah Quillfeather, MRN 84736251, DOB 03/14/1962: pump "
                               f"alarms at start. {SENTENCE}.",
        "TECHNICIAN_NOTES": "Spoke with Philippa Vandermeulen at 617-555-0187, "
                            "philippa.vandermeulen@fastmail.example, about the loaner.",
        "RESOLUTION": "Replaced keypad. SSN 519-38-4702 seen on the intake sheet; shredded.",
    },
    # the scrubber lets this SSN through and the guard stops it: a failed record (dotted:
    # version 59's number layer masks "SSN of 219 48 7730")
    "LOGPII-2": {"PROBLEM_DESCRIPTION": "Label on housing: SSN of 219.48.7730 of the previous "
                                        "patient Ottoline Brackenridge."},
}
NAMES = ["Zebediah", "Quillfeather", "Philippa", "Vandermeulen", "Ottoline", "Brackenridge"]
VALUES = ["84736251", "03/14/1962", "617-555-0187", "6175550187", "philippa.vandermeulen",
          "fastmail.example", "519-38-4702", "519384702", "219.48.7730", "2194877730",
          "periwinkle", "lighthouse", SENTENCE]
SHINGLE = 5  # words in a row of a record's free text that must not occur in any log


@pytest.fixture(scope="module")
def leak_run(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The real command line in a child process with its own Ray (in a temp dir of its
    own, so that every file of the session's log directory is this run's)."""
    from backfill.devstack.stack import local_stack

    work = tmp_path_factory.mktemp("logleak")
    with local_stack(work, N, latency_ms=2, pg_schema=SCHEMA, partition_rows=1000,
                     dsn=pg_dsn, seed=12, fail_rate=0.02, malformed_rate=0.01,
                     overrides={"pipeline": {"progress_interval_seconds": 1,
                                             "max_failed_fraction": 0.2}}) as stack:
        with snowflake.connector.connect(
            account="fakesnow", user="fake", password="x", database="CMMS", schema="PUBLIC",
            **stack.snowflake.connect_args,
        ) as conn:
            for i, (wid, texts) in enumerate(PLANTED.items()):
                cols = ["WORK_ORDER_ID", "CREATED_AT", "EQUIPMENT_TYPE", *texts, "LABOR_HOURS"]
                conn.cursor().execute(
                    f"INSERT INTO WORK_ORDERS ({', '.join(cols)}) VALUES "
                    f"({', '.join(['%s'] * len(cols))})",
                    (wid, dt.datetime(2022, 5, 1, 9, i), "Infusion pump", *texts.values(), 1.0))
        # the secrets as the config names them in production: ${VAR}, set in the environment
        raw = yaml.safe_load(stack.config_path.read_text())
        raw["llm"]["api_key"] = raw["embedding"]["api_key"] = "${OPENAI_API_KEY}"
        raw["snowflake"]["password"] = "${SNOWFLAKE_PASSWORD}"
        raw["postgres"]["dsn"] = "${BACKFILL_LEAK_DSN}"
        config = work / "leak.yaml"
        config.write_text(yaml.safe_dump(raw, sort_keys=False))
        dsn = pg_dsn.replace("postgres:@", f"postgres:{PG_PASSWORD}@", 1)
        assert PG_PASSWORD in dsn
        temp_dir = tempfile.mkdtemp(prefix="bflog", dir="/tmp")
        env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_TMPDIR": temp_dir,
               "OPENAI_API_KEY": API_KEY, "SNOWFLAKE_PASSWORD": SNOWFLAKE_PASSWORD,
               "BACKFILL_LEAK_DSN": dsn, "PYTHONPATH": str(REPO)}
        for var in ("RAY_ADDRESS", logs.FORMAT_ENV, "RAY_BACKEND_LOG_JSON",
                    "RAY_DATA_LOGGING_CONFIG"):
            env.pop(var, None)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "backfill.cli", "run", "--config", str(config),
                 "--run-id", RUN_ID, "-v", "--log-format", "json", "--no-dashboard"],
                env=env, capture_output=True, text=True, timeout=900, cwd=work)
            # (RAY_TMPDIR/ray/session_<time>, and session_latest, a link to it)
            sessions = [d for d in Path(temp_dir, "ray").glob("session_*") if not d.is_symlink()]
            files = {str(p.relative_to(temp_dir)): p.read_text(errors="replace")
                     for d in sessions for p in (d / "logs").glob("**/*") if p.is_file()}
        finally:
            kill_ray_session(temp_dir)
        with psycopg.connect(stack.dsn) as pg:
            pg.execute(f"SET search_path TO {SCHEMA}, public")
            guarded = pg.execute("SELECT work_order_id FROM failed_records WHERE run_id = %s "
                                 "AND error_class = 'PHIGuard'", (RUN_ID,)).fetchall()
            written = pg.execute("SELECT count(*) FROM maintenance_logs WHERE run_id = %s",
                                 (RUN_ID,)).fetchone()
        texts = [v for row in stack.data.table.select(
            ["PROBLEM_DESCRIPTION", "TECHNICIAN_NOTES", "RESOLUTION"]).to_pylist()
            for v in row.values() if v]
        texts += [v for cols in PLANTED.values() for v in cols.values()]
        yield {"done": done, "files": files, "texts": texts, "guarded": guarded,
               "written": written[0] if written else 0, "pii": stack.data.planted_pii,
               "source_rows": stack.data.table.num_rows + len(PLANTED)}


def _log_text(run: dict[str, Any]) -> dict[str, str]:
    """Every log the run wrote, by where: its stdout, its stderr, each session file."""
    return {"stdout": run["done"].stdout, "stderr": run["done"].stderr, **run["files"]}


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


@functools.cache
def _english_words() -> frozenset[str]:
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["gcide"], lower=True, alpha=True))


def _english(word: str) -> bool:
    w = word.lower()
    return w in _english_words() or w.removesuffix("s") in _english_words()


@pytest.mark.integration
@pytest.mark.slow  # a whole run of its own: > 50 s on the 2-core box (make test < 15 min)
def test_the_run_completes_and_its_stderr_is_json_lines(leak_run: dict[str, Any]) -> None:
    done = leak_run["done"]
    assert done.returncode == EXIT_OK, done.stderr[-3000:]
    # stdout: the one-line summary, counted independently from the source and the tables
    summary = done.stdout.splitlines()[0]
    assert summary.startswith(f"run {RUN_ID}: ") and (
        f"of {leak_run['source_rows']:,} records" in summary), summary
    assert leak_run["written"] > 0.9 * N
    assert [g[0] for g in leak_run["guarded"]] == ["LOGPII-2"]  # the planted rows were read
    records = [json.loads(line) for line in done.stderr.splitlines()]  # every line parses
    assert all(isinstance(r, dict) for r in records)
    ours = [r for r in records if "logger" in r]
    assert all({"timestamp", "level", "logger", "message"} <= r.keys() for r in ours)
    # the driver's Ray core (C++) prints its errors itself: JSON too, in Ray's keys
    assert all({"asctime", "levelname", "message", "filename"} <= r.keys()
               for r in records if "logger" not in r)
    progress = [r for r in records if r["message"].startswith(f"[{RUN_ID}] ")]
    assert progress and all(r["run_id"] == RUN_ID and r["logger"] == "backfill.run"
                            for r in progress)
    assert any(r["level"] == "DEBUG" for r in records)  # -v reached the driver's loggers
    # -v in JSON reached the workers too: their records are Ray's JSON in the session files
    worker_json = [_json(line) for name, text in leak_run["files"].items() if "worker-" in name
                   for line in text.splitlines()]
    levels = {r.get("levelname") for r in worker_json if r}
    assert "DEBUG" in levels, levels


def _json(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@pytest.mark.integration
@pytest.mark.slow  # a whole run of its own: > 50 s on the 2-core box (make test < 15 min)
def test_no_secret_identifier_or_record_text_in_any_log(leak_run: dict[str, Any]) -> None:
    assert leak_run["done"].returncode == EXIT_OK  # the whole run, not a start that failed
    logs_by_source = _log_text(leak_run)
    assert len(leak_run["files"]) > 10 and sum(map(len, logs_by_source.values())) > 100_000
    secrets = [API_KEY, API_KEY[3:], SNOWFLAKE_PASSWORD, PG_PASSWORD]
    # the generator's identifiers, whole (6 characters or more, as test_end_to_end), and
    # alone every word of 5 letters or more of its names, addresses and e-mail users that
    # is not an English word ("Gwendolyn" alone is a leak; "Black" is checked as part of
    # the whole name only, and "gmail" not at all)
    pii = sorted({p for p in leak_run["pii"] if len(p) >= 6}, key=len, reverse=True)
    name_words = {w for p in leak_run["pii"] for w in _words(p.split("@")[0])
                  if len(w) >= 5 and not w.isdigit() and not _english(w)}
    assert len(pii) > 100 and len(name_words) > 100
    whole = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(
        [*secrets, *VALUES, *pii], key=len, reverse=True))) + r")(?!\w)")
    words = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(
        name_words | set(NAMES), key=len, reverse=True))) + r")(?!\w)", re.IGNORECASE)
    record_shingles = {tuple(ws[i:i + SHINGLE]) for t in leak_run["texts"]
                       for ws in [_words(t)] for i in range(len(ws) - SHINGLE + 1)}
    found: dict[str, set[str]] = {}
    for source, text in logs_by_source.items():
        hits = {m.group(0) for m in whole.finditer(text)}
        hits |= {m.group(0) for m in words.finditer(text)}
        ws = _words(text)
        hits |= {" ".join(s) for i in range(len(ws) - SHINGLE + 1)
                 if (s := tuple(ws[i:i + SHINGLE])) in record_shingles}
        if hits:
            found[source] = hits
    assert not found, {k: sorted(v)[:8] for k, v in found.items()}
