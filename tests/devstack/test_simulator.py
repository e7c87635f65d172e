"""The OpenAI-compatible simulator, exercised with the real ``openai`` client."""

from __future__ import annotations

import asyncio
import base64
import enum
import json
import time
from typing import Literal

import numpy as np
import openai
import pydantic
import pytest
from openai import AsyncOpenAI, AzureOpenAI, OpenAI
from openai.lib._parsing._completions import type_to_response_format_param
from pydantic import BaseModel, Field

from backfill.devstack.simulator import (
    DEFAULT_CONFIG,
    REFUSAL_TEXT,
    SimulatorProcess,
    read_request_log,
)

pytestmark = pytest.mark.integration

API_VERSION = "2024-10-21"


class Severity(enum.StrEnum):
    low = "low"
    high = "high"
    very_high = "very_high"


class Part(BaseModel):
    name: str
    quantity: int = Field(ge=1, le=5)


class Location(BaseModel):
    building: str
    room: str | None


class Extraction(BaseModel):
    summary: str
    severity: Severity
    category: Literal["repair", "preventive_maintenance", "calibration"]
    failure_code: str | None
    parts: list[Part]
    location: Location
    confidence: float = Field(ge=0, le=1)
    patient_impact: bool


USER_TEXT = (
    "Infusion pump in ward 7 alarmed during use; severity very high. "
    "Technician performed calibration and replaced the battery pack."
)


def _messages(user: str = USER_TEXT) -> list[dict]:
    return [
        {"role": "system", "content": "Extract the work order fields as JSON."},
        {"role": "user", "content": user},
    ]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    log = tmp_path_factory.mktemp("sim") / "requests.jsonl"
    with SimulatorProcess(port=0, log_path=log, seed=7) as proc:
        yield proc


@pytest.fixture(autouse=True)
def _clean(sim):
    sim.configure(**DEFAULT_CONFIG)
    sim.reset()
    yield


@pytest.fixture
def client(sim):
    with OpenAI(base_url=sim.openai_base_url, api_key="x", max_retries=0, timeout=20) as c:
        yield c


@pytest.fixture
def azure(sim):
    with AzureOpenAI(
        azure_endpoint=sim.url, api_version=API_VERSION, api_key="x", max_retries=0, timeout=20
    ) as c:
        yield c


def _new_log_lines(sim: SimulatorProcess, before: int) -> list[dict]:
    return read_request_log(sim.log_path)[before:]


# --------------------------------------------------------------------------- chat


def test_parse_structured_output(client):
    completion = client.chat.completions.parse(
        model="gpt-4o-mini", messages=_messages(), response_format=Extraction
    )
    msg = completion.choices[0].message
    assert completion.choices[0].finish_reason == "stop"
    assert msg.refusal is None
    parsed = msg.parsed
    assert isinstance(parsed, Extraction)
    # enum / literal values mentioned in the text are picked
    assert parsed.severity is Severity.very_high
    assert parsed.category == "calibration"
    assert 0 <= parsed.confidence <= 1
    assert isinstance(parsed.patient_impact, bool)
    assert 0 <= len(parsed.parts) <= 3
    assert all(1 <= p.quantity <= 5 for p in parsed.parts)
    assert isinstance(parsed.location, Location)
    # strings are snippets of the user text
    words = set(USER_TEXT.replace(";", " ").replace(".", " ").split())
    assert set(parsed.summary.split()) <= words
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )

    again = client.chat.completions.parse(
        model="gpt-4o-mini", messages=_messages(), response_format=Extraction
    )
    assert again.choices[0].message.parsed == parsed
    other = client.chat.completions.parse(
        model="gpt-4o-mini",
        messages=_messages("Replace the filter; low priority."),
        response_format=Extraction,
    )
    assert other.choices[0].message.parsed.severity is Severity.low


