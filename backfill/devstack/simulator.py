"""OpenAI / Azure OpenAI compatible simulator for tests, benchmarks and the demo.

A small ``aiohttp.web`` server that answers chat completions (including strict
``json_schema`` structured outputs) and embeddings deterministically, and injects
the faults a real Azure OpenAI deployment produces: latency (fixed, jittered or lognormal),
429 rate limiting (per deployment, with ``retry-after``; token buckets of the tokens used, or
Azure's admission: prompt + ``max_tokens`` charged over 1 s or 10 s windows), 500/503,
malformed JSON, refusals and content-filter 400s; and the errors of a misconfigured deployment: 404
``DeploymentNotFound`` for an unknown deployment, 400 ``unsupported_parameter`` for a body
parameter the model refuses (also from the Nth request on, as a deployment changed mid-run),
400 ``invalid_value`` for too many ``dimensions``, or vectors of the wrong size. Its
embeddings are a hashed bag of words: texts that share words are near (lexical, not semantic).

Run it::

    python -m backfill.devstack.simulator --host 127.0.0.1 --port 0 --rpm 600 --log sim.jsonl

It prints one line ``READY http://HOST:PORT`` on stdout when it accepts requests.

Routes
    ``POST /v1/chat/completions``, ``POST /v1/embeddings``                  (OpenAI)
    ``POST /openai/deployments/{deployment}/chat/completions|embeddings``  (Azure)
    ``POST /openai/v1/chat/completions|embeddings``                         (Azure "v1")
    ``POST /v1/files``, ``GET /v1/files/{id}[/content]``, ``POST /v1/batches``,
    ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``; the same under ``/openai``
    and ``/openai/v1`` (Azure)                          (Batch API: devstack/sim_batches.py)
    ``GET /_sim/stats``, ``GET|POST /_sim/config``, ``POST /_sim/reset``      (admin)

Deterministic fault triggers (independent of the configured rates): a user message
containing ``SIMFAULT:refusal``, ``SIMFAULT:malformed``, ``SIMFAULT:content_filter``,
``SIMFAULT:500`` or ``SIMFAULT:schema``; an embedding input containing ``SIMFAULT:embed``.

Answers that are valid but bad, for the grounding checks and ``backfill eval``:
``ungrounded_rate`` (a part, failure mode and root cause the text does not name),
``wrong_rate`` (other enum values), and a system prompt without the phrases of
``PROMPT_RULES`` (paraphrased parts, a vaguer failure mode). Which answers, by a hash of the
user text; the request log holds each 200 answer (``answer``) and what was spoiled on
purpose (``faults``), the stats count them (``ungrounded``, ``wrong``).

Tests and the demo use :class:`SimulatorProcess` (stdlib only) to run it as a subprocess.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import functools
import hashlib
import itertools
import json
import math
import os
import queue
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

__all__ = [
    "CONFIG_FIELDS",
    "DEFAULT_CONFIG",
    "REFUSAL_TEXT",
    "SimConfig",
    "Simulator",
    "SimulatorProcess",
    "create_app",
    "main",
    "read_request_log",
]

REFUSAL_TEXT = "I'm sorry, I can't help with that."
DEFAULT_EMBEDDING_DIMENSIONS = 1536
MAX_EMBEDDING_INPUTS = 2048
MAX_EMBEDDING_INPUT_TOKENS = 8192
MAX_EMBEDDING_DIMENSIONS = 8192
_READY_PREFIX = "READY "


# --------------------------------------------------------------------------- config


@dataclasses.dataclass
class SimConfig:
    """Live-changeable behaviour of the simulator (``POST /_sim/config``)."""

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    # Spread of a lognormal answer time around latency_ms (its median), as real answers
    # have a long tail: 0 = off; 0.4 with 1,800 ms gives 5% under 0.9 s and 5% over 3.5 s.
    latency_sigma: float = 0.0
    # Embeddings' answer time (shaped like the chat's), when > 0; 0 = latency_ms. The kill
    # tests slow the embeddings so that answered records wait for them, journaled and not
    # yet committed, whatever the box's speed (what the answer journal is there for).
    embedding_latency_ms: float = 0.0
    rpm: int = 0  # requests per minute per deployment, 0 = unlimited
    tpm: int = 0  # tokens per minute per deployment, 0 = unlimited
    # Azure's admission: 0 = token buckets charged the tokens actually used (the default).
    # > 0 = every request is charged its prompt tokens plus its max_tokens when admitted
    # (nothing refunded), against rpm and tpm prorated to fixed windows of this many
    # seconds (Azure evaluates 1 s and 10 s windows): over, it is a 429 until the window ends.
    admission_window_s: float = 0.0
    # Charged in place of max_tokens for a chat request without one (admission mode).
    default_max_tokens: int = 4096
    fail_rate: float = 0.0  # 500/503, chat and embeddings
    # Share of chat requests answered 429 whatever the quota, as Azure does when the
    # deployment's capacity is short ("server busy"): 429s at any speed of the client.
    throttle_rate: float = 0.0
    malformed_rate: float = 0.0  # chat only
    refusal_rate: float = 0.0  # chat only
    content_filter_rate: float = 0.0  # chat only
    # Answers of the job's extraction schema that name what the text does not: a part, a
    # failure mode and a root cause not in it (logged as faults "ungrounded:<field>").
    ungrounded_rate: float = 0.0
    # Answers whose enum fields hold another value than the simulator would answer
    # (logged as faults "wrong:<field>").
    wrong_rate: float = 0.0
    # Known deployment (model) names; another name gets Azure's 404. Empty: accept any.
    deployments: list[str] = dataclasses.field(default_factory=list)
    # Body parameters chat requests may not carry (400 unsupported_parameter), as a
    # reasoning model refuses max_tokens and an old API version response_format.
    reject_params: list[str] = dataclasses.field(default_factory=list)
    max_dimensions: int = 0  # embeddings: larger 'dimensions' get a 400; 0 = off
    ignore_dimensions: int = 0  # embeddings: vectors of this size whatever was asked; 0 = off
    # Microsoft Entra ID: when set, only these bearer tokens are accepted and an api-key
    # header gets Azure's 401 "Key based authentication is disabled" (local auth disabled).
    bearer_tokens: list[str] = dataclasses.field(default_factory=list)
    # After this many successful chat requests every chat request gets a 400
    # unsupported_parameter (a deployment changed mid-run); 0 = off.
    bad_request_after: int = 0
    # Batch API (/files, /batches; devstack/sim_batches.py): seconds from a batch's
    # creation to its end (validating, in_progress, finalizing over that time), the share
    # of its lines answered with an error (a fresh draw per line: a line resubmitted may
    # pass), and 1 to let the batches created from then on end as expired, half their lines
    # unanswered.
    batch_turnaround_s: float = 2.0
    batch_line_fail_rate: float = 0.0
    batch_expire: int = 0

    def update(self, values: dict[str, Any]) -> None:
        """Validate and apply ``values``; raises ``ValueError`` without changing anything."""
        clean: dict[str, Any] = {}
        for key, raw in values.items():
            if key not in CONFIG_FIELDS:
                raise ValueError(f"unknown config key {key!r}; known: {sorted(CONFIG_FIELDS)}")
            if key in LIST_FIELDS:
                if isinstance(raw, str):
                    raw = [v for v in raw.split(",") if v]
                if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
                    raise ValueError(f"{key} must be a list of strings, got {raw!r}")
                clean[key] = list(raw)
                continue
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise ValueError(f"{key} must be a number, got {raw!r}")
            if not math.isfinite(raw) or raw < 0:
                raise ValueError(f"{key} must be a finite number >= 0, got {raw!r}")
            if key.endswith("_rate"):
                if raw > 1:
                    raise ValueError(f"{key} must be within [0, 1], got {raw!r}")
                clean[key] = float(raw)
            elif key in INT_FIELDS:
                if raw != int(raw):
                    raise ValueError(f"{key} must be an integer, got {raw!r}")
                clean[key] = int(raw)
            else:
                clean[key] = float(raw)
        for key, value in clean.items():
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


CONFIG_FIELDS: frozenset[str] = frozenset(f.name for f in dataclasses.fields(SimConfig))
LIST_FIELDS = frozenset({"deployments", "reject_params", "bearer_tokens"})
INT_FIELDS = frozenset({"rpm", "tpm", "max_dimensions", "ignore_dimensions", "bad_request_after",
                        "default_max_tokens", "batch_expire"})
DEFAULT_CONFIG: dict[str, Any] = SimConfig().as_dict()


# --------------------------------------------------------------------------- helpers


def _estimate_tokens(chars: int) -> int:
    return (chars + 3) // 4


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _text_seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "big")


def _normalise(text: str) -> str:
    return text.lower().replace("_", " ").replace("-", " ")


def _message_texts(content: Any) -> list[str]:
    """Text strings of one chat message ``content`` (string or list of content parts)."""
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        out: list[str] = []
        for part in content:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append(part["text"])
        return out
    return []


def _chat_texts(body: dict) -> tuple[list[str], list[str], list[str]]:
    """A chat body's message texts: all, the user's, the system's."""
    texts: list[str] = []
    user_texts: list[str] = []
    system_texts: list[str] = []
    messages = body.get("messages")
    if isinstance(messages, list):
        for m in messages:
            if not isinstance(m, dict):
                continue
            parts = _message_texts(m.get("content"))
            texts.extend(parts)
            if m.get("role") == "user":
                user_texts.extend(parts)
            elif m.get("role") in ("system", "developer"):
                system_texts.extend(parts)
    return texts, user_texts, system_texts


