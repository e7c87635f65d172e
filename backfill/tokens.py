"""Token counts before a call, with tiktoken, for the quota (corrected from ``usage`` after).

tiktoken downloads its encodings from openaipublic.blob.core.windows.net on first use, which
a hospital network or an air-gapped worker may not reach. The two encodings the Azure models
use ship inside this package under the file names tiktoken's own cache uses (the SHA-1 of
the download URL), and tiktoken checks them against the SHA-256 it expects; a machine that
can download them is never asked to.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

VENDORED_DIR = Path(__file__).parent / "tokenizers"
ENCODINGS = ("o200k_base", "cl100k_base")
# Characters per token when no encoding is used (English maintenance text: ~3.8).
CHARS_PER_TOKEN = 4
# Per message overhead of the chat format (role, separators), as OpenAI's cookbook counts it.
MESSAGE_OVERHEAD_TOKENS = 4

_env_lock = threading.Lock()


class Counter(Protocol):
    name: str

    def count(self, text: str) -> int: ...


class CharCounter:
    """About four characters per token: the fallback when no encoding is configured."""

    name = "chars"

    def count(self, text: str) -> int:
        return len(text) // CHARS_PER_TOKEN + 1


class TiktokenCounter:
    def __init__(self, encoding_name: str) -> None:
        self.name = encoding_name
        self.encoding = _load_encoding(encoding_name)

    def count(self, text: str) -> int:
        # encode_ordinary: work-order text that happens to contain "<|endoftext|>" is text.
        return len(self.encoding.encode_ordinary(text))


def _load_encoding(name: str):  # type: ignore[no-untyped-def]
    import tiktoken

    # TIKTOKEN_CACHE_DIR is tiktoken's documented way to run offline; pointing it at the
    # vendored files for the duration of the load only keeps the caller's setting intact.
    with _env_lock:
        saved = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(VENDORED_DIR)
        try:
            return tiktoken.get_encoding(name)
        finally:
            if saved is None:
                os.environ.pop("TIKTOKEN_CACHE_DIR", None)
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = saved


def encoding_for(deployment: str, tokenizer: str | None, default: str) -> str:
    """The encoding to count with: the configured one, else the one tiktoken knows for the
    model name (Azure deployment names are often the model's), else ``default``."""
    if tokenizer:
        return tokenizer
    import tiktoken

    try:
        name = tiktoken.encoding_name_for_model(deployment)
    except KeyError:
        return default
    return name if name in ENCODINGS else default


@lru_cache(maxsize=4)
def counter(name: str) -> Counter:
    """One counter per encoding per process (loading one takes ~0.2 s)."""
    if name == "chars":
        return CharCounter()
    try:
        return TiktokenCounter(name)
    except Exception as exc:  # noqa: BLE001 - a broken tokenizer must not stop the job
        log.warning("tiktoken encoding %s unavailable (%s); counting chars/4", name, exc)
        return CharCounter()


def count_tokens(texts: list[str], name: str) -> int:
    """Tokens of ``texts`` sent as messages or embedding inputs under encoding ``name``."""
    c = counter(name)
    return sum(c.count(t) for t in texts) + MESSAGE_OVERHEAD_TOKENS * len(texts)