def test_generic_schema_walker_validates(client):
    jsonschema = pytest.importorskip("jsonschema")
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["node", "kind", "when", "day", "id", "score", "tags", "fixed", "pair"],
        "properties": {
            "node": {"$ref": "#/$defs/Node"},
            "kind": {"const": "wo"},
            "when": {"type": "string", "format": "date-time"},
            "day": {"type": "string", "format": "date"},
            "id": {"type": "string", "format": "uuid"},
            "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.5},
            "tags": {
                "type": "array",
                "items": {"type": "string", "maxLength": 3},
                "minItems": 2,
                "maxItems": 2,
            },
            "fixed": {"type": ["integer", "null"], "minimum": 10, "maximum": 12},
            "pair": {"allOf": [{"$ref": "#/$defs/Pair"}]},
        },
        "$defs": {
            "Node": {
                "type": "object",
                "additionalProperties": False,
                "required": ["label", "children", "parent"],
                "properties": {
                    "label": {"type": "string", "minLength": 2},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                    "parent": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                },
            },
            "Pair": {
                "type": "object",
                "additionalProperties": False,
                "required": ["a", "b"],
                "properties": {"a": {"type": "integer"}, "b": {"type": "boolean"}},
            },
        },
    }
    rf = {"type": "json_schema", "json_schema": {"name": "T", "strict": True, "schema": schema}}
    for text in ("x", "one two three four five six", USER_TEXT):
        out = client.chat.completions.create(
            model="m", messages=_messages(text), response_format=rf
        )
        jsonschema.validate(json.loads(out.choices[0].message.content), schema)

    # the pydantic-made strict schema validates too
    rf = type_to_response_format_param(Extraction)
    out = client.chat.completions.create(model="m", messages=_messages(), response_format=rf)
    jsonschema.validate(json.loads(out.choices[0].message.content), rf["json_schema"]["schema"])


def test_plain_text_chat(client):
    out = client.chat.completions.create(model="m", messages=_messages("hello there"))
    content = out.choices[0].message.content
    assert "hello there" in content
    assert out.object == "chat.completion"


# --------------------------------------------------------------------------- azure


def test_azure_client_chat_and_embeddings(sim, azure):
    before = len(read_request_log(sim.log_path))
    completion = azure.chat.completions.parse(
        model="extract-deployment", messages=_messages(), response_format=Extraction
    )
    assert isinstance(completion.choices[0].message.parsed, Extraction)

    emb = azure.embeddings.create(model="embed-deployment", input=["alpha", "beta"])
    assert [d.index for d in emb.data] == [0, 1]
    assert len(emb.data[0].embedding) == 1536

    lines = _new_log_lines(sim, before)
    assert [(x["kind"], x["model"], x["status"]) for x in lines] == [
        ("chat", "extract-deployment", 200),
        ("embeddings", "embed-deployment", 200),
    ]
    stats = sim.stats()
    assert stats["chat"] == 1 and stats["embeddings"] == 1 and stats["embedding_inputs"] == 2


def test_azure_v1_path(sim):
    with OpenAI(base_url=sim.url + "/openai/v1", api_key="x", max_retries=0) as c:
        out = c.embeddings.create(model="embed", input="gamma", dimensions=8)
    assert len(out.data[0].embedding) == 8


# --------------------------------------------------------------------------- embeddings


def test_embeddings_deterministic_and_normalised(client):
    texts = ["pump alarm", "battery replaced", "calibration done"]
    batch = client.embeddings.create(model="emb", input=texts, dimensions=256)
    assert [d.index for d in batch.data] == [0, 1, 2]
    vectors = np.array([d.embedding for d in batch.data], dtype=np.float64)
    assert vectors.shape == (3, 256)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])
    assert batch.usage.prompt_tokens > 0

    # same text, same vector: single requests, either encoding, reproduce the batch
    for i, text in enumerate(texts):
        single = client.embeddings.create(model="emb", input=text, dimensions=256)
        assert np.array_equal(np.asarray(single.data[0].embedding), vectors[i])
    as_float = client.embeddings.create(
        model="emb", input=texts[1], dimensions=256, encoding_format="float"
    )
    assert np.array_equal(np.asarray(as_float.data[0].embedding), vectors[1])
    as_b64 = client.embeddings.create(
        model="emb", input=texts[2], dimensions=256, encoding_format="base64"
    )
    raw = np.frombuffer(base64.b64decode(as_b64.data[0].embedding), dtype="<f4")
    assert np.array_equal(raw.astype(np.float64), vectors[2])

    default_dim = client.embeddings.create(model="emb", input="x")
    assert len(default_dim.data[0].embedding) == 1536


