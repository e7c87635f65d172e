"""A local run starts the Ray dashboard and prints its URL, which answers (issue 11); the
flag --no-dashboard skips it. In a child process: this test session already holds a Ray."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap

import pytest

pytestmark = pytest.mark.integration

SCRIPT = textwrap.dedent("""
    import io, json, sys, urllib.request
    import ray
    from backfill.runner import init_ray
    out = io.StringIO()
    init_ray(out, dashboard=sys.argv[1] == "yes")
    line = out.getvalue().strip()
    print(line)
    if line:
        url = line.split()[2]
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url + "/api/version", timeout=60) as r:
            print("version", json.load(r)["ray_version"])
    ray.shutdown()
""")


def _run(flag: str, tmp_path) -> str:
    # (a short Ray temp dir: its socket paths must fit AF_UNIX's 107 characters)
    short = tempfile.mkdtemp(prefix="bfdash", dir="/tmp")
    env = {"RAY_TMPDIR": short, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "RAY_AUTH_MODE": "disabled"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, flag], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
def test_a_local_run_has_a_dashboard_that_answers(tmp_path) -> None:
    out = _run("yes", tmp_path)
    assert "Ray dashboard: http://127.0.0.1:" in out
    assert "version 2.60.0" in out


@pytest.mark.slow  # another Ray started in a child process (~20 s)
def test_no_dashboard_means_none(tmp_path) -> None:
    assert _run("no", tmp_path).strip() == ""
