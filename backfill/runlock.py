"""One driver per run: a Postgres advisory lock held on a connection of its own.

Postgres releases a session's advisory locks when its connection ends, so a driver that
dies (SIGKILL, a lost node) gives its runs up by itself: there is no lock file to clean up
and no lease to expire. The holder is named from ``pg_stat_activity`` (its
``application_name`` carries host and pid, ``backend_start`` says since when).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from types import TracebackType
from typing import Any, TextIO

import psycopg

from backfill.errors import ConfigError

log = logging.getLogger(__name__)

# The first key of the two-key form of the lock names what is locked; the second, the run.
_NAMESPACE = "backfill-run"
# Held with the run lock while requests may leave: the API actors stop sending when it goes
# (the driver died, or was interrupted and let go of it first). See SendingWatch.
_SENDING = "backfill-sending"
WATCH_SECONDS = 0.25
WAIT_POLL_SECONDS = 2.0
# How long a lock that is held is asked for again before the holder is named (see __enter__)
EXIT_GRACE_SECONDS = 3.0


class RunLock:
    """``with RunLock(dsn, schema, run_id):`` holds the run for this process, or raises
    ``ConfigError`` (exit 2) naming the driver that holds it; ``wait=True`` waits for it."""

    def __init__(self, dsn: str, schema: str, run_id: str, wait: bool = False,
                 out: TextIO = sys.stderr) -> None:
        self.dsn, self.key, self.run_id, self.wait, self.out = (
            dsn, f"{schema}:{run_id}", run_id, wait, out)
        self.conn: psycopg.Connection[Any] | None = None
        self.held = False
        self.sending = False

    def __enter__(self) -> RunLock:
        me = f"backfill-driver {socket.gethostname()} pid {os.getpid()}"
        self.conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=15,
                                    application_name=me[:63])
        told = False
        grace = time.monotonic() + EXIT_GRACE_SECONDS
        while not self._try():
            if time.monotonic() < grace:
                # A driver that just ended (or was killed) may still hold the lock until
                # its server process has finished exiting.
                time.sleep(0.1)
                continue
            holder = self.holder()
            if not self.wait:
                self.release()
                raise ConfigError(
                    f"run {self.run_id} is being processed by another driver ({holder}); "
                    "wait for it to finish, stop it, or add --wait to start when it ends"
                )
            if not told:
                print(f"run {self.run_id} is held by {holder}; waiting for it (--wait)",
                      file=self.out, flush=True)
                told = True
            time.sleep(WAIT_POLL_SECONDS)
        return self

    def _try(self) -> bool:
        global _current
        assert self.conn is not None
        row = self.conn.execute(
            "SELECT pg_try_advisory_lock(hashtext(%s), hashtext(%s))", (_NAMESPACE, self.key)
        ).fetchone()
        self.held = bool(row and row[0])
        if self.held:
            self.conn.execute("SELECT pg_advisory_lock(hashtext(%s), hashtext(%s))",
                              (_SENDING, self.key))
            self.sending = True
            _current = self
        return self.held

    def stop_sending(self) -> None:
        """Let the run's API actors know that nothing more may leave (the driver is going):
        they see it within ``WATCH_SECONDS`` and send no new request."""
        if self.conn is None or not self.sending:
            return
        self.sending = False
        try:
            self.conn.execute("SELECT pg_advisory_unlock(hashtext(%s), hashtext(%s))",
                              (_SENDING, self.key))
        except psycopg.Error as exc:  # already broken: the lock went with it
            log.debug("letting go of the sending lock: %s", type(exc).__name__)

    def holder(self) -> str:
        """Who holds the run: host, pid and since when, as its connection says."""
        assert self.conn is not None
        row = self.conn.execute(
            "SELECT a.application_name, a.client_addr, a.backend_start, a.pid "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.classid = hashtext(%s)::oid AND l.objid = hashtext(%s)::oid",
            (_NAMESPACE, self.key),
        ).fetchone()
        if row is None:
            return "a driver that has just let go"
        name, addr, since, pid = row
        where = f" from {addr}" if addr else ""
        return f"{name or 'unknown'}{where}, since {since:%Y-%m-%d %H:%M:%S %Z}".strip()

    def release(self) -> None:
        global _current
        if _current is self:
            _current = None
        if self.conn is None:
            return
        self.stop_sending()
        try:
            if self.held:
                # Unlocked before the connection closes: closing alone lets go only once the
                # server process has exited, after the next driver may already have asked.
                self.conn.execute("SELECT pg_advisory_unlock(hashtext(%s), hashtext(%s))",
                                  (_NAMESPACE, self.key))
        except psycopg.Error as exc:  # already broken: the lock went with it
            log.debug("releasing the run lock: %s", type(exc).__name__)
        finally:
            self.held = False
            self.conn.close()
            self.conn = None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def driver_alive(conn: psycopg.Connection[Any], schema: str, run_id: str) -> bool:
    """Whether some driver holds the run now (a run left ``running`` by a killed driver is
    held by nobody)."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND objsubid = 2 AND classid = hashtext(%s)::oid AND objid = hashtext(%s)::oid)",
        (_NAMESPACE, f"{schema}:{run_id}"),
    ).fetchone()
    return bool(row and row[0])