def test_embeddings_are_a_bag_of_words(client):
    """Texts sharing words are near, whatever their order; texts sharing none are not."""
    texts = ["infusion pump occlusion alarm", "Occlusion alarm on the infusion pump, twice",
             "defibrillator battery replaced", "alarm occlusion PUMP infusion", "12345"]
    out = client.embeddings.create(model="emb", input=texts, dimensions=1536)
    v = np.array([d.embedding for d in out.data], dtype=np.float64)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > 0.6  # four words of six shared
    assert abs(v[0] @ v[2]) < 0.2  # none shared
    np.testing.assert_allclose(v[0], v[3], atol=1e-6)  # a bag: order and case do not count
    assert abs(v[0] @ v[4]) < 0.2  # no word at all: a vector drawn from the text's hash


def test_embeddings_token_input(client):
    out = client.embeddings.create(model="emb", input=[[1, 2, 3], [4, 5]], dimensions=4)
    assert len(out.data) == 2


# --------------------------------------------------------------------------- rate limits


def test_rpm_limit_returns_429_with_retry_after(sim, client):
    # 12 per minute holds a burst of 2: like Azure, the quota is enforced per 10 s.
    sim.configure(rpm=12)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=_messages()
    )
    assert raw.headers["x-ratelimit-limit-requests"] == "12"
    assert raw.headers["x-ratelimit-remaining-requests"] == "1"
    client.chat.completions.create(model="gpt-4o-mini", messages=_messages())

    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=_messages())
    assert time.monotonic() - started < 5
    err = info.value
    assert err.status_code == 429
    assert err.code == "429"
    assert int(err.response.headers["retry-after"]) >= 1
    assert int(err.response.headers["retry-after-ms"]) >= 1
    assert err.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert "Please retry after" in err.message

    # the limit is per deployment: another model is unaffected
    client.chat.completions.create(model="other-deployment", messages=_messages())
    assert sim.stats()["by_status"] == {"200": 3, "429": 1}


def test_tpm_limit(sim, client):
    sim.configure(tpm=60)
    long_text = "word " * 40  # ~50 prompt tokens
    client.embeddings.create(model="emb", input=long_text)
    with pytest.raises(openai.RateLimitError) as info:
        client.embeddings.create(model="emb", input=long_text)
    headers = info.value.response.headers
    assert headers["x-ratelimit-limit-tokens"] == "60"
    assert int(headers["retry-after"]) >= 1
    assert "token rate limit" in info.value.message


def test_admission_charges_prompt_plus_max_tokens_without_refund(sim, client):
    # Azure's admission over windows of 600 s: 20 TPM is 200 tokens a window.
    sim.configure(tpm=20, admission_window_s=600)
    first = client.chat.completions.create(
        model="gpt-4o-mini", messages=_messages(), max_tokens=120
    )
    used = first.usage.prompt_tokens + first.usage.completion_tokens
    assert used < 100  # what the answer used would leave room for a second request ...
    with pytest.raises(openai.RateLimitError) as info:  # ... prompt + max_tokens does not
        client.chat.completions.create(model="gpt-4o-mini", messages=_messages(), max_tokens=120)
    assert 0 < int(info.value.response.headers["retry-after-ms"]) <= 600_000
    stats = sim.stats()
    assert stats["admitted_tokens"] == first.usage.prompt_tokens + 120
    assert stats["by_model"]["gpt-4o-mini"]["admitted_tokens"] == first.usage.prompt_tokens + 120
    # a request without max_tokens is charged the configured default
    sim.configure(default_max_tokens=7)
    sim.reset()
    client.embeddings.create(model="emb", input="x")  # another deployment, its own quota
    out = client.chat.completions.create(model="gpt-4o-mini", messages=_messages())
    assert sim.stats()["by_model"]["gpt-4o-mini"]["admitted_tokens"] == (
        out.usage.prompt_tokens + 7)


def test_admission_window_holds_rpm_over_60_share(sim, client):
    sim.configure(rpm=1, admission_window_s=600)  # 10 requests in a window of 600 s
    for _ in range(10):
        client.chat.completions.create(model="gpt-4o-mini", messages=_messages(), max_tokens=50)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=_messages(), max_tokens=50)
    assert "call rate limit" in info.value.message
    assert sim.stats()["by_status"] == {"200": 10, "429": 1}


