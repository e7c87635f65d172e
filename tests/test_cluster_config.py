"""``cluster.yaml`` passes Ray's own cluster-config validation (the launcher's JSON schema),
and keeps the properties docs/security.md promises."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backfill.runner import ray_node_env

pytestmark = pytest.mark.unit
CLUSTER = Path(__file__).resolve().parent.parent / "cluster.yaml"
RAY_SETTINGS = ray_node_env()


def _config() -> dict:
    return yaml.safe_load(CLUSTER.read_text())


def _kuberay_pods(job: dict) -> list[dict]:
    cluster = job["spec"]["rayClusterSpec"]
    return [cluster["headGroupSpec"]["template"]] + [
        g["template"] for g in cluster["workerGroupSpecs"]]


def test_cluster_yaml_passes_rays_validation() -> None:
    from ray.autoscaler._private.util import prepare_config, validate_config

    # as `ray up` does: fill the provider's defaults, then check against the launcher's schema
    # (raises on a key or value the launcher would refuse)
    prepared = prepare_config(_config())
    validate_config(prepared)
    assert prepared["provider"]["type"] == "azure"


def test_dashboard_is_on_loopback_and_the_project_is_installed_everywhere() -> None:
    config = _config()
    head = " ".join(config["head_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in head and "0.0.0.0" not in head
    starts = config["head_start_ray_commands"] + config["worker_start_ray_commands"]
    assert all("RAY_AUTH_MODE=token" in c for c in starts if "ray start" in c)
    assert any("-e ~/workorder-backfill" in c for c in config["setup_commands"])
    assert config["file_mounts"]["~/workorder-backfill"] == "."
    assert {".git", ".venv", ".backfill"} <= set(config["rsync_exclude"])
    assert config["available_node_types"]["ray.worker.default"]["min_workers"] >= 1


def test_the_kuberay_job_has_auth_a_loopback_dashboard_and_secrets_from_a_secret() -> None:
    job = yaml.safe_load((CLUSTER.parent / "rayjob.yaml").read_text())
    assert (job["apiVersion"], job["kind"]) == ("ray.io/v1", "RayJob")
    assert "jobs/backfill.py" in job["spec"]["entrypoint"]
    cluster = job["spec"]["rayClusterSpec"]
    assert cluster["rayVersion"] == "2.60.0" and cluster["authOptions"]["mode"] == "token"
    assert cluster["headGroupSpec"]["rayStartParams"]["dashboard-host"] == "127.0.0.1"
    for pod in _kuberay_pods(job):
        for container in pod["spec"]["containers"]:
            # no secret value written into the manifest: only Ray's own settings
            assert {e["name"] for e in container.get("env", [])} <= set(RAY_SETTINGS)
            assert container["envFrom"][0]["secretRef"]["name"]
    assert all(g["minReplicas"] >= 1 for g in cluster["workerGroupSpecs"])


def test_every_node_runs_with_the_local_rays_settings() -> None:
    """backfill.runner.LOCAL_RAY_SYSTEM_CONFIG: else a small node starts a new process (~3 s
    of CPU) for one prepare task in six, and the head's GCS grows with every task of the
    run."""
    config = _config()
    starts = [c for c in config["head_start_ray_commands"] + config["worker_start_ray_commands"]
              if "ray start" in c]
    assert len(starts) == 2
    for command in starts:
        assert all(f"{k}={v}" in command.split() for k, v in RAY_SETTINGS.items()), command
    job = yaml.safe_load((CLUSTER.parent / "rayjob.yaml").read_text())
    for pod in _kuberay_pods(job):
        for container in pod["spec"]["containers"]:
            assert {e["name"]: e["value"] for e in container.get("env", [])} == RAY_SETTINGS


def test_the_grafana_dashboard_queries_the_metrics_the_job_exports() -> None:
    import json
    import re

    import backfill.metrics as metrics

    source = Path(metrics.__file__).read_text()
    exported = {f"ray_{name}" for name in re.findall(r'(?:Counter|Gauge)\(\s*"(\w+)"', source)}
    # Ray adds _total to counters in Prometheus
    names = {n + "_total" if n != "ray_backfill_requests_in_flight" else n for n in exported}
    dashboard = json.loads((CLUSTER.parent / "docs" / "grafana-backfill.json").read_text())
    queried = {m for p in dashboard["panels"] for t in p["targets"]
               for m in re.findall(r"ray_backfill_\w+", t["expr"])}
    assert queried == names
