"""Start the whole embedded stack and render a config that points the job at it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from backfill.config import Config, expand_env, parse_config
from backfill.devstack.postgres import embedded_dsn
from backfill.devstack.simulator import SimulatorProcess
from backfill.devstack.snowflake import FakesnowProcess
from backfill.devstack.synthetic import SyntheticData, generate_work_orders, write_parquet


def local_template() -> dict[str, object]:
    text = resources.files("backfill.devstack").joinpath("local.yaml").read_text()
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


@dataclass
class LocalStack:
    workdir: Path
    data: SyntheticData
    dsn: str
    snowflake: FakesnowProcess
    simulator: SimulatorProcess
    config_path: Path
    config: Config
    request_log: Path


@contextlib.contextmanager
def local_stack(
    workdir: str | Path,
    records: int,
    latency_ms: float = 0.0,
    seed: int = 0,
    pg_schema: str = "public",
    partition_rows: int = 5000,
    dsn: str | None = None,
    bad_rows: bool = True,
    overrides: dict[str, Any] | None = None,
    **sim_options: Any,
) -> Iterator[LocalStack]:
    """Seed ``records`` synthetic work orders into a fakesnow server, start the simulator and
    the embedded Postgres (unless ``dsn`` is given), and write ``workdir/backfill.yaml``."""
    work = Path(workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    data = generate_work_orders(records, seed=seed, bad_rows=bad_rows)
    parquet = work / "work_orders.parquet"
    write_parquet(data, parquet)
    embedded = dsn is None
    dsn = dsn or embedded_dsn(work / "pg")
    request_log = work / "llm_requests.jsonl"
    request_log.unlink(missing_ok=True)
    with (
        FakesnowProcess(seed_parquet=str(parquet), log_path=str(work / "fakesnow.log")) as fs,
        SimulatorProcess(log_path=str(request_log), latency_ms=latency_ms, **sim_options) as sim,
    ):
        env = {
            **os.environ,
            "BACKFILL_FAKESNOW_PORT": str(fs.port),
            "BACKFILL_SIMULATOR_URL": sim.url,
            # Embedded: leave the DSN empty so that later commands (status, report) start
            # the server again on demand from its data directory.
            "BACKFILL_POSTGRES_DSN": "" if embedded else dsn,
            "BACKFILL_EMBEDDED_PG": str(work / "pg"),
            "BACKFILL_POSTGRES_SCHEMA": pg_schema,
            "BACKFILL_PARTITION_ROWS": str(partition_rows),
        }
        rendered = _merge(expand_env(local_template(), env), overrides or {})
        config_path = work / "backfill.yaml"
        config_path.write_text(yaml.safe_dump(rendered, sort_keys=False))
        yield LocalStack(
            work,
            data,
            dsn,
            fs,
            sim,
            config_path,
            parse_config(rendered, str(config_path)),
            request_log,
        )


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``extra`` into ``base`` (the tests' per-case config changes)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
