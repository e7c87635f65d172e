"""The simulator's Batch API: ``/files`` and ``/batches`` as OpenAI and Azure OpenAI (Global
Batch) serve them, as the ``openai`` client calls them.

- ``POST {prefix}/files`` (multipart: ``file``, ``purpose=batch``): a JSONL input file, one
  request per line (``custom_id``, ``method`` POST, ``url`` ending in ``/chat/completions``,
  ``body`` with ``model`` the deployment); at most 100,000 lines and 200 MB, unique
  custom_ids. Logged as kind ``batch_file`` with its custom_ids (what a test counts to see
  that nothing was submitted twice).
- ``POST {prefix}/batches`` (``input_file_id``, ``endpoint``, ``completion_window``),
  ``GET {prefix}/batches`` (newest first, ``limit``/``after``),
  ``GET {prefix}/batches/{id}``, ``POST {prefix}/batches/{id}/cancel``: a batch goes through
  validating, in_progress and finalizing over ``batch_turnaround_s`` and then ends
  completed (or expired, with ``batch_expire``). Its lines are answered when it ends, by
  the simulator's own chat code (same answers, stats and faults as a real-time request,
  without the per-minute quota), each logged as kind ``batch`` with its custom_id; a share
  ``batch_line_fail_rate`` of them is answered 500 into the error file.
- ``GET {prefix}/files/{id}`` and ``/content``: the input, output and error files.

``prefix``: ``/v1`` (OpenAI), ``/openai`` and ``/openai/v1`` (Azure, ``api-version`` in
the query, ignored here).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backfill.devstack.simulator import _chat_texts

if TYPE_CHECKING:
    from aiohttp import web

    from backfill.devstack.simulator import Simulator

MAX_LINES = 100_000
MAX_BYTES = 200 * 2**20
PREFIXES = ("/v1", "/openai", "/openai/v1")


@dataclass
class _File:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "object": "file", "bytes": len(self.data),
                "created_at": self.created_at, "filename": self.filename,
                "purpose": self.purpose, "status": "processed"}


@dataclass
class _Batch:
    id: str
    input_file_id: str
    endpoint: str
    created: float
    turnaround: float
    expire: bool
    lines: list[dict[str, Any]]
    status: str = "validating"
    cancelled: bool = False
    output_file_id: str | None = None
    error_file_id: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        total = len(self.lines)
        counts = self.counts or {"total": total, "completed": 0, "failed": 0}
        if not self.counts and self.status == "in_progress":  # answered as time passes
            share = (time.time() - self.created) / max(self.turnaround, 1e-9)
            counts = {**counts, "completed": min(total, int(total * share))}
        return {
            "id": self.id, "object": "batch", "endpoint": self.endpoint, "errors": None,
            "input_file_id": self.input_file_id, "completion_window": "24h",
            "status": self.status, "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id, "created_at": int(self.created),
            "request_counts": counts, "metadata": None,
        }


class BatchRoutes:
    """The files and batches of one simulator (in memory; kept across ``/_sim/reset``)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.files: dict[str, _File] = {}
        self.batches: dict[str, _Batch] = {}
        self._n = 0

    def add_to(self, router: web.UrlDispatcher) -> None:
        for prefix in PREFIXES:
            router.add_post(prefix + "/files", self.upload)
            router.add_get(prefix + "/files/{file_id}", self.file)
            router.add_get(prefix + "/files/{file_id}/content", self.content)
            router.add_post(prefix + "/batches", self.create)
            router.add_get(prefix + "/batches", self.list_batches)
            router.add_get(prefix + "/batches/{batch_id}", self.retrieve)
            router.add_post(prefix + "/batches/{batch_id}/cancel", self.cancel)

    def _new_id(self, kind: str) -> str:
        self._n += 1
        return f"{kind}-sim{self.sim.seed:x}{self._n:08x}"

    # -- files ----------------------------------------------------------------
    async def upload(self, request: web.Request) -> web.Response:
        from aiohttp import web

        if (denied := self.sim._unauthorised(request)) is not None:
            return web.json_response(denied, status=401)
        form = await request.post()
        upload, purpose = form.get("file"), str(form.get("purpose") or "")
        if not isinstance(upload, web.FileField):
            return _bad("a multipart field 'file' is required", "file")
        if purpose != "batch":
            return _bad(f"purpose {purpose!r}: this simulator takes batch files only", "purpose")
        data = upload.file.read()
        lines, error = _read_lines(data)
        if error:
            return _bad(error, "file")
        item = _File(self._new_id("file"), str(upload.filename or "input.jsonl"), purpose, data,
                     int(time.time()))
        self.files[item.id] = item
        self.sim._write_log("batch_file", "", 200, [], {
            "file_id": item.id, "custom_ids": [line["custom_id"] for line in lines]})
        return web.json_response(item.to_json())

    async def file(self, request: web.Request) -> web.Response:
        from aiohttp import web

        item = self.files.get(request.match_info["file_id"])
        if item is None:
            return _not_found("file", request.match_info["file_id"])
        return web.json_response(item.to_json())

    async def content(self, request: web.Request) -> web.Response:
        from aiohttp import web

        item = self.files.get(request.match_info["file_id"])
        if item is None:
            return _not_found("file", request.match_info["file_id"])
        return web.Response(body=item.data, content_type="application/octet-stream")

    # -- batches --------------------------------------------------------------
    async def create(self, request: web.Request) -> web.Response:
        from aiohttp import web

        if (denied := self.sim._unauthorised(request)) is not None:
            return web.json_response(denied, status=401)
        body, err = await self.sim._read_json(request)
        if body is None:
            return _bad(err, "body")
        item = self.files.get(str(body.get("input_file_id")))
        if item is None:
            return _bad(f"no file {body.get('input_file_id')!r}", "input_file_id")
        endpoint = str(body.get("endpoint") or "")
        if not endpoint.endswith("/chat/completions"):
            return _bad(f"endpoint {endpoint!r}: the simulator batches chat completions only",
                        "endpoint")
        if body.get("completion_window") != "24h":
            return _bad("completion_window must be 24h", "completion_window")
        lines, _ = _read_lines(item.data)
        if any(not str(line.get("url", "")).endswith("/chat/completions") for line in lines):
            return _bad("every line's url must be the batch's endpoint", "input_file_id")
        cfg = self.sim.config
        batch = _Batch(self._new_id("batch"), item.id, endpoint, time.time(),
                       cfg.batch_turnaround_s, bool(cfg.batch_expire), lines)
        self.batches[batch.id] = batch
        return web.json_response(batch.to_json())

    async def list_batches(self, request: web.Request) -> web.Response:
        """``GET /batches?limit=N&after=ID``: newest first, as the services list them."""
        from aiohttp import web

        if (denied := self.sim._unauthorised(request)) is not None:
            return web.json_response(denied, status=401)
        newest = list(reversed(self.batches.values()))
        after = request.query.get("after")
        if after in self.batches:
            newest = newest[[b.id for b in newest].index(after) + 1:]
        limit = max(1, min(100, int(request.query.get("limit", "20"))))
        page = newest[:limit]
        for batch in page:
            self._advance(batch)
        return web.json_response({
            "object": "list", "data": [b.to_json() for b in page],
            "first_id": page[0].id if page else None, "last_id": page[-1].id if page else None,
            "has_more": len(newest) > limit})

    async def retrieve(self, request: web.Request) -> web.Response:
        from aiohttp import web

        batch = self.batches.get(request.match_info["batch_id"])
        if batch is None:
            return _not_found("batch", request.match_info["batch_id"])
        self._advance(batch)
        return web.json_response(batch.to_json())

    async def cancel(self, request: web.Request) -> web.Response:
        from aiohttp import web

        batch = self.batches.get(request.match_info["batch_id"])
        if batch is None:
            return _not_found("batch", request.match_info["batch_id"])
        if batch.status in ("validating", "in_progress", "finalizing"):
            batch.cancelled = True
            self._end(batch, "cancelled", answered=0)
        return web.json_response(batch.to_json())

    def _advance(self, batch: _Batch) -> None:
        """Move the batch on by the time since its creation; answer its lines at the end."""
        if batch.status not in ("validating", "in_progress", "finalizing"):
            return
        share = (time.time() - batch.created) / batch.turnaround if batch.turnaround else 1.0
        if share < 0.1:
            batch.status = "validating"
        elif share < 0.8:
            batch.status = "in_progress"
        elif share < 1.0:
            batch.status = "finalizing"
        elif batch.expire:
            self._end(batch, "expired", answered=len(batch.lines) // 2)
        else:
            self._end(batch, "completed", answered=len(batch.lines))

    def _end(self, batch: _Batch, status: str, answered: int) -> None:
        sim, cfg = self.sim, self.sim.config
        out: list[bytes] = []
        errors: list[bytes] = []
        for n, line in enumerate(batch.lines):
            custom_id = line["custom_id"]
            if n >= answered:  # never run: the window expired, or the batch was cancelled
                code = "batch_expired" if status == "expired" else "batch_cancelled"
                errors.append(_dumps({"id": f"batch_req_{n}", "custom_id": custom_id,
                                      "response": None, "error": {
                                          "code": code, "message": "This request could not "
                                          "be executed before the batch ended."}}))
                sim._write_log("batch_unanswered", "", 0, [], {
                    "batch_id": batch.id, "custom_id": custom_id, "code": code})
                continue
            body: dict[str, Any] = line["body"]  # a dict: checked on upload
            model = str(body.get("model") or "unknown")
            result: tuple[int, Any, dict[str, str], list[str], dict[str, Any]]
            if cfg.batch_line_fail_rate and sim.rng.random() < cfg.batch_line_fail_rate:
                result = (500, {"error": {"code": "server_error", "message": "The server had "
                                          "an error processing this request."}}, {},
                          _chat_texts(body)[0], {})
            else:
                result = sim._chat_outcome(model, body, "batch", limited=False)
            code_, payload, _, texts, extra = result
            sim.count("batch", model, texts, code_, {
                **extra, "batch_id": batch.id, "custom_id": custom_id})
            text = _dumps({"id": f"batch_req_{n}", "custom_id": custom_id, "response": {
                "status_code": code_, "request_id": f"sim-batch-{n}", "body": payload},
                "error": None})
            (out if code_ == 200 else errors).append(text)
        batch.output_file_id = self._store(batch, "output", out)
        batch.error_file_id = self._store(batch, "error", errors)
        batch.counts = {"total": len(batch.lines), "completed": len(out),
                        "failed": len(errors)}
        batch.status = status

    def _store(self, batch: _Batch, kind: str, lines: list[bytes]) -> str | None:
        if not lines:
            return None
        item = _File(self._new_id("file"), f"{batch.id}_{kind}.jsonl", f"batch_{kind}",
                     b"".join(lines), int(time.time()))
        self.files[item.id] = item
        return item.id


def _read_lines(data: bytes) -> tuple[list[dict[str, Any]], str]:
    """The requests of a JSONL input file, or what is wrong with it."""
    if len(data) > MAX_BYTES:
        return [], f"the file holds {len(data):,} bytes; at most {MAX_BYTES:,}"
    lines: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            return [], f"line {n} is not JSON"
        if not isinstance(line, dict) or not line.get("custom_id") or line.get(
                "method") != "POST" or not isinstance(line.get("body"), dict):
            return [], f"line {n}: custom_id, method POST, url and body are required"
        if line["custom_id"] in seen:
            return [], f"line {n}: custom_id {line['custom_id']!r} occurs twice"
        seen.add(line["custom_id"])
        lines.append(line)
    if not lines or len(lines) > MAX_LINES:
        return [], f"the file holds {len(lines):,} requests; 1 to {MAX_LINES:,} are allowed"
    return lines, ""


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode() + b"\n"


def _bad(message: str, param: str) -> web.Response:
    from aiohttp import web

    return web.json_response({"error": {"code": "invalid_request_error", "message": message,
                                        "param": param, "type": "invalid_request_error"}},
                             status=400)


def _not_found(kind: str, name: str) -> web.Response:
    from aiohttp import web

    return web.json_response({"error": {"code": "404", "message": f"no {kind} {name!r}"}},
                             status=404)
