"""Batch mode, a kill between the Batch API creating a batch and its row being committed: the
resume records the batch the service made from the uploaded file (found in its list), or
creates it if the service never did, and never creates a second one. Against the simulator's
Batch API and the real Postgres; counted from the simulator's own list of batches.

The kill at that exact point is made by a BatchRun whose next step raises (fault injection:
a SIGKILL cannot be aimed at a window of milliseconds)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from backfill import schema as S
from backfill.batch import INTENT_KIND, KIND, BatchRun, batch_line
from backfill.db import ensure_schema
from backfill.devstack.stack import LocalStack, local_stack
from backfill.extract import first_messages, request_body

pytestmark = pytest.mark.integration
SCHEMA = "batchintent"


class Killed(Exception):
    """The process 'dies' here."""


@pytest.fixture(scope="module")
def stack(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory.mktemp("batchintent"), 10, latency_ms=1,
                     pg_schema=SCHEMA, dsn=pg_dsn, overrides={"llm": {"mode": "batch"}},
                     batch_turnaround_s=30) as s:
        ensure_schema(s.dsn, SCHEMA, s.config.embedding.dimensions)
        yield s


def _lines(job: BatchRun, tag: str) -> list[tuple[str, bytes]]:
    body = request_body(job.llm, first_messages(S.SYSTEM_PROMPT, f"pump {tag} occluded"))
    return [(f"{tag}-key", batch_line(f"{tag}-key", body, job.url))]


def _rows(stack: LocalStack, run_id: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(stack.dsn) as conn:
        return conn.execute(
            f"SELECT kind, item, info->>'input_file_id' FROM {SCHEMA}.etl_metadata "
            "WHERE run_id = %s ORDER BY kind", (run_id,)).fetchall()


def _made_from(job: BatchRun, file_id: str) -> list[Any]:
    return [b for b in job.client.batches.list(limit=100) if b.input_file_id == file_id]


@pytest.mark.parametrize("dies_in", ["_record", "_create"])
def test_a_batch_created_or_not_before_the_kill_is_created_once(
        stack: LocalStack, tmp_path: Path, dies_in: str) -> None:
    run_id = f"intent-{dies_in.strip('_')}"

    def die(*_args: Any) -> Any:
        raise Killed

    killed = BatchRun(stack.config, stack.dsn, run_id, io.StringIO())
    setattr(killed, dies_in, die)  # _record: after the create; _create: before it
    with pytest.raises(Killed):
        killed._submit_file(_lines(killed, run_id), partition=0, round_=1)
    [(kind, file_id, _)] = _rows(stack, run_id)
    assert kind == INTENT_KIND  # the uploaded file is known, the batch not
    assert len(_made_from(killed, file_id)) == (1 if dies_in == "_record" else 0)

    out = io.StringIO()
    BatchRun(stack.config, stack.dsn, run_id, out)._adopt_intents()  # the resume's first step
    made = _made_from(killed, file_id)
    assert len(made) == 1, made  # found and recorded, or created now: never twice
    assert _rows(stack, run_id) == [(KIND, made[0].id, file_id)]
    assert file_id in out.getvalue()
    # a second resume finds nothing left to adopt
    BatchRun(stack.config, stack.dsn, run_id, io.StringIO())._adopt_intents()
    assert len(_made_from(killed, file_id)) == 1
