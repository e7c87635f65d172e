"""Errors are converted once, where the client raises them, into our three kinds; and the
breaker tells a deployment that rejects everything from records that are bad."""

from __future__ import annotations

import pickle
from types import SimpleNamespace

import openai
import pytest

from backfill.config import EmbeddingConfig, LLMConfig
from backfill.errors import (
    FatalError,
    RecordError,
    RejectedRequest,
    SystemicError,
    TransientError,
)
from backfill.openai_client import _http, classify
from backfill.outcomes import MAX_CONSECUTIVE_SAME_BAD_REQUEST, MAX_CONSECUTIVE_UNAVAILABLE, Breaker

pytestmark = pytest.mark.unit
ENDPOINT = "https://x.openai.azure.com"
LLM = LLMConfig(endpoint=ENDPOINT, api_key="k", deployment="gpt-4o-mini")
EMB = EmbeddingConfig(endpoint=ENDPOINT, api_key="k", deployment="text-embedding-3-small")
SECRET = "PATIENT JANE ROE 555-0100"  # record text a server might echo


def _api_error(status: int, code: str = "", param: str = "", message: str = "") -> Exception:
    body = {"code": code, "param": param, "message": message, "type": "invalid_request_error"}
    response = _http.Response(status, request=_http.Request("POST", ENDPOINT), json={"error": body})
    kinds = {
        400: openai.BadRequestError,
        401: openai.AuthenticationError,
        403: openai.PermissionDeniedError,
        404: openai.NotFoundError,
        429: openai.RateLimitError,
    }
    kind = kinds.get(status, openai.InternalServerError if status >= 500 else openai.APIStatusError)
    return kind(f"Error code: {status} - {body}", response=response, body=body)


@pytest.mark.parametrize(
    ("status", "code", "param", "keys"),
    [
        (404, "DeploymentNotFound", "", "llm.deployment, llm.endpoint"),
        (401, "401", "", "llm.api_key, llm.endpoint"),
        (403, "403", "", "llm.api_key"),
        (400, "unsupported_parameter", "max_tokens", "llm.max_output_tokens"),
        (400, "unsupported_value", "temperature", "llm.temperature"),
        (400, "invalid_value", "response_format.json_schema", "llm.api_version"),
        (400, "OperationNotSupported", "", "llm.deployment"),
        (400, "BadRequest", "", "llm.api_version"),  # "API version not supported"
    ],
)
def test_a_request_shape_the_deployment_refuses_is_systemic(
    status: int, code: str, param: str, keys: str
) -> None:
    message = "API version not supported" if code == "BadRequest" else "Unsupported parameter"
    err = classify(_api_error(status, code, param, message), "extract", LLM)
    assert isinstance(err, SystemicError) and isinstance(err, FatalError)
    text = str(err)
    assert text.startswith(f"LLM deployment 'gpt-4o-mini' at {ENDPOINT}: HTTP {status} {code}")
    assert keys in text
    if param:
        assert f"(param {param})" in text


def test_dimensions_refused_name_the_embedding_key() -> None:
    err = classify(_api_error(400, "invalid_value", "dimensions"), "embed", EMB)
    assert isinstance(err, SystemicError)
    assert "embedding deployment 'text-embedding-3-small'" in str(err)
    assert "embedding.dimensions" in str(err)


@pytest.mark.parametrize(
    ("code", "param", "error_class"),
    [
        ("content_filter", "prompt", "ContentFilter"),
        ("context_length_exceeded", "messages", "BadRequest"),
        ("invalid_request_error", "input", "BadRequest"),
    ],
)
def test_a_400_that_depends_on_the_input_is_the_records(
    code: str, param: str, error_class: str
) -> None:
    err = classify(_api_error(400, code, param, f"Invalid input: {SECRET!r}"), "embed", EMB)
    assert isinstance(err, RejectedRequest) and isinstance(err, RecordError)
    assert (err.stage, err.error_class, err.code, err.param) == ("embed", error_class, code, param)
    assert SECRET not in err.message  # classes and codes, never the record's text


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_faults_are_transient(status: int) -> None:
    err = classify(_api_error(status, "x", "", SECRET), "extract", LLM)
    assert isinstance(err, TransientError) and SECRET not in str(err)


@pytest.mark.parametrize(
    "exc",
    [
        SystemicError("HTTP 404 DeploymentNotFound", "LLM deployment 'x' at y", "backfill run"),
        RejectedRequest("embed", "BadRequest", "HTTP 400 x (param input)", "x", "input"),
    ],
)
def test_new_errors_survive_pickling(exc: Exception) -> None:
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc) and str(back) == str(exc)
    assert vars(back) == vars(exc)


def _breaker() -> Breaker:
    api = SimpleNamespace(cfg=LLM, stage="extract", name=f"LLM deployment 'm' at {ENDPOINT}")
    return Breaker(api)  # type: ignore[arg-type]


def _rejected(code: str = "invalid_request_error", param: str = "messages") -> RejectedRequest:
    return RejectedRequest("extract", "BadRequest", f"HTTP 400 {code} (param {param})", code, param)


def test_breaker_trips_on_the_same_400_for_n_different_records() -> None:
    breaker = _breaker()
    n = MAX_CONSECUTIVE_SAME_BAD_REQUEST
    for i in range(n - 1):
        breaker.failed(_rejected(), f"record {i}")
    with pytest.raises(SystemicError) as stopped:
        breaker.failed(_rejected(), "record last")
    text = str(stopped.value)
    assert f"LLM deployment 'm' at {ENDPOINT}" in text
    assert f"{n} records in a row" in text and "invalid_request_error (param messages)" in text


def test_breaker_does_not_trip_on_the_same_record_nor_on_mixed_or_interrupted_streaks() -> None:
    breaker = _breaker()
    for _ in range(3 * MAX_CONSECUTIVE_SAME_BAD_REQUEST):
        breaker.failed(_rejected(), "the same record, retried")
    for i in range(3 * MAX_CONSECUTIVE_SAME_BAD_REQUEST):
        breaker.failed(_rejected(param="messages" if i % 2 else "input"), f"record {i}")
    for i in range(3 * MAX_CONSECUTIVE_SAME_BAD_REQUEST):
        breaker.failed(_rejected(), f"record {i}")
        if i % (MAX_CONSECUTIVE_SAME_BAD_REQUEST - 1) == 0:
            breaker.passed()


def test_breaker_trips_on_a_streak_of_transient_failures() -> None:
    breaker = _breaker()
    for _ in range(MAX_CONSECUTIVE_UNAVAILABLE - 1):
        breaker.failed(TransientError("InternalServerError 500"))
    with pytest.raises(SystemicError, match=f"{MAX_CONSECUTIVE_UNAVAILABLE} requests in a row"):
        breaker.failed(TransientError("InternalServerError 500"))