def _error_body(code: str, message: str, *, type_: str | None = None, **extra: Any) -> dict:
    err: dict[str, Any] = {"code": code, "message": message}
    if type_ is not None:
        err["type"] = type_
    err.update(extra)
    return {"error": err}


# --------------------------------------------------------------------------- schema walker

_SUMMARY_NAME = re.compile(
    r"summary|description|narrative|explanation|rationale|reason|notes?$|comment|details?$|text$",
    re.IGNORECASE,
)
_MAX_DEPTH = 16  # hard stop for recursive schemas
_SOFT_DEPTH = 6  # from here on arrays are minimal and optionals are null

Gen = Callable[["_Ctx", int], Any]


class _Ctx:
    """Per-request generation state: deterministic RNG and the user text."""

    __slots__ = ("rng", "words", "norm")

    def __init__(self, text: str) -> None:
        self.rng = random.Random(_text_seed(text))
        words = [w.strip(".,;:!?()[]{}\"'") for w in text.split()]
        self.words = [w for w in words if w] or ["unknown"]
        self.norm = _normalise(text)

    def snippet(self, min_words: int, max_words: int) -> str:
        words = self.words
        n = self.rng.randint(min_words, max_words)
        n = max(1, min(n, len(words)))
        start = self.rng.randint(0, len(words) - n)
        return " ".join(words[start : start + n])


