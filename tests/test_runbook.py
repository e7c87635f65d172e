"""The operator's guide (docs/backfill_guide.md) is a runbook: every `backfill` command in
its ```bash blocks is run here, in order, against the embedded stack, with the exit status
the guide gives it (`# exit N` at the end of the line, else 0); every `backfill` command it
quotes inline must at least parse with today's flags. A guide that names a flag or a
command that no longer exists fails here, not in front of an operator at 3 a.m."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from backfill.devstack.stack import LocalStack, local_stack

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "backfill_guide.md"
SCHEMA = "runbook"
N = 1500
_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)
_INLINE = re.compile(r"`(backfill [^`]+)`")
_EXIT = re.compile(r"#\s*exit (\d)\s*$")


def bash_commands(text: str) -> list[tuple[str, int]]:
    """(command, expected exit) of every `backfill` line of the guide's bash blocks; a line
    ending in a backslash continues on the next."""
    out = []
    for block in _BLOCK.findall(text):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip()
            if not line.startswith("backfill "):
                continue
            expected = _EXIT.search(line)
            command = line.split(" #", 1)[0].strip()
            out.append((command, int(expected.group(1)) if expected else 0))
    return out


def inline_commands(text: str) -> list[str]:
    outside = _BLOCK.sub("", text)
    return [m.strip() for m in _INLINE.findall(outside)]


def _args(command: str, values: dict[str, str]) -> list[str]:
    """The command's arguments, placeholders replaced, `[optional parts]` and `...` left
    out (they are the guide's notation, not the command's)."""
    command = re.sub(r"\[[^\]]*\]", "", command).replace("...", "")
    words = shlex.split(command)[1:]
    return [values.get(w, w) for w in words]


PLACEHOLDERS = {"my.yaml": "CONFIG", "ID": "RUN", "FILE": "OUT", "report.html": "OUT",
                "N": "4", "TEXT": "pump"}


@pytest.mark.unit
def test_the_guide_has_commands_to_run() -> None:
    commands = bash_commands(GUIDE.read_text())
    names = {shlex.split(c)[1] for c, _ in commands}
    # what an operator does in a backfill's life, each shown as a command to run
    assert {"run", "status", "report", "verify", "retry-failed", "reprocess"} <= names, names
    assert any("--dry-run" in c for c, _ in commands)
    assert any("--watch" in c for c, _ in commands)


@pytest.mark.unit
def test_every_command_the_guide_quotes_parses() -> None:
    from backfill.cli import build_parser

    text = GUIDE.read_text()
    quoted = inline_commands(text) + [c for c, _ in bash_commands(text)]
    assert len(quoted) > 10
    values = dict(PLACEHOLDERS)
    parser = build_parser()
    commands = {a.dest: a for a in parser._actions}["command"].choices
    for command in quoted:
        words = _args(command, values)
        if len(words) == 1:  # a command named, not shown with its arguments
            assert words[0] in commands, f"docs/backfill_guide.md names `{command}`"
            continue
        try:
            parser.parse_args(_args(command, values))
        except SystemExit as exc:
            pytest.fail(f"docs/backfill_guide.md quotes `{command}`, which does not parse "
                        f"(exit {exc.code})")


@pytest.fixture(scope="module")
def stack(
    pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("runbook")
    with local_stack(work, N, latency_ms=5, pg_schema=SCHEMA, partition_rows=500,
                     dsn=pg_dsn) as s:
        yield s


def _newest_run(stack: LocalStack) -> str | None:
    with psycopg.connect(stack.dsn, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}")
        if conn.execute("SELECT to_regclass('etl_metadata')").fetchone() == (None,):
            return None
        row = conn.execute("SELECT run_id FROM etl_metadata WHERE kind = 'run' "
                           "ORDER BY created_at DESC LIMIT 1").fetchone()
    return row[0] if row else None


@pytest.mark.slow
@pytest.mark.integration
def test_every_command_of_the_runbook_runs(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from backfill.cli import main

    values = {"my.yaml": str(stack.config_path), "FILE": str(tmp_path / "report.out"),
              "report.html": str(tmp_path / "report.html"), "N": "4", "TEXT": "pump"}
    ran = []
    for command, expected in bash_commands(GUIDE.read_text()):
        run_id = _newest_run(stack)
        if run_id:
            values["ID"] = run_id
        elif " ID" in command:
            pytest.fail(f"`{command}` needs a run, and the guide has not started one yet")
        code = main(_args(command, values))
        out = capsys.readouterr()
        assert code == expected, (command, code, out.err[-3000:])
        ran.append(command)
    assert ran
    # the guide's run reached its end, and what it says was written is there
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
