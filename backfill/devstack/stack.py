"""Start the whole embedded stack and render a config that points the job at it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from backfill.config import Config, expand_env, parse_config
from backfill.devstack.postgres import embedded_dsn
from backfill.devstack.simulator import SimulatorProcess
from backfill.devstack.snowflake import FakesnowProcess
from backfill.devstack.synthetic import SyntheticData, generate_work_orders


def local_template() -> dict[str, object]:
    text = resources.files("backfill.devstack").joinpath("local.yaml").read_text()
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


@dataclass
class LocalStack:
    workdir: Path
    dsn: str
    snowflake: FakesnowProcess
    simulator: SimulatorProcess
    config_path: Path
    config: Config
    request_log: Path
    records: int
    seed: int
    bad_rows: bool

    @cached_property
    def data(self) -> SyntheticData:
        """The seeded rows with their planted PII and bad ids, generated again (the
        generator is deterministic) in this process only if a test asks for them."""
        return generate_work_orders(self.records, seed=self.seed, bad_rows=self.bad_rows)


def write_dataset(records: int, seed: int, bad_rows: bool, path: Path) -> None:
    """Generate and write the rows in a child process: a process that made 200,000 rows
    keeps their memory after it drops them, and the driver's memory is what the
    benchmarks measure. A plain interpreter, not multiprocessing's spawn, which would run
    the caller's unguarded ``__main__`` script again."""
    code = (
        "import sys; from pathlib import Path; "
        "from backfill.devstack.synthetic import generate_work_orders, write_parquet; "
        "write_parquet(generate_work_orders(int(sys.argv[1]), seed=int(sys.argv[2]), "
        "bad_rows=sys.argv[3] == '1'), Path(sys.argv[4]))"
    )
    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(records), str(seed), "1" if bad_rows else "0",
         str(path)],
        env=env, capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"generating {records} synthetic rows failed (exit {done.returncode}): "
            f"{done.stderr[-2000:]}"
        )


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
    parquet = work / "work_orders.parquet"
    write_dataset(records, seed, bad_rows, parquet)
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
            # Embedded: say so, so that later commands (status, report) start the server
            # again on demand from its data directory.
            "BACKFILL_POSTGRES_DSN": "embedded" if embedded else dsn,
            "BACKFILL_EMBEDDED_PG": str(work / "pg"),
            "BACKFILL_POSTGRES_SCHEMA": pg_schema,
            "BACKFILL_PARTITION_ROWS": str(partition_rows),
            "BACKFILL_REPORT_DIR": str(work / "reports"),
        }
        rendered = _merge(expand_env(local_template(), env), overrides or {})
        config_path = work / "backfill.yaml"
        config_path.write_text(yaml.safe_dump(rendered, sort_keys=False))
        yield LocalStack(
            work,
            dsn,
            fs,
            sim,
            config_path,
            parse_config(rendered, str(config_path)),
            request_log,
            records,
            seed,
            bad_rows,
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