def test_answer_cut_at_max_tokens_says_length(client):
    out = client.chat.completions.create(model="m", messages=_messages(), max_tokens=5)
    assert out.choices[0].finish_reason == "length"
    assert out.usage.completion_tokens == 5
    whole = client.chat.completions.create(model="m", messages=_messages(), max_tokens=800)
    assert whole.choices[0].finish_reason == "stop"
    assert whole.usage.completion_tokens > 5


# --------------------------------------------------------------------------- faults


def test_fault_refusal(client):
    out = client.chat.completions.parse(
        model="m", messages=_messages("SIMFAULT:refusal " + USER_TEXT), response_format=Extraction
    )
    msg = out.choices[0].message
    assert msg.content is None
    assert msg.refusal == REFUSAL_TEXT
    assert msg.parsed is None


def test_fault_malformed(client):
    rf = type_to_response_format_param(Extraction)
    out = client.chat.completions.create(
        model="m", messages=_messages("SIMFAULT:malformed"), response_format=rf
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(out.choices[0].message.content)
    with pytest.raises(pydantic.ValidationError):
        client.chat.completions.parse(
            model="m", messages=_messages("SIMFAULT:malformed"), response_format=Extraction
        )


def test_fault_content_filter(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="m", messages=_messages("SIMFAULT:content_filter"))
    err = info.value
    assert err.status_code == 400
    assert err.code == "content_filter"
    assert err.param == "prompt"
    assert err.body["innererror"]["code"] == "ResponsibleAIPolicyViolation"


def test_fault_500(sim, client):
    for _ in range(2):  # always 500, never alternating with 503
        with pytest.raises(openai.InternalServerError) as info:
            client.chat.completions.create(model="m", messages=_messages("SIMFAULT:500"))
        assert info.value.status_code == 500


def test_fault_schema_violation(client):
    rf = type_to_response_format_param(Extraction)
    out = client.chat.completions.create(
        model="m", messages=_messages("SIMFAULT:schema " + USER_TEXT), response_format=rf
    )
    data = json.loads(out.choices[0].message.content)  # valid JSON ...
    assert "summary" not in data  # ... without its first required property
    with pytest.raises(pydantic.ValidationError):
        Extraction.model_validate(data)


def test_fault_embedding_400(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model="emb", input=["fine", "bad SIMFAULT:embed text"])
    assert info.value.code == "invalid_request_error"


def test_unknown_deployment_is_azures_404(sim, client, azure):
    sim.configure(deployments=["gpt-4o-mini", "emb"])
    assert client.chat.completions.create(model="gpt-4o-mini", messages=_messages()).choices
    for call in (
        lambda: client.chat.completions.create(model="gpt-4o", messages=_messages()),
        lambda: azure.chat.completions.create(model="gpt-4o", messages=_messages()),
        lambda: client.embeddings.create(model="nope", input=["x"]),
        lambda: azure.embeddings.create(model="nope", input=["x"]),
    ):
        with pytest.raises(openai.NotFoundError) as info:
            call()
        assert info.value.code == "DeploymentNotFound"
    assert azure.embeddings.create(model="emb", input=["x"], dimensions=4).data
    assert sim.stats()["by_status"] == {"200": 2, "404": 4}


def test_rejected_parameters_are_azures_400(sim, client):
    sim.configure(reject_params=["max_tokens"])
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="m", messages=_messages(), max_tokens=100)
    err = info.value
    assert (err.code, err.param, err.type) == (
        "unsupported_parameter",
        "max_tokens",
        "invalid_request_error",
    )
    assert "max_completion_tokens" in err.body["message"]
    assert client.chat.completions.create(
        model="m", messages=_messages(), max_completion_tokens=100
    ).choices
    assert [x["status"] for x in _new_log_lines(sim, 0)[-2:]] == [400, 200]


def test_bad_request_after_n_successes(sim, client):
    sim.configure(bad_request_after=2)
    for _ in range(2):
        client.chat.completions.create(model="m", messages=_messages())
    for _ in range(2):
        with pytest.raises(openai.BadRequestError) as info:
            client.chat.completions.create(model="m", messages=_messages())
        assert info.value.code == "unsupported_parameter"
    assert sim.stats()["by_status"] == {"200": 2, "400": 2}


def test_dimensions_limit_and_a_deployment_ignoring_them(sim, client):
    sim.configure(max_dimensions=1536)
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model="emb", input=["x"], dimensions=3072)
    assert (info.value.code, info.value.param) == ("invalid_value", "dimensions")
    sim.configure(max_dimensions=0, ignore_dimensions=3072)
    out = client.embeddings.create(model="emb", input=["x"], dimensions=1536)
    assert len(out.data[0].embedding) == 3072


