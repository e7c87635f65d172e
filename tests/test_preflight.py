"""Fail fast on systematic errors, against the simulator through the real ``openai`` client:
the preflight catches a misconfigured deployment in one or two requests, the runtime breaker
stops a stage whose deployment starts refusing mid-run, a bad input fails only its record,
and a rejected embedding batch is bisected. Requests are counted by the simulator."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

from backfill import schema as S
from backfill.config import Config, expand_env, parse_config
from backfill.devstack.simulator import DEFAULT_CONFIG, SimulatorProcess
from backfill.devstack.stack import local_template
from backfill.embed import Embedder
from backfill.errors import FatalError
from backfill.extract import Extractor
from backfill.outcomes import MAX_CONSECUTIVE_SAME_BAD_REQUEST
from backfill.preflight import preflight
from backfill.runlock import RunLock

pytestmark = pytest.mark.integration
DEPLOYMENTS = ["gpt-4o-mini", "text-embedding-3-small"]
WINDOW = 4  # llm/embedding.max_concurrency: the requests one actor has in flight


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    log = tmp_path_factory.mktemp("preflight") / "requests.jsonl"
    with SimulatorProcess(log_path=log, deployments=DEPLOYMENTS) as proc:
        yield proc


@pytest.fixture(autouse=True)
def _clean(sim: SimulatorProcess) -> None:
    sim.configure(**{**DEFAULT_CONFIG, "deployments": DEPLOYMENTS})
    sim.reset()


def _config(sim: SimulatorProcess, **sections: dict[str, Any]) -> Config:
    env = {"BACKFILL_FAKESNOW_PORT": "1", "BACKFILL_SIMULATOR_URL": sim.url}
    raw = expand_env(local_template(), env)
    for name in ("llm", "embedding"):
        raw[name] = {**raw[name], "max_concurrency": WINDOW, "max_retries": 1}
    for name, values in sections.items():
        raw[name] = {**raw[name], **values}
    return parse_config(raw)


def _requests(sim: SimulatorProcess) -> int:
    return int(sim.stats()["requests"])


# --------------------------------------------------------------------------- preflight


def test_preflight_passes_against_the_right_deployments(sim: SimulatorProcess) -> None:
    result = preflight(_config(sim))
    assert result.llm_seconds > 0 and result.embedding_seconds > 0
    assert result.llm_answer_tokens > 0
    assert sim.stats()["by_status"] == {"200": 2}


@pytest.mark.parametrize("provider", ["openai", "azure_openai"])
def test_a_wrong_llm_deployment_stops_after_one_request(
    sim: SimulatorProcess, provider: str
) -> None:
    endpoint = sim.url if provider == "azure_openai" else f"{sim.url}/v1"
    cfg = _config(
        sim, llm={"provider": provider, "endpoint": endpoint, "deployment": "gpt-4o-mnii"}
    )
    with pytest.raises(FatalError) as stopped:
        preflight(cfg)
    text = str(stopped.value)
    assert f"LLM deployment 'gpt-4o-mnii' at {endpoint}" in text, text
    assert "404 DeploymentNotFound" in text and "llm.deployment" in text, text
    assert _requests(sim) <= 2
    assert sim.stats()["by_status"] == {"404": 1}


def test_a_wrong_embedding_deployment_names_it(sim: SimulatorProcess) -> None:
    with pytest.raises(FatalError) as stopped:
        preflight(_config(sim, embedding={"deployment": "text-embedding-3-smal"}))
    text = str(stopped.value)
    assert f"embedding deployment 'text-embedding-3-smal' at {sim.url}/v1" in text, text
    assert "embedding.deployment" in text
    assert sim.stats()["by_status"] == {"200": 1, "404": 1}


def test_a_parameter_the_model_refuses_is_named(sim: SimulatorProcess) -> None:
    sim.configure(reject_params=["max_tokens"])
    with pytest.raises(FatalError) as stopped:
        preflight(_config(sim))
    text = str(stopped.value)
    assert "unsupported_parameter (param max_tokens)" in text, text
    assert "'max_tokens' is not supported with this model" in text
    assert "llm.max_output_tokens" in text
    assert _requests(sim) == 1


def test_vectors_of_another_size_name_embedding_dimensions(sim: SimulatorProcess) -> None:
    sim.configure(ignore_dimensions=3072)
    with pytest.raises(FatalError) as stopped:
        preflight(_config(sim))
    text = str(stopped.value)
    assert "3072 dimensions" in text and "embedding.dimensions is 1536" in text, text
    assert _requests(sim) == 2


def test_dimensions_over_the_models_limit_are_named(sim: SimulatorProcess) -> None:
    sim.configure(max_dimensions=1536)
    with pytest.raises(FatalError) as stopped:
        preflight(_config(sim, embedding={"dimensions": 3072}))
    assert "invalid_value (param dimensions)" in str(stopped.value)
    assert "embedding.dimensions" in str(stopped.value)


# --------------------------------------------------------------------------- runtime


def _prepared(docs: list[str]) -> pa.Table:
    """A batch as the prepare stage hands it on: every row ok, with its document."""
    n = len(docs)
    return pa.table(
        {
            S.ID: pa.array([f"WO-{i:05d}" for i in range(n)], pa.string()),
            S.STATUS: pa.array([S.OK] * n, pa.string()),
            S.STAGE: pa.array([None] * n, pa.string()),
            S.ERROR_CLASS: pa.array([None] * n, pa.string()),
            S.ERROR_MESSAGE: pa.array([None] * n, pa.string()),
            S.DOCUMENT: pa.array(docs, pa.string()),
        }
    )


def _docs(n: int) -> list[str]:
    return [f"Work order {i}: replaced the pressure sensor of pump {i}." for i in range(n)]


def _failed(table: pa.Table) -> dict[int, tuple[str, str]]:
    rows = table.select([S.STATUS, S.STAGE, S.ERROR_CLASS]).to_pylist()
    return {
        i: (r[S.STAGE], r[S.ERROR_CLASS]) for i, r in enumerate(rows) if r[S.STATUS] == S.FAILED
    }


def test_a_deployment_that_starts_refusing_stops_the_extract_stage(sim: SimulatorProcess) -> None:
    sim.configure(bad_request_after=3)
    cfg = _config(sim)
    with pytest.raises(FatalError) as stopped:
        asyncio.run(Extractor(cfg.llm)(_prepared(_docs(60))))
    text = str(stopped.value)
    assert f"LLM deployment 'gpt-4o-mini' at {sim.url}/v1" in text, text
    assert "unsupported_parameter (param max_tokens)" in text
    chat = sim.stats()["chat"]
    assert chat <= 3 + MAX_CONSECUTIVE_SAME_BAD_REQUEST + WINDOW, chat


def test_the_same_record_level_400_on_every_record_stops_the_embed_stage(
    sim: SimulatorProcess,
) -> None:
    cfg = _config(sim)
    docs = [f"{d} SIMFAULT:embed" for d in _docs(64)]
    with pytest.raises(FatalError) as stopped:
        asyncio.run(Embedder(cfg.embedding)(_prepared(docs)))
    text = str(stopped.value)
    assert f"{MAX_CONSECUTIVE_SAME_BAD_REQUEST} records in a row" in text, text
    assert "invalid_request_error (param input)" in text
    assert "embedding deployment 'text-embedding-3-small'" in text
    # Bisection one half after the other: the first leaves come after log2(64) splits.
    assert sim.stats()["embeddings"] <= math.log2(64) + 2 * MAX_CONSECUTIVE_SAME_BAD_REQUEST


def test_a_record_level_400_fails_only_its_record(sim: SimulatorProcess) -> None:
    cfg = _config(sim)
    docs = _docs(40)
    docs[7] += " SIMFAULT:content_filter"
    out = asyncio.run(Extractor(cfg.llm)(_prepared(docs)))
    assert _failed(out) == {7: ("extract", "ContentFilter")}
    assert out.column(S.EXTRACTION).null_count == 1


@pytest.mark.parametrize("bad", [0, 137, 255])
def test_a_rejected_embedding_batch_is_bisected(sim: SimulatorProcess, bad: int) -> None:
    cfg = _config(sim, embedding={"batch_size": 256})
    docs = _docs(256)
    docs[bad] += " SIMFAULT:embed"
    out = asyncio.run(Embedder(cfg.embedding)(_prepared(docs)))
    assert _failed(out) == {bad: ("embed", "BadRequest")}
    assert out.column(S.EMBEDDING).null_count == 1
    requests = sim.stats()["embeddings"]
    assert requests <= 1 + 2 * math.log2(256), requests  # 17, not 257
    print(f"bad input at {bad}: {requests} embedding requests for a batch of 256")


def test_an_actor_sends_nothing_once_its_driver_lets_go_of_the_sending_lock(
    sim: SimulatorProcess, pg_dsn: str
) -> None:
    """A driver killed (its connection, and the lock, gone with it) or interrupted (it lets go
    first): the API actors send no new request (backfill.runlock.SendingWatch). Measured
    outside the repository on a loaded box: workers of a SIGKILLed driver sent 95-235 more
    requests before Ray ended them, each paid again by the resumed run."""
    cfg = _config(sim)
    with RunLock(pg_dsn, "public", "watched") as lock:
        extractor = Extractor(cfg.llm, watch=(pg_dsn, lock.key))
        watch = extractor.api.watch
        assert watch is not None and watch.seen.wait(15)

        async def scenario() -> None:  # one event loop: the client is bound to it
            out = await extractor(_prepared(_docs(8)))
            assert _failed(out) == {}
            sent = sim.stats()["chat"]
            assert sent >= 8
            lock.stop_sending()
            assert await asyncio.to_thread(watch.stopped.wait, 15)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(extractor(_prepared(_docs(8))), 3.0)
            assert sim.stats()["chat"] == sent

        asyncio.run(scenario())
