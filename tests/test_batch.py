"""The Batch API pieces without the job: JSONL files within the limits, a line's body equal to
the real-time request's, and the simulator's /files and /batches as the openai client
calls them on OpenAI's paths and Azure's."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from backfill import schema as S
from backfill.batch import _answers, _lines_by_key, batch_endpoint, batch_line, split_lines
from backfill.config import LLMConfig
from backfill.devstack.simulator import SimulatorProcess, read_request_log
from backfill.extract import Extractor, first_messages, request_body


def _lines(sizes: list[int]) -> list[tuple[str, bytes]]:
    return [(f"k{i:03d}", b"x" * (n - 1) + b"\n") for i, n in enumerate(sizes)]


def test_files_are_cut_at_the_line_limit() -> None:
    lines = _lines([10] * 7)
    files = split_lines(lines, max_lines=3, max_bytes=10_000)
    assert [len(f) for f in files] == [3, 3, 1]
    assert [x for f in files for x in f] == lines


def test_files_are_cut_at_the_byte_limit() -> None:
    lines = _lines([40, 40, 30, 50, 10, 100])
    files = split_lines(lines, max_lines=100, max_bytes=100)
    assert [[k for k, _ in f] for f in files] == [
        ["k000", "k001"], ["k002", "k003", "k004"], ["k005"]]
    assert all(sum(len(b) for _, b in f) <= 100 for f in files)
    # a line alone over the limit gets a file of its own (the API's refusal names it)
    assert [len(f) for f in split_lines(_lines([150, 20]), 100, 100)] == [1, 1]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    log = tmp_path_factory.mktemp("simbatch") / "requests.jsonl"
    with SimulatorProcess(log_path=log, batch_turnaround_s=0.5) as proc:
        yield proc


def _llm(sim: SimulatorProcess, provider: str = "openai") -> LLMConfig:
    endpoint = sim.url + ("/v1" if provider == "openai" else "")
    return LLMConfig(provider=provider, endpoint=endpoint, api_key="k",  # type: ignore[arg-type]
                     deployment="gpt-4o-mini", max_concurrency=4)


def test_a_line_carries_the_body_the_real_time_api_is_sent(sim: SimulatorProcess) -> None:
    cfg = _llm(sim)
    extractor = Extractor(cfg)
    sent: list[dict[str, Any]] = []
    post = extractor.api.post

    async def spy(path: str, body: dict[str, Any], estimate: int, *rest: Any) -> Any:
        sent.append(json.loads(json.dumps(body)))
        return await post(path, body, estimate, *rest)

    extractor.api.post = spy  # type: ignore[method-assign]
    document = "Equipment: Infusion Pump; Problem: occlusion alarm; Resolution: replaced tubing"

    async def ask() -> None:
        try:
            await extractor.ask(document)
        finally:
            await extractor.api.aclose()

    asyncio.run(ask())
    line = json.loads(batch_line("key-1", request_body(
        cfg, first_messages(S.SYSTEM_PROMPT, document)), batch_endpoint(cfg)))
    assert line["body"] == sent[0]
    assert (line["custom_id"], line["method"], line["url"]) == (
        "key-1", "POST", "/v1/chat/completions")


def _run_batch(client: openai.OpenAI, url: str, lines: bytes) -> Any:
    uploaded = client.files.create(file=("in.jsonl", lines, "application/jsonl"),
                                   purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint=url,  # type: ignore[arg-type]
                                  completion_window="24h")
    seen = {batch.status}
    deadline = time.monotonic() + 30
    while batch.status not in ("completed", "expired", "failed", "cancelled"):
        assert time.monotonic() < deadline, batch
        time.sleep(0.05)
        batch = client.batches.retrieve(batch.id)
        seen.add(batch.status)
    return batch, seen


def _documents(n: int) -> list[str]:
    return [f"Equipment: Ventilator {i}; Problem: alarm {i} on start; Resolution: sensor "
            f"{i} replaced" for i in range(n)]


@pytest.mark.parametrize("provider", ["openai", "azure_openai"])
def test_the_simulator_answers_a_batch_as_the_client_calls_it(
        sim: SimulatorProcess, provider: str) -> None:
    cfg = _llm(sim, provider)
    client = (openai.AzureOpenAI(azure_endpoint=sim.url, api_key="k",
                                 api_version=cfg.api_version) if provider == "azure_openai"
              else openai.OpenAI(base_url=cfg.endpoint, api_key="k"))
    url = batch_endpoint(cfg)
    docs = _documents(40)
    data = b"".join(batch_line(f"{provider}-{i}", request_body(
        cfg, first_messages(S.SYSTEM_PROMPT, d)), url) for i, d in enumerate(docs))
    sim.configure(batch_line_fail_rate=0.25)
    log_at = len(read_request_log(sim.log_path or Path()))
    try:
        batch, seen = _run_batch(client, url, data)
    finally:
        sim.configure(batch_line_fail_rate=0.0)
    assert batch.status == "completed" and "in_progress" in seen
    output = client.files.content(batch.output_file_id).read()
    errors = client.files.content(batch.error_file_id).read() if batch.error_file_id else b""
    answers = _answers(output)
    failed = _lines_by_key(errors)
    log = read_request_log(sim.log_path or Path())[log_at:]
    by_status = {r["custom_id"]: r["status"] for r in log if r["kind"] == "batch"}
    # every line answered once, in the log; the failed ones in the error file only
    assert sorted(by_status) == sorted(f"{provider}-{i}" for i in range(40))
    assert {a.key for a in answers} == {k for k, s in by_status.items() if s == 200}
    assert set(failed) == {k for k, s in by_status.items() if s != 200} != set()
    assert batch.request_counts.completed == len(answers)
    assert batch.request_counts.failed == len(failed)
    uploads = [r for r in log if r["kind"] == "batch_file"]
    assert [sorted(r["custom_ids"]) for r in uploads] == [sorted(by_status)]
    # the answers are the simulator's real-time ones for the same text
    assert all(json.loads(a.extraction_json) == json.loads(
        S.Extraction.model_validate_json(a.extraction_json).model_dump_json()) for a in answers)


def test_an_expired_batch_answers_half_its_lines(sim: SimulatorProcess) -> None:
    cfg = _llm(sim)
    client = openai.OpenAI(base_url=cfg.endpoint, api_key="k")
    url = batch_endpoint(cfg)
    data = b"".join(batch_line(f"exp-{i}", request_body(
        cfg, first_messages(S.SYSTEM_PROMPT, d)), url) for i, d in enumerate(_documents(10)))
    sim.configure(batch_expire=1)
    try:
        batch, _ = _run_batch(client, url, data)
    finally:
        sim.configure(batch_expire=0)
    assert batch.status == "expired"
    assert len(_answers(client.files.content(batch.output_file_id).read())) == 5
    errors = client.files.content(batch.error_file_id).read()
    assert {json.loads(x)["error"]["code"] for x in errors.splitlines()} == {"batch_expired"}


def test_a_file_with_a_custom_id_twice_is_refused(sim: SimulatorProcess) -> None:
    client = openai.OpenAI(base_url=sim.openai_base_url, api_key="k")
    line = batch_line("same", {"model": "m", "messages": []}, "/v1/chat/completions")
    with pytest.raises(openai.BadRequestError):
        client.files.create(file=("in.jsonl", line * 2, "application/jsonl"), purpose="batch")