class _SchemaCompiler:
    """Turns a JSON schema into a generator function of a value validating against it."""

    def __init__(self, root: dict) -> None:
        self.root = root
        self.refs: dict[str, list[Gen]] = {}

    # -- references ---------------------------------------------------------
    def resolve(self, ref: str) -> dict:
        if not ref.startswith("#"):
            raise ValueError(f"unsupported $ref {ref!r}")
        node: Any = self.root
        for part in ref[1:].split("/"):
            if not part:
                continue
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        if not isinstance(node, dict):
            raise ValueError(f"$ref {ref!r} does not point at a schema")
        return node

    def compile_ref(self, ref: str, name: str) -> Gen:
        key = f"{ref}\x00{name if _SUMMARY_NAME.search(name or '') else ''}"
        cell = self.refs.get(key)
        if cell is None:
            cell = []
            self.refs[key] = cell  # registered before compiling: recursion-safe
            cell.append(self.compile(self.resolve(ref), name))
        return lambda ctx, depth: cell[0](ctx, depth)

    # -- main dispatch ------------------------------------------------------
    def compile(self, node: Any, name: str = "") -> Gen:
        if node is True or not isinstance(node, dict) or not node:
            return self._string({}, name)
        if "const" in node:
            const = node["const"]
            return lambda ctx, depth: const
        if "enum" in node:
            return self._enum(node["enum"])
        if "$ref" in node:
            return self.compile_ref(node["$ref"], name)
        if "allOf" in node:
            return self.compile(self._merge_all_of(node), name)
        for key in ("anyOf", "oneOf"):
            if key in node:
                return self._any_of(node[key], name)
        typ = node.get("type")
        if isinstance(typ, list):
            non_null = [t for t in typ if t != "null"]
            if not non_null:
                return lambda ctx, depth: None
            inner = self.compile({**node, "type": non_null[0]}, name)
            if "null" in typ:
                return lambda ctx, depth: None if depth >= _MAX_DEPTH else inner(ctx, depth)
            return inner
        if typ == "object" or (typ is None and "properties" in node):
            return self._object(node)
        if typ == "array" or (typ is None and ("items" in node or "prefixItems" in node)):
            return self._array(node, name)
        if typ == "integer":
            return self._integer(node)
        if typ == "number":
            return self._number(node)
        if typ == "boolean":
            return lambda ctx, depth: ctx.rng.random() < 0.5
        if typ == "null":
            return lambda ctx, depth: None
        return self._string(node, name)

    def _merge_all_of(self, node: dict) -> dict:
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        for sub in node["allOf"]:
            if isinstance(sub, dict) and "$ref" in sub:
                sub = {**self.resolve(sub["$ref"]), **{k: v for k, v in sub.items() if k != "$ref"}}
            if not isinstance(sub, dict):
                continue
            for key, value in sub.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required":
                    merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
                else:
                    merged.setdefault(key, value)
        return merged

    def _any_of(self, branches: list, name: str) -> Gen:
        def is_null(b: Any) -> bool:
            return isinstance(b, dict) and (b.get("type") == "null" or b.get("const", 0) is None)

        non_null = [b for b in branches if not is_null(b)]
        has_null = len(non_null) < len(branches)
        if not non_null:
            return lambda ctx, depth: None
        first = self.compile(non_null[0], name)
        if not has_null:
            return first
        return lambda ctx, depth: None if depth >= _SOFT_DEPTH else first(ctx, depth)

    def _object(self, node: dict) -> Gen:
        props = node.get("properties") or {}
        fields = [(key, self.compile(sub, key)) for key, sub in props.items()]

        def gen(ctx: _Ctx, depth: int) -> Any:
            if depth >= _MAX_DEPTH:
                return {}
            return {key: g(ctx, depth + 1) for key, g in fields}

        return gen

    def _array(self, node: dict, name: str) -> Gen:
        prefix = [self.compile(sub, name) for sub in node.get("prefixItems") or []]
        items = node.get("items")
        item_gen = self.compile(items, name) if isinstance(items, dict) else None
        lo = max(int(node.get("minItems", 0)), len(prefix) if prefix and item_gen is None else 0)
        hi = node.get("maxItems")
        hi = 3 if hi is None else min(int(hi), max(3, lo))
        hi = max(hi, lo)

        def gen(ctx: _Ctx, depth: int) -> Any:
            if depth >= _MAX_DEPTH:
                return []
            n = lo if depth >= _SOFT_DEPTH else ctx.rng.randint(lo, hi)
            out = [g(ctx, depth + 1) for g in prefix[:n]]
            if item_gen is not None:
                out.extend(item_gen(ctx, depth + 1) for _ in range(n - len(out)))
            return out

        return gen

    @staticmethod
    def _enum(values: list) -> Gen:
        if not values:
            return lambda ctx, depth: None
        choices = [v for v in values if v is not None] or list(values)
        phrases: dict[str, Any] = {}
        for v in values:
            if isinstance(v, str) and _normalise(v).strip():
                phrases.setdefault(_normalise(v).strip(), v)
        pattern = None
        if phrases:
            alts = sorted(phrases, key=len, reverse=True)  # longest wins at a position
            body = "|".join(r"\s+".join(map(re.escape, p.split())) for p in alts)
            pattern = re.compile(rf"(?<![a-z0-9])({body})(?![a-z0-9])")
            lookup = {re.sub(r"\s+", " ", p): v for p, v in phrases.items()}

        def gen(ctx: _Ctx, depth: int) -> Any:
            if pattern is not None:
                m = pattern.search(ctx.norm)
                if m is not None:
                    return lookup[re.sub(r"\s+", " ", m.group(1))]
            return choices[ctx.rng.randrange(len(choices))]

        return gen

    @staticmethod
    def _integer(node: dict) -> Gen:
        lo: int | None = None
        hi: int | None = None
        if "minimum" in node:
            lo = math.ceil(node["minimum"])
        if isinstance(node.get("exclusiveMinimum"), int | float):
            lo = max(lo if lo is not None else -(2**62), math.floor(node["exclusiveMinimum"]) + 1)
        if "maximum" in node:
            hi = math.floor(node["maximum"])
        if isinstance(node.get("exclusiveMaximum"), int | float):
            hi = min(hi if hi is not None else 2**62, math.ceil(node["exclusiveMaximum"]) - 1)
        if lo is None:
            lo = 0 if hi is None or hi >= 0 else hi - 100
        if hi is None:
            hi = lo + 100
        hi = max(hi, lo)
        step = node.get("multipleOf")
        step = int(step) if isinstance(step, int | float) and step >= 1 and step == int(step) else 1

        def gen(ctx: _Ctx, depth: int) -> int:
            v = ctx.rng.randint(lo, hi)
            if step > 1:
                v = (v // step) * step
                if v < lo:
                    v += step
            return v

        return gen

    @staticmethod
    def _number(node: dict) -> Gen:
        lo = node.get("minimum")
        hi = node.get("maximum")
        xlo = node.get("exclusiveMinimum")
        xhi = node.get("exclusiveMaximum")
        xlo = xlo if isinstance(xlo, int | float) and not isinstance(xlo, bool) else None
        xhi = xhi if isinstance(xhi, int | float) and not isinstance(xhi, bool) else None
        a = lo if lo is not None else xlo
        b = hi if hi is not None else xhi
        if a is None:
            a = 0.0 if b is None or b >= 0 else b - 100.0
        if b is None:
            b = a + 100.0
        a, b = float(a), float(max(a, b))

        def ok(v: float) -> bool:
            return a <= v <= b and (xlo is None or v > xlo) and (xhi is None or v < xhi)

        def gen(ctx: _Ctx, depth: int) -> float:
            v = round(a + ctx.rng.random() * (b - a), 3)
            v = min(b, max(a, v))
            return v if ok(v) else (a + b) / 2

        return gen

    @staticmethod
    def _string(node: dict, name: str) -> Gen:
        fmt = node.get("format")
        max_len = node.get("maxLength")
        min_len = int(node.get("minLength", 0) or 0)
        long_text = bool(name) and _SUMMARY_NAME.search(name) is not None
        lo_w, hi_w = (6, 15) if long_text else (1, 4)

        def fit(s: str) -> str:
            if max_len is not None and len(s) > max_len:
                s = s[: int(max_len)].rstrip() or s[: int(max_len)]
            if len(s) < min_len:
                s = s + "x" * (min_len - len(s))
            return s

        if fmt == "date-time":
            return lambda ctx, depth: fit(
                f"2024-{ctx.rng.randint(1, 12):02d}-{ctx.rng.randint(1, 28):02d}"
                f"T{ctx.rng.randint(0, 23):02d}:{ctx.rng.randint(0, 59):02d}:00Z"
            )
        if fmt == "date":
            return lambda ctx, depth: fit(
                f"2024-{ctx.rng.randint(1, 12):02d}-{ctx.rng.randint(1, 28):02d}"
            )
        if fmt == "time":
            return lambda ctx, depth: fit(f"{ctx.rng.randint(0, 23):02d}:00:00")
        if fmt == "uuid":
            return lambda ctx, depth: fit(
                "%08x-%04x-4%03x-8%03x-%012x"  # noqa: UP031
                % (
                    ctx.rng.getrandbits(32),
                    ctx.rng.getrandbits(16),
                    ctx.rng.getrandbits(12),
                    ctx.rng.getrandbits(12),
                    ctx.rng.getrandbits(48),
                )
            )
        if fmt == "email":
            return lambda ctx, depth: fit("user@example.com")
        return lambda ctx, depth: fit(ctx.snippet(lo_w, hi_w))


_WORD = re.compile(r"[^\W\d_]{2,}")  # a word of the embeddings' bag: two letters or more
_WORD_SLOTS = 4


@functools.lru_cache(maxsize=1 << 16)
def _word_slots(word: str) -> bytes:
    """The word's ``_WORD_SLOTS`` (position, sign) pairs, two little-endian uint16 each."""
    return hashlib.blake2b(word.encode("utf-8", "surrogatepass"),
                           digest_size=4 * _WORD_SLOTS).digest()


class _LRU(OrderedDict):
    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        if len(self) > self.maxsize:
            self.popitem(last=False)


# --------------------------------------------------------------------------- rate limiter


class _Bucket:
    """Token bucket refilled continuously at ``limit`` per 60 s, holding at most 10 s worth:
    Azure evaluates a per-minute quota over short windows, so a burst of a whole minute's
    quota is answered with 429s there too."""

    __slots__ = ("limit", "capacity", "rate", "tokens", "stamp")

    def __init__(self, limit: int, now: float) -> None:
        self.limit = limit
        self.capacity = max(1.0, limit / 6.0)
        self.rate = limit / 60.0
        self.tokens = self.capacity
        self.stamp = now

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait_for(self, cost: float) -> float:
        """Seconds until ``cost`` is available (0 if it is now)."""
        cost = min(cost, self.capacity)
        if self.tokens >= cost:
            return 0.0
        return (cost - self.tokens) / self.rate


class _Window:
    """What one deployment was charged in the current admission window."""

    __slots__ = ("index", "requests", "tokens")

    def __init__(self, index: int) -> None:
        self.index, self.requests, self.tokens = index, 0, 0


class _Limiter:
    """Per-deployment requests-per-minute and tokens-per-minute limits."""

    def __init__(self) -> None:
        self.buckets: dict[tuple[str, str], _Bucket] = {}
        self.windows: dict[str, _Window] = {}

    def clear(self) -> None:
        self.buckets.clear()
        self.windows.clear()

    def admit(
        self, model: str, rpm: int, tpm: int, cost: int, window: float
    ) -> tuple[float, str, dict[str, str]]:
        """Azure's admission: ``cost`` (prompt + max_tokens) against the ``window``-second
        share of the quota, charged in full when admitted. A request larger than a whole
        window's tokens passes alone in an empty window (else it never could)."""
        if not rpm and not tpm:
            return 0.0, "", {}
        now = time.monotonic()
        index = int(now // window)
        w = self.windows.get(model)
        if w is None or w.index != index:
            w = self.windows[model] = _Window(index)
        req_limit, tok_limit = rpm * window / 60.0, tpm * window / 60.0
        over_r = bool(rpm) and w.requests + 1 > req_limit
        over_t = bool(tpm) and w.requests > 0 and w.tokens + cost > tok_limit
        wait = (index + 1) * window - now if over_r or over_t else 0.0
        if not wait:
            w.requests += 1
            w.tokens += cost
        headers: dict[str, str] = {}
        if rpm:
            headers["x-ratelimit-limit-requests"] = str(rpm)
            headers["x-ratelimit-remaining-requests"] = str(max(0, int(req_limit - w.requests)))
        if tpm:
            headers["x-ratelimit-limit-tokens"] = str(tpm)
            headers["x-ratelimit-remaining-tokens"] = str(max(0, int(tok_limit - w.tokens)))
        return wait, "call" if over_r else "token", headers

    def _bucket(self, model: str, kind: str, limit: int, now: float) -> _Bucket:
        b = self.buckets.get((model, kind))
        if b is None or b.limit != limit:
            b = self.buckets[(model, kind)] = _Bucket(limit, now)
        else:
            b.refill(now)
        return b

    def check(
        self, model: str, rpm: int, tpm: int, tokens: int
    ) -> tuple[float, str, dict[str, str]]:
        """Admit or reject one request. Returns (retry_after_s or 0, which limit, headers)."""
        if not rpm and not tpm:
            return 0.0, "", {}
        now = time.monotonic()
        rb = self._bucket(model, "r", rpm, now) if rpm else None
        tb = self._bucket(model, "t", tpm, now) if tpm else None
        wait_r = rb.wait_for(1) if rb else 0.0
        wait_t = tb.wait_for(tokens) if tb else 0.0
        wait = max(wait_r, wait_t)
        which = "call" if wait_r >= wait_t else "token"
        if wait <= 0:
            if rb:
                rb.tokens -= 1
            if tb:
                tb.tokens -= min(tokens, tb.capacity)
        headers: dict[str, str] = {}
        if rb:
            headers["x-ratelimit-limit-requests"] = str(rpm)
            headers["x-ratelimit-remaining-requests"] = str(max(0, int(rb.tokens)))
        if tb:
            headers["x-ratelimit-limit-tokens"] = str(tpm)
            headers["x-ratelimit-remaining-tokens"] = str(max(0, int(tb.tokens)))
        return wait, which, headers


# --------------------------------------------------------------------------- the server


class Simulator:
    """State and request handlers of one simulator instance (see :func:`create_app`)."""

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        log_path: str | os.PathLike[str] | None = None,
        seed: int = 0,
    ) -> None:
        self.config = config or SimConfig()
        self.seed = seed
        self.rng = random.Random(seed)
        self.jitter_rng = random.Random(seed + 1)
        self.limiter = _Limiter()
        self._fail_toggle = 0
        self._ids = itertools.count(1)
        self._schemas: _LRU = _LRU(256)
        self._vectors: _LRU = _LRU(4096)
        self.stats: dict[str, Any] = {}
        self.reset()
        self._log = None
        if log_path is not None:
            path = Path(log_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(path, "a", encoding="utf-8")  # noqa: SIM115

    # -- admin --------------------------------------------------------------
    def reset(self) -> None:
        """Zero the stats, refill the rate limiters and reseed the fault RNG."""
        self.stats = {
            "requests": 0,
            "by_status": {},
            "by_token": {},  # accepted bearer tokens (only when bearer_tokens is set)
            "rejected_tokens": 0,
            "chat": 0,
            "embeddings": 0,
            "embedding_inputs": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            # tokens charged against the quota when requests were admitted (in admission
            # mode prompt + max_tokens; else what the answers used)
            "admitted_tokens": 0,
            "ok_by_kind": {},
            # answers made ungrounded / wrong on purpose (ungrounded_rate, wrong_rate)
            "ungrounded": 0,
            "wrong": 0,
            # deployment -> requests, by_status, prompt_tokens, completion_tokens: what the
            # job's own usage accounting (backfill.usage) is checked against
            "by_model": {},
        }
        self.limiter.clear()
        self.rng.seed(self.seed)
        self.jitter_rng.seed(self.seed + 1)
        self._fail_toggle = 0

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    # -- plumbing -----------------------------------------------------------
    def _write_log(self, kind: str, model: str, status: int, texts: list[str],
                   extra: dict[str, Any] | None = None) -> None:
        if self._log is None:
            return
        line = json.dumps(
            {"ts": time.time(), "kind": kind, "model": model, "status": status, "texts": texts,
             **(extra or {})},
            ensure_ascii=False,
        )
        self._log.write(line + "\n")
        self._log.flush()

    def _latency(self, kind: str) -> float:
        cfg = self.config
        ms = cfg.latency_ms
        if kind == "embeddings" and cfg.embedding_latency_ms:
            ms = cfg.embedding_latency_ms
        if cfg.latency_sigma:
            ms *= math.exp(self.jitter_rng.gauss(0.0, cfg.latency_sigma))
        if cfg.latency_jitter_ms:
            ms += self.jitter_rng.uniform(-cfg.latency_jitter_ms, cfg.latency_jitter_ms)
        return max(0.0, ms) / 1000.0

    def _next_fail(self) -> tuple[int, dict]:
        self._fail_toggle ^= 1
        if self._fail_toggle:
            return 500, _error_body(
                "InternalServerError",
                "The server had an error while processing your request. Sorry about that!",
                type_="server_error",
            )
        return 503, _error_body(
            "ServiceUnavailable",
            "The service is temporarily unable to process your request. Please try again later.",
            type_="server_error",
        )

    def _rate_limited(
        self, kind: str, model: str, wait: float, which: str, api_version: str
    ) -> tuple[int, dict, dict[str, str]]:
        secs = max(1, math.ceil(wait))
        op = "ChatCompletions_Create" if kind == "chat" else "Embeddings_Create"
        msg = (
            f"Requests to the {op} Operation under Azure OpenAI API version {api_version} "
            f"have exceeded {which} rate limit of your current deployment {model!r}. "
            f"Please retry after {secs} seconds."
        )
        headers = {"retry-after": str(secs), "retry-after-ms": str(math.ceil(wait * 1000) + 1)}
        return 429, _error_body("429", msg), headers

    def _admit(self, model: str, tokens: int) -> tuple[float, str, dict[str, str]]:
        """Charge ``tokens`` against the deployment's quota: (retry-after or 0, which limit,
        headers). Admission mode: fixed windows; otherwise the token buckets."""
        cfg = self.config
        if cfg.admission_window_s:
            admitted = self.limiter.admit(model, cfg.rpm, cfg.tpm, tokens, cfg.admission_window_s)
        else:
            admitted = self.limiter.check(model, cfg.rpm, cfg.tpm, tokens)
        if admitted[0] <= 0:
            self.stats["admitted_tokens"] += tokens
            self._model_stats(model)["admitted_tokens"] += tokens
        return admitted

    def _model_stats(self, model: str) -> dict[str, Any]:
        return self.stats["by_model"].setdefault(model, {
            "requests": 0, "by_status": {}, "prompt_tokens": 0, "completion_tokens": 0,
            "admitted_tokens": 0})

    def count(self, kind: str, model: str, texts: list[str], status: int,
              log_extra: dict[str, Any] | None = None) -> None:
        """One request (or batch line) answered: in the stats and the request log."""
        stats = self.stats
        stats["requests"] += 1
        key = str(status)
        stats["by_status"][key] = stats["by_status"].get(key, 0) + 1
        mine = self._model_stats(model)
        mine["requests"] += 1
        mine["by_status"][key] = mine["by_status"].get(key, 0) + 1
        if status == 200:
            stats["ok_by_kind"][kind] = stats["ok_by_kind"].get(kind, 0) + 1
        self._write_log(kind, model, status, texts, log_extra)

    async def _respond(
        self,
        kind: str,
        model: str,
        texts: list[str],
        status: int,
        payload: Any,
        headers: dict[str, str],
        log_extra: dict[str, Any] | None = None,
    ) -> web.Response:
        from aiohttp import web

        self.count(kind, model, texts, status, log_extra)
        if status != 429:
            delay = self._latency(kind)
            if delay > 0:
                await asyncio.sleep(delay)
        headers["x-request-id"] = f"sim-{next(self._ids):x}"
        return web.Response(
            status=status,
            body=payload if isinstance(payload, bytes) else _dumps(payload),
            content_type="application/json",
            headers=headers,
        )

    @staticmethod
    async def _read_json(request: web.Request) -> tuple[dict | None, str]:
        try:
            raw = await request.read()
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            return None, f"request body is not valid JSON: {exc}"
        if not isinstance(body, dict):
            return None, "request body must be a JSON object"
        return body, ""

    def _unauthorised(self, request: web.Request) -> dict | None:
        """Azure's 401 body, or None when the request may pass."""
        h = request.headers
        auth = h.get("Authorization", "")
        tokens = self.config.bearer_tokens
        if not tokens:
            if h.get("api-key") or auth.startswith("Bearer "):
                return None
            return _error_body("401", "Access denied due to missing subscription key.")
        if not auth.startswith("Bearer "):
            return _error_body(
                "AuthenticationTypeDisabled",
                "Key based authentication is disabled for this resource.")
        token = auth[len("Bearer "):]
        if token not in tokens:
            self.stats["rejected_tokens"] += 1
            return _error_body("401", "Access token is missing, invalid or expired.")
        by_token = self.stats["by_token"]
        by_token[token] = by_token.get(token, 0) + 1
        return None

    # -- chat -----------------------------------------------------------------
    def _compiled(self, schema: dict) -> Gen:
        key = json.dumps(schema, separators=(",", ":"))
        gen = self._schemas.get(key)
        if gen is None:
            gen = _SchemaCompiler(schema).compile(schema)
            self._schemas.put(key, gen)
        return gen

    def _answer(self, body: dict, user_text: str, schema_fault: bool) -> str:
        fmt = body.get("response_format")
        if not isinstance(fmt, dict):
            fmt = {}
        ftype = fmt.get("type")
        ctx = _Ctx(user_text)
        if ftype == "json_schema":
            js = fmt.get("json_schema") or {}
            schema = js.get("schema") if isinstance(js, dict) else None
            if not isinstance(schema, dict):
                schema = {"type": "object", "properties": {}}
            value = self._compiled(schema)(ctx, 0)
            if schema_fault:
                value = _violate(value, schema)
            return json.dumps(value, ensure_ascii=False)
        if ftype == "json_object":
            value = {"summary": ctx.snippet(6, 15)}
            if schema_fault:
                value = {}
            return json.dumps(value, ensure_ascii=False)
        return "Simulated response: " + " ".join(ctx.words[:30])

    def _misbehave(self, body: dict, answer: str, user_text: str,
                   system_texts: list[str]) -> tuple[str, list[str]]:
        """The answer as a model with this system prompt would spoil it, and the faults
        made on purpose. Only a JSON object answer is touched; see :func:`_follow_prompt`
        for the prompt rules, ``ungrounded_rate`` / ``wrong_rate`` for the rest. Which
        answers are spoiled is a hash of the user text: the same document, the same fate."""
        cfg = self.config
        system = " ".join(system_texts).lower()
        heeded = not system or all(phrase in system for phrase in PROMPT_RULES)
        if heeded and not (cfg.ungrounded_rate or cfg.wrong_rate):
            return answer, []
        try:
            value = json.loads(answer)
        except ValueError:
            return answer, []
        if not isinstance(value, dict):
            return answer, []
        faults: list[str] = []
        if not heeded:
            _follow_prompt(value, system, user_text)
        if cfg.wrong_rate and _fraction("wrong", user_text) < cfg.wrong_rate:
            faults += self._wrong_enums(value, body)
        if cfg.ungrounded_rate and _fraction("ungrounded", user_text) < cfg.ungrounded_rate:
            faults += _unground(value, user_text)
        return json.dumps(value, ensure_ascii=False), faults

    def _wrong_enums(self, value: dict, body: dict) -> list[str]:
        """Every top-level enum field of the answer set to the next value of its enum."""
        fmt = body.get("response_format")
        js = fmt.get("json_schema") if isinstance(fmt, dict) else None
        schema = js.get("schema") if isinstance(js, dict) else None
        if not isinstance(schema, dict):
            return []
        compiler = _SchemaCompiler(schema)
        faults = []
        for key, node in (schema.get("properties") or {}).items():
            while isinstance(node, dict) and "$ref" in node:
                node = compiler.resolve(node["$ref"])
            choices = node.get("enum") if isinstance(node, dict) else None
            if key in value and isinstance(choices, list) and len(choices) > 1:
                at = choices.index(value[key]) if value[key] in choices else -1
                value[key] = choices[(at + 1) % len(choices)]
                faults.append(f"wrong:{key}")
        return faults

    def _unknown_deployment(self, model: str) -> tuple[int, dict] | None:
        known = self.config.deployments
        if not known or model in known:
            return None
        return 404, _error_body(
            "DeploymentNotFound",
            "The API deployment for this resource does not exist. If you created the "
            "deployment within the last 5 minutes, please wait a moment and try again.",
        )

    def _refused_chat(self, body: dict) -> tuple[int, dict] | None:
        """Azure's 400 for a parameter this deployment does not take, or for every request
        once ``bad_request_after`` requests have succeeded."""
        cfg = self.config
        param = next((p for p in cfg.reject_params if p in body), None)
        if param is None and cfg.bad_request_after:
            if self.stats["ok_by_kind"].get("chat", 0) >= cfg.bad_request_after:
                param = "max_tokens"
        if param is None:
            return None
        hint = " Use 'max_completion_tokens' instead." if param == "max_tokens" else ""
        return 400, _error_body(
            "unsupported_parameter",
            f"Unsupported parameter: '{param}' is not supported with this model.{hint}",
            type_="invalid_request_error",
            param=param,
        )

    async def _parse(
        self, kind: str, request: web.Request
    ) -> tuple[str, dict, web.Response | None]:
        """The deployment (from the Azure path, else the body's model) and the JSON body;
        or a 400 answer when the body is not JSON."""
        model = request.match_info.get("deployment", "")
        body, err = await self._read_json(request)
        if body is None:
            bad = await self._respond(
                kind,
                model or "unknown",
                [],
                400,
                _error_body("invalid_request_error", err, type_="invalid_request_error"),
                {},
            )
            return model, {}, bad
        return model or str(body.get("model") or "unknown"), body, None

    async def handle_chat(self, request: web.Request) -> web.Response:
        model, body, not_json = await self._parse("chat", request)
        if not_json is not None:
            return not_json
        self.stats["chat"] += 1
        denied = self._unauthorised(request)
        if denied is not None:
            return await self._respond("chat", model, _chat_texts(body)[0], 401, denied, {})
        status, payload, headers, texts, extra = self._chat_outcome(
            model, body, request.query.get("api-version", "v1"))
        return await self._respond("chat", model, texts, status, payload, headers, extra)

    def _chat_outcome(self, model: str, body: dict, api_version: str, limited: bool = True
                      ) -> tuple[int, Any, dict[str, str], list[str], dict[str, Any]]:
        """(status, payload, headers, texts, log extra) of one chat request: what the
        real-time route answers, and each line of a batch (``limited`` False: a batch is
        not held to the per-minute quota)."""
        messages = body.get("messages")
        texts, user_texts, system_texts = _chat_texts(body)
        refused = self._unknown_deployment(model) or self._refused_chat(body)
        if refused is not None:
            status, payload = refused
            return status, payload, {}, texts, {}
        if not isinstance(messages, list) or not messages:
            return (
                400,
                _error_body(
                    "invalid_request_error",
                    "'messages' must be a non-empty array",
                    type_="invalid_request_error",
                    param="messages",
                ),
                {}, texts, {},
            )
        if body.get("stream"):
            return (
                400,
                _error_body(
                    "invalid_request_error",
                    "the simulator does not support stream=true",
                    type_="invalid_request_error",
                    param="stream",
                ),
                {}, texts, {},
            )
        chars = sum(len(t) for t in texts)
        user_text = "\n".join(user_texts) if user_texts else "\n".join(texts)
        trigger = ""
        if "SIMFAULT:" in user_text:
            for name in ("500", "content_filter", "refusal", "malformed", "schema"):
                if f"SIMFAULT:{name}" in user_text:
                    trigger = name
                    break
        answer = self._answer(body, user_text, trigger == "schema")
        faults: list[str] = []
        if trigger != "schema":
            answer, faults = self._misbehave(body, answer, user_text, system_texts)
        prompt_tokens = _estimate_tokens(chars)
        completion_tokens = _estimate_tokens(len(answer))
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        limit = limit if isinstance(limit, int) and limit > 0 else None
        finish = "stop"
        if limit is not None and completion_tokens > limit:
            # cut where the model would stop: invalid JSON, finish_reason "length"
            answer, completion_tokens, finish = answer[: 4 * limit], limit, "length"

        cfg = self.config
        charged = prompt_tokens + (completion_tokens if not cfg.admission_window_s
                                   else limit or cfg.default_max_tokens)
        wait, which, headers = self._admit(model, charged) if limited else (0.0, "", {})
        if (limited and wait <= 0 and cfg.throttle_rate
                and self.rng.random() < cfg.throttle_rate):
            wait, which = 1.0, "call"
        if wait > 0:
            status, payload, extra = self._rate_limited("chat", model, wait, which, api_version)
            headers.update(extra)
            return status, payload, headers, texts, {}

        u = self.rng.random()
        if not trigger:
            edge = cfg.fail_rate
            if u < edge:
                trigger = "fail"
            elif u < (edge := edge + cfg.content_filter_rate):
                trigger = "content_filter"
            elif u < (edge := edge + cfg.refusal_rate):
                trigger = "refusal"
            elif u < edge + cfg.malformed_rate:
                trigger = "malformed"

        if trigger == "500":
            payload = _error_body(
                "InternalServerError",
                "The server had an error while processing your request. Sorry about that!",
                type_="server_error",
            )
            return 500, payload, headers, texts, {}
        if trigger == "fail":
            status, payload = self._next_fail()
            return status, payload, headers, texts, {}
        if trigger == "content_filter":
            payload = _error_body(
                "content_filter",
                "The response was filtered due to the prompt triggering Azure OpenAI's content "
                "management policy.",
                param="prompt",
                status=400,
                innererror={
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_result": {
                        "hate": {"filtered": False, "severity": "safe"},
                        "self_harm": {"filtered": False, "severity": "safe"},
                        "sexual": {"filtered": False, "severity": "safe"},
                        "violence": {"filtered": True, "severity": "medium"},
                    },
                },
            )
            return 400, payload, headers, texts, {}

        content: str | None = answer
        refusal: str | None = None
        log_extra: dict[str, Any] = {}
        if trigger == "refusal":
            content, refusal = None, REFUSAL_TEXT
            completion_tokens = _estimate_tokens(len(REFUSAL_TEXT))
            log_extra = {"refused": True}
        elif trigger == "malformed":
            content = answer[: len(answer) // 2]
        else:
            # what was answered, and how it was spoiled on purpose: what the tests of the
            # grounding checks and of `backfill eval` compare with
            log_extra = {"answer": content, "faults": faults}
            for kind in {f.split(":")[0] for f in faults}:
                self.stats[kind] += 1
        stats = self.stats
        stats["prompt_tokens"] += prompt_tokens
        stats["completion_tokens"] += completion_tokens
        self._model_stats(model)["prompt_tokens"] += prompt_tokens
        self._model_stats(model)["completion_tokens"] += completion_tokens
        payload = {
            "id": f"chatcmpl-sim{self.seed:x}{next(self._ids):08x}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model") or model),
            "system_fingerprint": "fp_simulator",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return 200, payload, headers, texts, log_extra

    # -- embeddings -------------------------------------------------------------
    def _vector(self, text: str, dim: int):
        """A hashed bag of the text's words (feature hashing): each word adds +-1 at
        ``_WORD_SLOTS`` positions its hash picks, weighted 1 + log of its count, and the sum
        is normalised. Texts sharing words are near in cosine, the same text is the same
        vector: vector search over these ranks by shared vocabulary, which is lexical, not
        semantic (a synonym is as far as any other word). A text without a word gets a
        random unit vector seeded by its hash."""
        import numpy as np

        key = (text, dim)
        vec = self._vectors.get(key)
        if vec is None:
            counts = Counter(_WORD.findall(text.lower()))
            vec = np.zeros(dim, dtype=np.float64)
            if counts:
                slots = np.frombuffer(b"".join(map(_word_slots, counts)), dtype="<u2")
                slots = slots.reshape(len(counts), _WORD_SLOTS, 2)
                weight = 1.0 + np.log(np.fromiter(counts.values(), float, len(counts)))
                signed = np.where(slots[..., 1] & 1, 1.0, -1.0) * weight[:, None]
                vec = np.bincount(slots[..., 0].ravel() % dim, signed.ravel(), minlength=dim)
            norm = np.linalg.norm(vec)
            if norm == 0:
                digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
                vec = np.random.default_rng(int.from_bytes(digest, "little")).standard_normal(dim)
                norm = np.linalg.norm(vec)
            vec = (vec / norm).astype("<f4")
            self._vectors.put(key, vec)
        return vec

    @staticmethod
    def _embedding_inputs(raw: Any) -> list[str] | None:
        def tokens_text(ints: list) -> str:
            return " ".join(str(i) for i in ints)

        if isinstance(raw, str):
            return [raw]
        if not isinstance(raw, list):
            return None
        if raw and all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
            return [tokens_text(raw)]
        out: list[str] = []
        for item in raw:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, list) and all(isinstance(x, int) for x in item):
                out.append(tokens_text(item))
            else:
                return None
        return out

    async def handle_embeddings(self, request: web.Request) -> web.Response:
        model, body, not_json = await self._parse("embeddings", request)
        if not_json is not None:
            return not_json
        inputs = self._embedding_inputs(body.get("input"))
        texts = inputs or []
        self.stats["embeddings"] += 1
        self.stats["embedding_inputs"] += len(texts)

        def bad(message: str, param: str = "input"):
            return self._respond(
                "embeddings",
                model,
                texts,
                400,
                _error_body(
                    "invalid_request_error", message, type_="invalid_request_error", param=param
                ),
                {},
            )

        denied = self._unauthorised(request)
        if denied is not None:
            return await self._respond("embeddings", model, texts, 401, denied, {})
        unknown = self._unknown_deployment(model)
        if unknown is not None:
            return await self._respond("embeddings", model, texts, *unknown, {})
        if not inputs:
            return await bad("'input' must be a non-empty string or array of strings")
        if len(inputs) > MAX_EMBEDDING_INPUTS:
            return await bad(f"'input' must have at most {MAX_EMBEDDING_INPUTS} items")
        if any(not t for t in inputs):
            return await bad("'input' cannot contain empty strings")
        dim = body.get("dimensions", DEFAULT_EMBEDDING_DIMENSIONS)
        if dim is None:
            dim = DEFAULT_EMBEDDING_DIMENSIONS
        if (
            isinstance(dim, bool)
            or not isinstance(dim, int)
            or not (1 <= dim <= MAX_EMBEDDING_DIMENSIONS)
        ):
            return await bad(f"invalid 'dimensions': {dim!r}", "dimensions")
        if self.config.max_dimensions and dim > self.config.max_dimensions:
            return await self._respond(
                "embeddings",
                model,
                texts,
                400,
                _error_body(
                    "invalid_value",
                    f"Invalid value for 'dimensions' = {dim}. Must be less than or equal to "
                    f"{self.config.max_dimensions}.",
                    type_="invalid_request_error",
                    param="dimensions",
                ),
                {},
            )
        if self.config.ignore_dimensions:
            dim = self.config.ignore_dimensions  # a deployment of another model
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            return await bad(f"invalid 'encoding_format': {encoding!r}", "encoding_format")
        per_input = [_estimate_tokens(len(t)) for t in inputs]
        if max(per_input) > MAX_EMBEDDING_INPUT_TOKENS:
            return await bad(
                f"This model's maximum context length is {MAX_EMBEDDING_INPUT_TOKENS} tokens, "
                f"however you requested {max(per_input)} tokens in an input."
            )
        prompt_tokens = sum(per_input)

        cfg = self.config
        wait, which, headers = self._admit(model, prompt_tokens)
        if wait > 0:
            status, payload, extra = self._rate_limited(
                "embeddings", model, wait, which, request.query.get("api-version", "v1")
            )
            headers.update(extra)
            return await self._respond("embeddings", model, texts, status, payload, headers)

        u = self.rng.random()
        if any("SIMFAULT:embed" in t for t in inputs):
            payload = _error_body(
                "invalid_request_error",
                "Simulated invalid embedding input (SIMFAULT:embed).",
                type_="invalid_request_error",
                param="input",
            )
            return await self._respond("embeddings", model, texts, 400, payload, headers)
        if u < cfg.fail_rate:
            status, payload = self._next_fail()
            return await self._respond("embeddings", model, texts, status, payload, headers)

        data = []
        for i, text in enumerate(inputs):
            vec = self._vector(text, dim)
            emb: Any = (
                base64.b64encode(vec.tobytes()).decode("ascii")
                if encoding == "base64"
                else vec.tolist()
            )
            data.append({"object": "embedding", "index": i, "embedding": emb})
        self.stats["prompt_tokens"] += prompt_tokens
        self._model_stats(model)["prompt_tokens"] += prompt_tokens
        payload = {
            "object": "list",
            "data": data,
            "model": str(body.get("model") or model),
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
        }
        return await self._respond("embeddings", model, texts, 200, payload, headers)

    # -- admin routes -------------------------------------------------------------
    async def handle_stats(self, request: web.Request) -> web.Response:
        from aiohttp import web

        return web.json_response(self.stats)

    async def handle_config(self, request: web.Request) -> web.Response:
        from aiohttp import web

        if request.method == "POST":
            body, err = await self._read_json(request) if request.can_read_body else ({}, "")
            if body is None:
                return web.json_response(_error_body("invalid_request_error", err), status=400)
            old = (self.config.rpm, self.config.tpm, self.config.admission_window_s)
            try:
                self.config.update(body)
            except ValueError as exc:
                return web.json_response(_error_body("invalid_request_error", str(exc)), status=400)
            if (self.config.rpm, self.config.tpm, self.config.admission_window_s) != old:
                self.limiter.clear()
        return web.json_response(self.config.as_dict())

    async def handle_reset(self, request: web.Request) -> web.Response:
        from aiohttp import web

        self.reset()
        return web.json_response({"ok": True})

    async def handle_not_found(self, request: web.Request) -> web.Response:
        from aiohttp import web

        return web.json_response(
            _error_body("404", f"Resource not found: {request.method} {request.path}"),
            status=404,
        )


