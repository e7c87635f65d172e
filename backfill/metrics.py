"""The job's own Ray metrics (issue 11): they show in the Ray dashboard's metrics view and in
Prometheus/Grafana (docs/grafana-backfill.json), next to Ray's.

``ray.util.metrics`` is the maintained way to export application metrics from tasks and
actors; Ray prefixes their names with ``ray_`` in Prometheus. Metrics are created lazily in
each process (they need a connected Ray) and recording never raises: a metric must not stop
a write or a request.

Records written and failed per stage are counted by the writers when their transaction
commits; tokens, 429 answers and requests in flight by the API actors; partitions done by
the writers when a partition closes.
"""

from __future__ import annotations

import logging
import sys
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["count_records", "count_tokens", "count_rate_limited", "set_in_flight",
           "count_partition_done"]


def _metrics() -> dict[str, Any] | None:
    # A process that has not imported Ray (a command such as `backfill search` sending one
    # request) records nothing: importing Ray to make metrics nobody exports cost seconds.
    return _ray_metrics() if "ray" in sys.modules else None


@cache
def _ray_metrics() -> dict[str, Any] | None:
    try:
        from ray.util.metrics import Counter, Gauge

        return {
            "records": Counter(
                "backfill_records", "Records committed to Postgres, by outcome and stage "
                "(ok: enriched and written; failed: dead-lettered at that stage).",
                tag_keys=("run_id", "outcome", "stage")),
            "tokens": Counter(
                "backfill_tokens", "Tokens the API reported, by deployment and kind.",
                tag_keys=("deployment", "kind")),
            "rate_limited": Counter(
                "backfill_rate_limited", "429 answers from the API, by deployment.",
                tag_keys=("deployment",)),
            "in_flight": Gauge(
                "backfill_requests_in_flight", "API requests in flight in this actor.",
                tag_keys=("deployment",)),
            "partitions": Counter(
                "backfill_partitions_done", "Source partitions completely committed.",
                tag_keys=("run_id",)),
        }
    except Exception:  # noqa: BLE001 - no Ray here (a unit test, a plain script)
        log.debug("Ray metrics unavailable", exc_info=True)
        return None


def _record(name: str, value: float, tags: dict[str, str], gauge: bool = False) -> None:
    m = _metrics()
    if m is None:
        return
    try:
        if gauge:
            m[name].set(value, tags=tags)
        elif value:
            m[name].inc(value, tags=tags)
    except Exception:  # noqa: BLE001 - see the module docstring
        log.debug("metric %s not recorded", name, exc_info=True)


def count_records(run_id: str, outcome: str, stage: str, n: int) -> None:
    _record("records", n, {"run_id": run_id, "outcome": outcome, "stage": stage})


def count_tokens(deployment: str, prompt: int, completion: int) -> None:
    _record("tokens", prompt, {"deployment": deployment, "kind": "prompt"})
    _record("tokens", completion, {"deployment": deployment, "kind": "completion"})


def count_rate_limited(deployment: str) -> None:
    _record("rate_limited", 1, {"deployment": deployment})


def set_in_flight(deployment: str, n: int) -> None:
    _record("in_flight", n, {"deployment": deployment}, gauge=True)


def count_partition_done(run_id: str, partitions: int = 1) -> None:
    _record("partitions", partitions, {"run_id": run_id})