_current: RunLock | None = None  # the lock this process holds, for stop_sending()


def held_key() -> str | None:
    """The key of the lock this process (a driver) holds, for its API actors to watch; None
    without one (they then send until Ray ends them)."""
    return _current.key if _current is not None and _current.sending else None


def stop_sending() -> None:
    """From a signal handler: the run this process drives sends no new request (its API
    actors stop within ``WATCH_SECONDS``; what is in flight is answered and journaled)."""
    if _current is not None:
        _current.stop_sending()


class SendingWatch:
    """In an API actor's process: whether its run's driver still lets requests leave.

    A driver killed with SIGKILL takes Ray 1-2 s to be noticed, and its actors meanwhile sent
    95-235 new requests whose answers nobody journaled (an acceptance check, session 34); on
    Ctrl-C they kept sending for up to 0.8 s. The driver holds a second advisory lock while
    requests may leave; Postgres drops it the moment the driver's connection closes, and an
    interrupted driver lets go of it first. A thread polls it every ``WATCH_SECONDS`` on a
    connection of its own; once it has been seen held and is gone, ``stopped`` is set and
    the actor sends nothing more. A database it cannot reach stops nothing (the run's own
    writes fail then), and a run that never took the lock (no driver lock) is never stopped."""

    _watches: dict[tuple[str, str], SendingWatch] = {}
    _lock = threading.Lock()

    def __init__(self, dsn: str, key: str) -> None:
        self.dsn, self.key = dsn, key
        self.seen = threading.Event()  # the lock was seen held once
        self.stopped = threading.Event()
        threading.Thread(target=self._loop, name="sending-watch", daemon=True).start()

    @classmethod
    def for_lock(cls, dsn: str, key: str) -> SendingWatch:
        """One watch a process for each driver's lock (both API stages may share a
        worker); ``key`` is :func:`held_key`'s, read in the driver."""
        with cls._lock:
            watch = cls._watches.get((dsn, key))
            if watch is None or watch.stopped.is_set():  # (a run resumed in this process)
                watch = cls._watches[(dsn, key)] = cls(dsn, key)
            return watch

    def _loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while True:
            try:
                if conn is None:
                    conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=15,
                                           application_name="backfill-sending-watch")
                row = conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                    "AND granted AND objsubid = 2 AND classid = hashtext(%s)::oid "
                    "AND objid = hashtext(%s)::oid)", (_SENDING, self.key)).fetchone()
                held = bool(row and row[0])
            except psycopg.Error as exc:
                log.debug("watching the driver: %s", type(exc).__name__)
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(1.0)
                continue
            if held:
                self.seen.set()
            elif self.seen.is_set():
                # Said by the actor that holds a request back (Deployment.post), not here:
                # after a run that ended well, its actors see the lock go too.
                log.debug("the driver of this run is gone or stopping")
                self.stopped.set()
                conn.close()
                return
            time.sleep(WATCH_SECONDS)
