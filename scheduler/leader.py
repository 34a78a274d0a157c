"""Exactly one scheduler runs the routine: a PostgreSQL advisory lock, or a file lock for SQLite."""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from sqlalchemy import Connection, Engine, text

logger = logging.getLogger(__name__)

# An arbitrary constant that names "the collectbot scheduler" among advisory locks. Advisory
# locks are per database, so the schema is the lock's second key: deployments (and test runs)
# in separate schemas of one database each have their own leader.
ADVISORY_LOCK_KEY = 0x636F6C6C  # "coll"
LOCK_ARGS = ":key, hashtext(current_schema())"
LEADER_NAME = f"collectbot scheduler on {socket.gethostname()} pid {os.getpid()}"[:63]
# pg_locks shows a two-key advisory lock as classid = key 1, objid = key 2 (as oid), objsubid 2.
HOLDER_QUERY = """
SELECT l.pid, a.application_name, a.backend_start
FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid::bigint = :key
  AND l.objid::bigint = (hashtext(current_schema())::bigint & 4294967295)
"""


@dataclass(frozen=True)
class Leader:
    """Who holds the scheduler's lock: a process id and what else is known of it."""

    pid: int
    description: str  # e.g. "collectbot scheduler on web-1 pid 4242 (PostgreSQL backend 99)"


def current_leader(engine: Engine) -> Leader | None:
    """The process leading the scheduler now, or None when nobody does (never takes the lock)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            row = connection.execute(text(HOLDER_QUERY), {"key": ADVISORY_LOCK_KEY}).first()
        if row is None:
            return None
        name = row.application_name or "a process"
        return Leader(int(row.pid), f"{name} (PostgreSQL backend {row.pid})")
    path = lock_path(engine)
    if not path.exists():
        return None
    with path.open("r") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            written = handle.read().strip()
            pid = int(written) if written.isdigit() else 0
            return Leader(pid, f"pid {pid} on this machine (lock file {path})")
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


class Leadership:
    """Held while this process is the leader; `wait()` blocks until it is, `alive()` checks."""

    def __init__(self, engine: Engine, *, poll_seconds: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._engine = engine
        self._poll = poll_seconds
        self._sleep = sleep
        self._connection: Connection | None = None
        self._lock_file: IO[str] | None = None

    def try_acquire(self) -> bool:
        """Take leadership if nobody holds it; never blocks."""
        if self._engine.dialect.name == "postgresql":
            return self._try_advisory()
        return self._try_file_lock()

    def wait(self, *, should_stop: Callable[[], bool] = lambda: False) -> bool:
        """Block until leader (True) or until `should_stop()` (False)."""
        announced = False
        while not should_stop():
            if self.try_acquire():
                logger.info("scheduler: this process is the leader")
                return True
            if not announced:
                logger.info("scheduler: another process leads; waiting to take over")
                announced = True
            self._sleep(self._poll)
        return False

    def alive(self) -> bool:
        """False when leadership was lost (the lock's connection died)."""
        if self._lock_file is not None:
            return True
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means the session and its lock are gone
            logger.exception("scheduler: lost the leader lock's connection")
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text(f"SELECT pg_advisory_unlock({LOCK_ARGS})"),
                                         {"key": ADVISORY_LOCK_KEY})
                self._connection.close()
            except Exception:  # noqa: BLE001 - closing the session releases the lock anyway
                logger.warning("scheduler: could not unlock cleanly; the session end releases it")
            self._connection = None
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def _try_advisory(self) -> bool:
        if self._connection is None:
            # Session-level lock on a connection of its own, held for as long as we lead.
            self._connection = self._engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
            # So `collectbot status` can name the leader's host and process, not only its backend.
            self._connection.execute(text("SELECT set_config('application_name', :name, false)"),
                                     {"name": LEADER_NAME})
        got = bool(self._connection.execute(
            text(f"SELECT pg_try_advisory_lock({LOCK_ARGS})"), {"key": ADVISORY_LOCK_KEY}
        ).scalar())
        if not got:
            self._connection.close()
            self._connection = None
        return got

    def _try_file_lock(self) -> bool:
        path = lock_path(self._engine)
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_file = handle
        return True


def lock_path(engine: Engine) -> Path:
    """The lock file beside the SQLite database (or in the working directory for :memory:)."""
    database = engine.url.database
    if database and database != ":memory:":
        return Path(database).with_name(Path(database).name + ".scheduler.lock")
    return Path.cwd() / "collectbot.scheduler.lock"
