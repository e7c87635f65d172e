"""What an API stage does with each record's outcome: the breaker that stops the job when
the deployment fails rather than the records, and the result columns of the batch.

Both API stages (extract, embed) use these, one breaker per actor.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa

from backfill import schema as S
from backfill.errors import RecordError, RejectedRequest, SystemicError, TransientError
from backfill.openai_client import Deployment, config_keys

# After this many records in a row fail with a transient error that outlived the client's
# retries, the API is down rather than flaky: stop the job so it can be resumed later,
# instead of dead-lettering the rest of the backfill.
MAX_CONSECUTIVE_UNAVAILABLE = 25
# After this many records in a row, each with a different text, get the same 4xx (same code
# and param), the deployment rejects what we send, not these records: stop the job. Low,
# because every such request is paid at the quota's pace; a 4xx systemic by its code
# (unsupported_parameter, DeploymentNotFound, ...) does not wait for a streak at all.
MAX_CONSECUTIVE_SAME_BAD_REQUEST = 8


class Breaker:
    """Counts one actor's consecutive failures of the same kind and stops the job when they
    say the deployment is the problem. A success resets it."""

    def __init__(self, api: Deployment, count_rejections: bool = True) -> None:
        self.api = api
        # A retry-failed pass sends records that already failed, the rejected ones among
        # them in a row: their rejections prove nothing about the deployment.
        self.count_rejections = count_rejections
        self.unavailable = 0
        self.rejected_as: tuple[str, str] | None = None
        self.rejected: set[bytes] = set()  # digests of the texts in the current streak

    def passed(self) -> None:
        self.unavailable = 0
        self.rejected_as, self.rejected = None, set()

    def failed(self, exc: RecordError | TransientError, text: str = "") -> None:
        """One record (``text``) failed with ``exc``; raise ``SystemicError`` to stop."""
        if isinstance(exc, TransientError):
            self.unavailable += 1
            if self.unavailable >= MAX_CONSECUTIVE_UNAVAILABLE:
                raise SystemicError(
                    f"{self.unavailable} requests in a row failed after "
                    f"{self.api.cfg.max_retries} retries each; last: {exc}",
                    dependency=self.api.name,
                ) from exc
            return
        kind = (exc.code, exc.param) if isinstance(exc, RejectedRequest) else None
        if kind != self.rejected_as:
            self.rejected_as, self.rejected = kind, set()
        if kind is None or not self.count_rejections:
            return
        # The same record again (a retry) proves nothing new: count distinct texts.
        self.rejected.add(hashlib.blake2b(text.encode(errors="replace"), digest_size=8).digest())
        if len(self.rejected) >= MAX_CONSECUTIVE_SAME_BAD_REQUEST:
            raise SystemicError(
                f"{len(self.rejected)} records in a row, each a different text, were rejected "
                f"with {exc.message}: the deployment refuses our requests, not these records. "
                f"Check {config_keys(self.api.stage, 400, kind[1])}.",
                dependency=self.api.name,
            ) from exc


def apply_outcomes(
    table: pa.Table, rows: list[int], results: list[Any], new_columns: dict[str, pa.DataType],
    in_flight: dict[int, str] | None = None,
) -> pa.Table:
    """Add a stage's result columns; turn its exceptions into failed-row outcomes.
    ``in_flight``: the failed rows whose request's key the stage left in requests_in_flight,
    for the sink to take out with their dead letters (``S.IN_FLIGHT_KEY``)."""
    n = table.num_rows
    values: dict[str, list[Any]] = {name: [None] * n for name in new_columns}
    status = table.column(S.STATUS).to_pylist()
    stage = table.column(S.STAGE).to_pylist()
    err_class = table.column(S.ERROR_CLASS).to_pylist()
    err_msg = table.column(S.ERROR_MESSAGE).to_pylist()
    for i, result in zip(rows, results, strict=True):
        if isinstance(result, Exception):
            status[i] = S.FAILED
            if isinstance(result, RecordError):
                stage[i], err_class[i], err_msg[i] = (
                    result.stage,
                    result.error_class,
                    result.message,
                )
            else:
                stage[i] = "embed" if S.EMBEDDING in new_columns else "extract"
                err_class[i] = (
                    "Unavailable" if isinstance(result, TransientError) else type(result).__name__
                )
                err_msg[i] = str(result)[:2000]
            continue
        if not isinstance(result, tuple):
            result = (result,)
        for name, value in zip(new_columns, result, strict=True):
            values[name][i] = value
    for name, column in (
        (S.STATUS, status),
        (S.STAGE, stage),
        (S.ERROR_CLASS, err_class),
        (S.ERROR_MESSAGE, err_msg),
    ):
        table = table.set_column(
            table.schema.get_field_index(name), name, pa.array(column, pa.string())
        )
    for name, dtype in new_columns.items():
        table = table.append_column(name, pa.array(values[name], dtype))
    at = table.schema.get_field_index(S.IN_FLIGHT_KEY)
    if at >= 0 and not in_flight:
        return table
    keys = table.column(at).to_pylist() if at >= 0 else [None] * n
    for i, key in (in_flight or {}).items():
        keys[i] = key
    column = pa.array(keys, pa.string())
    return (table.set_column(at, S.IN_FLIGHT_KEY, column) if at >= 0
            else table.append_column(S.IN_FLIGHT_KEY, column))
