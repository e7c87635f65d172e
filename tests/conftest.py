"""Session-wide real services: one local Ray, one embedded Postgres (pgvector).

Each integration test module starts its own fakesnow server and LLM simulator through
``backfill.devstack.stack.local_stack`` and uses its own Postgres schema.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def _one_process_only(request: pytest.FixtureRequest) -> None:
    """`make test` runs the tests not marked integration in two pytest-xdist workers: a test
    there that asks for Ray or Postgres would start one per worker on a 2-core box."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.fail(f"{request.node.nodeid} uses Ray or Postgres: mark it integration, "
                    "which `make test` runs in one process", pytrace=False)


@pytest.fixture(scope="session")
def pg_dsn(request: pytest.FixtureRequest) -> Iterator[str]:
    from backfill.devstack.postgres import embedded_dsn

    _one_process_only(request)

    # Short path: the server's unix socket lives in its data directory (108-byte limit).
    base = tempfile.mkdtemp(prefix="bfpg", dir="/tmp")
    dsn = embedded_dsn(os.path.join(base, "pg"))
    yield dsn
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def ray_local(request: pytest.FixtureRequest) -> Iterator[None]:
    import ray
    from ray.data import DataContext

    from backfill.runner import LOCAL_RAY_SYSTEM_CONFIG

    _one_process_only(request)

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING",
             _system_config=LOCAL_RAY_SYSTEM_CONFIG)
    DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()



@pytest.fixture(scope="session")
def corpus_rules() -> Callable[[str], Any]:
    """The scrubber's rules' output (``backfill.scrub._scrub_rules`` with the default policy,
    a fresh copy each call) for the corpus tests, computed once per text for the session:
    the rules are most of the scrubber's time, and the floors, the number layer's training
    (on this output) and its worth all start from it."""
    from backfill.scrub import DEFAULT_POLICY, ScrubResult, _scrub_rules

    cache: dict[str, ScrubResult] = {}

    def rules(text: str) -> ScrubResult:
        if text not in cache:
            cache[text] = _scrub_rules(text, DEFAULT_POLICY)
        return ScrubResult(cache[text].text, dict(cache[text].counts))

    return rules


@pytest.fixture(scope="session")
def corpus_scrub(corpus_rules: Callable[[str], Any]) -> Callable[..., str]:
    """``scrub_text(text, policy).text`` from ``corpus_rules``: scrub_text runs the rules, then
    ``_after_rules`` (test_scrub_eval checks the two agree). Only policies that differ from the
    default in the number layer: the rules' output is the default policy's, and the name
    model runs in scrub_text only."""
    from backfill.scrub import DEFAULT_POLICY, ScrubPolicy, _after_rules

    def scrub(text: str, policy: Any = DEFAULT_POLICY) -> str:
        same_rules = ScrubPolicy(**{**vars(policy), "number_model": True,
                                    "number_threshold": None})
        assert same_rules == DEFAULT_POLICY, policy
        done = corpus_rules(text)
        _after_rules(done, policy)
        return done.text or ""

    return scrub