def _fraction(label: str, text: str) -> float:
    """A number in [0, 1) fixed by ``label`` and the text."""
    return _text_seed(f"{label}\x00{text}") / 2.0**64


# What the simulator reads in a system prompt (only when the request has one, and only for
# the fields of the job's extraction schema): a prompt without the phrase gets the answer
# a model without that instruction would give. The job's current prompt has both phrases,
# so its answers are the plain ones; schema.PROMPTS["extract-v0-minimal"] has neither.
PROMPT_RULES = {
    # parts are paraphrased: "replacement <part>"
    "exactly as written": "parts_replaced",
    # half of the answers (by a hash of the text) say failure_mode "other"
    "only facts stated": "failure_mode",
}


def _follow_prompt(value: dict, said: str, user_text: str) -> None:
    """Spoil ``value`` as ``PROMPT_RULES`` say for a system prompt (lower case) ``said``."""
    if "exactly as written" not in said and isinstance(value.get("parts_replaced"), list):
        value["parts_replaced"] = [f"replacement {p}" for p in value["parts_replaced"]]
    if ("only facts stated" not in said and "failure_mode" in value
            and _fraction("vague", user_text) < 0.5):
        value["failure_mode"] = "other"


_SIM_WORD = re.compile(r"[a-z0-9]+")
# Candidates for an ungrounded answer, each used only when none of its words (five-letter
# stems) is in the text; written here, not taken from the job's grounding checks, so that
# the tests compare two independent things.
UNGROUNDED_PARTS = ("flux capacitor", "magnetron", "hydraulic manifold", "gearbox coupling",
                     "quartz crystal oscillator")
