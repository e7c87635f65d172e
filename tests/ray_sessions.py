"""Helpers for tests that run the job in a child process and kill it."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile

import psutil

from backfill.runner import ray_node_env


def kill_ray_session(temp_dir: str) -> None:
    """Ray's own daemons of a killed driver (they may sit in other process groups), and
    the session's files."""
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(temp_dir in part for part in proc.info["cmdline"] or []):
                proc.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    shutil.rmtree(temp_dir, ignore_errors=True)


# Listening ports come from below the kernel's ephemeral range (32768-60999 on Linux) and
# above Ray's worker ports (10002-19999): a port the kernel hands out with bind(0) is also
# the kind it gives the next outgoing connection, so between our check and Ray's bind
# another process's client socket could take it ("Address already in use", as one CI run
# saw for a head's GCS port).
_PORTS = range(20000, 32768)


def free_port() -> int:
    """A port nothing listens on now, from outside the ephemeral range."""
    for _ in range(200):
        port = random.choice(_PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {_PORTS.start}-{_PORTS.stop - 1}")


class PortTaken(RuntimeError):
    """A Ray daemon could not bind the port it was given."""


class LocalRayCluster:
    """Ray nodes started with ``ray start`` on this machine, each in a process group of its
    own, so that stopping them kills exactly their daemons and workers: never ``ray stop``,
    which stops every Ray instance of the machine (other tests', other people's).

    Token authentication is switched off explicitly: ``ray start --head`` turns it on
    whenever ``~/.ray/auth_token`` exists, while a joining node or a driver without the
    variable would not send the token."""

    def __init__(self, node_cpus: list[int], temp_dir: str | None = None,
                 dashboard: bool = False) -> None:
        self.node_cpus = node_cpus
        # The dashboard serves the Jobs API of `ray job submit`: on the head's loopback, at a
        # port of its own.
        self.dashboard_port = free_port() if dashboard else 0
        self.dashboard_url = f"http://127.0.0.1:{self.dashboard_port}" if dashboard else ""
        self.temp_dir = temp_dir or tempfile.mkdtemp(prefix="bfcl", dir="/tmp")
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0",
                    **ray_node_env()}
        self.env.pop("RAY_ADDRESS", None)
        self.groups: list[int] = []

    def node_dir(self, index: int) -> str:
        """Node ``index``'s own temp dir: its logs show what ran on it."""
        return os.path.join(self.temp_dir, f"n{index}")

    def worker_logs(self, index: int) -> str:
        """The output of node ``index``'s worker processes. Ray marks in it what each worker
        ran (``:task_name:...``, ``:actor_name:...``), for the log monitor."""
        text = []
        logs = os.path.join(self.node_dir(index), "session_latest", "logs")
        for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
            if name.startswith("worker-") and name.endswith((".out", ".err")):
                with open(os.path.join(logs, name), errors="replace") as f:
                    text.append(f.read())
        return "\n".join(text)

    def _start(self, args: list[str], cpus: int) -> None:
        ray = os.path.join(os.path.dirname(sys.executable), "ray")
        cmd = [ray, "start", f"--num-cpus={cpus}", "--node-ip-address=127.0.0.1",
               f"--temp-dir={self.node_dir(len(self.groups))}", "--disable-usage-stats",
               # Every node of this machine its own ports, none of Ray's fixed defaults.
               f"--dashboard-agent-listen-port={free_port()}",
               f"--metrics-export-port={free_port()}", *args]
        proc = subprocess.Popen(cmd, env=self.env, start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.groups.append(proc.pid)
        out, _ = proc.communicate(timeout=180)
        if proc.returncode != 0:
            error = PortTaken if b"Address already in use" in out or b"port is already" \
                in out or b"Failed to start the grpc server" in out else RuntimeError
            raise error(f"{' '.join(cmd)} failed: {out.decode()[-3000:]}")

    def start(self) -> LocalRayCluster:
        try:
            head, *workers = self.node_cpus
            dashboard = (["--include-dashboard=true", "--dashboard-host=127.0.0.1",
                          f"--dashboard-port={self.dashboard_port}"]
                         if self.dashboard_port else ["--include-dashboard=false"])
            for attempt in range(3):
                try:
                    self._start(["--head", f"--port={self.port}", *dashboard,
                                 f"--ray-client-server-port={free_port()}"], head)
                    break
                except PortTaken:
                    # Another process bound a port between our check and Ray's bind: the
                    # failed head's daemons go, and it starts again on new ports.
                    self.stop()
                    self.groups.clear()
                    if attempt == 2:
                        raise
                    self.port = free_port()
                    self.address = f"127.0.0.1:{self.port}"
                    if self.dashboard_port:
                        self.dashboard_port = free_port()
                        self.dashboard_url = f"http://127.0.0.1:{self.dashboard_port}"
                        dashboard[-1] = f"--dashboard-port={self.dashboard_port}"
            for cpus in workers:
                self._start([f"--address={self.address}"], cpus)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Kill the nodes' daemons and their workers (which make process groups of their
        own, as children of a raylet), then anything left naming the temp dir."""
        procs = {p for g in self.groups for p in _group_members(g)}
        for proc in list(procs):
            with contextlib.suppress(psutil.NoSuchProcess):
                procs.update(proc.children(recursive=True))
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(list(procs), timeout=10)
        kill_ray_session(self.temp_dir)

    def __enter__(self) -> LocalRayCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _group_members(group: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter():
        with contextlib.suppress(ProcessLookupError, psutil.NoSuchProcess):
            if os.getpgid(proc.pid) == group:
                members.append(proc)
    return members
