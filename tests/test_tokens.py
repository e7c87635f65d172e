"""Token counts for the quota: tiktoken with the encodings vendored in the package."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from backfill import tokens
from backfill.config import EmbeddingConfig, LLMConfig

pytestmark = pytest.mark.unit


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach openaipublic.blob.core.windows.net fails, as on an air-gapped node."""

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    tokens.counter.cache_clear()


@pytest.mark.parametrize(
    ("encoding", "text", "expected"),
    [
        # token ids are the published ones of each encoding
        ("o200k_base", "hello world", [24912, 2375]),
        ("cl100k_base", "hello world", [15339, 1917]),
    ],
)
def test_vendored_encodings_load_offline(
    no_network: None, encoding: str, text: str, expected: list[int]
) -> None:
    counter = tokens.counter(encoding)
    assert isinstance(counter, tokens.TiktokenCounter), "fell back to chars/4"
    assert counter.encoding.encode_ordinary(text) == expected


def test_loading_keeps_the_callers_tiktoken_cache_dir(
    no_network: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert isinstance(tokens.counter("cl100k_base"), tokens.TiktokenCounter)
    import os

    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(tmp_path)


def test_special_token_text_is_counted_as_text(no_network: None) -> None:
    # A ticket quoting "<|endoftext|>" must not make tiktoken raise mid-run.
    assert tokens.count_tokens(["see <|endoftext|> in the log"], "o200k_base") > 5


def test_encoding_follows_the_model_name_else_the_stage_default() -> None:
    key = {"api_key": "k", "endpoint": "https://x.openai.azure.com"}
    assert LLMConfig(deployment="gpt-4o-mini", **key).encoding() == "o200k_base"
    assert LLMConfig(deployment="gpt-4", **key).encoding() == "cl100k_base"
    assert LLMConfig(deployment="prod-extractor-eu", **key).encoding() == "o200k_base"
    assert EmbeddingConfig(deployment="emb-prod", **key).encoding() == "cl100k_base"
    assert LLMConfig(deployment="gpt-4o", tokenizer="chars", **key).encoding() == "chars"


def test_counts_are_close_to_real_tokens_where_chars_over_four_is_not() -> None:
    # Non-Latin text: chars/4 undercounts several times over, tiktoken does not.
    text = "患者のモニターが再起動を繰り返す。電源ユニットを交換した。" * 20
    real = len(tokens.counter("o200k_base").encoding.encode_ordinary(text))  # type: ignore[attr-defined]
    assert tokens.count_tokens([text], "o200k_base") == real + tokens.MESSAGE_OVERHEAD_TOKENS
    assert tokens.count_tokens([text], "chars") < real / 1.5