_UNGROUNDED_CAUSES = ("corroded relay contacts", "oxidised solder joint",
                      "cracked ceramic insulator", "seized stepper gearbox")
# A failure mode is used when no word of the text begins with one of its prefixes.
_UNGROUNDED_MODES = {
    "battery": ("batt", "cell", "charg", "power", "ups", "run", "soc"),
    "leak": ("leak", "drip", "fluid", "wet", "spill", "seep", "puddl", "water", "pool",
             "weep", "moist", "conde", "hiss", "vacuum", "pressure"),
    "display": ("displ", "scree", "lcd", "led", "backl", "pixel", "touch", "monit", "blank",
                "dim", "flick", "gui", "panel", "segme", "reado"),
}


def _unground(value: dict, user_text: str) -> list[str]:
    """Make the answer name a part, a failure mode and a root cause the text does not."""
    words = set(_SIM_WORD.findall(user_text.lower()))
    stems = {w[:5] for w in words}

    def absent(phrase: str) -> bool:
        return all(w[:5] not in stems for w in _SIM_WORD.findall(phrase))

    faults = []
    part = next((p for p in UNGROUNDED_PARTS if absent(p)), None)
    if part is not None and isinstance(value.get("parts_replaced"), list):
        value["parts_replaced"] = [*value["parts_replaced"], part]
        faults.append("ungrounded:parts_replaced")
    mode = next((m for m, prefixes in _UNGROUNDED_MODES.items()
                 if not any(t.startswith(p) for t in words for p in prefixes)), None)
    if mode is not None and "failure_mode" in value:
        value["failure_mode"] = mode
        faults.append("ungrounded:failure_mode")
    cause = next((c for c in _UNGROUNDED_CAUSES if absent(c)), None)
    if cause is not None and "root_cause" in value:
        value["root_cause"] = cause
        faults.append("ungrounded:root_cause")
    return faults


