"""Helpers for tests that run the job in a child process and kill it."""

from __future__ import annotations

import shutil

import psutil


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