def test_list_options_from_the_command_line(tmp_path):
    with SimulatorProcess(deployments=["a", "b"], reject_params=["max_tokens"]) as proc:
        config = proc.configure()
    assert config["deployments"] == ["a", "b"]
    assert config["reject_params"] == ["max_tokens"]


def test_random_faults_are_seeded(sim, client):
    def run() -> list[str]:
        outcome = []
        for i in range(12):
            try:
                client.chat.completions.create(model="m", messages=_messages(f"record {i}"))
                outcome.append("ok")
            except openai.APIStatusError as exc:
                outcome.append(str(exc.status_code))
        return outcome

    sim.configure(fail_rate=0.5)
    first = run()
    assert {"ok", "500", "503"} <= set(first)
    sim.reset()  # reseeds the fault RNG
    assert run() == first

    sim.configure(fail_rate=0.0, refusal_rate=1.0)
    out = client.chat.completions.create(model="m", messages=_messages())
    assert out.choices[0].message.refusal == REFUSAL_TEXT

    sim.configure(refusal_rate=0.0, content_filter_rate=1.0)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="m", messages=_messages())


def test_latency_is_non_blocking(sim):
    sim.configure(latency_ms=300)

    async def burst() -> float:
        async with AsyncOpenAI(base_url=sim.openai_base_url, api_key="x", max_retries=0) as c:
            started = time.monotonic()
            await asyncio.gather(
                *(c.embeddings.create(model="emb", input=f"t{i}", dimensions=4) for i in range(50))
            )
            return time.monotonic() - started

    elapsed = asyncio.run(burst())
    assert 0.3 <= elapsed < 3.0  # 50 requests overlap instead of taking 15 s


def test_config_validation(sim):
    with pytest.raises(RuntimeError, match="unknown config key"):
        sim.configure(bogus=1)
    with pytest.raises(RuntimeError, match=r"within \[0, 1\]"):
        sim.configure(fail_rate=2)
    assert sim.configure(latency_ms=5)["latency_ms"] == 5
    with pytest.raises(RuntimeError, match="list of strings"):
        sim.configure(deployments=[1])
    with pytest.raises(RuntimeError, match="integer"):
        sim.configure(bad_request_after=1.5)


# --------------------------------------------------------------------------- request log


def test_request_log_has_one_line_per_request(sim, client):
    before = len(read_request_log(sim.log_path))
    client.chat.completions.create(model="m", messages=_messages("Record A"))
    client.chat.completions.create(model="m", messages=_messages("Record A"))
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=_messages("SIMFAULT:500"))
    client.embeddings.create(model="emb", input=["e1", "e2"], dimensions=4)

    lines = _new_log_lines(sim, before)
    assert len(lines) == 4
    assert [x["status"] for x in lines] == [200, 200, 500, 200]
    assert lines[0]["texts"] == ["Extract the work order fields as JSON.", "Record A"]
    assert lines[3] == {**lines[3], "kind": "embeddings", "texts": ["e1", "e2"]}
    assert all(isinstance(x["ts"], float) for x in lines)
    repeated = sum(1 for x in lines if "Record A" in x["texts"])
    assert repeated == 2


@pytest.mark.unit
def test_lognormal_latency_has_the_configured_median_and_tail():
    from backfill.devstack.simulator import SimConfig, Simulator

    sim = Simulator(SimConfig(latency_ms=1000, latency_sigma=0.4))
    samples = sorted(sim._latency("chat") for _ in range(4000))
    assert samples[2000] == pytest.approx(1.0, rel=0.05)
    # 95th percentile of a lognormal: median x exp(1.645 sigma) = 1.93 s
    assert samples[3800] == pytest.approx(1.93, rel=0.08)


@pytest.mark.unit
def test_embeddings_answer_after_their_own_latency_when_it_is_set():
    from backfill.devstack.simulator import SimConfig, Simulator

    sim = Simulator(SimConfig(latency_ms=20, embedding_latency_ms=400))
    assert (sim._latency("chat"), sim._latency("embeddings")) == (0.02, 0.4)
    sim = Simulator(SimConfig(latency_ms=20))
    assert sim._latency("embeddings") == 0.02