def _violate(value: Any, schema: dict) -> Any:
    """Valid JSON that breaks ``schema``: drop a required property (or add a forbidden one)."""
    if isinstance(value, dict):
        required = schema.get("required") or list(value)
        for key in required:
            if key in value:
                out = dict(value)
                del out[key]
                return out
        return {**value, "__simfault_unexpected__": True}
    return {"__simfault_unexpected__": value}


def create_app(
    config: SimConfig | None = None,
    *,
    log_path: str | os.PathLike[str] | None = None,
    seed: int = 0,
):
    """Build the ``aiohttp.web.Application``; the :class:`Simulator` is ``app["simulator"]``."""
    from aiohttp import web

    from backfill.devstack.sim_batches import BatchRoutes

    sim = Simulator(config, log_path=log_path, seed=seed)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app["simulator"] = sim
    r = app.router
    for prefix in ("/v1", "/openai/v1", "/openai/deployments/{deployment}"):
        r.add_post(prefix + "/chat/completions", sim.handle_chat)
        r.add_post(prefix + "/embeddings", sim.handle_embeddings)
    BatchRoutes(sim).add_to(r)
    r.add_get("/_sim/stats", sim.handle_stats)
    r.add_get("/_sim/config", sim.handle_config)
    r.add_post("/_sim/config", sim.handle_config)
    r.add_post("/_sim/reset", sim.handle_reset)
    r.add_route("*", "/{tail:.*}", sim.handle_not_found)

    async def _close(_app) -> None:
        sim.close()

    app.on_cleanup.append(_close)
    return app


