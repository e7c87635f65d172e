"""The whole job against a simulator that admits as Azure does (prompt + max_tokens charged
at admission, TPM/60 a second over 1-second windows, no refund), with a token-bound quota.
Figures come from the simulator's own counters and request log, not from the job's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backfill.devstack.simulator import read_request_log
from backfill.devstack.stack import LocalStack, local_stack
from backfill.runner import RunRequest, RunResult, execute

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SCHEMA = "admission"
N = 600
TPM = 600_000  # 10,000 tokens a second: a few hundred records take ~20 s
CHAT = "gpt-4o-mini"


@pytest.fixture(scope="module")
def stack(
    pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    quota = {"requests_per_minute": 100_000, "tokens_per_minute": TPM, "max_concurrency": None}
    with local_stack(
        tmp_path_factory.mktemp("admission"), N, latency_ms=300, latency_sigma=0.4,
        pg_schema=SCHEMA, partition_rows=N, dsn=pg_dsn, bad_rows=False,
        overrides={"llm": quota, "embedding": quota},
        rpm=100_000, tpm=TPM, admission_window_s=1,
    ) as s:
        yield s


@pytest.fixture(scope="module")
def run(stack: LocalStack) -> RunResult:
    return execute(stack.config, RunRequest(config_path=str(stack.config_path)))


def test_token_bound_quota_is_used_without_429s(stack: LocalStack, run: RunResult) -> None:
    assert run.exit_code == 0, run.summary
    assert run.rows_ok == N
    chat = stack.simulator.stats()["by_model"][CHAT]
    statuses = chat["by_status"]
    # Issue 14's target, < 1% 429s, is measured over 10 minutes by benchmarks/admission_bench
    # (docs/benchmarks.md: 0.2-1.27% in its runs). Here, on ~600 requests, the count is a few:
    # 3, 6, 3 and 3 in session 35, 7 (1.15%) in a CI rehearsal of session 34, spread over
    # the run (at 13, 25 and 30 s of one), not at start-up. So this run allows 2%: a
    # limiter that did not charge as Azure does was answered 429 for 62% of its requests.
    assert statuses.get("429", 0) < 0.02 * chat["requests"], statuses
    # Share of the token budget the admitted requests used, from the first admitted chat
    # request of the pipeline to the last (the job's start-up and its embedding tail are
    # not the quota's; the first chat request is the preflight's, a start-up away).
    admitted = [e["ts"] for e in read_request_log(stack.request_log)
                if e["kind"] == "chat" and e["status"] == 200][1:]
    span = max(admitted) - min(admitted)
    preflight = chat["admitted_tokens"] / chat["by_status"]["200"]  # about one request's
    share = (chat["admitted_tokens"] - preflight) / (TPM / 60 * span)
    assert share > 0.8, (share, span, chat)


def test_max_tokens_follow_the_answers(stack: LocalStack, run: RunResult) -> None:
    """Charged per request: far less than prompt + llm.max_output_tokens (800)."""
    chat = stack.simulator.stats()["by_model"][CHAT]
    ok = chat["by_status"]["200"]
    charged_answer = (chat["admitted_tokens"] - chat["prompt_tokens"]) / ok
    answer = chat["completion_tokens"] / ok
    assert answer < charged_answer < 400, (answer, charged_answer)
