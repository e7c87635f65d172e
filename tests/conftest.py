"""Session-wide real services: one local Ray, one embedded Postgres (pgvector).

Each integration test module starts its own fakesnow server and LLM simulator through
``backfill.devstack.stack.local_stack`` and uses its own Postgres schema.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    from backfill.devstack.postgres import embedded_dsn

    # Short path: the server's unix socket lives in its data directory (108-byte limit).
    base = tempfile.mkdtemp(prefix="bfpg", dir="/tmp")
    dsn = embedded_dsn(os.path.join(base, "pg"))
    yield dsn
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def ray_local() -> Iterator[None]:
    import ray
    from ray.data import DataContext

    from backfill.runner import LOCAL_RAY_SYSTEM_CONFIG

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING",
             _system_config=LOCAL_RAY_SYSTEM_CONFIG)
    DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()