# --------------------------------------------------------------------------- CLI


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m backfill.devstack.simulator",
        description="OpenAI / Azure OpenAI compatible simulator with fault injection.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--latency-jitter-ms", type=float, default=0.0)
    p.add_argument("--latency-sigma", type=float, default=0.0,
                   help="lognormal spread of the answer time around --latency-ms, 0=off")
    p.add_argument("--embedding-latency-ms", type=float, default=0.0,
                   help="embeddings' answer time, 0=--latency-ms")
    p.add_argument("--rpm", type=int, default=0, help="requests/minute per deployment, 0=off")
    p.add_argument("--tpm", type=int, default=0, help="tokens/minute per deployment, 0=off")
    p.add_argument("--admission-window-s", type=float, default=0.0,
                   help="Azure's admission: charge prompt + max_tokens against rpm/tpm over "
                   "fixed windows of this many seconds; 0=token buckets of the used tokens")
    p.add_argument("--default-max-tokens", type=int, default=4096,
                   help="charged for a chat request without max_tokens (admission mode)")
    p.add_argument("--fail-rate", type=float, default=0.0)
    p.add_argument("--throttle-rate", type=float, default=0.0,
                   help="share of chat requests answered 429 whatever the quota")
    p.add_argument("--malformed-rate", type=float, default=0.0)
    p.add_argument("--refusal-rate", type=float, default=0.0)
    p.add_argument("--content-filter-rate", type=float, default=0.0)
    p.add_argument("--ungrounded-rate", type=float, default=0.0,
                   help="share of extraction answers naming a part, failure mode and root "
                   "cause not in the text")
    p.add_argument("--wrong-rate", type=float, default=0.0,
                   help="share of answers with other values in their enum fields")
    p.add_argument(
        "--deployments",
        type=_names,
        default=[],
        help="comma-separated known deployments; others get 404 (default: any)",
    )
    p.add_argument(
        "--reject-params",
        type=_names,
        default=[],
        help="comma-separated chat body parameters answered with a 400",
    )
    p.add_argument("--max-dimensions", type=int, default=0, help="0=off")
    p.add_argument(
        "--ignore-dimensions",
        type=int,
        default=0,
        help="answer vectors of this size whatever was asked, 0=off",
    )
    p.add_argument(
        "--bad-request-after",
        type=int,
        default=0,
        help="400 to every chat request after this many succeeded, 0=off",
    )
    p.add_argument(
        "--bearer-tokens",
        type=_names,
        default=[],
        help="comma-separated accepted Entra ID bearer tokens; api keys are refused (default: "
        "any credential)",
    )
    p.add_argument("--batch-turnaround-s", type=float, default=2.0,
                   help="seconds from a batch's creation to its end")
    p.add_argument("--batch-line-fail-rate", type=float, default=0.0,
                   help="share of batch lines answered with an error (error file)")
    p.add_argument("--batch-expire", type=int, default=0,
                   help="1: batches end as expired, half their lines unanswered")
    p.add_argument("--log", default=None, help="append one JSON line per API request")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    from aiohttp import web

    config = SimConfig()
    config.update({k: getattr(args, k) for k in CONFIG_FIELDS})
    app = create_app(config, log_path=args.log, seed=args.seed)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port, backlog=4096)
    await site.start()
    port = runner.addresses[0][1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    sys.stdout.write(f"{_READY_PREFIX}http://{host}:{port}\n")
    sys.stdout.flush()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        config = SimConfig()
        config.update({k: getattr(args, k) for k in CONFIG_FIELDS})
    except ValueError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


# --------------------------------------------------------------------------- helper for tests


def read_request_log(path: str | os.PathLike[str]) -> list[dict]:
    """All complete JSON lines of a simulator request log ([] if the file does not exist)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line being written right now
    return out


class SimulatorProcess:
    """Runs the simulator as a subprocess; stdlib only.

    >>> with SimulatorProcess(rpm=600, log_path="sim.jsonl") as sim:
    ...     client = OpenAI(base_url=sim.openai_base_url, api_key="x")
    """

    _OPTION_NAMES = CONFIG_FIELDS | {"seed"}

    def __init__(
        self,
        port: int = 0,
        log_path: str | os.PathLike[str] | None = None,
        *,
        host: str = "127.0.0.1",
        startup_timeout: float = 30.0,
        **options: Any,
    ) -> None:
        unknown = set(options) - self._OPTION_NAMES
        if unknown:
            raise TypeError(f"unknown simulator options: {sorted(unknown)}")
        self.host = host
        self.port = port
        self.log_path = Path(log_path) if log_path is not None else None
        self.options = options
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[str] | None = None
        self._url: str | None = None
        self._stderr: Any = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- lifecycle ------------------------------------------------------------
    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "backfill.devstack.simulator",
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        if self.log_path is not None:
            cmd += ["--log", str(self.log_path)]
        for key, value in self.options.items():
            if isinstance(value, list | tuple):
                value = ",".join(value)
            cmd += [f"--{key.replace('_', '-')}", str(value)]
        return cmd

    def start(self) -> SimulatorProcess:
        if self.proc is not None:
            raise RuntimeError("simulator already started")
        env = dict(os.environ)
        project_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (project_root, env.get("PYTHONPATH")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        self._stderr = tempfile.TemporaryFile(mode="w+b")
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        stdout = self.proc.stdout
        assert stdout is not None

        def pump() -> None:
            for line in stdout:
                lines.put(line)
            lines.put("")  # EOF

        threading.Thread(target=pump, name="simulator-stdout", daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = lines.get(timeout=max(0.0, remaining))
            except queue.Empty:
                self.stop()
                raise RuntimeError(
                    f"simulator not ready after {self.startup_timeout:.0f} s; "
                    f"stderr:\n{self._read_stderr()}"
                ) from None
            if line.startswith(_READY_PREFIX):
                self._url = line[len(_READY_PREFIX) :].strip()
                return self
            if line == "":
                rc = self.proc.wait()
                err = self._read_stderr()
                self.stop()
                raise RuntimeError(f"simulator exited with code {rc} before READY:\n{err}")

    def _read_stderr(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.seek(0)
            return self._stderr.read().decode(errors="replace")
        except (OSError, ValueError):
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self._url = None

    def __enter__(self) -> SimulatorProcess:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("simulator is not running")
        return self._url

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    # -- admin ----------------------------------------------------------------
    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        try:
            with self._opener.open(req, timeout=30) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise RuntimeError(f"simulator {method} {path} -> {exc.code}: {detail}") from None

    def stats(self) -> dict:
        return self._call("GET", "/_sim/stats")

    def configure(self, **options: Any) -> dict:
        """Change config live (see :class:`SimConfig`); returns the full config."""
        return self._call("POST", "/_sim/config", options)

    def reset(self) -> None:
        """Zero stats, refill rate limiters and reseed the fault RNG (config is kept)."""
        self._call("POST", "/_sim/reset", {})


if __name__ == "__main__":
    raise SystemExit(main())
